"""Window gathering for convolution and pooling: ``im2col`` and its adjoint ``col2im``.

Derived in ``notebooks/01_convolution.ipynb`` (im2col) and ``notebooks/02_convolution_backprop.ipynb`` (col2im).

A k×k window slid with stride s over an input of shape (N, C, H, W) visits Ho×Wo positions. ``im2col`` lays
the windows out as an array of shape (N, C, k, k, Ho, Wo): entry [n, c, i, j, oy, ox] is
x[n, c, oy*s + i, ox*s + j]. Convolution then is one matrix product; pooling a reduction over (i, j).
``col2im`` is the adjoint: it adds every window entry back where it came from, so overlapping windows
accumulate — exactly what the backward pass needs.

Only the k×k kernel offsets are looped over (at most 25 iterations for k = 5); every iteration moves a
whole strided slice of the batch at once.
"""

from __future__ import annotations

import numpy as np


def output_size(size: int, kernel_size: int, padding: int, stride: int) -> int:
    """Spatial output size ``floor((size + 2*padding - kernel_size) / stride) + 1``."""
    return (size + 2 * padding - kernel_size) // stride + 1


def pad_spatial(x: np.ndarray, padding: int) -> np.ndarray:
    """Zero-pad the last two axes of an (N, C, H, W) array by ``padding`` on every side."""
    if padding == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))


def im2col(x: np.ndarray, kernel_size: int, stride: int = 1, padding: int = 0) -> np.ndarray:
    """Gather sliding windows: (N, C, H, W) -> (N, C, k, k, Ho, Wo)."""
    n, c, h, w = x.shape
    k = kernel_size
    ho = output_size(h, k, padding, stride)
    wo = output_size(w, k, padding, stride)
    xp = pad_spatial(x, padding)
    cols = np.empty((n, c, k, k, ho, wo), dtype=x.dtype)
    for i in range(k):
        for j in range(k):
            cols[:, :, i, j] = xp[:, :, i : i + stride * ho : stride, j : j + stride * wo : stride]
    return cols


def col2im(
    cols: np.ndarray, input_shape: tuple[int, ...], kernel_size: int, stride: int = 1, padding: int = 0
) -> np.ndarray:
    """Scatter-add windows back: (N, C, k, k, Ho, Wo) -> (N, C, H, W); overlaps accumulate."""
    n, c, h, w = input_shape
    k = kernel_size
    ho, wo = cols.shape[-2:]
    xp = np.zeros((n, c, h + 2 * padding, w + 2 * padding), dtype=cols.dtype)
    for i in range(k):
        for j in range(k):
            xp[:, :, i : i + stride * ho : stride, j : j + stride * wo : stride] += cols[:, :, i, j]
    if padding == 0:
        return xp
    return xp[:, :, padding : padding + h, padding : padding + w]
