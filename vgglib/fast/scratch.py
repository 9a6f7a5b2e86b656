"""Memory layout and scratch memory for the fast backend.

* **channels-last**: the fast convolution computes in NHWC and returns an NCHW-*shaped* view of its NHWC
  result (``y.transpose(0, 3, 1, 2)``): the shape — and so the layer contract — is NCHW, only the strides
  differ (PyTorch calls this ``channels_last``). ReLU and pooling keep that memory order, so the next
  convolution gets its NHWC input back without a copy (:func:`to_nhwc`).
* **scratch buffers**: window matrices, padded copies and Winograd tiles are reused across layers and
  batches, one set per thread (:func:`scratch`). Arrays handed back to a caller never share memory with them
  (``tests/test_fast.py`` checks it with :func:`scratch_buffers`).

Taught in ``notebooks/14_making_it_fast.ipynb``.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import numpy as np

__all__ = ["to_nhwc", "is_channels_last", "new_nchw", "scratch", "scratch_buffers", "free_scratch", "pad_into"]

_local = threading.local()
_all_pools: list[dict[Any, np.ndarray]] = []
_all_pools_lock = threading.Lock()


def _after_fork_in_child() -> None:
    global _all_pools_lock
    _all_pools_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def to_nhwc(x: np.ndarray) -> np.ndarray:
    """An (N, C, H, W)-shaped array as a C-contiguous (N, H, W, C) array: a free view if it is channels-last."""
    t = x.transpose(0, 2, 3, 1)
    return t if t.flags.c_contiguous else np.ascontiguousarray(t)


def is_channels_last(x: np.ndarray) -> bool:
    """True when an (N, C, H, W)-shaped array with C > 1 is stored as NHWC (channels last)."""
    return x.ndim == 4 and x.shape[1] > 1 and x.transpose(0, 2, 3, 1).flags.c_contiguous


def new_nchw(shape: tuple[int, ...], channels_last: bool, dtype: Any, zero: bool = False) -> np.ndarray:
    """A new (N, C, H, W)-shaped array, stored channels-last when asked."""
    make = np.zeros if zero else np.empty
    n, c, h, w = shape
    if channels_last:
        return make((n, h, w, c), dtype=dtype).transpose(0, 3, 1, 2)
    return make(shape, dtype=dtype)


def scratch(name: str, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """A reusable internal buffer of ``shape`` (contents undefined); one per name, dtype and thread."""
    pool = getattr(_local, "pool", None)
    if pool is None:
        pool = _local.pool = {}
        with _all_pools_lock:
            _all_pools.append(pool)
    size = 1
    for s in shape:
        size *= int(s)
    dtype = np.dtype(dtype)
    buf = pool.get((name, dtype))
    if buf is None or buf.size < size:
        buf = pool[(name, dtype)] = np.empty(max(size, 1), dtype=dtype)
    return buf[:size].reshape(shape)


def scratch_buffers() -> list[np.ndarray]:
    """Every thread's scratch buffers (for tests: nothing handed out may share memory with them)."""
    with _all_pools_lock:
        return [buf for pool in _all_pools for buf in pool.values()]


def free_scratch() -> None:
    """Release the scratch buffers of every thread (they are re-created when needed); not while computing."""
    with _all_pools_lock:
        for pool in _all_pools:
            pool.clear()


def pad_into(buf: np.ndarray, x: np.ndarray, p: int, axes: tuple[int, int]) -> np.ndarray:
    """Copy ``x`` into the middle of ``buf`` (``p`` larger on both ``axes``) and zero the border."""
    ya, xa = axes
    h, w = x.shape[ya], x.shape[xa]

    def sl(a: slice, b: slice) -> tuple[slice, ...]:
        idx = [slice(None)] * buf.ndim
        idx[ya], idx[xa] = a, b
        return tuple(idx)

    buf[sl(slice(0, p), slice(None))] = 0
    buf[sl(slice(h + p, None), slice(None))] = 0
    buf[sl(slice(p, h + p), slice(0, p))] = 0
    buf[sl(slice(p, h + p), slice(w + p, None))] = 0
    buf[sl(slice(p, h + p), slice(p, w + p))] = x
    return buf
