"""Element-wise and small layers of the fast backend: fully connected, ReLU, 2×2/stride-2 pooling.

* **fully connected**: the same products as :class:`vgglib.layers.FullyConnected`, cut into column blocks for
  the workers; ``db = Σ dy`` by BLAS (``ones·dy``, ~4× faster than numpy's row-by-row sum).
* **ReLU keeps its output, not a mask**: ``dx = dy·[y > 0]``. The forward compares rows of the array with a row
  of zeros (numpy's two-array SIMD loop: about twice as fast as ``np.maximum(x, 0)``).
* **2×2/stride-2 pooling by strided views**: the four corners of every window are four strided views,
  compared pairwise; the winner index (first maximum in row-major order, as in the readable code) is a uint8.
  Inference can skip the winners.

All keep the input's memory order (channels-last stays channels-last). Explained in
``notebooks/14_making_it_fast.ipynb``; tested against :mod:`vgglib.layers` in ``tests/test_fast.py``.
"""

from __future__ import annotations

import numpy as np

from .scratch import is_channels_last, new_nchw
from .workers import matmul, parallel_map, row_splits, sum_rows, threaded

__all__ = [
    "RELU_ROW",
    "linear_forward",
    "linear_backward",
    "relu_forward",
    "relu_backward",
    "pool2x2_forward",
    "pool2x2_backward",
]


@threaded
def linear_forward(x: np.ndarray, weights: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """``x·W + b``: x (N, in), W (in, out), b (out,) -> a new (N, out) array (column blocks on the workers)."""
    y = np.empty((x.shape[0], weights.shape[1]), dtype=x.dtype)
    matmul(x, weights.astype(x.dtype, copy=False), y)
    y += bias.astype(x.dtype, copy=False)
    return y


@threaded
def linear_backward(dy: np.ndarray, x: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dx = dy·Wᵀ, dW = xᵀ·dy, db = Σ_n dy), all new arrays in ``x``'s dtype."""
    dtype = x.dtype
    dy = dy.astype(dtype, copy=False)
    w = weights.astype(dtype, copy=False)
    dw = matmul(x.T, dy, np.empty(w.shape, dtype=dtype))
    dx = matmul(dy, w.T, np.empty(x.shape, dtype=dtype))
    return dx, dw, sum_rows(dy)


#: ReLU compares rows of this many values with a row of zeros: numpy's SIMD loop for two contiguous arrays is
#: about twice as fast as its loop for an array and a scalar
RELU_ROW: int = 2**14


def _memory_order_flat(a: np.ndarray) -> np.ndarray | None:
    """``a``'s values as a 1-D view in memory order when they fill one block (C order or channels-last)."""
    if a.flags.c_contiguous:
        return a.reshape(-1)
    if a.ndim == 4 and a.transpose(0, 2, 3, 1).flags.c_contiguous:
        return a.transpose(0, 2, 3, 1).reshape(-1)
    return None


def _relu_into(x: np.ndarray, y: np.ndarray) -> None:
    xf, yf = _memory_order_flat(x), _memory_order_flat(y)
    if xf is None or yf is None or x.strides != y.strides:
        np.maximum(x, 0, out=y)
        return
    whole = xf.size // RELU_ROW * RELU_ROW
    if whole:
        zeros = np.zeros(RELU_ROW, dtype=x.dtype)
        np.maximum(xf[:whole].reshape(-1, RELU_ROW), zeros, out=yf[:whole].reshape(-1, RELU_ROW))
    np.maximum(xf[whole:], 0, out=yf[whole:])


def relu_forward(x: np.ndarray) -> np.ndarray:
    """``max(x, 0)`` as a new array in ``x``'s memory order; keep it for :func:`relu_backward`."""
    y = np.empty_like(x)
    splits, parallel = row_splits(x.shape[0], x.size)
    parallel_map(lambda r: _relu_into(x[r[0] : r[1]], y[r[0] : r[1]]), splits, parallel)
    return y


def relu_backward(dy: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``dy·[y > 0]`` from the forward *output* ``y`` (y > 0 exactly where x > 0); a new array."""
    dx = np.empty_like(y, dtype=np.result_type(dy, y))
    splits, parallel = row_splits(y.shape[0], y.size)
    parallel_map(lambda r: np.multiply(dy[r[0] : r[1]], y[r[0] : r[1]] > 0, out=dx[r[0] : r[1]]), splits, parallel)
    return dx


def _corners(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The four corners of every 2×2 window of an (N, C, H, W)-shaped array, as strided views (row-major)."""
    h2, w2 = 2 * (x.shape[2] // 2), 2 * (x.shape[3] // 2)
    return (x[:, :, 0:h2:2, 0:w2:2], x[:, :, 0:h2:2, 1:w2:2], x[:, :, 1:h2:2, 0:w2:2], x[:, :, 1:h2:2, 1:w2:2])


def _pool_rows(x: np.ndarray, y: np.ndarray, winners: np.ndarray | None, mode: str) -> None:
    """Pool one slice of the batch into ``y`` (and ``winners``, unless None)."""
    a, b, c, d = _corners(x)
    if mode == "avg":
        np.add(a, b, out=y)
        y += c
        y += d
        y *= x.dtype.type(0.25)
        return
    better = np.greater if mode == "max" else np.less
    pick = np.maximum if mode == "max" else np.minimum
    if winners is None:  # the values alone (NaN propagates, as it should)
        pick(a, b, out=y)
        pick(y, pick(c, d), out=y)
        return
    top, bottom = pick(a, b), pick(c, d)
    lower = better(bottom, top)  # ties keep the top row
    pick(top, bottom, out=y)
    np.copyto(winners, better(b, a))  # ties keep the left (first) element
    np.copyto(winners, better(d, c).view(np.uint8) + np.uint8(2), where=lower)
    if np.isnan(y).any():
        # NaN breaks the pairwise comparisons; the readable rule is "the first NaN wins"
        nan_first = np.argmax(np.isnan(np.stack([a, b, c, d], axis=-1)), axis=-1).astype(np.uint8)
        np.copyto(winners, nan_first, where=np.isnan(y))


def pool2x2_forward(x: np.ndarray, mode: str = "max", winners: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """2×2 windows, stride 2: x (N, C, H, W) -> (y (N, C, H//2, W//2), winners or None for "avg").

    ``winners`` (uint8, shape of y) holds the flat index i·2 + j of each window's first maximum (minimum)
    in row-major order, exactly like :class:`vgglib.layers.Pooling2D`. Odd rows/columns are dropped (floor).
    ``winners=False`` (inference) computes ``y`` alone, in a third of the time, and returns None for them.
    """
    n, c, h, w = x.shape
    channels_last = is_channels_last(x)
    y = new_nchw((n, c, h // 2, w // 2), channels_last, x.dtype)
    idx = None if mode == "avg" or not winners else new_nchw(y.shape, channels_last, np.uint8)
    splits, parallel = row_splits(n, x.size)
    parallel_map(
        lambda r: _pool_rows(x[r[0] : r[1]], y[r[0] : r[1]], None if idx is None else idx[r[0] : r[1]], mode),
        splits,
        parallel,
    )
    return y, idx


def _unpool_rows(dy: np.ndarray, winners: np.ndarray | None, dx: np.ndarray, mode: str) -> None:
    corners = _corners(dx)
    if mode == "avg":
        np.multiply(dy, dy.dtype.type(0.25), out=corners[0])
        for corner in corners[1:]:
            corner[...] = corners[0]
        return
    for index, corner in enumerate(corners):
        np.multiply(dy, winners == index, out=corner)


def pool2x2_backward(
    dy: np.ndarray,
    winners: np.ndarray | None,
    input_shape: tuple[int, int, int, int],
    channels_last: bool = False,
    mode: str = "max",
) -> np.ndarray:
    """Route every dy to its window's winner ("max"/"min") or spread dy/4 over the window ("avg").

    Returns a new array of ``input_shape``, channels-last in memory when ``channels_last``.
    """
    odd = input_shape[2] % 2 or input_shape[3] % 2  # the dropped last row/column gets zeros
    dx = new_nchw(input_shape, channels_last, dy.dtype, zero=bool(odd))
    splits, parallel = row_splits(input_shape[0], dx.size)
    parallel_map(
        lambda r: _unpool_rows(
            dy[r[0] : r[1]], None if winners is None else winners[r[0] : r[1]], dx[r[0] : r[1]], mode
        ),
        splits,
        parallel,
    )
    return dx
