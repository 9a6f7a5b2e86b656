"""The fast path: convolution, ReLU and 2×2 pooling written for speed, kept apart from the readable versions.

Explained and timed in ``notebooks/14_making_it_fast.ipynb``; measured against PyTorch by
``benchmarks/bench_vgg16.py`` (see ``benchmarks/README.md`` for the numbers and for what did not help).

:mod:`vgglib.layers` calls these functions automatically for float32 and float64 arrays; the readable code in
``layers.py`` (what notebooks 01–05 derive) is the specification, and ``tests/test_fast.py`` checks that both
give the same outputs and gradients. To run the readable code instead::

    import vgglib.fast
    with vgglib.fast.use(False):        # or: vgglib.fast.enabled = False
        model.forward(x)

What makes it fast (each step measured, see ``benchmarks/README.md``):

* **channels-last activations.** The convolution computes in NHWC (batch, height, width, channels) and returns
  an NCHW-*shaped* view of its NHWC result (``y.transpose(0, 3, 1, 2)``): the shape — and so the layer
  contract — is NCHW, only the strides differ (PyTorch calls this ``channels_last``). The next ReLU and pooling
  keep that memory order, so the next convolution gets its NHWC input back without a copy.
* **im2col in NHWC + one GEMM per chunk of images.** A 3×3 window over NHWC data is three runs of 3·C
  contiguous floats, so gathering windows is a fast ``as_strided`` copy; the product with the (k·k·C, F)
  weight matrix is a single BLAS call. Images are processed a few at a time so the window matrix (``cols``)
  stays in cache and the scratch memory stays small; the scratch buffers are reused across layers and batches.
* **backward without col2im.** For stride 1, ``dx`` is itself a convolution of the padded ``dy`` with the
  rotated, transposed kernel (``notebooks/02_convolution_backprop.ipynb``): another gather + GEMM instead of a
  scatter-add. ``dW = colsᵀ·dy`` recomputes ``cols`` chunk by chunk rather than keeping them (memory).
* **ReLU keeps its output, not a mask**: ``dx = dy·[y > 0]``, and ``y`` is kept anyway by the next layer.
* **2×2/stride-2 pooling by strided views**: the four corners of every window are four strided views, compared
  pairwise; the winner index (first maximum in row-major order, as in the readable code) is a uint8.

Arrays handed back to the caller (outputs, ``dx``, gradients) are always new arrays; only internal scratch
memory (window matrices, padded copies) is reused, per thread.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator, NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .im2col import output_size

__all__ = ["enabled", "use", "applies", "conv2d_forward", "conv2d_backward", "ConvCache", "relu_forward",
           "relu_backward", "is_channels_last", "to_nhwc", "free_scratch", "scratch_buffers", "SMALL_C", "pool2x2_forward", "pool2x2_backward", "CHUNK_BYTES"]

#: Module-level switch: when False every layer runs its readable code.
enabled: bool = True

#: Target size in bytes of one chunk's window matrix (``cols``); a chunk holds at least one image.
CHUNK_BYTES: int = 8 * 2 ** 20

_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


@contextmanager
def use(flag: bool = True) -> Iterator[None]:
    """Context manager: run the fast path (``True``) or the readable code (``False``) inside the block."""
    global enabled
    if not isinstance(flag, (bool, np.bool_)):
        raise TypeError(f"vgglib.fast.use: expected True or False, got {flag!r}")
    previous = enabled
    enabled = bool(flag)
    try:
        yield
    finally:
        enabled = previous


def applies(x: np.ndarray) -> bool:
    """True when the fast path handles ``x``: the switch is on and ``x`` is float32 or float64."""
    return enabled and x.dtype in _DTYPES


# ---------------------------------------------------------------------------------------------------------
# Layout and scratch memory
# ---------------------------------------------------------------------------------------------------------
def to_nhwc(x: np.ndarray) -> np.ndarray:
    """An (N, C, H, W)-shaped array as a C-contiguous (N, H, W, C) array: a free view if it is channels-last."""
    t = x.transpose(0, 2, 3, 1)
    return t if t.flags.c_contiguous else np.ascontiguousarray(t)


def is_channels_last(x: np.ndarray) -> bool:
    """True when an (N, C, H, W)-shaped array with C > 1 is stored as NHWC (channels last)."""
    return x.ndim == 4 and x.shape[1] > 1 and x.transpose(0, 2, 3, 1).flags.c_contiguous


_local = threading.local()


def _scratch(name: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """A reusable internal buffer of ``shape`` (contents undefined); one per name, dtype and thread."""
    pool = getattr(_local, "pool", None)
    if pool is None:
        pool = _local.pool = {}
    size = int(np.prod(shape))
    buf = pool.get((name, dtype))
    if buf is None or buf.size < size:
        buf = pool[(name, dtype)] = np.empty(max(size, 1), dtype=dtype)
    return buf[:size].reshape(shape)


def scratch_buffers() -> list[np.ndarray]:
    """This thread's scratch buffers (for tests: nothing handed out may share memory with them)."""
    return list(getattr(_local, "pool", {}).values())


def free_scratch() -> None:
    """Release this thread's scratch buffers (they are re-created on the next call)."""
    _local.pool = {}


def _images_per_chunk(n: int, bytes_per_image: int) -> int:
    return max(1, min(n, CHUNK_BYTES // max(1, bytes_per_image)))


def _chunks(n: int, per_chunk: int) -> Iterator[tuple[int, int]]:
    for n0 in range(0, n, per_chunk):
        yield n0, min(n, n0 + per_chunk)


def _pad_into(buf: np.ndarray, x: np.ndarray, p: int, axes: tuple[int, int]) -> np.ndarray:
    """Copy ``x`` into the middle of ``buf`` (``p`` larger on both ``axes``) and zero the border."""
    ya, xa = axes
    h, w = x.shape[ya], x.shape[xa]

    def sl(a: slice, b: slice) -> tuple:
        idx = [slice(None)] * buf.ndim
        idx[ya], idx[xa] = a, b
        return tuple(idx)
    buf[sl(slice(0, p), slice(None))] = 0
    buf[sl(slice(h + p, None), slice(None))] = 0
    buf[sl(slice(p, h + p), slice(0, p))] = 0
    buf[sl(slice(p, h + p), slice(w + p, None))] = 0
    buf[sl(slice(p, h + p), slice(p, w + p))] = x
    return buf


def _gather_nhwc(xh: np.ndarray, k: int, stride: int, padding: int, ho: int, wo: int) -> np.ndarray:
    """im2col in NHWC: (n, H, W, C) -> (n·Ho·Wo, k·k·C), columns ordered (i, j, c); scratch memory."""
    n, h, w, c = xh.shape
    if k == 1 and padding == 0 and stride == 1:
        return xh.reshape(n * h * w, c)
    xp = xh
    if padding:
        p = padding
        xp = _pad_into(_scratch("pad", (n, h + 2 * p, w + 2 * p, c), xh.dtype), xh, p, (1, 2))
    cols = _scratch("cols", (n, ho, wo, k, k, c), xh.dtype)
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
    xp = _pad_into(_scratch("pad", (n, c, h + 2 * p, w + 2 * p), x.dtype), x, p, (2, 3)) if p else x
    cols = _scratch("cols", (c, k, k, n, ho, wo), x.dtype)
    for ch in range(c):
        for i in range(k):
            for j in range(k):
                cols[ch, i, j] = xp[:, ch, i:i + stride * ho:stride, j:j + stride * wo:stride]
    return cols.reshape(c * k * k, n * ho * wo)


# ---------------------------------------------------------------------------------------------------------
# Convolution
# ---------------------------------------------------------------------------------------------------------
#: inputs with fewer channels than this are gathered by channel planes (the first layer), others in NHWC
SMALL_C: int = 8


class ConvCache(NamedTuple):
    """What :func:`conv2d_backward` needs: the input (NHWC array, or the NCHW-shaped one for few channels)."""

    x: np.ndarray
    stride: int
    padding: int
    planes: bool            # True: x is (N, C, H, W)-shaped and gathered by planes; False: x is NHWC


def _weight_matrix(weights: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """(F, C, k, k) -> (k·k·C, F), rows ordered (i, j, c) like the NHWC windows."""
    f, c, k, _ = weights.shape
    return weights.astype(dtype, copy=False).transpose(2, 3, 1, 0).reshape(k * k * c, f)


def conv2d_forward(x: np.ndarray, weights: np.ndarray, bias: np.ndarray, stride: int = 1,
                   padding: int = 0) -> tuple[np.ndarray, ConvCache]:
    """Convolution forward: x (N, C, H, W), weights (F, C, k, k), bias (F,) -> y (N, F, Ho, Wo), cache.

    ``y`` is a new array in channels-last memory order (an NCHW-shaped view of an NHWC array).
    Same result as :class:`vgglib.layers.Convolution2D` (to rounding).
    """
    n, c, h, w = x.shape
    f, _, k, _ = weights.shape
    ho, wo = output_size(h, k, padding, stride), output_size(w, k, padding, stride)
    dtype = x.dtype
    b = bias.astype(dtype, copy=False)
    y = np.empty((n, ho, wo, f), dtype=dtype)
    per = _images_per_chunk(n, ho * wo * k * k * c * x.itemsize)
    planes = c < SMALL_C
    if planes:
        wt = weights.astype(dtype, copy=False).reshape(f, c * k * k).T          # (C·k·k, F), a view
        for n0, n1 in _chunks(n, per):
            out = y[n0:n1].reshape(-1, f)
            np.matmul(_gather_planes(x[n0:n1], k, stride, padding, ho, wo).T, wt, out=out)
            out += b
        return y.transpose(0, 3, 1, 2), ConvCache(x, stride, padding, True)
    xh = to_nhwc(x)
    wm = _weight_matrix(weights, dtype)
    for n0, n1 in _chunks(n, per):
        out = y[n0:n1].reshape(-1, f)
        np.matmul(_gather_nhwc(xh[n0:n1], k, stride, padding, ho, wo), wm, out=out)
        out += b
    return y.transpose(0, 3, 1, 2), ConvCache(xh, stride, padding, False)


def conv2d_backward(dy: np.ndarray, cache: ConvCache, weights: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Convolution backward: dy (N, F, Ho, Wo) -> (dx (N, C, H, W), dW (F, C, k, k), db (F,)), all new arrays.

    ``db = Σ dy``; ``dW = colsᵀ·dy`` (windows re-gathered chunk by chunk); ``dx`` is, for stride 1, the
    convolution of dy padded by k-1-p with the kernel rotated by 180° and transposed (F <-> C), else
    ``dy·Wᵀ`` scattered back (col2im). All in the cached input's dtype.
    """
    x, stride, p, planes = cache
    dtype = x.dtype
    f, c, k, _ = weights.shape
    weights = weights.astype(dtype, copy=False)
    if planes:
        n, _, h, w = x.shape
    else:
        n, h, w, _ = x.shape
    dyh = to_nhwc(dy.astype(dtype, copy=False))
    _, ho, wo, _ = dyh.shape
    dy2 = dyh.reshape(-1, f)
    db = dy2.sum(axis=0)
    per = _images_per_chunk(n, ho * wo * k * k * c * x.itemsize)

    # dW = colsᵀ·dy, chunk by chunk
    dwm = None
    for n0, n1 in _chunks(n, per):
        rows = dy2[n0 * ho * wo:n1 * ho * wo]
        if planes:
            part = _gather_planes(x[n0:n1], k, stride, p, ho, wo) @ rows                 # (C·k·k, F)
        else:
            part = _gather_nhwc(x[n0:n1], k, stride, p, ho, wo).T @ rows                 # (k·k·C, F)
        if dwm is None:
            dwm = part
        else:
            dwm += part
    if planes:
        dw = np.ascontiguousarray(dwm.T).reshape(f, c, k, k)
    else:
        dw = np.ascontiguousarray(dwm.reshape(k, k, c, f).transpose(3, 2, 0, 1))

    q = k - 1 - p
    if not planes and stride == 1 and q >= 0 and f < 3 * c:
        # dx = conv(pad(dy, k-1-p), rot180(W) with F and C swapped): gather + GEMM again, no scatter
        wrot = weights[:, :, ::-1, ::-1].transpose(2, 3, 0, 1).reshape(k * k * f, c)
        dx = np.empty((n, h, w, c), dtype=dtype)
        for n0, n1 in _chunks(n, _images_per_chunk(n, h * w * k * k * f * x.itemsize)):
            np.matmul(_gather_nhwc(dyh[n0:n1], k, 1, q, h, w), wrot, out=dx[n0:n1].reshape(-1, c))
        return dx.transpose(0, 3, 1, 2), dw, db

    # otherwise: dcols = dy·Wᵀ, then add every window entry back where it came from (col2im)
    hp, wp = h + 2 * p, w + 2 * p
    if planes:
        dxp = np.zeros((n, c, hp, wp), dtype=dtype)
        wflat = weights.reshape(f, c * k * k)
        for n0, n1 in _chunks(n, per):
            m = (n1 - n0) * ho * wo
            dcols = _scratch("cols", (c * k * k, m), dtype)
            np.matmul(wflat.T, dy2[n0 * ho * wo:n1 * ho * wo].T, out=dcols)
            d6 = dcols.reshape(c, k, k, n1 - n0, ho, wo)
            for ch in range(c):
                for i in range(k):
                    for j in range(k):
                        dxp[n0:n1, ch, i:i + stride * ho:stride, j:j + stride * wo:stride] += d6[ch, i, j]
        return dxp[:, :, p:p + h, p:p + w], dw, db
    wm = _weight_matrix(weights, dtype)
    dxp = np.zeros((n, hp, wp, c), dtype=dtype)
    for n0, n1 in _chunks(n, per):
        m = (n1 - n0) * ho * wo
        dcols = _scratch("cols", (m, k * k * c), dtype)
        np.matmul(dy2[n0 * ho * wo:n1 * ho * wo], wm.T, out=dcols)
        d6 = dcols.reshape(n1 - n0, ho, wo, k, k, c)
        target = dxp[n0:n1]
        for i in range(k):
            for j in range(k):
                target[:, i:i + stride * ho:stride, j:j + stride * wo:stride] += d6[:, :, :, i, j]
    return dxp[:, p:p + h, p:p + w].transpose(0, 3, 1, 2), dw, db


# ---------------------------------------------------------------------------------------------------------
# ReLU
# ---------------------------------------------------------------------------------------------------------
def relu_forward(x: np.ndarray) -> np.ndarray:
    """``max(x, 0)`` as a new array in ``x``'s memory order; keep it for :func:`relu_backward`."""
    return np.maximum(x, 0)


def relu_backward(dy: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``dy·[y > 0]`` from the forward *output* ``y`` (y > 0 exactly where x > 0); a new array."""
    return np.multiply(dy, y > 0)


# ---------------------------------------------------------------------------------------------------------
# 2x2 / stride-2 pooling
# ---------------------------------------------------------------------------------------------------------
def _corners(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The four corners of every 2×2 window of an (N, C, H, W)-shaped array, as strided views (row-major)."""
    h2, w2 = 2 * (x.shape[2] // 2), 2 * (x.shape[3] // 2)
    return (x[:, :, 0:h2:2, 0:w2:2], x[:, :, 0:h2:2, 1:w2:2],
            x[:, :, 1:h2:2, 0:w2:2], x[:, :, 1:h2:2, 1:w2:2])


def _new_nchw(shape: tuple[int, ...], channels_last: bool, dtype: np.dtype, zero: bool = False) -> np.ndarray:
    """A new (N, C, H, W)-shaped array, stored channels-last when asked."""
    make = np.zeros if zero else np.empty
    n, c, h, w = shape
    if channels_last:
        return make((n, h, w, c), dtype=dtype).transpose(0, 3, 1, 2)
    return make(shape, dtype=dtype)


def pool2x2_forward(x: np.ndarray, mode: str = "max") -> tuple[np.ndarray, np.ndarray | None]:
    """2×2 windows, stride 2: x (N, C, H, W) -> (y (N, C, H//2, W//2), winners or None for "avg").

    ``winners`` (uint8, shape of y) holds the flat index i·2 + j of each window's first maximum (minimum)
    in row-major order, exactly like :class:`vgglib.layers.Pooling2D`. Odd rows/columns are dropped (floor).
    """
    a, b, c, d = _corners(x)
    y = _new_nchw(a.shape, is_channels_last(x), x.dtype)
    if mode == "avg":
        np.add(a, b, out=y)
        y += c
        y += d
        y *= x.dtype.type(0.25)
        return y, None
    better = np.greater if mode == "max" else np.less
    pick = np.maximum if mode == "max" else np.minimum
    top, bottom = pick(a, b), pick(c, d)
    right_top, right_bottom = better(b, a), better(d, c)          # ties keep the left (first) element
    lower = better(bottom, top)                                   # ties keep the top row
    pick(top, bottom, out=y)
    winners = np.where(lower, right_bottom, right_top).view(np.uint8)
    winners += lower.view(np.uint8) * np.uint8(2)
    if np.isnan(y).any():
        # NaN breaks the pairwise comparisons; the readable rule is "the first NaN wins"
        win = np.stack([a, b, c, d], axis=-1)
        nan_first = np.argmax(np.isnan(win), axis=-1).astype(np.uint8)
        winners = np.where(np.isnan(y), nan_first, winners)
    return y, winners


def pool2x2_backward(dy: np.ndarray, winners: np.ndarray | None, input_shape: tuple[int, int, int, int],
                     channels_last: bool = False, mode: str = "max") -> np.ndarray:
    """Route every dy to its window's winner ("max"/"min") or spread dy/4 over the window ("avg").

    Returns a new array of ``input_shape``, channels-last in memory when ``channels_last``.
    """
    odd = input_shape[2] % 2 or input_shape[3] % 2       # the dropped last row/column gets zeros
    dx = _new_nchw(input_shape, channels_last, dy.dtype, zero=bool(odd))
    corners = _corners(dx)
    if mode == "avg":
        quarter = dy * dy.dtype.type(0.25)
        for corner in corners:
            corner[...] = quarter
        return dx
    for index, corner in enumerate(corners):
        np.multiply(dy, winners == index, out=corner)
    return dx
