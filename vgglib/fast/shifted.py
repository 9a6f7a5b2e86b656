"""Convolution as a sum of shifted matrix products, for narrow layers on large maps (the fast backend).

Pad the input once and lay it out channels-last as one long matrix ``flat`` of (N·Hp·Wp, C) rows, one row per
padded pixel. Output pixel (y, x) of a stride-1 "same" convolution is then row ``r = y·Wp + x`` of::

    Y[r] = Σ_ij flat[r + i·Wp + j] · W_ij          (W_ij: the (C, F) slice of tap i, j)

— every tap is the *same* matrix read from a shifted row: no window matrix at all. Rows whose window runs over
the right or bottom border are computed too and thrown away (about (Hp·Wp)/(H·W) - 1 extra work: 13% at 32×32,
27% at 16×16, too much below that). The k taps of one kernel row are gathered side by side (one copy of
k·C values per pixel instead of im2col's k·k·C) so each product has k·C inner terms, and the k kernel rows are
k products on row offsets i·Wp, summed. Per chunk of images, in cache:

* forward ``y = Σ_i G[r + i·Wp] · W_i``, with ``G[r] = (flat[r], …, flat[r+k-1])`` (k·C values);
* ``dW_i = dyᵀ · G[· + i·Wp]`` with dy laid out on the same padded grid (zeros outside the image): k products
  whose inner dimension is every pixel — no gather of dy;
* ``dx`` is the same computation as the forward on the padded dy with the kernel rotated by 180° and F <-> C
  swapped (``notebooks/02_convolution_backprop.ipynb``).

Chosen (by measurement: ``benchmarks/bench_layers.py``) for stride-1 "same" convolutions with
SHIFTED_MIN_C <= C <= SHIFTED_MAX_C channels on maps of at least SHIFTED_MIN_SIZE pixels a side: the quarter-width
VGG16 students train (``mnist-vgg16``), where im2col's k·k copy dominates and Winograd's transforms do not pay.
Same results as :class:`vgglib.layers.Convolution2D` to rounding (``tests/test_fast.py``); explained in
``notebooks/14_making_it_fast.ipynb``.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .scratch import pad_into, scratch
from .workers import parallel_map, plan, sum_parts

__all__ = ["SHIFTED_MIN_C", "SHIFTED_MAX_C", "SHIFTED_MIN_SIZE", "SHIFTED_CHUNK_BYTES", "shifted_applies"]

#: the GEMM's inner channel count (C for y and dW, F for dx) at least ...
SHIFTED_MIN_C: int = 8
#: ... and at most (wider layers: Winograd or im2col)
SHIFTED_MAX_C: int = 32
#: the smaller side of the input map at least (below, the thrown-away border rows cost too much)
SHIFTED_MIN_SIZE: int = 32
#: target bytes of one chunk's gathered rows and products (small, to stay in cache)
SHIFTED_CHUNK_BYTES: int = 2 * 2**20


def shifted_applies(channels: int, k: int, stride: int, padding: int, h: int, w: int) -> bool:
    """Whether a k×k convolution on an h×w map goes through shifted products; ``channels`` is the GEMM's inner
    channel count (C for y and dW, F for dx). Stride 1 and "same" padding (2p = k-1) only."""
    return (
        stride == 1
        and 2 * padding == k - 1
        and SHIFTED_MIN_C <= channels <= SHIFTED_MAX_C
        and min(h, w) >= SHIFTED_MIN_SIZE
    )


def _plan(n: int, hp: int, wp: int, k: int, c: int, f: int, itemsize: int) -> tuple[list[tuple[int, int]], bool]:
    """Chunks of images: G (k·C per padded pixel) plus two (·, F) products per image about SHIFTED_CHUNK_BYTES."""
    return plan(n, hp * wp * (k * c + 2 * f) * itemsize, hp * wp, chunk_bytes=SHIFTED_CHUNK_BYTES)


def _row_windows(grid: np.ndarray, k: int) -> np.ndarray:
    """G for a padded chunk (m, Hp, Wp, C): row r holds padded rows r .. r+k-1 of ``flat`` side by side,
    (m·Hp·Wp - k + 1, k·C) — one copy into scratch memory (k·C values per pixel)."""
    c = grid.shape[-1]
    flat = grid.reshape(-1, c)
    rows = flat.shape[0] - k + 1
    g = scratch("shift_rows", (rows, k * c), grid.dtype)
    np.copyto(g, as_strided(flat, (rows, k * c), flat.strides))
    return g


def _shifted_products(grid: np.ndarray, taps: np.ndarray) -> np.ndarray:
    """Σ_i G[r + i·Wp] · taps[i] for every row r of a padded chunk (m, Hp, Wp, Cin), taps (k, k·Cin, Cout):
    an (m, Hp, Wp, Cout) scratch array whose [:, :Hp-k+1, :Wp-k+1] holds the valid convolution."""
    m, hp, wp, _ = grid.shape
    k, _, cout = taps.shape
    g = _row_windows(grid, k)
    out_grid = scratch("shift_out", (m, hp, wp, cout), grid.dtype)
    total = m * hp * wp - (k - 1) * (wp + 1)  # the rows whose windows lie inside the chunk
    out = out_grid.reshape(-1, cout)[:total]
    np.matmul(g[:total], taps[0], out=out)
    if k > 1:
        tmp = scratch("shift_tmp", (total, cout), grid.dtype)
        for i in range(1, k):
            np.matmul(g[i * wp : i * wp + total], taps[i], out=tmp)
            out += tmp
    return out_grid


def _taps(weights: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """(F, C, k, k) -> (k, k·C, F): kernel row i's taps j stacked in G's (j, c) order."""
    f, c, k, _ = weights.shape
    return np.ascontiguousarray(weights.astype(dtype, copy=False).transpose(2, 3, 1, 0)).reshape(k, k * c, f)


def _rotated_taps(weights: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """The kernel rotated by 180° with F <-> C swapped, as (k, k·F, C) taps (dx is a forward with these)."""
    f, c, k, _ = weights.shape
    w = weights.astype(dtype, copy=False)[:, :, ::-1, ::-1]
    return np.ascontiguousarray(w.transpose(2, 3, 0, 1)).reshape(k, k * f, c)


def shifted_forward(x: np.ndarray, weights: np.ndarray, bias: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x (N, C, H, W) any layout, weights (F, C, k, k), bias (F,) -> (y (N, H, W, F) new, padded input
    (N, H+2p, W+2p, C) new, kept for the backward pass)."""
    n, c, h, w = x.shape
    f, _, k, _ = weights.shape
    p = (k - 1) // 2
    hp, wp = h + 2 * p, w + 2 * p
    xp = np.empty((n, hp, wp, c), dtype=x.dtype)
    y = np.empty((n, h, w, f), dtype=x.dtype)
    taps = _taps(weights, x.dtype)

    def task(chunk: tuple[int, int]) -> None:
        n0, n1 = chunk
        pad_into(xp[n0:n1], x[n0:n1].transpose(0, 2, 3, 1), p, (1, 2))
        np.add(_shifted_products(xp[n0:n1], taps)[:, :h, :w], bias, out=y[n0:n1])

    parallel_map(task, *_plan(n, hp, wp, k, c, f, x.itemsize))
    return y, xp


def shifted_backward(
    dyh: np.ndarray, xp: np.ndarray, weights: np.ndarray, need_dx: bool
) -> tuple[np.ndarray | None, np.ndarray]:
    """dy (N, H, W, F) NHWC, the padded input of :func:`shifted_forward`, weights (F, C, k, k) ->
    (dx (N, H, W, C) new, or None when not ``need_dx``; dW (F, C, k, k) new)."""
    n, h, w, f = dyh.shape
    _, hp, wp, c = xp.shape
    k = weights.shape[2]
    p = (k - 1) // 2
    dtype = xp.dtype
    dyp = np.empty((n, hp, wp, f), dtype=dtype)
    dx = np.empty((n, h, w, c), dtype=dtype) if need_dx else None
    rotated = _rotated_taps(weights, dtype) if need_dx else None
    start = p * wp + p  # dy's pixel (y, x) sits at padded row (y+p)·Wp + (x+p): row r + start

    def task(chunk: tuple[int, int]) -> np.ndarray:
        n0, n1 = chunk
        grid = pad_into(dyp[n0:n1], dyh[n0:n1], p, (1, 2))
        rows = (n1 - n0) * hp * wp - (k - 1) * (wp + 1)
        d = grid.reshape(-1, f)[start : start + rows]  # zeros wherever row r is not an output pixel
        g = _row_windows(xp[n0:n1], k)
        part = np.empty((k, f, k * c), dtype=dtype)
        for i in range(k):
            np.matmul(d.T, g[i * wp : i * wp + rows], out=part[i])
        if dx is not None:
            assert rotated is not None
            dx[n0:n1] = _shifted_products(grid, rotated)[:, :h, :w]
        return part

    part = sum_parts(parallel_map(task, *_plan(n, hp, wp, k, max(c, f), max(c, f), dyh.itemsize)))
    dw = np.ascontiguousarray(part.reshape(k, f, k, c).transpose(1, 3, 0, 2))
    return dx, dw
