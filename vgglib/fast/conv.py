"""Convolution by gathers and GEMMs, in channels-last memory (the fast backend's convolution).

* **im2col in NHWC + one GEMM per chunk of images.** A 3×3 window over NHWC data is three runs of 3·C
  contiguous floats, so gathering windows is a fast ``as_strided`` copy; the product with the (k·k·C, F)
  weight matrix is a single BLAS call. Images are processed a few at a time so the window matrix stays in
  cache. Inputs with few channels (the first layer) are gathered by channel planes instead.
* **Winograd** (:mod:`vgglib.fast.winograd`) for VGG's 3×3/stride-1/pad-1 layers with enough channels.
* **Shifted products** (:mod:`vgglib.fast.shifted`) for narrow stride-1 "same" layers on large maps (the
  quarter-width VGG16 students train): every tap is one matrix product on shifted rows of the padded input.
* **One dense product** (:mod:`vgglib.fast.dense`) on maps with fewer pixels than the kernel has taps (2×2 maps):
  the convolution as a fully connected layer with tied weights, without multiplying the padding's zeros.
* **backward without col2im.** For stride 1, dx is itself a convolution of the padded dy with the rotated,
  transposed kernel (``notebooks/02_convolution_backprop.ipynb``): another gather + GEMM (or Winograd) instead
  of a scatter-add. dW re-gathers the windows chunk by chunk rather than keeping them (memory).

Same results as :class:`vgglib.layers.Convolution2D` (to rounding; ``tests/test_fast.py``). Explained in
``notebooks/14_making_it_fast.ipynb``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..im2col import output_size
from . import dense, shifted, winograd
from .dense import dense_applies, dense_backward, dense_forward, dense_weights
from .scratch import pad_into, scratch, to_nhwc
from .shifted import shifted_applies, shifted_backward, shifted_forward
from .winograd import WeightCache, _winograd_conv, _winograd_weight_grad, _winograd_weights, winograd_applies
from .workers import matmul, parallel_map, plan, sum_parts, sum_rows, threaded

__all__ = ["SMALL_C", "METHODS", "ConvCache", "conv2d_forward", "conv2d_backward", "prefer"]

#: inputs with fewer channels than this are gathered by channel planes (the first layer), others in NHWC
SMALL_C: int = 8


def _gather_nhwc(xh: np.ndarray, k: int, stride: int, padding: int, ho: int, wo: int) -> np.ndarray:
    """im2col in NHWC: (n, H, W, C) -> (n·Ho·Wo, k·k·C), columns ordered (i, j, c); scratch memory."""
    n, h, w, c = xh.shape
    if k == 1 and padding == 0 and stride == 1:
        return xh.reshape(n * h * w, c)
    xp = xh
    if padding:
        p = padding
        xp = pad_into(scratch("pad", (n, h + 2 * p, w + 2 * p, c), xh.dtype), xh, p, (1, 2))
    cols = scratch("cols", (n, ho, wo, k, k, c), xh.dtype)
    s0, s1, s2, s3 = xp.strides
    # for a fixed window row i the (j, c) entries are k·C contiguous values: one strided copy does it all
    windows = as_strided(xp, (n, ho, wo, k, k, c), (s0, s1 * stride, s2 * stride, s1, s2, s3))
    np.copyto(cols, windows)
    return cols.reshape(n * ho * wo, k * k * c)


def _gather_planes(x: np.ndarray, k: int, stride: int, padding: int, ho: int, wo: int) -> np.ndarray:
    """im2col by channel planes, for few channels: (n, C, H, W)-shaped -> (C·k·k, n·Ho·Wo); scratch memory.

    With C < SMALL_C the NHWC windows are runs of only k·C values; whole image rows are longer.
    """
    n, c, h, w = x.shape
    p = padding
    xp = pad_into(scratch("pad", (n, c, h + 2 * p, w + 2 * p), x.dtype), x, p, (2, 3)) if p else x
    cols = scratch("cols", (c, k, k, n, ho, wo), x.dtype)
    for ch in range(c):
        for i in range(k):
            for j in range(k):
                cols[ch, i, j] = xp[:, ch, i : i + stride * ho : stride, j : j + stride * wo : stride]
    return cols.reshape(c * k * k, n * ho * wo)


#: what :func:`prefer` sets for each method: (WINOGRAD_MIN_C, WINOGRAD_SMALL_MAP_MIN_C) of
#: :mod:`~vgglib.fast.winograd`, (SHIFTED_MIN_C, SHIFTED_MAX_C, SHIFTED_MIN_SIZE) of :mod:`~vgglib.fast.shifted`
#: and (DENSE_MAX_PIXELS,) of :mod:`~vgglib.fast.dense`
METHODS: dict[str, tuple[tuple[int, int], tuple[int, int, int], tuple[int]]] = {
    "im2col": ((10**9, 1), (1, 0, 1), (0,)),  # never Winograd, shifted or dense products (the cache says "nhwc")
    "winograd": ((1, 1), (1, 0, 1), (0,)),  # Winograd wherever it applies (3×3, stride 1, pad 1, even sizes)
    "mixed": ((16, 1), (1, 0, 1), (0,)),  # Winograd where the GEMM's inner dimension (C, or F for dx) is >= 16
    "shifted": ((10**9, 1), (1, 10**9, 1), (0,)),  # shifted products for every stride-1 "same" convolution
    "shifted-mixed": ((10**9, 1), (1, 16, 1), (0,)),  # shifted products where the inner dimension is <= 16
    "dense": ((10**9, 1), (1, 0, 1), (10**9,)),  # one dense product wherever the map has fewer pixels than taps
}


@contextmanager
def prefer(method: str) -> Iterator[None]:
    """Inside the ``with`` block the fast convolution uses ``method`` wherever it can: a key of :data:`METHODS`
    ("im2col", "winograd", "mixed", "shifted", "shifted-mixed", "dense") or "auto" (the library's own choice, by
    measurement). Every method gives the same result to rounding; this is for comparing them
    (``benchmarks/bench_layers.py``, ``tests/test_fast.py``). It sets module thresholds: not for use in two
    threads at once."""
    if method != "auto" and method not in METHODS:
        raise ValueError(f"unknown convolution method {method!r}: expected 'auto' or one of {', '.join(METHODS)}")
    modules = (
        (winograd, ("WINOGRAD_MIN_C", "WINOGRAD_SMALL_MAP_MIN_C")),
        (shifted, ("SHIFTED_MIN_C", "SHIFTED_MAX_C", "SHIFTED_MIN_SIZE")),
        (dense, ("DENSE_MAX_PIXELS",)),
    )

    def apply(settings: Sequence[Sequence[int]]) -> None:
        for (module, names), values in zip(modules, settings):
            for name, value in zip(names, values):
                setattr(module, name, value)

    saved = tuple(tuple(getattr(module, name) for name in names) for module, names in modules)
    try:
        apply(saved if method == "auto" else METHODS[method])
        yield
    finally:
        apply(saved)


# ---------------------------------------------------------------------------------------------------------
class ConvCache(NamedTuple):
    """What :func:`conv2d_backward` needs: the input and how the forward computed."""

    x: np.ndarray  # NHWC for "nhwc", "winograd" and "dense"; padded NHWC for "shifted"; NCHW-shaped for "planes"
    stride: int
    padding: int
    method: str  # "planes" (few channels), "nhwc" (im2col + GEMM), "winograd", "shifted" or "dense"
    #: Winograd's transformed weights U (16, F, C) when the forward computed them (reused for dx)
    winograd_weights: np.ndarray | None = None
    #: the dense product's matrix Wd (H·W·C, Ho·Wo·F) for "dense" (reused for dx)
    dense_weights: np.ndarray | None = None


def _weight_rows(weights: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """(F, C, k, k) -> (F, k, k, C) contiguous: each filter's values in the order of the NHWC windows.

    (Moving C last keeps runs of k·k values together; a (k·k·C, F) matrix would need a slow full transpose.
    BLAS multiplies by its transpose without a copy.)
    """
    return np.ascontiguousarray(weights.astype(dtype, copy=False).transpose(0, 2, 3, 1))


@threaded
def conv2d_forward(
    x: np.ndarray,
    weights: np.ndarray,
    bias: np.ndarray,
    stride: int = 1,
    padding: int = 0,
    weight_cache: WeightCache | None = None,
) -> tuple[np.ndarray, ConvCache]:
    """Convolution forward: x (N, C, H, W), weights (F, C, k, k), bias (F,) -> y (N, F, Ho, Wo), cache.

    ``y`` is a new array in channels-last memory order (an NCHW-shaped view of an NHWC array).
    Same result as :class:`vgglib.layers.Convolution2D` (to rounding). ``weight_cache`` (inference): reuse
    the transformed weights of an earlier call while the weights are unchanged (:class:`WeightCache`).

    Winograd's transforms add and subtract inputs before multiplying, so near the float range (|x| ~ 1e38 in
    float32) they overflow — or spread one NaN over a whole 2×2 tile — where the direct sum does not. A
    Winograd result with any non-finite value (one read of y) is therefore recomputed by im2col, which gives
    the readable layer's result; such a cache says "nhwc" and its backward uses im2col too.
    """
    n, c, h, w = x.shape
    f, _, k, _ = weights.shape
    ho, wo = output_size(h, k, padding, stride), output_size(w, k, padding, stride)
    dtype = x.dtype
    b = bias.astype(dtype, copy=False)
    if winograd_applies(c, k, stride, padding, h, w):
        xh = to_nhwc(x)
        u = None
        if weight_cache is not None:
            y = _winograd_conv(xh, weight_cache.winograd_weights_t(weights, dtype), b)
        else:
            u = _winograd_weights(weights, dtype)  # (16, F, C)
            y = _winograd_conv(xh, u.transpose(0, 2, 1), b)
        if np.isfinite(y.max()):
            return y.transpose(0, 3, 1, 2), ConvCache(xh, stride, padding, "winograd", u)
        x = xh.transpose(0, 3, 1, 2)  # overflow or NaN: the direct sum below, as the readable layer does
    elif shifted_applies(c, k, stride, padding, h, w):
        yh, xp = shifted_forward(x, weights, b)
        return yh.transpose(0, 3, 1, 2), ConvCache(xp, stride, padding, "shifted")
    elif dense_applies(k, stride, h, w):
        xh = to_nhwc(x)
        wd = dense_weights(weights, h, w, padding, dtype)
        y = dense_forward(xh, wd, b, ho, wo)
        return y.transpose(0, 3, 1, 2), ConvCache(xh, stride, padding, "dense", dense_weights=wd)
    y = np.empty((n, ho, wo, f), dtype=dtype)
    chunks, parallel = plan(n, ho * wo * max(k * k * c, f) * x.itemsize, ho * wo)
    planes = c < SMALL_C
    if planes:
        wt = weights.astype(dtype, copy=False).reshape(f, c * k * k).T  # (C·k·k, F), a view
        source = x
    else:
        source = to_nhwc(x)
        wt = _weight_rows(weights, dtype).reshape(f, k * k * c).T  # (k·k·C, F), a view

    def task(chunk: tuple[int, int]) -> None:
        n0, n1 = chunk
        out = y[n0:n1].reshape(-1, f)
        if planes:
            matmul(_gather_planes(source[n0:n1], k, stride, padding, ho, wo).T, wt, out)
        else:
            matmul(_gather_nhwc(source[n0:n1], k, stride, padding, ho, wo), wt, out)
        out += b

    parallel_map(task, chunks, parallel)
    return y.transpose(0, 3, 1, 2), ConvCache(source, stride, padding, "planes" if planes else "nhwc")


@threaded
def conv2d_backward(
    dy: np.ndarray, cache: ConvCache, weights: np.ndarray, need_dx: bool = True
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Convolution backward: dy (N, F, Ho, Wo) -> (dx (N, C, H, W), dW (F, C, k, k), db (F,)), all new arrays.

    ``db = Σ dy``; ``dW = dyᵀ·cols`` (windows re-gathered chunk by chunk) or Winograd's ``dU = Σ dMᵀ·V``;
    ``dx`` is, for stride 1, the convolution of dy padded by k-1-p with the kernel rotated by 180° and
    transposed (F <-> C) — by im2col + GEMM or by Winograd — else ``dy·W`` scattered back (col2im). Each of
    dW and dx picks its own method (:data:`WINOGRAD_MIN_C`). ``need_dx=False`` skips dx (returns None): the
    first layer's input needs no gradient. All in the cached input's dtype.
    """
    x, stride, p, method, u, wd = cache
    dtype = x.dtype
    f, c, k, _ = weights.shape
    weights = weights.astype(dtype, copy=False)
    dyh = to_nhwc(dy.astype(dtype, copy=False))
    db = sum_rows(dyh.reshape(-1, f))
    if method == "planes":
        return _planes_backward(x, dyh, weights, stride, p, need_dx) + (db,)
    if method == "shifted":
        return _shifted_backward(x, dyh, weights, p, need_dx) + (db,)
    if method == "dense":
        assert wd is not None
        dx_dense, dw_dense = dense_backward(dyh, x, wd, k, p, need_dx)
        return (None if dx_dense is None else dx_dense.transpose(0, 3, 1, 2)), dw_dense, db
    h, w = x.shape[1:3]
    dw = _winograd_weight_grad(x, dyh) if method == "winograd" else None
    if dw is None or not np.isfinite(dw.max()):  # (overflow: the direct sum, see conv2d_forward)
        dw = _im2col_weight_grad(x, dyh, k, stride, p)
    if not need_dx:
        return None, dw, db
    return _input_grad(dyh, weights, u, stride, p, x.shape).transpose(0, 3, 1, 2), dw, db


def _input_grad(
    dyh: np.ndarray, weights: np.ndarray, u: np.ndarray | None, stride: int, p: int, x_shape: tuple[int, ...]
) -> np.ndarray:
    """dx (n, H, W, C), a new array, by Winograd, the rotated-kernel im2col convolution or col2im."""
    f, c, k, _ = weights.shape
    h, w = x_shape[1:3]
    if winograd_applies(f, k, stride, p, h, w):
        # the kernel rotated by 180° with F and C swapped: U_rot[ξν] = U[π(ξ)π(ν)] as an (F, C) matrix
        u = _winograd_weights(weights, dyh.dtype) if u is None else u
        dx = _winograd_conv(dyh, u, None, rotated=True)
        if np.isfinite(dx.max()):
            return dx
    if stride == 1 and k - 1 - p >= 0 and f < 3 * c:
        return _im2col_input_grad(dyh, weights, k - 1 - p, x_shape)
    return _col2im_input_grad(dyh, weights, stride, p, x_shape)


def _shifted_backward(
    xp: np.ndarray, dyh: np.ndarray, weights: np.ndarray, p: int, need_dx: bool
) -> tuple[np.ndarray | None, np.ndarray]:
    """(dx (N, C, H, W)-shaped or None, dW) after a "shifted" forward (``xp``: its padded NHWC input)."""
    n, hp, wp, c = xp.shape
    f, _, k, _ = weights.shape
    h, w = hp - 2 * p, wp - 2 * p
    dx_shifted = need_dx and shifted_applies(f, k, 1, p, h, w)
    dxh, dw = shifted_backward(dyh, xp, weights, dx_shifted)
    if not np.isfinite(dw.max()):  # 0·inf on a thrown-away border row: the direct sum over the real windows
        dw = _im2col_weight_grad(np.ascontiguousarray(xp[:, p : p + h, p : p + w]), dyh, k, 1, p)
    if dxh is None and need_dx:  # dx's inner dimension F is outside the shifted range: another method
        dxh = _input_grad(dyh, weights, None, 1, p, (n, h, w, c))
    return (None if dxh is None else dxh.transpose(0, 3, 1, 2)), dw


def _im2col_weight_grad(xh: np.ndarray, dyh: np.ndarray, k: int, stride: int, p: int) -> np.ndarray:
    """dW = dyᵀ·cols, the window matrix re-gathered chunk by chunk: (F, C, k, k), a new array."""
    n, _, _, c = xh.shape
    _, ho, wo, f = dyh.shape
    dy2 = dyh.reshape(-1, f)

    def task(chunk: tuple[int, int]) -> np.ndarray:
        n0, n1 = chunk
        rows = dy2[n0 * ho * wo : n1 * ho * wo]
        return matmul(rows.T, _gather_nhwc(xh[n0:n1], k, stride, p, ho, wo), np.empty((f, k * k * c), xh.dtype))

    dwm = sum_parts(parallel_map(task, *plan(n, ho * wo * max(k * k * c, f) * xh.itemsize, ho * wo)))
    return np.ascontiguousarray(dwm.reshape(f, k, k, c).transpose(0, 3, 1, 2))


def _im2col_input_grad(dyh: np.ndarray, weights: np.ndarray, q: int, x_shape: tuple[int, ...]) -> np.ndarray:
    """Stride-1 dx (n, H, W, C), a new array: the convolution of dy padded by q = k-1-p with rot180(W)ᵀ."""
    n, h, w, c = x_shape
    f, _, k, _ = weights.shape
    # (k, k, F, C) taps, flipped: the rows of the window matrix of dy, in its (i, j, f) column order
    wrot = _weight_rows(weights, weights.dtype)[:, ::-1, ::-1, :].transpose(1, 2, 0, 3).reshape(k * k * f, c)
    dx = np.empty((n, h, w, c), dtype=dyh.dtype)

    def task(chunk: tuple[int, int]) -> None:
        n0, n1 = chunk
        matmul(_gather_nhwc(dyh[n0:n1], k, 1, q, h, w), wrot, dx[n0:n1].reshape(-1, c))

    parallel_map(task, *plan(n, h * w * max(k * k * f, c) * dyh.itemsize, h * w))
    return dx


def _col2im_input_grad(
    dyh: np.ndarray, weights: np.ndarray, stride: int, p: int, x_shape: tuple[int, ...]
) -> np.ndarray:
    """dx (n, H, W, C) for any stride: dcols = dy·W, every window entry added back where it came from."""
    n, h, w, c = x_shape
    f, _, k, _ = weights.shape
    _, ho, wo, _ = dyh.shape
    dy2 = dyh.reshape(-1, f)
    wt = _weight_rows(weights, weights.dtype).reshape(f, k * k * c)
    dxp = np.zeros((n, h + 2 * p, w + 2 * p, c), dtype=dyh.dtype)

    def task(chunk: tuple[int, int]) -> None:
        n0, n1 = chunk
        dcols = scratch("cols", ((n1 - n0) * ho * wo, k * k * c), dyh.dtype)
        matmul(dy2[n0 * ho * wo : n1 * ho * wo], wt, dcols)
        d6 = dcols.reshape(n1 - n0, ho, wo, k, k, c)
        target = dxp[n0:n1]
        for i in range(k):
            for j in range(k):
                target[:, i : i + stride * ho : stride, j : j + stride * wo : stride] += d6[:, :, :, i, j]

    parallel_map(task, *plan(n, ho * wo * max(k * k * c, f) * dyh.itemsize, ho * wo))
    return dxp[:, p : p + h, p : p + w]


def _planes_backward(
    x: np.ndarray, dyh: np.ndarray, weights: np.ndarray, stride: int, p: int, need_dx: bool
) -> tuple[np.ndarray | None, np.ndarray]:
    """(dx or None, dW) for inputs gathered by channel planes (few channels); dx by col2im, NCHW."""
    n, c, h, w = x.shape
    f, _, k, _ = weights.shape
    _, ho, wo, _ = dyh.shape
    dy2 = dyh.reshape(-1, f)
    chunks, parallel = plan(n, ho * wo * max(k * k * c, f) * x.itemsize, ho * wo)

    def dw_task(chunk: tuple[int, int]) -> np.ndarray:
        n0, n1 = chunk
        rows = dy2[n0 * ho * wo : n1 * ho * wo]
        # dWᵀ = cols·dy: both operands in their memory order (faster than dyᵀ·colsᵀ for these thin shapes)
        return matmul(_gather_planes(x[n0:n1], k, stride, p, ho, wo), rows, np.empty((c * k * k, f), dtype=x.dtype))

    dw = np.ascontiguousarray(sum_parts(parallel_map(dw_task, chunks, parallel)).T).reshape(f, c, k, k)
    if not need_dx:
        return None, dw
    dxp = np.zeros((n, c, h + 2 * p, w + 2 * p), dtype=x.dtype)
    wflat = weights.reshape(f, c * k * k)

    def col2im_task(chunk: tuple[int, int]) -> None:
        n0, n1 = chunk
        dcols = scratch("cols", (c * k * k, (n1 - n0) * ho * wo), x.dtype)
        matmul(wflat.T, dy2[n0 * ho * wo : n1 * ho * wo].T, dcols)
        d6 = dcols.reshape(c, k, k, n1 - n0, ho, wo)
        for ch in range(c):
            for i in range(k):
                for j in range(k):
                    dxp[n0:n1, ch, i : i + stride * ho : stride, j : j + stride * wo : stride] += d6[ch, i, j]

    parallel_map(col2im_task, chunks, parallel)
    return dxp[:, :, p : p + h, p : p + w], dw
