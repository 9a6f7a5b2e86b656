"""Hidden tests for notebooks/13_feature_maps.ipynb: exercise 3, ``top_activating(maps, channel, k)``, the indices of
the k images whose map in ``channel`` (of a batch of feature maps (N, C, H, W)) has the largest mean, largest first.

The self-check (public) tries one float32 batch of 40 ReLU maps, channel 2, k = 5, with one huge pixel; these use
maps of both signs (before a ReLU), non-square and 1×1 maps, the last channel and channel 0 with N ≠ C, k = 1 and k
equal to the number of images, a batch of one, float64, and ties (equal means, at and across the k-th place, a
whole batch of constant maps). The reference is the exercise's definition in plain numpy; among images with equal
means any order is accepted, since the exercise does not fix one.
"""

import numpy as np

from vgglib.coursework import call, hidden_test

CHECK = "check_top_activating"


def _check(top_activating, maps, channel, k, where):
    """Run the function and compare its picks' means with the k largest means, place by place."""
    out = call(lambda a, c, kk: (a, top_activating(a, c, kk)), maps, channel, k, where=where)
    maps_seen, got = out  # maps_seen: the copy of maps the function received, after the call
    if not np.array_equal(maps_seen, maps):
        raise AssertionError(f"your function changed the feature maps in place ({where})")
    try:
        raw = np.asarray(got)
        idx = raw.astype(np.int64).reshape(-1)
    except (TypeError, ValueError):
        raise AssertionError(f"expected an array of k image indices, got {type(got).__name__} ({where})") from None
    if raw.size and not np.array_equal(raw.reshape(-1).astype(np.float64), idx.astype(np.float64)):
        raise AssertionError(f"return whole-number image indices, not the means ({where})")
    if idx.size != k:
        raise AssertionError(f"expected k = {k} indices, got {idx.size} ({where})")
    n = maps.shape[0]
    if np.any(idx < 0) or np.any(idx >= n):
        raise AssertionError(f"indices must be image numbers 0 … {n - 1} (the batch axis, axis 0) ({where})")
    if len(set(idx.tolist())) != k:
        raise AssertionError(f"an image is picked twice ({where}): return k different images")
    means = maps[:, channel].astype(np.float64).mean(axis=(1, 2))
    best = np.sort(means)[::-1][:k]
    tol = 1e-5 * max(1.0, float(np.max(np.abs(means))))
    if np.allclose(means[idx], best, rtol=0, atol=tol):
        return
    if np.allclose(means[idx][::-1], best, rtol=0, atol=tol):
        raise AssertionError(f"the right images, smallest first ({where}): largest first, reverse the order")
    if np.allclose(np.sort(means[idx])[::-1], best, rtol=0, atol=tol):
        raise AssertionError(f"the right images in the wrong order ({where}): sort by the mean, largest first")
    if np.allclose(np.sort(means[idx])[::-1], np.sort(means)[:k][::-1], rtol=0, atol=tol):
        raise AssertionError(f"these are the images with the SMALLEST means ({where}); take the k largest")
    for hint, score in (
        ("that ranks by the largest pixel; rank by the mean over the map", maps[:, channel].max(axis=(1, 2))),
        ("that ranks by the mean of |x|; rank by the values themselves", np.abs(maps[:, channel]).mean(axis=(1, 2))),
        ("that ranks by the mean over all channels; use the requested channel alone", maps.mean(axis=(1, 2, 3))),
    ):
        if np.array_equal(np.sort(idx), np.sort(np.argsort(-score, kind="stable")[:k])):
            raise AssertionError(f"{hint} ({where})")
    raise AssertionError(
        f"these are not the k = {k} images with the largest mean in channel {channel} ({where}): average each image's "
        "map in that channel over H and W, then take the k largest"
    )


@hidden_test(CHECK)
def maps_of_both_signs_other_channels(top_activating):
    """Feature maps before a ReLU (both signs: the largest mean is not the largest |mean|), float64, non-square
    7×3 maps; the last channel and channel 0, with N ≠ C; one image with a single huge pixel."""
    rng = np.random.default_rng(1301)
    maps = rng.standard_normal((30, 9, 7, 3))
    maps[4, 8] -= 5.0  # a large negative mean: first by |mean|, last by mean
    maps[11, 8, 3, 1] = 60.0  # the largest pixel, a modest mean
    maps[20, 0] += 1.0
    for channel, k in ((8, 6), (0, 4), (3, 10)):
        _check(top_activating, maps, channel, k, f"maps (30, 9, 7, 3) float64 of both signs, channel {channel}, k {k}")


@hidden_test(CHECK)
def k_of_one_and_k_equal_to_the_batch(top_activating):
    """k = 1, and k = N (a full ranking of 25 float32 images, 5×5 maps), on ReLU maps of 12 channels."""
    rng = np.random.default_rng(1302)
    maps = np.maximum(rng.standard_normal((25, 12, 5, 5)), 0).astype(np.float32)
    for channel, k in ((5, 1), (11, 25)):
        _check(top_activating, maps, channel, k, f"maps (25, 12, 5, 5) float32, channel {channel}, k {k}")


@hidden_test(CHECK)
def a_batch_of_one_and_one_by_one_maps(top_activating):
    """A batch of one image (k = 1), and 1×1 maps (the mean is the pixel) of 50 images in float64."""
    rng = np.random.default_rng(1303)
    one = rng.standard_normal((1, 4, 6, 6))
    _check(top_activating, one, 2, 1, "maps (1, 4, 6, 6) float64 (a batch of one), channel 2, k 1")
    tiny = rng.standard_normal((50, 3, 1, 1))
    _check(top_activating, tiny, 1, 7, "maps (50, 3, 1, 1) float64, channel 1, k 7")


@hidden_test(CHECK)
def ties(top_activating):
    """Equal means (copies of one map, and different maps with the same mean) inside the top k and across the k-th
    place, and a batch of constant maps where every image ties: any order among equal means is right."""
    rng = np.random.default_rng(1304)
    maps = np.maximum(rng.standard_normal((20, 3, 4, 4)), 0)
    maps[[3, 9, 15], 1] = maps[0, 1] + 2.0  # tied for the first place
    maps[6, 1] = maps[12, 1] = maps[18, 1] = 1.5  # three tie near the k-th place
    maps[7, 1] = np.roll(maps[3, 1], 5)  # the same values moved around: a fifth image tied for first
    for k in (2, 4, 6, 8, 20):
        _check(top_activating, maps, 1, k, f"maps (20, 3, 4, 4) float64 with tied means, channel 1, k {k}")
    flat = np.full((10, 2, 3, 3), 0.25, dtype=np.float32)
    _check(top_activating, flat, 0, 3, "maps (10, 2, 3, 3) float32, every map the constant 0.25, channel 0, k 3")
