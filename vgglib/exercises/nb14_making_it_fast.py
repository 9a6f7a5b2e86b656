"""Self-checks for the exercises of ``notebooks/14_making_it_fast.ipynb``.

Worked solutions: ``notebooks/solutions/14_making_it_fast_solutions.ipynb``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..layers import Pooling2D
from ._common import ExerciseResult, _as_float, _call, _not_a_number, verdict

__all__ = ["check_conv2_1_macs", "check_im2col_nhwc_strided", "check_pool2x2_corners", "check_winograd_backward"]

#: Exercise 1: the layer whose multiply-adds are asked for (VGG16's conv2_1 at 64×64 input, one image)
CONV2_1 = {"inputs_channel": 64, "num_filters": 128, "kernel_size": 3, "padding": 1, "height": 32, "width": 32}


def check_conv2_1_macs(answer: Any) -> ExerciseResult:
    """Exercise 1: multiply-adds of conv2_1 (64 -> 128 channels, 3×3, pad 1, 32×32 maps) for one image."""
    name = "conv2_1_macs"
    value = _as_float(answer)
    if value is None:
        return _not_a_number(name, answer, "one number: the multiply-adds of conv2_1 for one image")
    c, f, k = CONV2_1["inputs_channel"], CONV2_1["num_filters"], CONV2_1["kernel_size"]
    pixels = CONV2_1["height"] * CONV2_1["width"]
    expected = pixels * f * c * k * k
    if value == expected:
        return verdict(
            name, True, f"every one of the {pixels}·{f} outputs is a sum of C·k·k = {c * k * k} products.", ""
        )
    if value == 2 * expected:
        return verdict(
            name, False, "", "that counts FLOPs (a multiply and an add each); the question asks for multiply-adds"
        )
    if value in (pixels * f * k * k, pixels * c * k * k):
        return verdict(
            name,
            False,
            "",
            "each output sums over every input channel, and there is one output map "
            "per filter: both channel counts appear",
        )
    if value in (4 * expected, expected / 4):
        return verdict(name, False, "", "check the map size: padding 1 keeps 32×32")
    return verdict(name, False, "", "count: outputs (pixels × filters) × products per output (C × k × k)")


# ------------------------------------------------------------------------------------------- exercise 2
#: the message for a function whose body is still ``raise NotImplementedError``
UNFINISHED = "no answer yet: replace `raise NotImplementedError` with your code"


def _windows_reference(x: np.ndarray, k: int, stride: int, padding: int) -> np.ndarray:
    """The k×k windows of NHWC ``x``, zero-padded, as a matrix (N·Ho·Wo, k·k·C): plain slicing, no strides."""
    xp = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    n, h, w, c = xp.shape
    ho, wo = (h - k) // stride + 1, (w - k) // stride + 1
    out = np.empty((n, ho, wo, k, k, c), x.dtype)
    for i in range(k):
        for j in range(k):
            out[:, :, :, i, j] = xp[:, i : i + stride * (ho - 1) + 1 : stride, j : j + stride * (wo - 1) + 1 : stride]
    return out.reshape(n * ho * wo, k * k * c)


#: Exercise 2's cases: (x shape NHWC, k, stride, padding, dtype) — leftover rows, a batch of one, k = 1, stride > k;
#: the second is one where windows spread out by the stride still fit, so that mistake is named before it can read
#: outside the array in a later case
IM2COL_CASES = (
    ((2, 5, 6, 3), 3, 1, 1, np.float64),
    ((2, 9, 7, 3), 2, 2, 1, np.float64),
    ((1, 7, 7, 2), 3, 2, 1, np.float32),
    ((2, 6, 5, 4), 2, 2, 0, np.float64),
    ((3, 8, 9, 2), 3, 3, 2, np.float64),
    ((1, 4, 4, 1), 1, 1, 0, np.float64),
)


def _im2col_hint(got: np.ndarray, x: np.ndarray, k: int, stride: int, padding: int) -> str:
    """What a wrong window matrix (of the right shape) most likely got wrong."""
    n, h, w, c = x.shape
    xp = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    ho, wo = (h + 2 * padding - k) // stride + 1, (w + 2 * padding - k) // stride + 1
    expected = _windows_reference(x, k, stride, padding)
    if stride > 1 and (ho + k - 2) * stride < xp.shape[1] and (wo + k - 2) * stride < xp.shape[2]:
        # the stride applied to the window axes too (checked only where such stretched windows stay inside xp)
        s0, s1, s2, s3 = xp.strides
        spread = as_strided(xp, (n, ho, wo, k, k, c), (s0, stride * s1, stride * s2, stride * s1, stride * s2, s3))
        if np.array_equal(got, spread.reshape(n * ho * wo, k * k * c)):
            return (
                "the windows are spread out: inside a window (axes i, j) the step is one row and one pixel "
                "whatever the stride; only the output axes (oy, ox) jump `stride` rows and pixels"
            )
    if np.array_equal(np.sort(got, axis=1), np.sort(expected, axis=1)):
        return "each row has the right values in another order: columns go (i, j, c), channel fastest"
    if np.array_equal(np.sort(got, axis=0), np.sort(expected, axis=0)):
        return "the rows (window positions) go (n, oy, ox), the last fastest"
    if padding:
        # the windows that lie wholly inside x (none of their pixels is padding)
        rows_in = (np.arange(ho) * stride >= padding) & (np.arange(ho) * stride + k <= h + padding)
        cols_in = (np.arange(wo) * stride >= padding) & (np.arange(wo) * stride + k <= w + padding)
        inside = np.broadcast_to(rows_in[None, :, None] & cols_in[None, None, :], (n, ho, wo)).reshape(-1)
        if inside.any() and np.array_equal(got[inside], expected[inside]):
            return "the windows inside are right, those on the border are not: pad H and W with zeros"
    return "compare one window by hand with x padded by `padding` zeros on H and W (not on N or C)"


def check_im2col_nhwc_strided(fn: Any) -> ExerciseResult:
    """Exercise 2: ``fn(x, k, stride, padding)`` gathers the k×k windows of NHWC ``x`` (N, H, W, C), zero-padded
    by ``padding`` on H and W, every ``stride`` rows and pixels, into a matrix (N·Ho·Wo, k·k·C) of x's dtype,
    rows ordered (n, oy, ox), columns (i, j, c)."""
    name = "im2col_nhwc_strided"
    if not callable(fn):
        return verdict(name, False, "", "pass your function itself: check_im2col_nhwc_strided(im2col_nhwc)")
    rng = np.random.default_rng(14)
    for shape, k, stride, padding, dtype in IM2COL_CASES:
        x = rng.standard_normal(shape).astype(dtype)
        where = f"for x of shape {shape}, k={k}, stride={stride}, padding={padding}"
        got, err = _call(fn, x, k, stride, padding)
        if err == "NotImplementedError":
            return verdict(name, False, "", UNFINISHED)
        if err:
            return verdict(name, False, "", f"{where} your function raised {err}")
        if got is None:
            return verdict(name, False, "", "your function returned None: return the window matrix")
        got = np.asarray(got)
        expected = _windows_reference(x, k, stride, padding)
        n, h, w, c = shape
        if got.shape != expected.shape:
            unstrided = n * (h + 2 * padding - k + 1) * (w + 2 * padding - k + 1)
            unpadded = n * ((h - k) // stride + 1) * ((w - k) // stride + 1)
            if got.ndim == 2 and got.shape[1] == k * k * (c + 2 * padding) and padding:
                hint = "there are too many columns: np.pad(x, p) pads every axis, C too — pad only H and W"
            elif got.ndim == 2 and got.shape[0] == unstrided and stride > 1:
                hint = "that is one row per pixel of stride 1: the output axes (oy, ox) step `stride` rows and pixels"
            elif got.ndim == 2 and got.shape[0] == unpadded and padding:
                hint = "that is the row count without padding: pad H and W by `padding` zeros on both sides first"
            else:
                hint = "Ho = (H + 2·padding − k) // stride + 1, the same for W; columns k·k·C"
            return verdict(name, False, "", f"{where} expected shape {expected.shape}, got {got.shape}: {hint}")
        if got.dtype != x.dtype:
            return verdict(
                name, False, "", f"{where} the result is {got.dtype}, x is {x.dtype}: keep x's dtype (np.pad keeps it)"
            )
        if not np.array_equal(got, expected):
            return verdict(name, False, "", f"wrong values {where}: {_im2col_hint(got, x, k, stride, padding)}")
    return verdict(
        name, True, "only the output axes feel the stride; the window axes always step one row and one pixel.", ""
    )


# ------------------------------------------------------------------------------------------- exercise 4
#: Winograd F(2×2, 3×3): Bᵀ (4×4), G (4×3), Aᵀ (2×4), as in section 4 of the notebook
WINOGRAD_BT = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], dtype=np.float64)
WINOGRAD_G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]], dtype=np.float64)
WINOGRAD_AT = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], dtype=np.float64)


def _tile_gradients(d: np.ndarray, g: np.ndarray, dy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of sum(dy · Y), Y[a, b] = sum_ij d[a+i, b+j] g[i, j] (2×2), w.r.t. the tile d and the kernel g."""
    dd, dg = np.zeros((4, 4)), np.zeros((3, 3))
    for a in range(2):
        for b in range(2):
            dd[a : a + 3, b : b + 3] += dy[a, b] * g
            dg += dy[a, b] * d[a : a + 3, b : b + 3]
    return dd, dg


class _Tracked:
    """A number that remembers what it depends on: the tile "d", the kernel "g", the gradient "y".

    Counts the products of a number that depends on the gradient dY with one that depends on the tile or the kernel
    (multiplications by constants, like the transforms' entries, are free: they are additions in disguise).
    """

    products = 0

    def __init__(self, value: float, depends: frozenset) -> None:
        self.value, self.depends = float(value), depends

    @staticmethod
    def _wrap(other: Any) -> _Tracked:
        return other if isinstance(other, _Tracked) else _Tracked(other, frozenset())

    def _combine(self, other: Any, op: Callable, multiply: bool = False) -> Any:
        if isinstance(other, np.ndarray):  # a number times an array: numpy applies it element by element
            return NotImplemented
        other = self._wrap(other)
        if multiply:
            a, b = self.depends, other.depends
            if ("y" in a and b - {"y"}) or ("y" in b and a - {"y"}):
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


def _tracked(values: np.ndarray, label: str) -> np.ndarray:
    out = np.empty(values.shape, dtype=object)
    for index, v in np.ndenumerate(values):
        out[index] = _Tracked(v, frozenset(label))
    return out


TRANSPOSE_RULE = "each step transposes: Z = P·X·Q gives dX = Pᵀ·dZ·Qᵀ, and M = U ⊙ V gives dU = dM ⊙ V, dV = dM ⊙ U"


def _winograd_hint(which: str, got: np.ndarray, d: np.ndarray, g: np.ndarray, dy: np.ndarray) -> str:
    """What a wrong dd or dg (of the right shape) most likely got wrong."""
    bt, gm, at = WINOGRAD_BT, WINOGRAD_G, WINOGRAD_AT
    u, v, dm = gm @ g @ gm.T, bt @ d @ bt.T, at.T @ dy @ at
    dd, dg = _tile_gradients(d, g, dy)
    if which == "dg":
        if np.allclose(got, dg.T):
            return "dg has rows and columns swapped"
        if np.allclose(got, gm.T @ (dm * d) @ gm):
            return "dg pairs dM with the tile itself; in the forward U was multiplied by the transformed tile"
        if np.allclose(got, gm.T @ (dm * u) @ gm):
            return "dg pairs dM with U; the gradient of U ⊙ V with respect to U pairs dM with the other factor"
        if np.allclose(got, gm.T @ (dm * (bt.T @ d @ bt)) @ gm):
            return "the transformed tile V is the forward's: the same transform as in the forward, not its transpose"
        return f"dg differs from the gradient of sum(dY · Y) with respect to g: {TRANSPOSE_RULE}"
    if np.allclose(got, dd.T):
        return "dd has rows and columns swapped"
    if np.allclose(got, bt @ (dm * u) @ bt.T):
        return "dd goes through the forward's transform again; the backward of a transform uses its transposes"
    if np.allclose(got, bt.T @ (dm * v) @ bt):
        return "dd pairs dM with V; the gradient of U ⊙ V with respect to V pairs dM with the other factor"
    return f"dd differs from the gradient of sum(dY · Y) with respect to the tile: {TRANSPOSE_RULE}"


def check_winograd_backward(fn: Any) -> ExerciseResult:
    """Exercise 4: ``fn(d, g, dY)`` returns ``(dd, dg)``, the gradients of sum(dY · Y) with respect to the 4×4 tile
    d and the 3×3 kernel g, where Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A is Winograd's 2×2 output tile — computed with the
    transposed transforms: at most 32 products of dY-dependent numbers with tile- or kernel-dependent ones
    (16 per gradient; the direct sums take 36 each)."""
    name = "winograd_backward"
    if not callable(fn):
        return verdict(name, False, "", "pass your function itself: check_winograd_backward(winograd_backward)")
    rng = np.random.default_rng(41)
    for _ in range(4):
        d, g, dy = rng.standard_normal((4, 4)), rng.standard_normal((3, 3)), rng.standard_normal((2, 2))
        got, err = _call(fn, d, g, dy)
        if err == "NotImplementedError":
            return verdict(name, False, "", UNFINISHED)
        if err:
            return verdict(name, False, "", f"your function raised {err} — {TRANSPOSE_RULE}")
        if not (isinstance(got, (tuple, list)) and len(got) == 2):
            return verdict(name, False, "", "return a pair (dd, dg)")
        try:
            dd, dg = (np.asarray(a, dtype=np.float64) for a in got)
        except (TypeError, ValueError):
            return verdict(name, False, "", "return two arrays of numbers (dd, dg)")
        if dd.shape == (3, 3) and dg.shape == (4, 4):
            return verdict(name, False, "", "return (dd, dg) in that order: dd like the tile (4×4), dg like g (3×3)")
        if dd.shape != (4, 4) or dg.shape != (3, 3):
            return verdict(
                name,
                False,
                "",
                f"dd must have the tile's shape (4, 4) and dg the kernel's (3, 3), got {dd.shape}, "
                f"{dg.shape}: {TRANSPOSE_RULE}",
            )
        dd_ref, dg_ref = _tile_gradients(d, g, dy)
        if not np.allclose(dg, dg_ref, rtol=1e-9, atol=1e-9):
            return verdict(name, False, "", _winograd_hint("dg", dg, d, g, dy))
        if not np.allclose(dd, dd_ref, rtol=1e-9, atol=1e-9):
            return verdict(name, False, "", _winograd_hint("dd", dd, d, g, dy))
    _Tracked.products = 0
    d, g, dy = rng.standard_normal((4, 4)), rng.standard_normal((3, 3)), rng.standard_normal((2, 2))
    got, err = _call(fn, _tracked(d, "d"), _tracked(g, "g"), _tracked(dy, "y"))
    if err:
        return verdict(
            name,
            False,
            "",
            f"right gradients, but with counting numbers your function raised {err}. The check counts the "
            "products by running your function on numbers that remember what they depend on: use only +, -, *, @ "
            "and array operations on the inputs (no float(), .astype or float arrays like np.zeros to fill)",
        )
    count = _Tracked.products
    if count <= 32:
        return verdict(
            name, True, f"{count} products of dY with the data or weights instead of 72: the transposed transforms.", ""
        )
    return verdict(
        name,
        False,
        "",
        f"right gradients, but {count} products of dY-dependent numbers with the tile or the kernel; the transposed "
        "transforms need only 16 per gradient: transform dY once (dM), multiply element-wise, transform back",
    )


def check_pool2x2_corners(fn: Any) -> ExerciseResult:
    """Exercise 3: ``fn(x)`` max-pools (N, C, H, W) with 2×2 windows, stride 2, from the four corner views, and
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
