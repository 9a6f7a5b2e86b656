"""Winograd F(2×2, 3×3): VGG's 3×3 / stride-1 / pad-1 convolutions with 16 instead of 36 multiplications per
2×2 output tile, as 16 GEMMs of (tiles × C)·(C × F).

y = Aᵀ·[(G·g·Gᵀ) ⊙ (Bᵀ·d·B)]·A for every 4×4 input tile d and 3×3 kernel g; the element-wise product over the
16 tile positions, summed over channels, is 16 matrix products. The input is split into its four 2×2 *phases*
first, so every transform streams through long contiguous runs. The backward pass reuses the same transforms:
dx is the Winograd convolution of dy with the rotated, transposed kernel; dW = Gᵀ·(Σ dMᵀ·V)·G.

Explained and timed in ``notebooks/14_making_it_fast.ipynb``; design choices and measurements in
``benchmarks/README.md``. Everything here is tested against :class:`vgglib.layers.Convolution2D`
(``tests/test_fast.py``).
"""

from __future__ import annotations

import numpy as np

from .scratch import scratch
from .workers import matmul, parallel_map, plan, sum_parts

__all__ = [
    "WINOGRAD_MIN_C",
    "WINOGRAD_SMALL_MAP",
    "WINOGRAD_SMALL_MAP_MIN_C",
    "WINOGRAD_MIN_TILES",
    "WINOGRAD_CHUNK_BYTES",
    "winograd_applies",
    "WeightCache",
]

#: channels (forward, dW) or the output channels (dx) — is at least this (float32 and float64; even sizes)
WINOGRAD_MIN_C: int = 64
#: maps with fewer pixels than this (2×2 in VGG16 at 32×32) ...
WINOGRAD_SMALL_MAP: int = 16
#: ... take Winograd only from this many channels on (measured: ``benchmarks/bench_layers.py``)
WINOGRAD_SMALL_MAP_MIN_C: int = 256
#: GEMM rows (2×2 tiles) per Winograd chunk, at least
WINOGRAD_MIN_TILES: int = 256
#: target bytes of one Winograd chunk's transformed input and output (V and M): small, to stay in cache
WINOGRAD_CHUNK_BYTES: int = 4 * 2**20


def winograd_applies(channels: int, k: int, stride: int, padding: int, h: int, w: int) -> bool:
    """Whether a k×k convolution on an h×w map goes through Winograd; ``channels`` is the GEMM's inner
    dimension (C for y and dW, F for dx). Maps of fewer than WINOGRAD_SMALL_MAP pixels (a handful of tiles,
    where the transforms cost more than they save) need WINOGRAD_SMALL_MAP_MIN_C channels."""
    min_c = WINOGRAD_MIN_C if h * w >= WINOGRAD_SMALL_MAP else max(WINOGRAD_MIN_C, WINOGRAD_SMALL_MAP_MIN_C)
    return k == 3 and stride == 1 and padding == 1 and channels >= min_c and h % 2 == 0 and w % 2 == 0


def _winograd_plan(n: int, tiles: int, c: int, f: int, itemsize: int) -> tuple[list[tuple[int, int]], bool]:
    """Chunks of images for a Winograd layer with ``tiles`` 2×2 tiles per image (see :func:`_plan`). The
    workers take whole chunks — transforms and GEMMs — once each gets WINOGRAD_MIN_TILES tiles: the
    transforms are numpy passes on one core each, so splitting only the GEMMs would leave a core idle for them
    (measured in ``benchmarks/README.md``)."""
    return plan(n, 16 * tiles * (c + f) * itemsize, tiles, WINOGRAD_MIN_TILES, WINOGRAD_CHUNK_BYTES, WINOGRAD_MIN_TILES)


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
    return matmul(_KRON_G.astype(dtype), g.T, np.empty((16, f * c), dtype=dtype)).reshape(16, f, c)


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
    p = scratch("wP", (2, 2, n, th + 1, tw + 1, c), xh.dtype)
    # p[a, b][:, i, j] = xpad[:, 2i + a, 2j + b] = x[:, 2i + a - 1, 2j + b - 1], zero on the padding
    p[0, :, :, 0] = 0
    p[1, :, :, th] = 0
    p[:, 0, :, :, 0] = 0
    p[:, 1, :, :, tw] = 0
    p[0, 0, :, 1:, 1:] = xh[:, 1::2, 1::2]
    p[0, 1, :, 1:, :tw] = xh[:, 1::2, 0::2]
    p[1, 0, :, :th, 1:] = xh[:, 0::2, 1::2]
    p[1, 1, :, :th, :tw] = xh[:, 0::2, 0::2]
    d = [p[r % 2, :, :, r // 2 : r // 2 + th] for r in range(4)]  # row r of every tile (both phases)
    t = scratch("wT", (4, 2, n, th, tw + 1, c), xh.dtype)
    o = _ROT if rotated else _NO_ROT
    np.subtract(d[0], d[2], out=t[o[0]])  # Bᵀ·d
    np.add(d[1], d[2], out=t[o[1]])
    np.subtract(d[2], d[1], out=t[o[2]])
    np.subtract(d[1], d[3], out=t[o[3]])
    s = [t[:, q % 2, :, :, q // 2 : q // 2 + tw] for q in range(4)]  # column q of every tile
    v = scratch("wV", (4, 4, n, th, tw, c), xh.dtype)
    np.subtract(s[0], s[2], out=v[:, o[0]])  # (Bᵀ·d)·B
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
    s = scratch("wS", (2, 4, n, th, tw, f), y.dtype)
    np.add(m[o[0]], m[o[1]], out=s[0])  # Aᵀ·M
    s[0] += m[o[2]]
    np.subtract(m[o[1]], m[o[2]], out=s[1])
    s[1] -= m[o[3]]
    tmp = scratch("wY", (2, n, th, tw, f), y.dtype)
    y6 = y.reshape(n, th, 2, tw, 2, f)  # y6[:, i, a, j, b] = y[2i + a, 2j + b]
    for a in range(2):  # (Aᵀ·M)·A
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
        m = scratch("wM", (16, v.shape[1], f), xh.dtype)
        matmul(v, ut, m)
        _winograd_output(m, y[n0:n1], bias, rotated)

    parallel_map(task, *_winograd_plan(n, tiles, c, f, xh.itemsize))
    return y


def _winograd_dy(dyh: np.ndarray) -> np.ndarray:
    """dM = A·dY·Aᵀ for every 2×2 tile of dy: (n, H, W, F) -> (16, T, F); scratch memory.

    A = [[1, 0], [1, 1], [1, -1], [0, -1]]. Tile row a of every tile is one whole image row of dy in every
    other row (``dy6[:, :, a]``): long contiguous runs.
    """
    n, h, w, f = dyh.shape
    th, tw = h // 2, w // 2
    dy6 = dyh.reshape(n, th, 2, tw, 2, f)  # dy6[:, i, a, j, b] = dy[2i + a, 2j + b]
    d0, d1 = dy6[:, :, 0], dy6[:, :, 1]
    q = scratch("wQ", (4, n, th, tw, 2, f), dyh.dtype)  # A·dY: rows ξ, columns b
    q[0] = d0
    np.add(d0, d1, out=q[1])
    np.subtract(d0, d1, out=q[2])
    np.negative(d1, out=q[3])
    c0, c1 = q[..., 0, :], q[..., 1, :]
    dm = scratch("wM", (4, 4, n, th, tw, f), dyh.dtype)  # (A·dY)·Aᵀ
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
        v = _winograd_input(xh[n0:n1])  # (16, T, C)
        dm = _winograd_dy(dyh[n0:n1])  # (16, T, F)
        return matmul(dm.transpose(0, 2, 1), v, np.empty((16, f, c), dtype=xh.dtype))

    du = sum_parts(parallel_map(task, *_winograd_plan(n, tiles, c, f, xh.itemsize)))
    out = np.empty((f * c, 9), dtype=du.dtype)
    return matmul(du.reshape(16, f * c).T, _KRON_G.astype(du.dtype), out).reshape(f, c, 3, 3)


class WeightCache:
    """A layer's weights as the fast path transforms them (Winograd's U), kept while the weights are unchanged.

    For inference: a layer that runs ``forward(x, training=False)`` batch after batch with the same weights
    transforms them once instead of for every batch. Every use first compares the weights with a private copy
    (``np.array_equal``: one read of each, a fraction of the transform's cost), so a change in place, a new
    array or another dtype recomputes — a stale result is impossible. The first reuse also stores U transposed
    and contiguous, (16, C, F): the forward's GEMMs run faster on it than on a transposed view, most on small
    maps (``benchmarks/README.md``). Training, whose weights change every step, doesn't use it; :meth:`clear`
    frees the memory (a copy of the weights plus U: 25/9 of the weights' size).
    """

    __slots__ = ("_source", "_ut")

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        """Forget the cached weights and their transform."""
        self._source: np.ndarray | None = None  # a copy of the weights U was computed from
        self._ut: np.ndarray | None = None  # Uᵀ as a (16, C, F) view of U (16, F, C), then contiguous

    def winograd_weights_t(self, weights: np.ndarray, dtype: np.dtype) -> np.ndarray:
        """Uᵀ (16, C, F) of :func:`_winograd_weights`, recomputed only when the weights differ from last time."""
        src, cached = self._source, self._ut  # both set together, or both None
        if (
            src is not None
            and cached is not None
            and cached.dtype == dtype
            and src.shape == weights.shape
            and src.dtype == weights.dtype
            and np.array_equal(src, weights)
        ):
            if not cached.flags.c_contiguous:  # first reuse: a contiguous copy, 16 planes on the workers
                ut = np.empty(cached.shape, dtype=cached.dtype)
                parallel_map(lambda t: np.copyto(ut[t], cached[t]), range(16))
                self._ut = ut
                return ut
            return cached
        self.clear()
        ut = _winograd_weights(weights, dtype).transpose(0, 2, 1)
        self._source, self._ut = weights.copy(), ut
        return ut
