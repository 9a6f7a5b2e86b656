"""Self-checks for the exercises of ``notebooks/13_feature_maps.ipynb``.

Worked solutions: ``notebooks/solutions/13_feature_maps_solutions.ipynb``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._common import ExerciseResult, verdict

__all__ = ["check_pool3_shape", "check_conv3_1_receptive_field", "check_top_activating"]


def check_pool3_shape(answer: Any) -> ExerciseResult:
    """Exercise 1: the shape (C, H, W) of pool3's output for one image in the seed's full-width VGG16 at 64×64."""
    name = "pool3_shape"
    if answer is None:
        return verdict(name, False, "", "no answer yet: replace None with a tuple (channels, height, width)")
    try:
        shape = tuple(int(v) for v in answer)
    except (TypeError, ValueError):
        return verdict(name, False, "", f"expected three whole numbers (C, H, W), got {answer!r}")
    if len(shape) != 3:
        return verdict(name, False, "", f"expected three numbers (C, H, W), got {len(shape)}")
    if shape == (256, 8, 8):
        return verdict(name, True, "block 3 has 256 filters, and three 2x2 poolings halve 64 three times: 8.", "")
    c, h, w = shape
    if (h, w) == (8, 8):
        return verdict(
            name,
            False,
            "",
            "the size is right; count the filters: the blocks double them from 64 (block 1) up to 512 (blocks 4 and 5)",
        )
    if c == 256 and (h, w) == (16, 16):
        return verdict(name, False, "", "pool3 comes after the third pooling; each halves the size")
    if c == 256 and (h, w) == (4, 4):
        return verdict(name, False, "", "that is one pooling too many: pool3 is the third")
    if shape == (8, 8, 256):
        return verdict(name, False, "", "vgglib is channels-first: (C, H, W)")
    return verdict(name, False, "", "padding 1 keeps the size through every 3x3 convolution; only pooling halves it")


def check_conv3_1_receptive_field(answer: Any) -> ExerciseResult:
    """Exercise 2: the receptive field (in input pixels, one side) of one unit of VGG16's conv3_1."""
    name = "conv3_1_receptive_field"
    if answer is None:
        return verdict(name, False, "", "no answer yet: replace None with a whole number")
    if isinstance(answer, bool) or not isinstance(answer, (int, np.integer, float, np.floating)):
        return verdict(name, False, "", f"expected a number, got {type(answer).__name__} {answer!r}")
    value = float(answer)
    if value == 24:
        return verdict(
            name,
            True,
            "3, 5, 6, 10, 14, 16, 24: each 3x3 conv adds 2 x (the jump), each pool 1 x the "
            "jump, and the jump doubles at every pool.",
            "",
        )
    if value == 16:
        hint = "that is pool2's; conv3_1 adds (3 - 1) times the jump after two poolings"
    elif value == 18:
        hint = "after two poolings one step of conv3_1 spans 4 input pixels, not 1: the jump is 4"
    elif value in (13, 11):
        hint = "the poolings also widen the field (by the jump), and they double the jump"
    else:
        hint = "use r <- r + (k - 1) * j and j <- j * stride, starting from r = 1, j = 1"
    return verdict(name, False, "", hint)


def check_top_activating(func: Callable[..., Any]) -> ExerciseResult:
    """Exercise 3: ``func(maps (N, C, H, W), channel, k)`` -> indices of the k images whose feature map in
    ``channel`` has the largest mean, largest first."""
    name = "top_activating"
    if not callable(func):
        return verdict(name, False, "", f"pass your function itself, got {type(func).__name__}")
    rng = np.random.default_rng(13)
    maps = np.maximum(rng.standard_normal((40, 6, 5, 5)), 0).astype(np.float32)
    maps[7, 2] += 3.0
    maps[19, 2, 0, 0] = 40.0  # one huge pixel: large max, modest mean
    means = maps[:, 2].mean(axis=(1, 2))
    expected = np.argsort(-means, kind="stable")[:5]
    maps_in = maps.copy()
    try:
        out = func(maps_in, 2, 5)
    except NotImplementedError:
        return verdict(name, False, "", "not implemented yet: replace the `raise NotImplementedError` line.")
    except Exception as err:  # noqa: BLE001 — the student's code may raise anything
        return verdict(name, False, "", f"your function raised {type(err).__name__}: {err}")
    if not np.array_equal(maps_in, maps):
        return verdict(name, False, "", "your function changed the feature maps in place")
    try:
        got = np.asarray(out).astype(int).reshape(-1)
    except (TypeError, ValueError):
        return verdict(name, False, "", f"expected an array of k image indices, got {out!r}")
    if got.size != 5:
        return verdict(name, False, "", f"expected k = 5 indices, got {got.size}")
    if np.array_equal(got, expected):
        return verdict(name, True, "the images this channel responds to most, strongest first.", "")
    if np.array_equal(got, expected[::-1]):
        return verdict(name, False, "", "largest first: reverse the order")
    if np.array_equal(np.sort(got), np.sort(expected)):
        return verdict(name, False, "", "the right images in the wrong order: sort by the mean, largest first")
    by_max = np.argsort(-maps[:, 2].max(axis=(1, 2)), kind="stable")[:5]
    if np.array_equal(got, by_max):
        return verdict(name, False, "", "that ranks by the largest pixel; rank by the mean over the map")
    by_any = np.argsort(-maps.mean(axis=(2, 3))[:, 0], kind="stable")[:5]
    if np.array_equal(got, by_any):
        return verdict(name, False, "", "use the requested channel, not channel 0")
    return verdict(name, False, "", "average each image's map of that channel over H and W, then take the k largest")
