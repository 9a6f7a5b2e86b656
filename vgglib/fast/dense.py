"""Convolution on a map smaller than its kernel as one matrix product: a fully connected layer with tied weights.

On a 2×2 map a 3×3 / pad 1 convolution links every output pixel to every input pixel, each pair through one tap
of the kernel; the other five taps of each output fall on the zero padding, and im2col multiplies those zeros too
(9 taps per output pixel, 4 of them real). Written as one matrix, the convolution is::

    y (n, H·W·F) = x (n, H·W·C) · Wd (H·W·C, H·W·F) + b

where block (input pixel, output pixel) of Wd is the (C, F) tap that links them, zero where none does: (H·W)² taps
per (c, f) instead of im2col's k²·H·W — 16 instead of 36 at 2×2. The backward pass is a fully connected layer's:
dx = dy·Wdᵀ and dWd = xᵀ·dy; a tap used by several pixel pairs (a *tied* weight) gets the sum of their blocks of
dWd, as a shared weight's gradient is the sum over its uses (``notebooks/02_convolution_backprop.ipynb``).

Chosen by :mod:`vgglib.fast.conv` for stride-1 convolutions on maps of fewer pixels than the kernel has taps and at
most DENSE_MAX_PIXELS pixels: VGG16's conv5 layers at 32×32 input (2×2 maps), where Winograd's transforms cost more
than they save. Same results as :class:`vgglib.layers.Convolution2D` to rounding (``tests/test_fast.py``). Derived
and checked in ``notebooks/14_making_it_fast.ipynb``; measured in ``benchmarks/README.md`` (item 3c).
"""

from __future__ import annotations

import numpy as np

from .workers import matmul

__all__ = ["DENSE_MAX_PIXELS", "dense_applies", "dense_weights", "dense_forward", "dense_backward"]

#: maps of at most this many pixels (and fewer than the kernel's k·k taps) go through one dense product
DENSE_MAX_PIXELS: int = 8


def dense_applies(k: int, stride: int, h: int, w: int) -> bool:
    """Whether a k×k, stride-``stride`` convolution on an h×w map is computed as one dense product: stride 1 and
    fewer pixels than taps (then the dense matrix has fewer entries than im2col's products), at most
    DENSE_MAX_PIXELS pixels."""
    return stride == 1 and h * w < k * k and h * w <= DENSE_MAX_PIXELS


def _links(h: int, w: int, ho: int, wo: int, k: int, p: int) -> list[tuple[int, int, int, int]]:
    """(input pixel, output pixel, tap row, tap column) of every tap linking an input pixel of an h×w map to an
    output pixel (Ho×Wo) of a stride-1 convolution with padding ``p``; pixels numbered row by row."""
    return [
        (iy * w + ix, oy * wo + ox, iy - oy + p, ix - ox + p)
        for iy in range(h)
        for ix in range(w)
        for oy in range(ho)
        for ox in range(wo)
        if 0 <= iy - oy + p < k and 0 <= ix - ox + p < k
    ]


def dense_weights(weights: np.ndarray, h: int, w: int, p: int, dtype: np.dtype) -> np.ndarray:
    """Wd (H·W·C, Ho·Wo·F) of the module's docstring for weights (F, C, k, k), an h×w input and padding ``p``
    (stride 1), rows ordered (pixel, c) and columns (pixel, f) — NHWC images flattened. A new array."""
    f, c, k, _ = weights.shape
    ho, wo = h + 2 * p - k + 1, w + 2 * p - k + 1
    taps = weights.astype(dtype, copy=False).transpose(2, 3, 1, 0)  # (k, k, C, F) views
    wd = np.zeros((h * w, c, ho * wo, f), dtype=dtype)
    for src, dst, i, j in _links(h, w, ho, wo, k, p):
        wd[src, :, dst] = taps[i, j]
    return wd.reshape(h * w * c, ho * wo * f)


def dense_forward(xh: np.ndarray, wd: np.ndarray, bias: np.ndarray, ho: int, wo: int) -> np.ndarray:
    """y (n, Ho, Wo, F) new, for NHWC ``xh`` (n, H, W, C), Wd of :func:`dense_weights` and bias (F,)."""
    n = xh.shape[0]
    f = bias.shape[0]
    y = np.empty((n, ho, wo, f), dtype=xh.dtype)
    matmul(xh.reshape(n, -1), wd, y.reshape(n, -1))
    y += bias
    return y


def dense_backward(
    dyh: np.ndarray, xh: np.ndarray, wd: np.ndarray, k: int, p: int, need_dx: bool
) -> tuple[np.ndarray | None, np.ndarray]:
    """(dx (n, H, W, C) new or None, dW (F, C, k, k) new) for NHWC dy (n, Ho, Wo, F) and the forward's ``xh``, Wd."""
    n, h, w, c = xh.shape
    _, ho, wo, f = dyh.shape
    dy2 = dyh.reshape(n, -1)
    dwd = matmul(xh.reshape(n, -1).T, dy2, np.empty(wd.shape, dtype=xh.dtype)).reshape(h * w, c, ho * wo, f)
    dw = np.zeros((k, k, c, f), dtype=xh.dtype)
    for src, dst, i, j in _links(h, w, ho, wo, k, p):  # a tied tap's gradient: the sum over the pixel pairs it links
        dw[i, j] += dwd[src, :, dst]
    dx = matmul(dy2, wd.T, np.empty((n, h * w * c), dtype=xh.dtype)).reshape(n, h, w, c) if need_dx else None
    return dx, np.ascontiguousarray(dw.transpose(3, 2, 0, 1))
