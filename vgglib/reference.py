"""Naive loop implementations: the formulas written out literally, one output element at a time.

These are what ``notebooks/01_convolution.ipynb``, ``notebooks/02_convolution_backprop.ipynb`` and
``notebooks/04_pooling.ipynb`` teach first, and what the tests compare the vectorised layers in
:mod:`vgglib.layers` against (to 1e-10 in float64). They are slow on purpose: clarity over speed.
"""

from __future__ import annotations

import numpy as np

from .im2col import output_size, pad_spatial


def conv2d_forward_naive(
    x: np.ndarray, weights: np.ndarray, bias: np.ndarray, stride: int = 1, padding: int = 0
) -> np.ndarray:
    """``y[n,f,oy,ox] = b[f] + Σ_{c,i,j} W[f,c,i,j]·xpad[n,c,oy·s+i,ox·s+j]``.

    x (N, C, H, W), weights (F, C, k, k), bias (F,) -> y (N, F, Ho, Wo).
    """
    n, c, h, w = x.shape
    f, _, k, _ = weights.shape
    ho, wo = output_size(h, k, padding, stride), output_size(w, k, padding, stride)
    xp = pad_spatial(x, padding)
    y = np.zeros((n, f, ho, wo), dtype=np.result_type(x, weights))
    for b in range(n):
        for o in range(f):
            for oy in range(ho):
                for ox in range(wo):
                    total = bias[o]
                    for ch in range(c):
                        for i in range(k):
                            for j in range(k):
                                total += weights[o, ch, i, j] * xp[b, ch, oy * stride + i, ox * stride + j]
                    y[b, o, oy, ox] = total
    return y


def conv2d_backward_naive(
    dy: np.ndarray, x: np.ndarray, weights: np.ndarray, stride: int = 1, padding: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of the convolution by the chain rule, one term at a time: returns (dx, dW, db).

    Every output y[n,f,oy,ox] touched W[f,c,i,j] and xpad[n,c,oy·s+i,ox·s+j]; each such pair receives
    dy[n,f,oy,ox] times the other factor. Padding is cropped away from dxpad at the end.
    """
    n, c, h, w = x.shape
    f, _, k, _ = weights.shape
    _, _, ho, wo = dy.shape
    xp = pad_spatial(x, padding)
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(weights)
    db = np.zeros(f, dtype=dy.dtype)
    for b in range(n):
        for o in range(f):
            for oy in range(ho):
                for ox in range(wo):
                    g = dy[b, o, oy, ox]
                    db[o] += g
                    for ch in range(c):
                        for i in range(k):
                            for j in range(k):
                                dw[o, ch, i, j] += g * xp[b, ch, oy * stride + i, ox * stride + j]
                                dxp[b, ch, oy * stride + i, ox * stride + j] += g * weights[o, ch, i, j]
    dx = dxp[:, :, padding : padding + h, padding : padding + w]
    return dx, dw, db


def _pick(window: np.ndarray, mode: str) -> tuple[float, int]:
    """Value and flat index (row-major, first on ties) of a window's winner, or its mean for 'avg'."""
    best = 0
    flat = window.ravel()
    if mode == "avg":
        return flat.sum() / flat.size, -1
    for idx in range(1, flat.size):
        if (mode == "max" and flat[idx] > flat[best]) or (mode == "min" and flat[idx] < flat[best]):
            best = idx
    return flat[best], best


def pool2d_forward_naive(
    x: np.ndarray, pool_size: int = 2, stride: int = 2, mode: str = "max"
) -> tuple[np.ndarray, np.ndarray]:
    """Pool every window: returns (y (N, C, Ho, Wo), winners (N, C, Ho, Wo) flat index i·k+j; -1 for avg)."""
    n, c, h, w = x.shape
    k = pool_size
    ho, wo = output_size(h, k, 0, stride), output_size(w, k, 0, stride)
    y = np.zeros((n, c, ho, wo), dtype=x.dtype)
    winners = np.full((n, c, ho, wo), -1, dtype=np.int64)
    for b in range(n):
        for ch in range(c):
            for oy in range(ho):
                for ox in range(wo):
                    window = x[b, ch, oy * stride : oy * stride + k, ox * stride : ox * stride + k]
                    y[b, ch, oy, ox], winners[b, ch, oy, ox] = _pick(window, mode)
    return y, winners


def pool2d_backward_naive(
    dy: np.ndarray, x: np.ndarray, pool_size: int = 2, stride: int = 2, mode: str = "max"
) -> np.ndarray:
    """Route each dy to its window's winner (max/min) or spread dy/k² over the window (avg); overlaps add."""
    _, winners = pool2d_forward_naive(x, pool_size, stride, mode)
    n, c, ho, wo = dy.shape
    k = pool_size
    dx = np.zeros_like(x)
    for b in range(n):
        for ch in range(c):
            for oy in range(ho):
                for ox in range(wo):
                    y0, x0 = oy * stride, ox * stride
                    if mode == "avg":
                        dx[b, ch, y0 : y0 + k, x0 : x0 + k] += dy[b, ch, oy, ox] / (k * k)
                    else:
                        i, j = divmod(int(winners[b, ch, oy, ox]), k)
                        dx[b, ch, y0 + i, x0 + j] += dy[b, ch, oy, ox]
    return dx
