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
* **Winograd F(2×2, 3×3)** for VGG's 3×3/stride-1/pad-1 layers with ≥ 64 channels: 16 multiplications per
  2×2 output tile instead of 36, as 16 GEMMs of (tiles × C)·(C × F). The input is split into its four 2×2
  phases first, so every transform step streams through long contiguous runs.
* **backward without col2im.** For stride 1, ``dx`` is itself a convolution of the padded ``dy`` with the
  rotated, transposed kernel (``notebooks/02_convolution_backprop.ipynb``): another gather + GEMM (or Winograd
  convolution, reusing the forward's transformed weights) instead of a scatter-add. ``dW = colsᵀ·dy``
  recomputes ``cols`` chunk by chunk rather than keeping them (memory). The network's first layer skips dx
  (``Sequential.backward(..., input_grad=False)``, as in training).
* **inference transforms the weights once**: ``forward(x, training=False)`` keeps Winograd's transformed weights
  in the layer (:class:`WeightCache`) and reuses them while a comparison with a private copy of the weights
  shows them unchanged.
* **fully connected layers**: the same products, cut into column blocks for the workers.
* **ReLU keeps its output, not a mask**: ``dx = dy·[y > 0]``, and ``y`` is kept anyway by the next layer. The
  forward compares rows of the array with a row of zeros (numpy's two-array SIMD loop: about twice as fast as
  ``np.maximum(x, 0)``).
* **2×2/stride-2 pooling by strided views**: the four corners of every window are four strided views, compared
  pairwise; the winner index (first maximum in row-major order, as in the readable code) is a uint8. Inference
  skips the winners (:class:`vgglib.layers.Pooling2D` finds them later if asked).
* **sums by BLAS**: ``db = Σ dy`` is ``ones·dy``, about 4× faster than numpy's row-by-row ``sum(axis=0)``.

* **both cores busy.** numpy runs element-wise work and copies on one core; BLAS alone uses all. So the batch
  is split over workers (:data:`threads`, by default numpy's BLAS thread count: the calling thread plus helper
  threads, taking chunks from a shared counter), each gathering and multiplying its own images with a one-thread
  BLAS — numpy releases the GIL in copies, ufuncs and BLAS.
  Late layers with too few pixels to split by image cut their matrix products into blocks for the workers
  instead. (Needs ``threadpoolctl`` to switch BLAS threads; without it everything stays on the calling thread.)

Arrays handed back to the caller (outputs, ``dx``, gradients) are always new arrays; only internal scratch
memory (window matrices, padded copies) is reused, per thread. The fast ReLU and convolution keep a reference to
their input/output for ``backward`` instead of a copy, and so does pooling after an inference forward (for its
winners, found when asked): don't modify those arrays in place in between.
"""
from __future__ import annotations

import concurrent.futures
import functools
import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, Callable, Iterator, NamedTuple, Sequence

import numpy as np
from numpy.lib.stride_tricks import as_strided
from .im2col import output_size

__all__ = ["enabled", "threads", "use", "applies", "worker_count", "conv2d_forward", "conv2d_backward",
           "ConvCache", "WeightCache", "linear_forward", "linear_backward", "relu_forward", "relu_backward", "pool2x2_forward", "pool2x2_backward",
           "is_channels_last", "to_nhwc", "scratch_buffers", "free_scratch", "CHUNK_BYTES", "MIN_ROWS",
           "MIN_PARALLEL_ROWS", "SMALL_C", "WINOGRAD_MIN_C", "WINOGRAD_CHUNK_BYTES"]

#: Module-level switch: when False every layer runs its readable code.
enabled: bool = True

#: Worker threads; None: as many as numpy's BLAS uses (``OPENBLAS_NUM_THREADS``, ``threadpoolctl`` limits).
threads: int | None = None

#: Target size in bytes of one chunk's window matrix (``cols``); a chunk holds at least one image.
CHUNK_BYTES: int = 8 * 2 ** 20
#: ...and at least this many GEMM rows (output pixels), so small late layers still make one efficient GEMM.
MIN_ROWS: int = 1024
#: Images are split over the worker threads (each calling a one-thread BLAS) only when every worker gets at
#: least this many GEMM rows; below, one multi-threaded BLAS call is faster.
MIN_PARALLEL_ROWS: int = 512
#: Element-wise work (ReLU, pooling) is split over the workers from this many values on.
MIN_PARALLEL_VALUES: int = 2 ** 18
#: A single matrix product is cut into blocks for the workers from this many floating-point operations on.
MIN_PARALLEL_FLOPS: int = 2 ** 24
#: inputs with fewer channels than this are gathered by channel planes (the first layer), others in NHWC
SMALL_C: int = 8

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
# Threads: split the batch over workers, each running a one-thread BLAS
# ---------------------------------------------------------------------------------------------------------
_blas: list | None = None          # threadpoolctl controllers of the BLAS libraries, numpy's first
_blas_lock = threading.Lock()
_blas_depth = 0
_blas_saved: list[int] = []
_executor: ThreadPoolExecutor | None = None
_executor_workers = 0


def _blas_controllers() -> list:
    """numpy's BLAS (first) and any other loaded BLAS (e.g. scipy's); empty without threadpoolctl."""
    global _blas
    if _blas is None:
        try:
            from threadpoolctl import ThreadpoolController
            libs = ThreadpoolController().select(user_api="blas").lib_controllers
            _blas = sorted(libs, key=lambda lib: "numpy" not in str(lib.filepath))
        except Exception:          # threadpoolctl missing or unable to find the libraries: stay serial
            _blas = []
    return _blas


def worker_count() -> int:
    """Threads the fast path uses: :data:`threads`, else numpy's BLAS thread count (1 without threadpoolctl)."""
    if threads is not None:
        if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
            raise ValueError(f"vgglib.fast.threads must be None or an integer >= 1, got {threads!r}")
        return int(threads)
    libs = _blas_controllers()
    if not libs:
        return 1
    with _blas_lock:
        count = _blas_saved[0] if _blas_depth else libs[0].num_threads
    return max(1, int(count))


@contextmanager
def _one_blas_thread() -> Iterator[None]:
    """BLAS runs single-threaded inside (the workers are the threads); nested and concurrent uses are safe.

    Switching per call matters: OpenBLAS's idle threads spin for a while after every multi-threaded call, and
    would steal the cores our workers need.
    """
    global _blas_depth, _blas_saved
    libs = _blas_controllers()
    if not libs:
        yield
        return
    with _blas_lock:
        if _blas_depth == 0:
            _blas_saved = [lib.num_threads for lib in libs]
            for lib in libs:
                lib.set_num_threads(1)
        _blas_depth += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_depth -= 1
            if _blas_depth == 0:
                for lib, count in zip(libs, _blas_saved):
                    lib.set_num_threads(count)


def _threaded(fn: Callable) -> Callable:
    """Decorator: with several workers, ``fn`` runs with a one-thread BLAS and splits its own work."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if worker_count() < 2:
            return fn(*args, **kwargs)
        with _one_blas_thread():
            return fn(*args, **kwargs)
    return wrapper


def _pool(workers: int) -> ThreadPoolExecutor:
    """The helper threads: ``workers - 1`` of them, the calling thread being the last worker (:func:`_map`)."""
    global _executor, _executor_workers
    with _blas_lock:
        if _executor is None or _executor_workers != workers:
            _executor = ThreadPoolExecutor(max_workers=max(1, workers - 1), thread_name_prefix="vgglib-fast")
            _executor_workers = workers
        return _executor


def _after_fork_in_child() -> None:
    """A forked child has none of the parent's threads: start afresh (else the first split would wait forever)."""
    global _executor, _executor_workers, _blas_lock, _blas_depth, _all_pools_lock
    _executor, _executor_workers, _blas_depth = None, 0, 0
    _blas_lock = threading.Lock()
    _all_pools_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


_splitting = threading.local()      # .active: this thread is taking its share of a split


def _on_worker() -> bool:
    """True inside a split (a helper thread, or the calling thread taking its share): nested work stays serial."""
    return getattr(_splitting, "active", False) or threading.current_thread().name.startswith("vgglib-fast")


def _map(fn: Callable[[Any], Any], items: Sequence[Any], parallel: bool = True) -> list:
    """``[fn(item) for item in items]``, over the workers when ``parallel`` (and not already inside a split).

    The calling thread is one of the workers: it and ``workers - 1`` helper threads take the items one at a
    time from a shared counter (each item once; a core taken by another process just takes fewer). One
    hand-off per split instead of one per item, and no thread sits waiting: this halves the futex calls (thread
    wake-ups) of a training step.
    """
    workers = worker_count()
    if not parallel or workers < 2 or len(items) < 2 or _on_worker():
        return [fn(item) for item in items]
    results: list[Any] = [None] * len(items)
    claim = itertools.count()           # next() on it is atomic under the GIL: every index is taken once
    failed: list[BaseException] = []

    def take_items() -> None:
        try:
            while not failed:
                i = next(claim)
                if i >= len(items):
                    return
                results[i] = fn(items[i])
        except BaseException as exc:    # noqa: BLE001 — re-raised on the calling thread below
            failed.append(exc)

    helpers = [_pool(workers).submit(take_items) for _ in range(min(workers, len(items)) - 1)]
    _splitting.active = True
    try:
        take_items()
    finally:
        _splitting.active = False
        concurrent.futures.wait(helpers)
    if failed:
        raise failed[0]
    return results


def _blocks(size: int, parts: int) -> list[slice]:
    bounds = [round(i * size / parts) for i in range(parts + 1)]
    return [slice(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:]) if hi > lo]


def _matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``np.matmul(a, b, out=out)``, split into blocks over the workers when it is big enough.

    2-D: the longer side of ``out`` is cut (row blocks of ``a`` or column blocks of ``b``); stacks: the stack.
    Every block is still one BLAS call on (strided) views — no copies.
    """
    workers = worker_count()
    flops = 2 * out.size * a.shape[-1]
    if workers < 2 or _on_worker() or flops < MIN_PARALLEL_FLOPS:
        return np.matmul(a, b, out=out)
    if out.ndim == 3:
        parts = _blocks(out.shape[0], min(out.shape[0], workers))
        _map(lambda s: np.matmul(a[s], b[s], out=out[s]), parts)
    elif out.shape[0] >= out.shape[1]:
        parts = _blocks(out.shape[0], min(out.shape[0], 2 * workers))
        _map(lambda s: np.matmul(a[s], b, out=out[s]), parts)
    else:
        parts = _blocks(out.shape[1], min(out.shape[1], 2 * workers))
        _map(lambda s: np.matmul(a, b[:, s], out=out[:, s]), parts)
    return out


def _sum_rows(a: np.ndarray) -> np.ndarray:
    """``a.sum(axis=0)`` of a 2-D array as ``ones·a`` (BLAS: ~4× faster than numpy's row-by-row sum), the row
    blocks summed on the workers."""
    def total(rows: np.ndarray) -> np.ndarray:
        return np.ones(rows.shape[0], dtype=rows.dtype) @ rows
    workers = worker_count()
    if workers < 2 or a.size < MIN_PARALLEL_VALUES or _on_worker():
        return total(a)
    return _sum_parts(_map(lambda s: total(a[s]), _blocks(a.shape[0], workers)))


def _plan(n: int, bytes_per_image: int, rows_per_image: int, min_rows: int | None = None,
          chunk_bytes: int | None = None, min_parallel_rows: int | None = None
          ) -> tuple[list[tuple[int, int]], bool]:
    """Split n images into chunks: (image ranges, whether to spread them over the workers).

    A chunk's window matrix is about CHUNK_BYTES (so it stays in cache) but has at least MIN_ROWS rows; the
    workers get equal shares when each gets at least MIN_PARALLEL_ROWS rows.
    """
    min_rows = MIN_ROWS if min_rows is None else min_rows
    chunk_bytes = CHUNK_BYTES if chunk_bytes is None else chunk_bytes
    min_parallel_rows = MIN_PARALLEL_ROWS if min_parallel_rows is None else min_parallel_rows
    per = max(chunk_bytes // max(1, bytes_per_image), -(-min_rows // max(1, rows_per_image)), 1)
    count = -(-n // per)
    workers = worker_count()
    parallel = workers > 1 and n >= workers and (n // workers) * rows_per_image >= min_parallel_rows
    if parallel:
        count = -(-max(count, workers) // workers) * workers
    per = -(-n // count)
    return [(n0, min(n, n0 + per)) for n0 in range(0, n, per)], parallel


def _row_splits(n: int, values: int) -> tuple[list[tuple[int, int]], bool]:
    """Split n images evenly over the workers for element-wise work on ``values`` numbers."""
    workers = worker_count()
    if workers < 2 or n < 2 or values < MIN_PARALLEL_VALUES:
        return [(0, n)], False
    parts = min(workers, n)
    bounds = [round(i * n / parts) for i in range(parts + 1)]
    return list(zip(bounds[:-1], bounds[1:])), True


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
_all_pools: list[dict] = []
_all_pools_lock = threading.Lock()


def _scratch(name: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """A reusable internal buffer of ``shape`` (contents undefined); one per name, dtype and thread."""
    pool = getattr(_local, "pool", None)
    if pool is None:
        pool = _local.pool = {}
        with _all_pools_lock:
            _all_pools.append(pool)
    size = 1
    for s in shape:
        size *= int(s)
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
class WeightCache:
    """A layer's weights as the fast path transforms them (Winograd's U), kept while the weights are unchanged.

    For inference: a layer that runs ``forward(x, training=False)`` batch after batch with the same weights
    transforms them once instead of for every batch. Every use first compares the weights with a private copy
    (``np.array_equal``: one read of each, a fraction of the transform's cost), so a change in place, a new
    array or another dtype recomputes — a stale result is impossible. The first reuse also stores U transposed
    and contiguous, (16, C, F): the forward's GEMMs run faster on it than on a transposed view, most on small
    maps (2×2: 3.7 instead of 4.9 ms). Training, whose weights change every step, doesn't use it; :meth:`clear`
    frees the memory (a copy of the weights plus U: 25/9 of the weights' size).
    """

    __slots__ = ("_source", "_ut")

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        """Forget the cached weights and their transform."""
        self._source: np.ndarray | None = None  # a copy of the weights U was computed from
        self._ut: np.ndarray | None = None      # Uᵀ as a (16, C, F) view of U (16, F, C), then contiguous

    def winograd_weights_t(self, weights: np.ndarray, dtype: np.dtype) -> np.ndarray:
        """Uᵀ (16, C, F) of :func:`_winograd_weights`, recomputed only when the weights differ from last time."""
        src = self._source
        if (src is not None and self._ut.dtype == dtype and src.shape == weights.shape
                and src.dtype == weights.dtype and np.array_equal(src, weights)):
            if not self._ut.flags.c_contiguous:          # first reuse: a contiguous copy, 16 planes on the workers
                ut = np.empty(self._ut.shape, dtype=self._ut.dtype)
                _map(lambda t: np.copyto(ut[t], self._ut[t]), range(16))
                self._ut = ut
            return self._ut
        self.clear()
        ut = _winograd_weights(weights, dtype).transpose(0, 2, 1)
        self._source, self._ut = weights.copy(), ut
        return ut


class ConvCache(NamedTuple):
    """What :func:`conv2d_backward` needs: the input and how the forward computed."""

    x: np.ndarray           # NHWC for "nhwc" and "winograd"; the (N, C, H, W)-shaped input for "planes"
    stride: int
    padding: int
    method: str             # "planes" (few channels), "nhwc" (im2col + GEMM) or "winograd"
    #: Winograd's transformed weights U (16, F, C) when the forward computed them (reused for dx)
    winograd_weights: np.ndarray | None = None


def _weight_rows(weights: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """(F, C, k, k) -> (F, k, k, C) contiguous: each filter's values in the order of the NHWC windows.

    (Moving C last keeps runs of k·k values together; a (k·k·C, F) matrix would need a slow full transpose.
    BLAS multiplies by its transpose without a copy.)
    """
    return np.ascontiguousarray(weights.astype(dtype, copy=False).transpose(0, 2, 3, 1))


@_threaded
def conv2d_forward(x: np.ndarray, weights: np.ndarray, bias: np.ndarray, stride: int = 1,
                   padding: int = 0, weight_cache: WeightCache | None = None) -> tuple[np.ndarray, ConvCache]:
    """Convolution forward: x (N, C, H, W), weights (F, C, k, k), bias (F,) -> y (N, F, Ho, Wo), cache.

    ``y`` is a new array in channels-last memory order (an NCHW-shaped view of an NHWC array).
    Same result as :class:`vgglib.layers.Convolution2D` (to rounding). ``weight_cache`` (inference): reuse
    the transformed weights of an earlier call while the weights are unchanged (:class:`WeightCache`).
    """
    n, c, h, w = x.shape
    f, _, k, _ = weights.shape
    ho, wo = output_size(h, k, padding, stride), output_size(w, k, padding, stride)
    dtype = x.dtype
    b = bias.astype(dtype, copy=False)
    if _winograd_applies(c, k, stride, padding, h, w):
        xh = to_nhwc(x)
        if weight_cache is not None:
            y = _winograd_conv(xh, weight_cache.winograd_weights_t(weights, dtype), b)
            return y.transpose(0, 3, 1, 2), ConvCache(xh, stride, padding, "winograd")
        u = _winograd_weights(weights, dtype)                                  # (16, F, C)
        y = _winograd_conv(xh, u.transpose(0, 2, 1), b)
        return y.transpose(0, 3, 1, 2), ConvCache(xh, stride, padding, "winograd", u)
    y = np.empty((n, ho, wo, f), dtype=dtype)
    chunks, parallel = _plan(n, ho * wo * max(k * k * c, f) * x.itemsize, ho * wo)
    planes = c < SMALL_C
    if planes:
        wt = weights.astype(dtype, copy=False).reshape(f, c * k * k).T          # (C·k·k, F), a view
        source = x
    else:
        source = to_nhwc(x)
        wt = _weight_rows(weights, dtype).reshape(f, k * k * c).T                # (k·k·C, F), a view

    def task(chunk: tuple[int, int]) -> None:
        n0, n1 = chunk
        out = y[n0:n1].reshape(-1, f)
        if planes:
            _matmul(_gather_planes(source[n0:n1], k, stride, padding, ho, wo).T, wt, out)
        else:
            _matmul(_gather_nhwc(source[n0:n1], k, stride, padding, ho, wo), wt, out)
        out += b
    _map(task, chunks, parallel)
    return y.transpose(0, 3, 1, 2), ConvCache(source, stride, padding, "planes" if planes else "nhwc")


@_threaded
def conv2d_backward(dy: np.ndarray, cache: ConvCache, weights: np.ndarray, need_dx: bool = True
                    ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Convolution backward: dy (N, F, Ho, Wo) -> (dx (N, C, H, W), dW (F, C, k, k), db (F,)), all new arrays.

    ``db = Σ dy``; ``dW = dyᵀ·cols`` (windows re-gathered chunk by chunk) or Winograd's ``dU = Σ dMᵀ·V``;
    ``dx`` is, for stride 1, the convolution of dy padded by k-1-p with the kernel rotated by 180° and
    transposed (F <-> C) — by im2col + GEMM or by Winograd — else ``dy·W`` scattered back (col2im). Each of
    dW and dx picks its own method (:data:`WINOGRAD_MIN_C`). ``need_dx=False`` skips dx (returns None): the
    first layer's input needs no gradient. All in the cached input's dtype.
    """
    x, stride, p, method, u = cache
    dtype = x.dtype
    f, c, k, _ = weights.shape
    weights = weights.astype(dtype, copy=False)
    dyh = to_nhwc(dy.astype(dtype, copy=False))
    db = _sum_rows(dyh.reshape(-1, f))
    if method == "planes":
        return _planes_backward(x, dyh, weights, stride, p, need_dx) + (db,)
    h, w = x.shape[1:3]
    if _winograd_applies(c, k, stride, p, h, w):
        dw = _winograd_weight_grad(x, dyh)
    else:
        dw = _im2col_weight_grad(x, dyh, k, stride, p)
    if not need_dx:
        return None, dw, db
    if _winograd_applies(f, k, stride, p, h, w):
        # the kernel rotated by 180° with F and C swapped: U_rot[ξν] = U[π(ξ)π(ν)] as an (F, C) matrix
        u = _winograd_weights(weights, dtype) if u is None else u
        dx = _winograd_conv(dyh, u, None, rotated=True)
    elif stride == 1 and k - 1 - p >= 0 and f < 3 * c:
        dx = _im2col_input_grad(dyh, weights, k - 1 - p, x.shape)
    else:
        dx = _col2im_input_grad(dyh, weights, stride, p, x.shape)
    return dx.transpose(0, 3, 1, 2), dw, db


def _im2col_weight_grad(xh: np.ndarray, dyh: np.ndarray, k: int, stride: int, p: int) -> np.ndarray:
    """dW = dyᵀ·cols, the window matrix re-gathered chunk by chunk: (F, C, k, k), a new array."""
    n, _, _, c = xh.shape
    _, ho, wo, f = dyh.shape
    dy2 = dyh.reshape(-1, f)

    def task(chunk: tuple[int, int]) -> np.ndarray:
        n0, n1 = chunk
        rows = dy2[n0 * ho * wo:n1 * ho * wo]
        return _matmul(rows.T, _gather_nhwc(xh[n0:n1], k, stride, p, ho, wo), np.empty((f, k * k * c), xh.dtype))
    dwm = _sum_parts(_map(task, *_plan(n, ho * wo * max(k * k * c, f) * xh.itemsize, ho * wo)))
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
        _matmul(_gather_nhwc(dyh[n0:n1], k, 1, q, h, w), wrot, dx[n0:n1].reshape(-1, c))
    _map(task, *_plan(n, h * w * max(k * k * f, c) * dyh.itemsize, h * w))
    return dx


def _col2im_input_grad(dyh: np.ndarray, weights: np.ndarray, stride: int, p: int, x_shape: tuple[int, ...]
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
        dcols = _scratch("cols", ((n1 - n0) * ho * wo, k * k * c), dyh.dtype)
        _matmul(dy2[n0 * ho * wo:n1 * ho * wo], wt, dcols)
        d6 = dcols.reshape(n1 - n0, ho, wo, k, k, c)
        target = dxp[n0:n1]
        for i in range(k):
            for j in range(k):
                target[:, i:i + stride * ho:stride, j:j + stride * wo:stride] += d6[:, :, :, i, j]
    _map(task, *_plan(n, ho * wo * max(k * k * c, f) * dyh.itemsize, ho * wo))
    return dxp[:, p:p + h, p:p + w]


def _planes_backward(x: np.ndarray, dyh: np.ndarray, weights: np.ndarray, stride: int, p: int, need_dx: bool
                     ) -> tuple[np.ndarray | None, np.ndarray]:
    """(dx or None, dW) for inputs gathered by channel planes (few channels); dx by col2im, NCHW."""
    n, c, h, w = x.shape
    f, _, k, _ = weights.shape
    _, ho, wo, _ = dyh.shape
    dy2 = dyh.reshape(-1, f)
    chunks, parallel = _plan(n, ho * wo * max(k * k * c, f) * x.itemsize, ho * wo)

    def dw_task(chunk: tuple[int, int]) -> np.ndarray:
        n0, n1 = chunk
        rows = dy2[n0 * ho * wo:n1 * ho * wo]
        # dWᵀ = cols·dy: both operands in their memory order (faster than dyᵀ·colsᵀ for these thin shapes)
        return _matmul(_gather_planes(x[n0:n1], k, stride, p, ho, wo), rows,
                       np.empty((c * k * k, f), dtype=x.dtype))
    dw = np.ascontiguousarray(_sum_parts(_map(dw_task, chunks, parallel)).T).reshape(f, c, k, k)
    if not need_dx:
        return None, dw
    dxp = np.zeros((n, c, h + 2 * p, w + 2 * p), dtype=x.dtype)
    wflat = weights.reshape(f, c * k * k)

    def col2im_task(chunk: tuple[int, int]) -> None:
        n0, n1 = chunk
        dcols = _scratch("cols", (c * k * k, (n1 - n0) * ho * wo), x.dtype)
        _matmul(wflat.T, dy2[n0 * ho * wo:n1 * ho * wo].T, dcols)
        d6 = dcols.reshape(c, k, k, n1 - n0, ho, wo)
        for ch in range(c):
            for i in range(k):
                for j in range(k):
                    dxp[n0:n1, ch, i:i + stride * ho:stride, j:j + stride * wo:stride] += d6[ch, i, j]
    _map(col2im_task, chunks, parallel)
    return dxp[:, :, p:p + h, p:p + w], dw


def _sum_parts(parts: list[np.ndarray]) -> np.ndarray:
    """The sum of the workers' partial results, added into the first (a new array each worker made)."""
    total = parts[0]
    for part in parts[1:]:
        total += part
    return total


# ---------------------------------------------------------------------------------------------------------
# Winograd F(2×2, 3×3): 3×3 / stride 1 / pad 1 convolutions with 16 instead of 36 multiplications per 2×2
# output tile
# ---------------------------------------------------------------------------------------------------------
#: 3x3/stride-1/pad-1 convolutions use Winograd's algorithm when the GEMM's inner dimension — the input
#: channels (forward, dW) or the output channels (dx) — is at least this (float32 and float64; even sizes)
WINOGRAD_MIN_C: int = 64
#: GEMM rows (2×2 tiles) per Winograd chunk, at least
WINOGRAD_MIN_TILES: int = 256
#: target bytes of one Winograd chunk's transformed input and output (V and M): small, to stay in cache
WINOGRAD_CHUNK_BYTES: int = 4 * 2 ** 20


def _winograd_applies(channels: int, k: int, stride: int, padding: int, h: int, w: int) -> bool:
    """Whether a k×k convolution on an h×w map goes through Winograd; ``channels`` is the GEMM's inner
    dimension (C for y and dW, F for dx)."""
    return k == 3 and stride == 1 and padding == 1 and channels >= WINOGRAD_MIN_C and h % 2 == 0 and w % 2 == 0


def _winograd_plan(n: int, tiles: int, c: int, f: int, itemsize: int) -> tuple[list[tuple[int, int]], bool]:
    """Chunks of images for a Winograd layer with ``tiles`` 2×2 tiles per image (see :func:`_plan`). The
    workers take whole chunks — transforms and GEMMs — once each gets WINOGRAD_MIN_TILES tiles: the
    transforms are numpy passes on one core each, so splitting only the GEMMs would leave a core idle for them
    (VGG16's 8×8 maps at batch 32: 6.7 → 5.8 ms per layer)."""
    return _plan(n, 16 * tiles * (c + f) * itemsize, tiles, WINOGRAD_MIN_TILES, WINOGRAD_CHUNK_BYTES,
                 WINOGRAD_MIN_TILES)


#: rotating g by 180° reverses G's columns, which swaps G's rows 0 and 3: U_rot[ξν] = U[π(ξ)π(ν)]
_ROT = (3, 1, 2, 0)
_NO_ROT = (0, 1, 2, 3)
_G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])
#: U[ξ·4+ν] = Σ_ij G[ξ,i]·G[ν,j]·g[i·3+j]: the weight transform as one (16, 9) matrix
_KRON_G = np.kron(_G, _G)


def _winograd_weights(weights: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """U = G·g·Gᵀ for every (f, c): (F, C, 3, 3) -> (16, F, C), tile position ξ·4 + ν first.

    G = [[1, 0, 0], [½, ½, ½], [½, -½, ½], [0, 0, 1]]; all 16 entries at once as one matrix product
    (G⊗G)·g with g the (9, F·C) taps.
    """
    f, c = weights.shape[:2]
    g = weights.astype(dtype, copy=False).reshape(f * c, 9)
    return _matmul(_KRON_G.astype(dtype), g.T, np.empty((16, f * c), dtype=dtype)).reshape(16, f, c)


def _winograd_input(xh: np.ndarray, rotated: bool = False) -> np.ndarray:
    """V = Bᵀ·d·B for every 4×4 input tile d (stride 2, padding 1): (n, H, W, C) -> (16, n·H/2·W/2, C).

    Bᵀ = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]; scratch memory. Tiles overlap by two
    pixels, so the padded input is first split into its four 2×2 *phases* p[a, b] = xpad[2i + a, 2j + b]: then
    row r (column q) of every tile is one contiguous slice of a phase, and every step below streams through
    long contiguous runs instead of stride-2 gathers. ``rotated``: V is stored at the positions π(ξ)π(ν)
    (see :func:`_winograd_conv`).
    """
    n, h, w, c = xh.shape
    th, tw = h // 2, w // 2
    p = _scratch("wP", (2, 2, n, th + 1, tw + 1, c), xh.dtype)
    # p[a, b][:, i, j] = xpad[:, 2i + a, 2j + b] = x[:, 2i + a - 1, 2j + b - 1], zero on the padding
    p[0, :, :, 0] = 0
    p[1, :, :, th] = 0
    p[:, 0, :, :, 0] = 0
    p[:, 1, :, :, tw] = 0
    p[0, 0, :, 1:, 1:] = xh[:, 1::2, 1::2]
    p[0, 1, :, 1:, :tw] = xh[:, 1::2, 0::2]
    p[1, 0, :, :th, 1:] = xh[:, 0::2, 1::2]
    p[1, 1, :, :th, :tw] = xh[:, 0::2, 0::2]
    d = [p[r % 2, :, :, r // 2:r // 2 + th] for r in range(4)]              # row r of every tile (both phases)
    t = _scratch("wT", (4, 2, n, th, tw + 1, c), xh.dtype)
    o = _ROT if rotated else _NO_ROT
    np.subtract(d[0], d[2], out=t[o[0]])                                     # Bᵀ·d
    np.add(d[1], d[2], out=t[o[1]])
    np.subtract(d[2], d[1], out=t[o[2]])
    np.subtract(d[1], d[3], out=t[o[3]])
    s = [t[:, q % 2, :, :, q // 2:q // 2 + tw] for q in range(4)]             # column q of every tile
    v = _scratch("wV", (4, 4, n, th, tw, c), xh.dtype)
    np.subtract(s[0], s[2], out=v[:, o[0]])                                  # (Bᵀ·d)·B
    np.add(s[1], s[2], out=v[:, o[1]])
    np.subtract(s[2], s[1], out=v[:, o[2]])
    np.subtract(s[1], s[3], out=v[:, o[3]])
    return v.reshape(16, n * th * tw, c)


def _winograd_output(m: np.ndarray, y: np.ndarray, bias: np.ndarray | None, rotated: bool = False) -> None:
    """Y = Aᵀ·M·A (+ bias) for every tile: (16, T, F) -> 2×2 outputs written into y (n, H, W, F).

    Aᵀ = [[1, 1, 1, 0], [0, 1, -1, -1]]. ``m`` is scratch and is modified: the bias is added to M₁₁ alone,
    which Aᵀ·M·A adds to all four outputs of the tile (column 1 of Aᵀ is all ones). ``rotated``: M is stored
    at the positions π(ξ)π(ν).
    """
    n, h, w, f = y.shape
    th, tw = h // 2, w // 2
    m = m.reshape(4, 4, n, th, tw, f)
    if bias is not None:
        m[1, 1] += bias
    o = _ROT if rotated else _NO_ROT
    s = _scratch("wS", (2, 4, n, th, tw, f), y.dtype)
    np.add(m[o[0]], m[o[1]], out=s[0])                                       # Aᵀ·M
    s[0] += m[o[2]]
    np.subtract(m[o[1]], m[o[2]], out=s[1])
    s[1] -= m[o[3]]
    tmp = _scratch("wY", (2, n, th, tw, f), y.dtype)
    y6 = y.reshape(n, th, 2, tw, 2, f)                                       # y6[:, i, a, j, b] = y[2i + a, 2j + b]
    for a in range(2):                                                       # (Aᵀ·M)·A
        np.add(s[a, o[0]], s[a, o[1]], out=tmp[0])
        np.add(tmp[0], s[a, o[2]], out=y6[:, :, a, :, 0])
        np.subtract(s[a, o[1]], s[a, o[2]], out=tmp[1])
        np.subtract(tmp[1], s[a, o[3]], out=y6[:, :, a, :, 1])


def _winograd_conv(xh: np.ndarray, ut: np.ndarray, bias: np.ndarray | None, rotated: bool = False) -> np.ndarray:
    """3×3 / stride 1 / pad 1 convolution of NHWC ``xh`` with transformed weights ``ut`` (16, C, F): new NHWC y.

    ``rotated``: convolve with the kernel rotated by 180° instead, i.e. with ``ut[π(ξ)π(ν)]`` at tile position
    ξν. No permuted copy of ``ut`` is made: V is written to, and M read from, the permuted positions, so the
    GEMM at position β computes V[π(β)]·ut[β] = M[π(β)] (π swaps 0 and 3, its own inverse).
    """
    n, h, w, c = xh.shape
    f = ut.shape[2]
    y = np.empty((n, h, w, f), dtype=xh.dtype)
    tiles = h * w // 4

    def task(chunk: tuple[int, int]) -> None:
        n0, n1 = chunk
        v = _winograd_input(xh[n0:n1], rotated)
        m = _scratch("wM", (16, v.shape[1], f), xh.dtype)
        _matmul(v, ut, m)
        _winograd_output(m, y[n0:n1], bias, rotated)
    _map(task, *_winograd_plan(n, tiles, c, f, xh.itemsize))
    return y


def _winograd_dy(dyh: np.ndarray) -> np.ndarray:
    """dM = A·dY·Aᵀ for every 2×2 tile of dy: (n, H, W, F) -> (16, T, F); scratch memory.

    A = [[1, 0], [1, 1], [1, -1], [0, -1]]. Tile row a of every tile is one whole image row of dy in every
    other row (``dy6[:, :, a]``): long contiguous runs.
    """
    n, h, w, f = dyh.shape
    th, tw = h // 2, w // 2
    dy6 = dyh.reshape(n, th, 2, tw, 2, f)                                    # dy6[:, i, a, j, b] = dy[2i + a, 2j + b]
    d0, d1 = dy6[:, :, 0], dy6[:, :, 1]
    q = _scratch("wQ", (4, n, th, tw, 2, f), dyh.dtype)                      # A·dY: rows ξ, columns b
    q[0] = d0
    np.add(d0, d1, out=q[1])
    np.subtract(d0, d1, out=q[2])
    np.negative(d1, out=q[3])
    c0, c1 = q[..., 0, :], q[..., 1, :]
    dm = _scratch("wM", (4, 4, n, th, tw, f), dyh.dtype)                     # (A·dY)·Aᵀ
    dm[:, 0] = c0
    np.add(c0, c1, out=dm[:, 1])
    np.subtract(c0, c1, out=dm[:, 2])
    np.negative(c1, out=dm[:, 3])
    return dm.reshape(16, n * th * tw, f)


def _winograd_weight_grad(xh: np.ndarray, dyh: np.ndarray) -> np.ndarray:
    """dW (F, C, 3, 3) of a 3×3/stride-1/pad-1 convolution, a new array: dU = Σ_tiles dMᵀ·V in the Winograd
    domain (dM = A·dY·Aᵀ, V = Bᵀ·d·B), then dW = Gᵀ·dU·G (the transpose of the weight transform)."""
    n, h, w, c = xh.shape
    f = dyh.shape[3]
    tiles = h * w // 4

    def task(chunk: tuple[int, int]) -> np.ndarray:
        n0, n1 = chunk
        v = _winograd_input(xh[n0:n1])                                        # (16, T, C)
        dm = _winograd_dy(dyh[n0:n1])                                         # (16, T, F)
        return _matmul(dm.transpose(0, 2, 1), v, np.empty((16, f, c), dtype=xh.dtype))
    du = _sum_parts(_map(task, *_winograd_plan(n, tiles, c, f, xh.itemsize)))
    out = np.empty((f * c, 9), dtype=du.dtype)
    return _matmul(du.reshape(16, f * c).T, _KRON_G.astype(du.dtype), out).reshape(f, c, 3, 3)


# ---------------------------------------------------------------------------------------------------------
# Fully connected
# ---------------------------------------------------------------------------------------------------------
@_threaded
def linear_forward(x: np.ndarray, weights: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """``x·W + b``: x (N, in), W (in, out), b (out,) -> a new (N, out) array (column blocks on the workers)."""
    y = np.empty((x.shape[0], weights.shape[1]), dtype=x.dtype)
    _matmul(x, weights.astype(x.dtype, copy=False), y)
    y += bias.astype(x.dtype, copy=False)
    return y


@_threaded
def linear_backward(dy: np.ndarray, x: np.ndarray, weights: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dx = dy·Wᵀ, dW = xᵀ·dy, db = Σ_n dy), all new arrays in ``x``'s dtype."""
    dtype = x.dtype
    dy = dy.astype(dtype, copy=False)
    w = weights.astype(dtype, copy=False)
    dw = _matmul(x.T, dy, np.empty(w.shape, dtype=dtype))
    dx = _matmul(dy, w.T, np.empty(x.shape, dtype=dtype))
    return dx, dw, _sum_rows(dy)


# ---------------------------------------------------------------------------------------------------------
# ReLU
# ---------------------------------------------------------------------------------------------------------
#: ReLU compares rows of this many values with a row of zeros: numpy's SIMD loop for two contiguous arrays is
#: about twice as fast as its loop for an array and a scalar
RELU_ROW: int = 2 ** 14


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
    splits, parallel = _row_splits(x.shape[0], x.size)
    _map(lambda r: _relu_into(x[r[0]:r[1]], y[r[0]:r[1]]), splits, parallel)
    return y


def relu_backward(dy: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``dy·[y > 0]`` from the forward *output* ``y`` (y > 0 exactly where x > 0); a new array."""
    dx = np.empty_like(y, dtype=np.result_type(dy, y))
    splits, parallel = _row_splits(y.shape[0], y.size)
    _map(lambda r: np.multiply(dy[r[0]:r[1]], y[r[0]:r[1]] > 0, out=dx[r[0]:r[1]]), splits, parallel)
    return dx


# ---------------------------------------------------------------------------------------------------------
# 2x2 / stride-2 pooling
# ---------------------------------------------------------------------------------------------------------
def _corners(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The four corners of every 2×2 window of an (N, C, H, W)-shaped array, as strided views (row-major)."""
    h2, w2 = 2 * (x.shape[2] // 2), 2 * (x.shape[3] // 2)
    return (x[:, :, 0:h2:2, 0:w2:2], x[:, :, 0:h2:2, 1:w2:2],
            x[:, :, 1:h2:2, 0:w2:2], x[:, :, 1:h2:2, 1:w2:2])


def _new_nchw(shape: tuple[int, ...], channels_last: bool, dtype: Any, zero: bool = False) -> np.ndarray:
    """A new (N, C, H, W)-shaped array, stored channels-last when asked."""
    make = np.zeros if zero else np.empty
    n, c, h, w = shape
    if channels_last:
        return make((n, h, w, c), dtype=dtype).transpose(0, 3, 1, 2)
    return make(shape, dtype=dtype)


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
    if winners is None:                                           # the values alone (NaN propagates, as it should)
        pick(a, b, out=y)
        pick(y, pick(c, d), out=y)
        return
    top, bottom = pick(a, b), pick(c, d)
    lower = better(bottom, top)                                   # ties keep the top row
    pick(top, bottom, out=y)
    np.copyto(winners, better(b, a))                              # ties keep the left (first) element
    np.copyto(winners, better(d, c).view(np.uint8) + np.uint8(2), where=lower)
    if np.isnan(y).any():
        # NaN breaks the pairwise comparisons; the readable rule is "the first NaN wins"
        nan_first = np.argmax(np.isnan(np.stack([a, b, c, d], axis=-1)), axis=-1).astype(np.uint8)
        np.copyto(winners, nan_first, where=np.isnan(y))


def pool2x2_forward(x: np.ndarray, mode: str = "max", winners: bool = True
                    ) -> tuple[np.ndarray, np.ndarray | None]:
    """2×2 windows, stride 2: x (N, C, H, W) -> (y (N, C, H//2, W//2), winners or None for "avg").

    ``winners`` (uint8, shape of y) holds the flat index i·2 + j of each window's first maximum (minimum)
    in row-major order, exactly like :class:`vgglib.layers.Pooling2D`. Odd rows/columns are dropped (floor).
    ``winners=False`` (inference) computes ``y`` alone, in a third of the time, and returns None for them.
    """
    n, c, h, w = x.shape
    channels_last = is_channels_last(x)
    y = _new_nchw((n, c, h // 2, w // 2), channels_last, x.dtype)
    winners = None if mode == "avg" or not winners else _new_nchw(y.shape, channels_last, np.uint8)
    splits, parallel = _row_splits(n, x.size)
    _map(lambda r: _pool_rows(x[r[0]:r[1]], y[r[0]:r[1]], None if winners is None else winners[r[0]:r[1]],
                              mode), splits, parallel)
    return y, winners


def _unpool_rows(dy: np.ndarray, winners: np.ndarray | None, dx: np.ndarray, mode: str) -> None:
    corners = _corners(dx)
    if mode == "avg":
        np.multiply(dy, dy.dtype.type(0.25), out=corners[0])
        for corner in corners[1:]:
            corner[...] = corners[0]
        return
    for index, corner in enumerate(corners):
        np.multiply(dy, winners == index, out=corner)


def pool2x2_backward(dy: np.ndarray, winners: np.ndarray | None, input_shape: tuple[int, int, int, int],
                     channels_last: bool = False, mode: str = "max") -> np.ndarray:
    """Route every dy to its window's winner ("max"/"min") or spread dy/4 over the window ("avg").

    Returns a new array of ``input_shape``, channels-last in memory when ``channels_last``.
    """
    odd = input_shape[2] % 2 or input_shape[3] % 2       # the dropped last row/column gets zeros
    dx = _new_nchw(input_shape, channels_last, dy.dtype, zero=bool(odd))
    splits, parallel = _row_splits(input_shape[0], dx.size)
    _map(lambda r: _unpool_rows(dy[r[0]:r[1]], None if winners is None else winners[r[0]:r[1]],
                                dx[r[0]:r[1]], mode), splits, parallel)
    return dx
