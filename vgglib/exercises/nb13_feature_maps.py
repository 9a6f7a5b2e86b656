"""Self-checks for the exercises of ``notebooks/13_feature_maps.ipynb``.

Worked solutions: ``notebooks/solutions/13_feature_maps_solutions.ipynb``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._common import ExerciseResult, _as_float, _as_int, verdict

__all__ = ["check_pool4_shape", "check_vgg11_receptive_field", "check_top_activating"]


def check_pool4_shape(answer: Any) -> ExerciseResult:
    """Exercise 1: the shape (C, H, W) of pool4's output for one image of ``VGG16(input_size=96, width=0.25)``."""
    name = "pool4_shape"
    if answer is None:
        return verdict(name, False, "", "no answer yet: replace None with a tuple (channels, height, width)")
    if isinstance(answer, (str, bytes)):
        return verdict(name, False, "", "expected a tuple of three whole numbers (C, H, W), got a string")
    try:
        values = [_as_int(v) for v in answer]
    except TypeError:
        return verdict(name, False, "", f"expected a tuple of three whole numbers (C, H, W), got {answer!r}")
    shape = [v for v in values if v is not None]
    if len(shape) != len(values):
        return verdict(name, False, "", f"expected three whole numbers (C, H, W), got {answer!r}")
    if len(shape) != 3:
        return verdict(name, False, "", f"expected three numbers (C, H, W), got {len(shape)}")
    c, h, w = shape
    if (c, h, w) == (128, 6, 6):
        return verdict(name, True, "a quarter of block 4's 512 filters, and four 2x2 poolings divide 96 by 16.", "")
    if (c, h, w) == (6, 6, 128):
        return verdict(name, False, "", "vgglib is channels-first: (C, H, W)")
    if h != w:
        return verdict(name, False, "", "the input is square and every layer treats height and width alike: H = W")
    if c == 512:
        return verdict(name, False, "", "width=0.25 scales every channel count, block 4's too")
    if c == 256:
        return verdict(name, False, "", "that is block 3's channel count at full width; scale block 4's by the width")
    if c in (64, 32):
        return verdict(name, False, "", "that is the count of block 3 or 2 at this width; pool4 ends block 4")
    if c == 128 and h == 3:
        return verdict(name, False, "", "that is one pooling too many: pool4 is the fourth, pool5 the fifth")
    if c == 128 and h == 12:
        return verdict(name, False, "", "pool4 comes after the fourth pooling; each halves the size")
    if c == 128 and h == 4:
        return verdict(name, False, "", "the size is for a 64x64 input; this VGG16 takes 96x96 images")
    if c == 128:
        return verdict(
            name,
            False,
            "",
            "the channels are right; the 3x3 convolutions (padding 1) keep the size, only the poolings halve it",
        )
    return verdict(
        name,
        False,
        "",
        "channels: the block's filter count (64, 128, 256, 512, 512) times the width; size: the input "
        "halved once per pooling so far",
    )


#: VGG11 (configuration A of the VGG paper) up to conv4_1: (kernel or pool window, stride) per layer
_VGG11_TO_CONV4_1 = [(3, 1), (2, 2), (3, 1), (2, 2), (3, 1), (3, 1), (2, 2), (3, 1)]


def _field(
    layers: list[tuple[int, int]], jump_after: bool = False, pool_widens: bool = True, jump_grows: bool = True
) -> int:
    r, j = 1, 1
    for k, s in layers:
        if jump_after and jump_grows:
            j *= s
        if pool_widens or k == 3:
            r += (k - 1) * j
        if not jump_after and jump_grows:
            j *= s
    return r


def check_vgg11_receptive_field(answer: Any) -> ExerciseResult:
    """Exercise 2: the receptive field (one side, in input pixels) of one unit of VGG11's conv4_1."""
    name = "vgg11_receptive_field"
    value = _as_int(answer)
    if value is None:
        if answer is None:
            return verdict(name, False, "", "no answer yet: replace None with a whole number")
        if _as_float(answer) is not None:
            return verdict(name, False, "", "a receptive field is a whole number of pixels")
        return verdict(name, False, "", f"expected a whole number, got {type(answer).__name__}")
    right = _field(_VGG11_TO_CONV4_1)
    if value == right:
        return verdict(
            name,
            True,
            "conv1_1, pool1, conv2_1, pool2, conv3_1, conv3_2, pool3, conv4_1: each 3x3 convolution adds 2 x the jump, "
            "each pooling 1 x the jump and doubles it.",
            "",
        )
    if value == 60:
        hint = "that is VGG16's conv4_1 (the table of section 3); VGG11 has fewer convolutions in blocks 1 and 2"
    elif value == _field(_VGG11_TO_CONV4_1, jump_grows=False):
        hint = "the jump doubles at every pooling: after two poolings one step of a unit spans 4 input pixels"
    elif value == _field(_VGG11_TO_CONV4_1, pool_widens=False):
        hint = "a 2x2 pooling also widens the field, by (2 - 1) x the jump below it"
    elif value == _field(_VGG11_TO_CONV4_1, jump_after=True):
        hint = "use the jump of the layer below (before this layer's stride): r += (k - 1) x J_(l-1), then J *= s"
    elif value in (right - 1, right + 1, right - 2, right + 2):
        hint = "close: start from r = 1 and J = 1 (one input pixel) and count the eight layers up to conv4_1 again"
    else:
        hint = "go layer by layer: r <- r + (k - 1) * J, then J <- J * stride, from r = 1, J = 1"
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
