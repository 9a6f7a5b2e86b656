"""Hidden tests for notebooks/10_dropout.ipynb: exercise 3, ``channel_dropout(x, p, rng)`` (spatial dropout in
training mode: one coin per (image, channel) map, kept maps scaled by 1/(1-p), x's shape and dtype).

The self-check (public) tries four shapes with positive inputs and one generator seed; these use inputs of both
signs, shapes where a wrong mask would broadcast without an error (H, W equal to N, C), 1×1 maps, a single image
with a single channel, p from 0.1 to 0.9, and fixed seeds for the statistics: the fraction of dropped maps over all,
per channel and per image, independent coins for neighbouring maps, E[y] = x over many calls, and the masks coming
from ``rng``. Nothing is compared with ``vgglib.layers.Dropout`` (it drops single units); the tests read the mask
off y / x, which is exact because x has no zeros.
"""

import math

import numpy as np

from vgglib.coursework import call, hidden_test

CHECK = "check_channel_dropout"


def _x(shape, seed, dtype=np.float64):
    """Inputs of both signs and no zeros (|x| in [0.5, 2]), so y / x is the scaled mask."""
    rng = np.random.default_rng(seed)
    return (rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 2.0, size=shape)).astype(dtype)


_BROADCAST_HINT = (
    ": a mask broadcasts against x's LAST axes, so give it as many axes as x, of length 1 where one coin covers "
    "a whole axis"
)


def _coins(channel_dropout, x, p, rng, where):
    """Run the function; check shape, dtype, whole maps and the scale; return the (N, C) coins (True = kept)."""
    if not callable(channel_dropout):
        raise AssertionError(f"expected your function, got {type(channel_dropout).__name__}")
    try:
        out = call(lambda a, q, r: (a, channel_dropout(a, q, r)), x, p, rng, where=where)
    except AssertionError as err:
        raise AssertionError(f"{err}{_BROADCAST_HINT if 'broadcast' in str(err) else ''}") from None
    x_seen, y = out  # x_seen: the copy of x the function received, after the call
    if not np.array_equal(x_seen, x):
        raise AssertionError(f"your function changed x in place; return a new array ({where})")
    if not isinstance(y, np.ndarray):
        raise AssertionError(f"return a numpy array, got {type(y).__name__} ({where})")
    if y.shape != x.shape:
        raise AssertionError(f"y has shape {y.shape}, expected x's {x.shape} ({where}){_BROADCAST_HINT}")
    if y.dtype != x.dtype:
        raise AssertionError(f"{x.dtype} in should give {x.dtype} out, got {y.dtype} ({where})")
    if not np.all(np.isfinite(y)):
        raise AssertionError(f"y contains inf or nan ({where})")
    n, c = x.shape[:2]
    ratio = (y.astype(np.float64) / x.astype(np.float64)).reshape(n, c, -1)  # the scaled mask, entry by entry
    if np.any(np.ptp(ratio, axis=2) > 1e-5 * max(1.0, float(np.max(np.abs(ratio))))):
        raise AssertionError(
            f"some (image, channel) maps are only partly dropped ({where}): one coin decides for a whole H×W map"
        )
    scale = ratio[:, :, 0]
    kept = scale != 0
    rtol = 1e-5 if x.dtype == np.float32 else 1e-9
    if kept.any() and not np.allclose(scale[kept], 1 / (1 - p), rtol=rtol, atol=0):
        unscaled = " (they are not scaled at all)" if np.allclose(scale[kept], 1.0, rtol=rtol) else ""
        raise AssertionError(f"the kept maps are not scaled so that E[y] = x{unscaled} ({where})")
    return kept


def _fraction_near(dropped, p, count, what, where, sigmas=4.5):
    """``dropped`` (a fraction of ``count`` coins) within ``sigmas`` standard deviations of p (at least 2 points)."""
    tol = max(0.02, sigmas * math.sqrt(p * (1 - p) / count))
    if abs(dropped - p) > tol:
        raise AssertionError(
            f"{what}: {100 * dropped:.1f}% of the maps are dropped, expected about {100 * p:.0f}% ({where}); "
            "p is the probability to drop a map"
        )


@hidden_test(CHECK)
def sizes_where_a_wrong_mask_still_broadcasts(channel_dropout):
    """x (4, 6, 4, 6) and (3, 3, 3, 3), where an (N, C) mask would broadcast over (H, W) without an error; 1×1 maps
    (7, 5, 1, 1); inputs of both signs; x itself left unchanged."""
    for shape, p, seed in (((4, 6, 4, 6), 0.5, 1), ((3, 3, 3, 3), 0.4, 2), ((7, 5, 1, 1), 0.3, 3)):
        x = _x(shape, seed=100 + seed)
        where = f"x {shape} float64, p = {p}"
        _coins(channel_dropout, x, p, np.random.default_rng(seed), where)


@hidden_test(CHECK)
def drop_fraction_overall_per_channel_and_per_image(channel_dropout):
    """200 images × 64 channels of 2×3 maps, p = 0.3 and 0.7: the fraction dropped overall, in every channel and
    in every image is near p, and neighbouring maps (next channel, next image) are dropped independently."""
    shape = (200, 64, 2, 3)
    for p, seed in ((0.3, 11), (0.7, 12)):
        x = _x(shape, seed=seed)
        where = f"x {shape} float64, p = {p}"
        dropped = ~_coins(channel_dropout, x, p, np.random.default_rng(seed), where)
        _fraction_near(dropped.mean(), p, dropped.size, "over all maps", where)
        worst_channel = dropped.mean(axis=0)[np.argmax(np.abs(dropped.mean(axis=0) - p))]
        _fraction_near(worst_channel, p, shape[0], "in one channel (over the images)", where, sigmas=6)
        worst_image = dropped.mean(axis=1)[np.argmax(np.abs(dropped.mean(axis=1) - p))]
        _fraction_near(worst_image, p, shape[1], "in one image (over the channels)", where, sigmas=6)
        for pair, both in (
            ("channel", dropped[:, 1:] & dropped[:, :-1]),
            ("image", dropped[1:] & dropped[:-1]),
        ):
            tol = 4.5 * math.sqrt(p * p * (1 - p * p) / both.size) + 0.01
            if abs(both.mean() - p * p) > tol:
                raise AssertionError(
                    f"maps in neighbouring {pair}s are dropped together {100 * both.mean():.1f}% of the time, "
                    f"expected about {100 * p * p:.0f}% for independent coins ({where})"
                )


@hidden_test(CHECK)
def one_image_one_channel_many_calls(channel_dropout):
    """x (1, 1, 3, 4) through 400 calls with one generator, p = 0.4: fresh coins every call, about 40% dropped,
    and the mean of y over the calls near x (E[y] = x)."""
    p, calls = 0.4, 400
    x = _x((1, 1, 3, 4), seed=10)
    rng = np.random.default_rng(13)
    where = f"x (1, 1, 3, 4) float64, p = {p}, {calls} calls with the same generator"
    ys = []
    for _ in range(calls):
        y = call(channel_dropout, x, p, rng, where=where)
        if not isinstance(y, np.ndarray) or y.shape != x.shape:
            raise AssertionError(f"expected an array of x's shape {x.shape}, got {getattr(y, 'shape', y)} ({where})")
        ys.append(np.asarray(y, dtype=np.float64))
    ys = np.array(ys)
    kept = np.any(ys != 0, axis=(1, 2, 3, 4))
    if kept.all() or not kept.any():
        raise AssertionError(
            f"every call gave the same mask ({where}): draw new coins from rng on every call (the generator advances)"
        )
    _fraction_near(1 - kept.mean(), p, calls, "over the calls", where)
    mean = ys.mean(axis=0) / x  # E[y] / x: 1 for every pixel
    tol = 4.5 * math.sqrt(p / (1 - p) / calls)
    if np.any(np.abs(mean - 1) > tol):
        raise AssertionError(f"the mean of y over the calls is not x: E[y] = x needs the 1/(1-p) scale ({where})")


@hidden_test(CHECK)
def the_coins_come_from_rng(channel_dropout):
    """Two generators with the same seed give the same y, generators with other seeds other masks (8 × 16 maps)."""
    x = _x((8, 16, 2, 2), seed=14)
    p = 0.5
    where = f"x (8, 16, 2, 2) float64, p = {p}"
    first = _coins(channel_dropout, x, p, np.random.default_rng(7), where + ", seed 7")
    again = _coins(channel_dropout, x, p, np.random.default_rng(7), where + ", seed 7 again")
    other = _coins(channel_dropout, x, p, np.random.default_rng(8), where + ", seed 8")
    if not np.array_equal(first, again) or np.array_equal(first, other):
        raise AssertionError(
            f"the same generator seed should give the same mask and another seed another ({where}): toss the coins "
            "with the rng argument, not numpy's global generator or a new one"
        )


@hidden_test(CHECK)
def dtypes_p_zero_and_a_large_p(channel_dropout):
    """float32 with p = 0.9 (scale 10) and p = 0.1; p = 0 in float32 (y equals x); float64 with a single channel."""
    for shape, p, dtype, seed in (
        ((30, 20, 3, 2), 0.9, np.float32, 21),
        ((10, 12, 4, 5), 0.1, np.float32, 22),
        ((40, 1, 3, 3), 0.5, np.float64, 23),
    ):
        x = _x(shape, seed=seed, dtype=dtype)
        where = f"x {shape} {np.dtype(dtype).name}, p = {p}"
        dropped = ~_coins(channel_dropout, x, p, np.random.default_rng(seed), where)
        _fraction_near(dropped.mean(), p, dropped.size, "over all maps", where)
    x = _x((1, 1, 5, 5), seed=24, dtype=np.float32)
    where = "x (1, 1, 5, 5) float32, p = 0"
    kept = _coins(channel_dropout, x, 0.0, np.random.default_rng(24), where)
    if not kept.all():
        raise AssertionError(f"with p = 0 nothing is dropped ({where})")
