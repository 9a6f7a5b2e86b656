"""Worker threads for the fast backend: split a batch (or a matrix product) over the cores.

numpy runs element-wise work and copies on one core; only BLAS uses them all. So the fast layers split their
work over :func:`worker_count` workers — the calling thread plus helper threads — each running a one-thread
BLAS (numpy releases the GIL in copies, ufuncs and BLAS). Measurements behind the thresholds below:
``benchmarks/README.md``. Taught in ``notebooks/14_making_it_fast.ipynb``.

:func:`parallel_map` is the public helper (the optimizers use it too). It is safe to call from several threads
at once, nests (work inside a split stays on its thread) and survives ``fork`` (a child starts afresh).
"""

from __future__ import annotations

import functools
import itertools
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import numpy as np

__all__ = [
    "threads",
    "worker_count",
    "parallel_map",
    "threaded",
    "on_worker",
    "matmul",
    "sum_rows",
    "sum_parts",
    "plan",
    "row_splits",
    "CHUNK_BYTES",
    "MIN_ROWS",
    "MIN_PARALLEL_ROWS",
    "MIN_PARALLEL_VALUES",
    "MIN_PARALLEL_FLOPS",
]

T = TypeVar("T")
R = TypeVar("R")

#: Worker threads; None: as many as numpy's BLAS uses (``OPENBLAS_NUM_THREADS``, ``threadpoolctl`` limits).
threads: int | None = None
#: Target size in bytes of one chunk's window matrix (``cols``); a chunk holds at least one image.
CHUNK_BYTES: int = 8 * 2**20
#: ...and at least this many GEMM rows (output pixels), so small late layers still make one efficient GEMM.
MIN_ROWS: int = 1024
#: Images are split over the workers only when every worker gets at least this many GEMM rows; below, one
#: multi-threaded BLAS call is faster.
MIN_PARALLEL_ROWS: int = 512
#: Element-wise work (ReLU, pooling) is split over the workers from this many values on.
MIN_PARALLEL_VALUES: int = 2**18
#: A single matrix product is cut into blocks for the workers from this many floating-point operations on.
MIN_PARALLEL_FLOPS: int = 2**24

_blas: list[Any] | None = None  # threadpoolctl controllers of the BLAS libraries, numpy's first
_blas_lock = threading.Lock()
_blas_depth = 0
_blas_saved: list[int] = []
_helpers: _Helpers | None = None
_splitting = threading.local()  # .active: this thread is taking its share of a split


def _blas_controllers() -> list[Any]:
    """numpy's BLAS (first) and any other loaded BLAS (e.g. scipy's); empty without threadpoolctl."""
    global _blas
    if _blas is None:
        try:
            from threadpoolctl import ThreadpoolController

            libs = ThreadpoolController().select(user_api="blas").lib_controllers
            _blas = sorted(libs, key=lambda lib: "numpy" not in str(lib.filepath))
        except Exception:  # threadpoolctl missing or unable to find the libraries: stay serial
            _blas = []
    return _blas


def worker_count() -> int:
    """Threads the fast backend uses: :data:`threads`, else numpy's BLAS thread count (1 without threadpoolctl)."""
    if threads is not None:
        if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
            raise ValueError(f"vgglib.fast.workers.threads must be None or an integer >= 1, got {threads!r}")
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


def threaded(fn: Callable[..., R]) -> Callable[..., R]:
    """Decorator: with several workers, ``fn`` runs with a one-thread BLAS and splits its own work."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> R:
        if worker_count() < 2:
            return fn(*args, **kwargs)
        with _one_blas_thread():
            return fn(*args, **kwargs)

    return wrapper


class _Helpers:
    """``count`` helper threads, each asleep on a lock of its own until a split hands it a function.

    A hand-off is a lock release and a lock acquire (~20 µs here); a ``ThreadPoolExecutor`` future costs ~90 µs,
    and a training step of the recipe's model makes about 70 splits. One split at a time uses the helpers
    (:attr:`busy`); a caller that finds them taken runs its items on its own thread.
    """

    def __init__(self, count: int) -> None:
        self.count = count
        self.busy = threading.Lock()
        self._job: Callable[[], None] | None = None
        self._go = [threading.Lock() for _ in range(count)]
        self._done = [threading.Lock() for _ in range(count)]
        for lock in (*self._go, *self._done):
            lock.acquire()
        self.threads = [
            threading.Thread(target=self._serve, args=(i,), name=f"vgglib-fast-{i}", daemon=True) for i in range(count)
        ]
        for thread in self.threads:
            thread.start()

    def _serve(self, i: int) -> None:
        while True:
            self._go[i].acquire()
            job = self._job
            if job is None:  # closed
                return
            try:
                job()
            finally:
                self._done[i].release()

    def start(self, job: Callable[[], None], count: int) -> None:
        """Run ``job`` on the first ``count`` helpers (the caller holds :attr:`busy`)."""
        self._job = job
        for i in range(count):
            self._go[i].release()

    def wait(self, count: int) -> None:
        """Wait until the ``count`` helpers started last have returned — even through a KeyboardInterrupt, which
        is re-raised afterwards (a helper still running must not be handed the next split)."""
        interrupted: BaseException | None = None
        for i in range(count):
            while True:
                try:
                    self._done[i].acquire()
                    break
                except BaseException as exc:  # noqa: BLE001 — re-raised below, once every helper is back
                    interrupted = exc
        self._job = None
        if interrupted is not None:
            raise interrupted

    def close(self) -> None:
        """Let the helper threads end. The caller holds :attr:`busy` and never releases it: a caller still holding
        this pool then finds it busy and runs its split itself."""
        self._job = None
        for lock in self._go:
            lock.release()


def _pool(workers: int) -> _Helpers:
    """The helper threads: ``workers - 1`` of them, the calling thread being the last worker."""
    global _helpers
    with _blas_lock:
        if _helpers is None or _helpers.count != workers - 1:
            if _helpers is not None and _helpers.busy.acquire(blocking=False):
                _helpers.close()  # idle: its threads end now (a busy one is closed by its split: _release)
            _helpers = _Helpers(max(1, workers - 1))
        return _helpers


def _release(pool: _Helpers) -> None:
    """End a split's hold on ``pool``; a pool replaced meanwhile (new worker count) is closed instead."""
    with _blas_lock:  # against _pool: either it finds the pool idle and closes it, or this call does
        if pool is _helpers:
            pool.busy.release()
            return
    pool.close()


def _after_fork_in_child() -> None:
    """A forked child has none of the parent's threads: start afresh (else the first split would wait forever)."""
    global _helpers, _blas_lock, _blas_depth
    _helpers, _blas_depth = None, 0
    _blas_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def on_worker() -> bool:
    """True inside a split (a helper thread, or the calling thread taking its share): nested work stays serial."""
    return getattr(_splitting, "active", False) or threading.current_thread().name.startswith("vgglib-fast")


def parallel_map(fn: Callable[[T], R], items: Sequence[T], parallel: bool = True) -> list[R]:
    """``[fn(item) for item in items]``, over the workers when ``parallel`` (and not already inside a split).

    The calling thread is one of the workers: it and ``workers - 1`` helper threads take the items one at a
    time from a shared counter (each item once; a core taken by another process just takes fewer). One
    hand-off per split instead of one per item. The first exception raised by ``fn`` on any worker stops the
    split and is raised here. While another thread's split has the helpers, a caller takes all its items itself.
    """
    workers = worker_count()
    if not parallel or workers < 2 or len(items) < 2 or on_worker():
        return [fn(item) for item in items]
    results: list[Any] = [None] * len(items)
    claim = itertools.count()  # next() on it is atomic under the GIL: every index is taken once
    failed: list[BaseException] = []

    def take_items() -> None:
        try:
            while not failed:
                i = next(claim)
                if i >= len(items):
                    return
                results[i] = fn(items[i])
        except BaseException as exc:  # noqa: BLE001 — re-raised on the calling thread below
            failed.append(exc)

    pool = _pool(workers)
    if not pool.busy.acquire(blocking=False):  # another thread's split has the helpers: take every item here
        return [fn(item) for item in items]
    try:
        helpers = min(workers, len(items)) - 1
        pool.start(take_items, helpers)
        _splitting.active = True
        try:
            take_items()
        finally:
            _splitting.active = False
            pool.wait(helpers)
    finally:
        _release(pool)
    if failed:
        raise failed[0]
    return results


def _blocks(size: int, parts: int) -> list[slice]:
    bounds = [round(i * size / parts) for i in range(parts + 1)]
    return [slice(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:]) if hi > lo]


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``np.matmul(a, b, out=out)``, split into blocks over the workers when it is big enough.

    2-D: the longer side of ``out`` is cut (row blocks of ``a`` or column blocks of ``b``); stacks: the stack.
    Every block is still one BLAS call on (strided) views — no copies.
    """
    workers = worker_count()
    flops = 2 * out.size * a.shape[-1]
    if workers < 2 or on_worker() or flops < MIN_PARALLEL_FLOPS:
        return np.matmul(a, b, out=out)
    if out.ndim == 3:
        parts = _blocks(out.shape[0], min(out.shape[0], workers))
        parallel_map(lambda s: np.matmul(a[s], b[s], out=out[s]), parts)
    elif out.shape[0] >= out.shape[1]:
        parts = _blocks(out.shape[0], min(out.shape[0], 2 * workers))
        parallel_map(lambda s: np.matmul(a[s], b, out=out[s]), parts)
    else:
        parts = _blocks(out.shape[1], min(out.shape[1], 2 * workers))
        parallel_map(lambda s: np.matmul(a, b[:, s], out=out[:, s]), parts)
    return out


def sum_parts(parts: list[np.ndarray]) -> np.ndarray:
    """The sum of the workers' partial results, added into the first (a new array each worker made)."""
    total = parts[0]
    for part in parts[1:]:
        total += part
    return total


def sum_rows(a: np.ndarray) -> np.ndarray:
    """``a.sum(axis=0)`` of a 2-D array as ``ones·a`` (BLAS: ~4× faster than numpy's row-by-row sum), the row
    blocks summed on the workers."""

    def total(rows: np.ndarray) -> np.ndarray:
        return np.ones(rows.shape[0], dtype=rows.dtype) @ rows

    workers = worker_count()
    if workers < 2 or a.size < MIN_PARALLEL_VALUES or on_worker():
        return total(a)
    return sum_parts(parallel_map(lambda s: total(a[s]), _blocks(a.shape[0], workers)))


def plan(
    n: int,
    bytes_per_image: int,
    rows_per_image: int,
    min_rows: int | None = None,
    chunk_bytes: int | None = None,
    min_parallel_rows: int | None = None,
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


def row_splits(n: int, values: int) -> tuple[list[tuple[int, int]], bool]:
    """Split n images evenly over the workers for element-wise work on ``values`` numbers."""
    workers = worker_count()
    if workers < 2 or n < 2 or values < MIN_PARALLEL_VALUES:
        return [(0, n)], False
    parts = min(workers, n)
    bounds = [round(i * n / parts) for i in range(parts + 1)]
    return list(zip(bounds[:-1], bounds[1:])), True
