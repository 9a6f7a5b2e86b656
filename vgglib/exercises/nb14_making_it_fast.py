"""Self-checks for the exercises of ``notebooks/14_making_it_fast.ipynb``.

Worked solutions: ``notebooks/solutions/14_making_it_fast_solutions.ipynb``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..layers import Pooling2D
from ._common import ExerciseResult, _call, verdict

__all__ = ["check_conv2_1_macs", "check_im2col_nhwc", "check_winograd_1d", "check_pool2x2_corners"]

#: Exercise 1: the layer whose multiply-adds are asked for (VGG16's conv2_1 at 64×64 input, one image)
CONV2_1 = {"inputs_channel": 64, "num_filters": 128, "kernel_size": 3, "padding": 1, "height": 32, "width": 32}


def check_conv2_1_macs(answer: Any) -> ExerciseResult:
    """Exercise 1: multiply-adds of conv2_1 (64 -> 128 channels, 3×3, pad 1, 32×32 maps) for one image."""
    name = "conv2_1_macs"
    if isinstance(answer, bool) or not isinstance(answer, (int, float, np.integer, np.floating)):
        return verdict(name, False, "", "give one number: the multiply-adds for one image")
    c, f, k = CONV2_1["inputs_channel"], CONV2_1["num_filters"], CONV2_1["kernel_size"]
    pixels = CONV2_1["height"] * CONV2_1["width"]
    expected = pixels * f * c * k * k
    if answer == expected:
        return verdict(
            name, True, f"every one of the {pixels}·{f} outputs is a sum of C·k·k = {c * k * k} products.", ""
        )
    if answer == 2 * expected:
        return verdict(
            name, False, "", "that counts FLOPs (a multiply and an add each); the question asks for multiply-adds"
        )
    if answer in (pixels * f * k * k, pixels * c * k * k):
        return verdict(
            name,
            False,
            "",
            "each output sums over every input channel, and there is one output map "
            "per filter: both channel counts appear",
        )
    if answer == 4 * expected or answer == expected // 4:
        return verdict(name, False, "", "check the map size: padding 1 keeps 32×32")
    return verdict(name, False, "", "count: outputs (pixels × filters) × products per output (C × k × k)")


def _gather_reference(x: np.ndarray, k: int) -> np.ndarray:
    n, h, w, c = x.shape
    ho, wo = h - k + 1, w - k + 1
    out = np.empty((n, ho, wo, k, k, c), x.dtype)
    for i in range(k):
        for j in range(k):
            out[:, :, :, i, j] = x[:, i : i + ho, j : j + wo]
    return out.reshape(n * ho * wo, k * k * c)


def check_im2col_nhwc(fn: Any) -> ExerciseResult:
    """Exercise 2: ``fn(x, k)`` gathers the k×k windows (stride 1, no padding) of NHWC ``x`` into a matrix
    (N·Ho·Wo, k·k·C), rows ordered (n, oy, ox), columns (i, j, c)."""
    name = "im2col_nhwc"
    if not callable(fn):
        return verdict(name, False, "", "pass your function itself: check_im2col_nhwc(im2col_nhwc)")
    rng = np.random.default_rng(14)
    for shape, k in (((2, 5, 6, 3), 3), ((1, 4, 4, 2), 2), ((3, 3, 5, 4), 1)):
        x = rng.standard_normal(shape)
        got, err = _call(fn, x, k)
        if err:
            return verdict(name, False, "", f"your function raised {err}")
        expected = _gather_reference(x, k)
        got = np.asarray(got)
        if got.shape != expected.shape:
            return verdict(
                name, False, "", f"for x of shape {shape} and k={k} expected shape {expected.shape}, got {got.shape}"
            )
        if not np.array_equal(got, expected):
            same_cols = got.shape == expected.shape and np.array_equal(np.sort(got, axis=1), np.sort(expected, axis=1))
            hint = (
                "each row has the right values in another order: columns go (i, j, c), channel fastest"
                if same_cols
                else "the rows (window positions) go (n, oy, ox), the last fastest"
            )
            return verdict(name, False, "", f"wrong values for x of shape {shape}, k={k}: {hint}")
    return verdict(name, True, "every row is one window, three runs of k·C contiguous values each.", "")


class _Tracked:
    """A number that remembers whether it depends on the data d, the weights g, or both; counts d×g products."""

    products = 0

    def __init__(self, value: float, depends: frozenset) -> None:
        self.value, self.depends = float(value), depends

    @staticmethod
    def _wrap(other: Any) -> _Tracked:
        return other if isinstance(other, _Tracked) else _Tracked(other, frozenset())

    def _combine(self, other: Any, op: Callable, multiply: bool = False) -> _Tracked:
        other = self._wrap(other)
        if multiply and self.depends and other.depends:
            _Tracked.products += 1
        return _Tracked(op(self.value, other.value), self.depends | other.depends)

    def __add__(self, other):
        return self._combine(other, lambda a, b: a + b)

    def __radd__(self, other):
        return self._combine(other, lambda a, b: b + a)

    def __sub__(self, other):
        return self._combine(other, lambda a, b: a - b)

    def __rsub__(self, other):
        return self._combine(other, lambda a, b: b - a)

    def __mul__(self, other):
        return self._combine(other, lambda a, b: a * b, multiply=True)

    def __rmul__(self, other):
        return self._combine(other, lambda a, b: b * a, multiply=True)

    def __truediv__(self, other):
        return self._combine(other, lambda a, b: a / b, multiply=True)

    def __neg__(self):
        return _Tracked(-self.value, self.depends)

    def __pos__(self):
        return self


def check_winograd_1d(fn: Any) -> ExerciseResult:
    """Exercise 3: ``fn(d, g)`` returns the two outputs [y0, y1] of the 3-tap correlation of d (4 values) with
    g (3 values) — ``y0 = d0·g0 + d1·g1 + d2·g2``, ``y1 = d1·g0 + d2·g1 + d3·g2`` — using only 4 products that
    involve both data and weights (sums of weights alone, like (g0 + g1 + g2)/2, are free: they are computed
    once per filter)."""
    name = "winograd_1d"
    if not callable(fn):
        return verdict(name, False, "", "pass your function itself: check_winograd_1d(winograd_1d)")
    rng = np.random.default_rng(15)
    for _ in range(5):
        d, g = rng.standard_normal(4), rng.standard_normal(3)
        got, err = _call(fn, list(d), list(g))
        if err:
            return verdict(name, False, "", f"your function raised {err}")
        try:
            y = np.asarray([float(v) for v in got])
        except (TypeError, ValueError):
            return verdict(name, False, "", "return the two outputs as a list or tuple [y0, y1]")
        expected = [d[0] * g[0] + d[1] * g[1] + d[2] * g[2], d[1] * g[0] + d[2] * g[1] + d[3] * g[2]]
        if y.shape != (2,) or not np.allclose(y, expected, atol=1e-9):
            return verdict(
                name,
                False,
                "",
                "the outputs differ from the direct formula: check the signs of "
                "m1..m4 and that y0 = m1 + m2 + m3, y1 = m2 - m3 - m4",
            )
    _Tracked.products = 0
    d_tracked = [_Tracked(v, frozenset("d")) for v in rng.standard_normal(4)]
    g_tracked = [_Tracked(v, frozenset("g")) for v in rng.standard_normal(3)]
    _, err = _call(fn, d_tracked, g_tracked)
    if err:
        return verdict(
            name, False, "", f"with counting numbers your function raised {err} (use only +, -, * and / on the inputs)"
        )
    count = _Tracked.products
    if count <= 4:
        return verdict(name, True, f"{count} data×weight products instead of 6: 1.5× fewer, 2.25× in 2-D.", "")
    return verdict(
        name,
        False,
        "",
        f"right outputs, but {count} data×weight products; Winograd needs only 4 "
        "(combine the data first, e.g. m1 = (d0 - d2)·g0)",
    )


def check_pool2x2_corners(fn: Any) -> ExerciseResult:
    """Exercise 4: ``fn(x)`` max-pools (N, C, H, W) with 2×2 windows, stride 2, from the four corner views, and
    returns (y, winners) with the readable layer's tie rule (the first maximum in row-major order wins)."""
    name = "pool2x2_corners"
    if not callable(fn):
        return verdict(name, False, "", "pass your function itself: check_pool2x2_corners(pool2x2)")
    rng = np.random.default_rng(16)
    for shape in ((2, 3, 4, 6), (1, 2, 5, 5)):
        for values in (rng.standard_normal(shape), rng.integers(0, 2, shape).astype(float)):
            got, err = _call(fn, values)
            if err:
                return verdict(name, False, "", f"your function raised {err}")
            if not (isinstance(got, tuple) and len(got) == 2):
                return verdict(name, False, "", "return a pair (y, winners)")
            layer = Pooling2D(2, 2, "max")  # the readable layer (vgglib.layers): the specification
            y_ref = layer.forward(values)
            assert layer.winners is not None  # set by the max-pooling forward
            y, winners = (np.asarray(a) for a in got)
            if y.shape != y_ref.shape or not np.array_equal(y, y_ref):
                return verdict(
                    name, False, "", f"y is wrong for x of shape {shape} (odd sizes drop the last row/column)"
                )
            if winners.shape != y_ref.shape or not np.array_equal(winners, layer.winners):
                tie = values.max() == 1 and values.min() == 0
                hint = (
                    "with ties the first maximum in row-major order must win: compare with > (not >=) and "
                    "prefer the top row"
                    if tie
                    else "winners are the flat index i·2 + j inside the window"
                )
                return verdict(name, False, "", f"winners differ for x of shape {shape}: {hint}")
    return verdict(name, True, "four strided views, three comparisons — and the same tie rule as the loops.", "")
