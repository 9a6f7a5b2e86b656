# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 14 · Making it fast: from pixel loops to a numpy VGG16 within reach of PyTorch
#
# The seed project called its network "very slow to train", and it was: its convolution visited every output
# pixel, every filter, every channel and every kernel tap in Python loops. One 64×64 digit through VGG16 is
# over a billion multiply-adds, and a Python loop manages only millions per second: section 1 counts the work
# and times a bare loop, section 2 the seed-style loops, and the product is far beyond any patience. This
# notebook climbs the ladder from those loops to the fast path in `vgglib.fast`, which — in plain numpy, on a
# small two-core CPU — trains VGG16 faster than PyTorch at 64×64 input and close to it at 32×32 (the committed
# benchmark, section 8).
#
# Every rung is checked against the readable layers of notebooks 01–05: speed never changes the answer.
#
# **Learning goals** — after this notebook you can
#
# - count the work of a network (multiply-adds, FLOPs) and turn a timing into GFLOP/s;
# - explain why im2col + one matrix product (GEMM) beats loops by orders of magnitude, and gather the windows of
#   a channels-last (NHWC) array with `as_strided`;
# - derive Winograd's F(2, 3) trick — 4 multiplications where the definition needs 6 — its 2-D form, and its
#   backward pass;
# - say where the time of a training step goes, and what limits it further (GEMM peak, memory, threads).
#
# Timings depend on the machine and on whatever else it is doing. Every timing here is measured warm (one
# untimed run first, then the best of a few) in a cell whose output the notebook tests ignore, and is stated
# only by the numbers that cell prints, "on this machine". The benchmark of section 8 was measured on a quiet
# machine; its numbers are read from `results/benchmark/bench_vgg16.json`.

# %%
# %matplotlib inline
import json
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from numpy.lib.stride_tricks import as_strided, sliding_window_view
from threadpoolctl import threadpool_limits

import vgglib
import vgglib.fast as fast
from vgglib import reference
from vgglib.fast import Convolution2D, ReLU       # the fast layers: same contract as vgglib.layers
from vgglib.fast import workers
from vgglib.losses import softmax_cross_entropy
from vgglib.model import VGG16
from vgglib.summarize import summary
from vgglib.exercises import (check_conv2_1_macs, check_im2col_nhwc_strided, check_pool2x2_corners,
                              check_winograd_backward, reveal)

def best_time(fn, repeat=3):
    # warm: one untimed run first; then the fastest of a few runs, the least disturbed by other work
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)

print("vgglib", vgglib.__version__, "| numpy", np.__version__,
      "| VGG16() is built from", type(VGG16(1, 10, 32, width=1 / 16).layers[0]).__module__)

# %% [markdown]
# ## 1 · Count the work first
#
# A convolution output is a sum of $C\cdot k\cdot k$ products, and there are $H_o W_o F$ outputs per image:
#
# $$\text{MACs} = H_o\, W_o\, F \cdot C\, k^2 \qquad\text{(multiply-adds; FLOPs} = 2\times\text{MACs)}$$
#
# A fully connected layer costs $\text{in}\cdot\text{out}$. A training step costs about **three forward
# passes**: the forward, then in the backward one product for $dx$ and one for $dW$ per layer.
# `vgglib.summarize.summary` does the counting for us.

# %%
macs = {}
for size in (64, 32):
    s = summary(VGG16.spec(1, 10, size), print_table=False)
    macs[size] = s.total_macs
    per_step = 3 * 2 * s.total_macs * 32
    print(f"VGG16 {size}x{size}x1: {s.total_macs / 1e9:.3f} GMAC per image forward, "
          f"{s.total_params / 1e6:.1f} M parameters; a training step of 32 images = {per_step / 1e9:.0f} GFLOP")
assert macs[64] > 1e9                                            # "over a billion multiply-adds"

# %% [markdown]
# How fast is a Python loop at multiply-adds? We time a bare one — nothing but `total += a * b` — and
# extrapolate to one image's forward pass and to a training step. The seed's loops also indexed arrays at every
# step, which is slower still (section 2 times them).

# %% tags=["nbval-ignore-output"]
a, b = 1.0001, 0.9999
def loop(n=200_000):
    total = 0.0
    for _ in range(n):
        total += a * b
    return total
macs_per_s = 200_000 / best_time(loop)
print(f"a bare Python loop on this machine: {macs_per_s / 1e6:.0f} M multiply-adds per second")
print(f"-> one 64x64 image forward: {macs[64] / macs_per_s:.0f} s; one training step of 32 images "
      f"(3 x forward): {3 * macs[64] * 32 / macs_per_s / 3600:.1f} hours")

# %% [markdown]
# ## 2 · The ladder, timed live
#
# One convolution layer, small enough to time in seconds: 64 → 64 channels (the shape of VGG16's `conv1_2`),
# 3×3, padding 1, on 16×16 maps, a batch of 8. Four implementations:
#
# 1. **pixel loops** — `vgglib.reference.conv2d_forward_naive`, the formula written out (the seed's way);
# 2. **vectorised windows** — `sliding_window_view` + `np.einsum(..., optimize=False)`: no Python loops, but
#    no BLAS either (with `optimize=True`, einsum would hand the product to BLAS via `tensordot` — we time that
#    too, as an aside);
# 3. **im2col + matmul** — the readable `vgglib.layers.Convolution2D` of notebook 01;
# 4. **the fast path** — `vgglib.fast.Convolution2D`: the same layer (same constructor, weights and
#    checkpoints; `fast.to_reference(layer)` gives the readable one sharing its weights), computed with
#    channels-last windows, Winograd (section 4) and worker threads (section 6).
#
# First: all four give the same numbers (up to float32 rounding; relative to the largest output).

# %%
rng = np.random.default_rng(0)
layer = Convolution2D(64, 64, 3, padding=1, rng=rng)
layer.params["bias"][:] = rng.standard_normal(64).astype(np.float32)
x = rng.standard_normal((8, 64, 16, 16)).astype(np.float32)
w, b = layer.params["weights"], layer.params["bias"]

def windows_einsum(x, optimize=False):
    # optimize=False: einsum's own C loop, no BLAS; optimize=True would route the product through BLAS
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    win = sliding_window_view(xp, (3, 3), axis=(2, 3))            # (N, C, H, W, 3, 3), a view
    return np.einsum("nchwij,fcij->nfhw", win, w, optimize=optimize) + b[:, None, None]

readable_layer = fast.to_reference(layer)                      # a vgglib.layers.Convolution2D, same weights

def readable(x):
    return readable_layer.forward(x)

def rel_error(a, b):
    return float(np.abs(a - b).max() / np.abs(b).max())

y_fast = layer.forward(x)
y_loops = reference.conv2d_forward_naive(x[:1, :, :4].astype(np.float64), w, b, 1, 1)   # a corner: loops are slow
errors = {"loops (corner)": rel_error(y_fast[:1, :, :3], y_loops[:, :, :3]),        # row 3 would see the cut
          "einsum": rel_error(windows_einsum(x), y_fast),
          "im2col + matmul": rel_error(readable(x), y_fast)}
for name, err in errors.items():
    print(f"{name:16s} vs fast path: relative difference < 1e-5: {err < 1e-5}")
assert max(errors.values()) < 1e-5
print("the fast path computed this layer with:", layer._fast_cache.method)

# %% tags=["nbval-ignore-output"]
x_slice, w_slice = x[:1, :, :4], w[:2]                          # 1 image, 4 input rows, 2 of the 64 filters
y_slice = reference.conv2d_forward_naive(x_slice, w_slice, b[:2], 1, 1)
t_slice = best_time(lambda: reference.conv2d_forward_naive(x_slice, w_slice, b[:2], 1, 1), repeat=1)
rows_covered = y_slice.shape[2]                                 # padding 1: 4 input rows give 4 output rows
scale = (x.shape[0] / y_slice.shape[0]) * (w.shape[0] / y_slice.shape[1]) * (y_fast.shape[2] / rows_covered)
print(f"loop slice: {y_slice.shape[0]} image, {y_slice.shape[1]} filters, {rows_covered} of "
      f"{y_fast.shape[2]} output rows -> times {scale:.0f} for the whole batch")
t_loops = t_slice * scale
times = {"pixel loops (extrapolated)": t_loops,
         "vectorised windows (einsum)": best_time(lambda: windows_einsum(x)),
         "im2col + matmul (readable)": best_time(lambda: readable(x)),
         "vgglib.fast": best_time(lambda: layer.forward(x))}
t_einsum_blas = best_time(lambda: windows_einsum(x, optimize=True))
flops = 2 * x.shape[0] * 16 * 16 * 64 * 64 * 9
print(f"on this machine: {'':12s} {'time':>10s}    {'speed':>14s}   {'vs loops':>9s}  {'vs the rung above':>17s}")
names = list(times)
for i, (name, t) in enumerate(times.items()):
    step = "" if i == 0 else f"{times[names[i - 1]] / t:,.1f}x"
    print(f"{name:28s} {t * 1e3:10.2f} ms {flops / t / 1e9:8.3f} GFLOP/s   {t_loops / t:8,.0f}x  {step:>17s}")
steps = {f"{names[i]} -> {names[i + 1]}": times[names[i]] / times[names[i + 1]] for i in range(3)}
print("largest step:", max(steps, key=steps.get))
slower = [k for k, v in steps.items() if v < 1]
print("rungs slower than the one above:", ", ".join(slower) if slower else "none")
print(f"aside: einsum with optimize=True (BLAS via tensordot) {t_einsum_blas * 1e3:.2f} ms, "
      f"{times['vectorised windows (einsum)'] / t_einsum_blas:.1f}x faster than optimize=False")
fig, ax = plt.subplots(figsize=(7, 2.6))
ax.barh(names[::-1], [1e3 * t for t in times.values()][::-1])
ax.set_xscale("log")
ax.set_xlabel("milliseconds for the batch, on this machine (log scale)")
ax.set_ylabel("implementation")
ax.set_title("one 3x3 conv layer, 64->64 channels, 16x16, batch 8")
plt.tight_layout()
plt.show()

# %% [markdown]
# Read the steps in the table. From the loops to `einsum` is from Python to compiled code: the interpreter no
# longer runs once per multiply-add. From `einsum` to im2col is from "compiled" to "a GEMM": a matrix product
# reuses every number it loads many times from the CPU's caches and registers, and the BLAS library behind
# `np.matmul` is tuned for exactly that (the aside times `einsum` once it may hand its product to BLAS). The
# last step is the rest of this notebook: Winograd, channels-last windows, threads.
#
# On a machine shared with other jobs a rung can come out slower than it should — the cell says so when a
# rung is slower than the one above it. The committed benchmark (section 8) measured the same ladder on the
# full-size layer on a quiet machine.

# %% [markdown]
# ## 3 · Memory layout: why channels last
#
# numpy stores an array as one line of memory; `strides` say how many bytes to jump along each axis. The
# readable code keeps activations NCHW. The fast convolution works in **NHWC** ("channels last"): a 3×3
# window then is three runs of $3C$ neighbouring numbers instead of $3C$ runs of 3, so copying windows is a
# few long copies. It hands back an array of NCHW *shape* whose memory is NHWC — a transposed view, which
# is what PyTorch calls `channels_last`. Nothing downstream can tell, except by looking at the strides; the
# next ReLU and pooling keep that order, and the next convolution gets its NHWC input without copying.
#
# **Predict, then run.** `x` has shape (8, 64, 16, 16), float32 (4 bytes a number), stored NCHW: its strides
# are (65536, 1024, 64, 4) bytes. The fast layer's output `y_fast` has the same shape, but its memory is laid
# out as an (8, 16, 16, 64) NHWC array. What are `y_fast.strides`, along (N, C, H, W)? Write a tuple of four
# numbers before you run the next cell.

# %%
guess = None   # your prediction: a tuple of four byte strides along (N, C, H, W)

# %%
reveal(guess, y_fast.strides, what="the fast layer's output")
assert x.strides == (65536, 1024, 64, 4)                          # as the question says
print("NCHW input  shape", x.shape, "strides", x.strides)
print("fast output shape", y_fast.shape, "strides", y_fast.strides, "-> channels last:", fast.is_channels_last(y_fast))
print("same values as the readable layer's plain NCHW array:", rel_error(y_fast, readable(x)) < 1e-5)

# %% [markdown]
# Along C the next number is the neighbour in memory (4 bytes on); along W the next pixel is all $C$ channels
# further. Gathering the windows of an NHWC array with `as_strided`: a view of shape $(N, H_o, W_o, k, k, C)$
# whose window axes $(i, j)$ step one row and one pixel — no data moves until we copy the view into a matrix of
# shape $(N H_o W_o,\ k k C)$. One GEMM with the weights reordered to $(F, k, k, C)$ is the convolution.

# %%
xh = np.ascontiguousarray(x.transpose(0, 2, 3, 1))                # NHWC
xp = np.pad(xh, ((0, 0), (1, 1), (1, 1), (0, 0)))                 # padding 1 on H and W only
n, height, width, c = xh.shape
s0, s1, s2, s3 = xp.strides
win = as_strided(xp, (n, height, width, 3, 3, c), (s0, s1, s2, s1, s2, s3))   # a view: nothing copied yet
cols = win.reshape(n * height * width, 9 * c)                    # the copy
w_rows = w.transpose(0, 2, 3, 1).reshape(64, 9 * c)              # (F, k*k*C), same (i, j, c) order
y_gemm = (cols @ w_rows.T + b).reshape(n, height, width, 64).transpose(0, 3, 1, 2)
print("window matrix", cols.shape, "| one GEMM reproduces the layer:", rel_error(y_gemm, y_fast) < 1e-5)

# %% [markdown]
# ## 4 · Winograd: fewer multiplications than the definition
#
# A GEMM at the machine's peak is the ceiling for the im2col approach. To go past it, do fewer
# multiplications. Take one row: 4 inputs $d_0..d_3$, a 3-tap filter $g_0..g_2$, two outputs
#
# $$y_0 = d_0 g_0 + d_1 g_1 + d_2 g_2,\qquad y_1 = d_1 g_0 + d_2 g_1 + d_3 g_2 \qquad\text{(6 multiplications)}$$
#
# Winograd's F(2, 3) computes the same with **4**:
#
# $$m_1 = (d_0 - d_2)\,g_0,\quad m_2 = (d_1 + d_2)\,\tfrac{g_0 + g_1 + g_2}{2},\quad
#   m_3 = (d_2 - d_1)\,\tfrac{g_0 - g_1 + g_2}{2},\quad m_4 = (d_1 - d_3)\,g_2$$
# $$y_0 = m_1 + m_2 + m_3,\qquad y_1 = m_2 - m_3 - m_4$$
#
# The sums of weights are computed once per filter, the sums of inputs once per tile — only the 4 products
# scale with both. Expand $m_1 + m_2 + m_3$ and the cross terms cancel, leaving $y_0$. By hand, with small
# numbers:

# %%
d, g = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 0.0, -1.0])
direct = [d[0] * g[0] + d[1] * g[1] + d[2] * g[2], d[1] * g[0] + d[2] * g[1] + d[3] * g[2]]
m1, m2 = (d[0] - d[2]) * g[0], (d[1] + d[2]) * (g[0] + g[1] + g[2]) / 2
m3, m4 = (d[2] - d[1]) * (g[0] - g[1] + g[2]) / 2, (d[1] - d[3]) * g[2]
print(f"direct: y0 = {direct[0]:.1f}, y1 = {direct[1]:.1f}   "
      f"winograd: y0 = {m1 + m2 + m3:.1f}, y1 = {m2 - m3 - m4:.1f}")
assert np.allclose(direct, [m1 + m2 + m3, m2 - m3 - m4])

# %% [markdown]
# In matrix form, $y = A^\top\big[(G g) \odot (B^\top d)\big]$, and the 2-D version nests it: a 4×4 input
# tile $d$ and a 3×3 filter $g$ give a 2×2 output tile
#
# $$Y = A^\top \Big[\, (G\, g\, G^\top) \odot (B^\top d\, B) \Big] A,\qquad
#   B^\top = \begin{bmatrix}1&0&-1&0\\0&1&1&0\\0&-1&1&0\\0&1&0&-1\end{bmatrix},\;
#   G = \begin{bmatrix}1&0&0\\ \frac12&\frac12&\frac12\\ \frac12&-\frac12&\frac12\\0&0&1\end{bmatrix},\;
#   A^\top = \begin{bmatrix}1&1&1&0\\0&1&-1&-1\end{bmatrix}$$
#
# The element-wise product has 16 entries, where the definition takes 2·2 outputs × 9 taps (the cell counts
# both). With many channels, the element-wise product summed over input channels is 16 independent GEMMs of
# shape (tiles × C)·(C × F) — BLAS again, on less work. The transforms are additions only — but in numpy every
# addition is a pass over memory, so they decide whether Winograd pays. Tiles overlap by two pixels;
# `vgglib.fast` first splits the padded input into its four 2×2 *phases* (even/odd rows × even/odd columns),
# after which row $r$ of every tile is one contiguous slice of a phase and each step streams through long
# runs. It uses Winograd for 3×3 layers with ≥ 64 channels; the backward pass runs the transforms transposed
# (exercise 4 derives them for one tile), and $dx$ is the same Winograd convolution with the kernel rotated by
# 180° — which only permutes the 16 transformed taps, so it reuses the forward's $U = G g G^\top$.

# %%
BT = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], float)
G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])
AT = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], float)
tile, kernel = rng.standard_normal((4, 4)), rng.standard_normal((3, 3))
Y = AT @ ((G @ kernel @ G.T) * (BT @ tile @ BT.T)) @ AT.T
Y_direct = np.array([[(tile[i:i + 3, j:j + 3] * kernel).sum() for j in range(2)] for i in range(2)])
print("2x2 tile, Winograd == direct:", np.allclose(Y, Y_direct))
mults_direct, mults_winograd = Y.size * kernel.size, (G @ kernel @ G.T).size
print(f"multiplications per tile and channel: direct {mults_direct}, Winograd {mults_winograd} "
      f"({mults_direct / mults_winograd:.2f}x fewer)")

wide = Convolution2D(128, 32, 3, padding=1, rng=rng)
xw = np.maximum(rng.standard_normal((2, 128, 16, 16)), 0).astype(np.float32)
yw = wide.forward(xw)
exact = reference.conv2d_forward_naive(xw[:1, :, :4].astype(np.float64), wide.params["weights"].astype(np.float64),
                                       wide.params["bias"].astype(np.float64), 1, 1)[:, :, :3]
print("vgglib.fast chose:", wide._fast_cache.method, "| float32 relative error below 1e-5:",
      rel_error(yw[:1, :, :3], exact) < 1e-5)

# %% [markdown]
# **Inference transforms the weights once.** $U = G\,g\,G^\top$ depends on the weights alone. In training
# they change every step, so $U$ is computed in every forward pass (and reused by that step's $dx$). In
# inference — evaluating a test set batch after batch — they don't: `forward(x, training=False)` keeps $U$
# in the layer (`vgglib.fast.WeightCache`) and reuses it. The guard is a plain comparison of the weights
# with a private copy — one read of each, a fraction of the transform's cost — so a weight changed in place,
# a new array or another dtype is always noticed; a stale $U$ is impossible. The second batch also stores $U$
# transposed and contiguous, (16, C, F), once: the forward's 16 GEMMs run faster on it than on a transposed
# view. From the third batch on, each of VGG16's 512-channel layers skips its weight transform; the cell below
# measures what that saves for one such layer on this machine (on a busy machine the difference can drown in
# noise).

# %% tags=["nbval-ignore-output"]
deep = Convolution2D(512, 512, 3, padding=1, rng=rng)       # conv4_2 of VGG16 at 32x32 input: 4x4 maps
xd = rng.standard_normal((8, 512, 4, 4)).astype(np.float32)
t_train = best_time(lambda: deep.forward(xd, training=True))
print(f"on this machine: a training forward (transforms the weights every time): {1e3 * t_train:5.1f} ms")
for batch in range(4):
    t0 = time.perf_counter()
    out = deep.forward(xd, training=False)
    print(f"inference batch {batch}: {1e3 * (time.perf_counter() - t0):5.1f} ms")
t_cached = best_time(lambda: deep.forward(xd, training=False))
print(f"from the third batch on: {1e3 * t_cached:5.1f} ms (best of 3) -> the cached transform saves "
      f"{1e3 * (t_train - t_cached):.1f} ms per batch for this layer ({100 * (1 - t_cached / t_train):.0f}%)")

# %%
first = deep.forward(xd, training=False)
second = deep.forward(xd, training=False)
print("same output batch after batch:", np.array_equal(first, second))
deep.params["weights"][0, 0, 1, 1] += 1.0                     # a weight changed in place
changed = deep.forward(xd, training=False)
expected = fast.to_reference(deep).forward(xd, training=False)
print("after an in-place change the output follows the new weights:", rel_error(changed, expected) < 1e-5)

# %% [markdown]
# ## 5 · The backward pass, and the small layers
#
# - $db = \sum dy$, and $dW = dy^\top \cdot \text{cols}$: the same window matrix again, re-gathered chunk by
#   chunk rather than kept (it is $k^2 = 9$ times the size of the input: for VGG16's second layer at batch 32
#   the cell below computes its size).
# - $dx$ without a scatter: for stride 1, $dx$ **is** a convolution — of $dy$ padded by $k-1-p$ with the
#   kernel rotated by 180° and its $F$ and $C$ axes swapped (notebook 02). So it is one more gather + GEMM
#   (or Winograd convolution). The network's first layer skips $dx$ altogether: nobody needs the gradient
#   of the images (`model.backward(dlogits, input_grad=False)`, what the trainer calls; PyTorch does the same
#   for inputs that don't require grad).
# - ReLU keeps its *output* $y$ instead of a mask: $dx = dy\cdot[y > 0]$, and $y$ is kept anyway, by the next
#   layer.
# - 2×2 max pooling compares the four corners of every window, `x[:, :, 0::2, 0::2]`, `x[:, :, 0::2, 1::2]`, …
#   — three `np.maximum`s — and keeps the winner as a number 0–3, with the readable code's tie rule. In
#   inference nothing needs the winners: `forward(x, training=False)` computes the maxima alone and finds the
#   winners later only if `backward` or the `winners` attribute asks for them.
#
# All of it is tested against the readable layers (`tests/test_fast.py`): forward, $dx$, $dW$, $db$, random
# shapes, strides and paddings, and numerical gradient checks in float64.

# %%
conv1_2_cols = 32 * 64 * 64 * (3 * 3 * 64) * 4                 # batch 32, 64x64 pixels, k*k*C float32 columns
print(f"the window matrix of conv1_2 at batch 32: {conv1_2_cols / 1e6:.0f} MB "
      f"({conv1_2_cols / (32 * 64 * 64 * 64 * 4):.0f}x its input)")
dy = rng.standard_normal(y_fast.shape).astype(np.float32)
layer.forward(x)
dx_fast = layer.backward(dy)
grads_fast = {k: v.copy() for k, v in layer.grads.items()}
readable_layer.forward(x)
dx_read = readable_layer.backward(dy)
print("relative differences < 1e-5 -> dx:", rel_error(dx_fast, dx_read) < 1e-5,
      "| dW:", rel_error(grads_fast["weights"], readable_layer.grads["weights"]) < 1e-5,
      "| db:", rel_error(grads_fast["bias"], readable_layer.grads["bias"]) < 1e-5)

# %% [markdown]
# **Narrow layers on large maps: shifted products.** The model students train (`mnist-vgg16`, quarter width) has
# only 16 and 32 channels at 32×32 and 16×16. There im2col copies every input value 9 times to feed a GEMM with
# only 16 output columns: the copy costs more than the arithmetic. Pad the input once and read the padded NHWC
# batch as one long matrix `flat`, one row per padded pixel. Output pixel $(y, x)$ is then row $r = y\,W_p + x$
# of
#
# $$Y[r] = \sum_{i,j} \text{flat}[r + i\,W_p + j]\; W_{ij},$$
#
# where $W_{ij}$ is the $(C, F)$ matrix of tap $(i, j)$: every tap is *the same matrix read from shifted rows*,
# no window matrix at all. Rows whose window runs off the right or bottom edge are computed too and thrown away
# (13% extra at 32×32; at 16×16, 27% extra, im2col is already as fast, so smaller maps keep im2col).
# `vgglib.fast.shifted` puts the three taps of a kernel row side by side (3·C values per pixel instead of 9·C),
# so each product has 3·C inner terms; $dW_i = dy^\top \cdot \text{rows}_i$ with $dy$ laid out on the same
# padded grid (zeros off the image), and $dx$ is the same sum on the padded $dy$ with the rotated kernel. The
# cell checks the formula in nine plain matrix products, then the library's layer; `benchmarks/bench_layers.py`
# times every method per layer, which is how the library picks one.

# %%
srng = np.random.default_rng(1402)                              # its own generator: later cells unchanged
xs = srng.standard_normal((2, 16, 8, 8))                         # float64, 16 channels
ws = srng.standard_normal((16, 16, 3, 3)) * 0.1
Wp = 8 + 2
flat = np.pad(xs.transpose(0, 2, 3, 1), ((0, 0), (1, 1), (1, 1), (0, 0))).reshape(-1, 16)  # (2*10*10, 16)
rows = flat.shape[0] - 2 * Wp - 2                               # the rows whose windows fit
Y = sum(flat[i * Wp + j: i * Wp + j + rows] @ ws[:, :, i, j].T for i in range(3) for j in range(3))
Y = np.concatenate([Y, np.zeros((2 * Wp + 2, 16))]).reshape(2, Wp, Wp, 16)[:, :8, :8]   # keep the real pixels
direct = reference.conv2d_forward_naive(xs, ws, np.zeros(16), 1, 1)
print("nine shifted products == the definition:", np.allclose(Y.transpose(0, 3, 1, 2), direct))

def check_against_readable(layer, x, dy):
    """The fast layer's y, dx and dW against its readable twin (same weights); prints the method it chose."""
    y, dx = layer.forward(x), layer.backward(dy)
    dw = layer.grads["weights"].copy()
    twin = fast.to_reference(layer)
    y_r, dx_r = twin.forward(x), twin.backward(dy)
    print("vgglib.fast chose:", layer._fast_cache.method, "| y, dx, dW within 1e-5 of the readable layer:",
          max(rel_error(y, y_r), rel_error(dx, dx_r), rel_error(dw, twin.grads["weights"])) < 1e-5)

narrow = Convolution2D(16, 16, 3, padding=1, rng=srng)           # conv1_2 of the quarter-width VGG16
check_against_readable(narrow, srng.standard_normal((4, 16, 32, 32)).astype(np.float32),
                       srng.standard_normal((4, 16, 32, 32)).astype(np.float32))

# %% [markdown]
# **Maps smaller than the kernel: one dense product.** At 32×32 input the last block of VGG16 works on 2×2 maps.
# There a 3×3 kernel with padding 1 reaches the whole map from every output pixel: each output sees 4 of its 9
# taps, the other 5 fall on the zero padding — and im2col multiplies those zeros too. Number the 4 pixels and the
# convolution is a fully connected layer from the flattened image, $(4 \cdot C)$ values, to the flattened output,
# $(4 \cdot F)$: block (input pixel, output pixel) of its $(4C, 4F)$ matrix is the tap that links the two. The
# 9 taps are *tied*: each appears in several blocks (the centre in all four diagonal ones), so the backward pass
# sums a tap's gradient over the blocks it appears in, as for any weight used more than once. That is 16 products
# per $(c, f)$ instead of 36. `vgglib.fast.dense` builds the matrix; the cell checks it against the definition and
# the library's layer against the readable one.

# %%
from vgglib.fast.dense import dense_weights

xd = srng.standard_normal((3, 8, 2, 2))                          # float64, 8 channels on a 2x2 map
wdense = srng.standard_normal((8, 8, 3, 3))
Wd = dense_weights(wdense, 2, 2, 1, np.float64)                  # (2*2*8, 2*2*8): a fully connected layer
Yd = (xd.transpose(0, 2, 3, 1).reshape(3, -1) @ Wd).reshape(3, 2, 2, 8).transpose(0, 3, 1, 2)
print("one dense product == the definition:",
      np.allclose(Yd, reference.conv2d_forward_naive(xd, wdense, np.zeros(8), 1, 1)),
      "| products per (c, f):", Wd.size // 64, "instead of", 9 * 2 * 2)

tiny = Convolution2D(128, 128, 3, padding=1, rng=srng)           # conv5_x of the quarter-width VGG16
check_against_readable(tiny, srng.standard_normal((4, 128, 2, 2)).astype(np.float32),
                       srng.standard_normal((4, 128, 2, 2)).astype(np.float32))

# %% [markdown]
# ## 6 · Both cores
#
# numpy's BLAS uses every core, but everything else in numpy — copies, `np.maximum`, comparisons — runs on
# one. So `vgglib.fast` splits each batch into chunks and shares them among a few workers (as many as BLAS
# would use): the calling thread and helper threads take the chunks one at a time from a shared counter, and
# each gathers, transforms and multiplies its own images with a one-thread BLAS. Python threads can do this
# because numpy releases the interpreter lock (GIL) inside copies, ufuncs and BLAS calls. Small late layers,
# with too few pixels to split, cut their matrix products into blocks instead.
#
# The cell times one layer's forward and backward three ways: on one core (no workers, a one-thread BLAS);
# with BLAS's own threads but no workers (what plain numpy does); and with the workers. The workers can only
# help when the cores are free: on a machine busy with other jobs, expect little or nothing.

# %% tags=["nbval-ignore-output"]
big = Convolution2D(64, 64, 3, padding=1, rng=rng)
xb = rng.standard_normal((16, 64, 32, 32)).astype(np.float32)
dyb = rng.standard_normal((16, 64, 32, 32)).astype(np.float32)

def forward_backward():
    big.forward(xb)
    big.backward(dyb)

saved = workers.threads                                       # vgglib.fast.workers: the thread settings
try:
    workers.threads = 1                                       # no worker split ...
    with threadpool_limits(1, user_api="blas"):
        t_one = best_time(forward_backward)                   # ... and a one-thread BLAS: one core
    t_blas = best_time(forward_backward)                      # ... BLAS's own threads, the rest on one core
finally:
    workers.threads = saved
t_workers = best_time(forward_backward)
print(f"on this machine, forward + backward of a 64->64 layer, 32x32, batch 16 ({big._fast_cache.method}):")
print(f"  one core                        {1e3 * t_one:6.0f} ms")
print(f"  BLAS threads, no workers        {1e3 * t_blas:6.0f} ms")
print(f"  {fast.worker_count()} workers, one-thread BLAS each {1e3 * t_workers:6.0f} ms "
      f"-> {t_one / t_workers:.1f}x one core, {t_blas / t_workers:.1f}x BLAS threads alone")

# %% [markdown]
# **Splitting the batch instead.** Splitting every operation has a price: each split is a hand-off to a sleeping
# helper thread (on a virtual machine, waking it can take 0.1 ms), and a training step of the quarter-width
# model students train makes about 70 of them, for operations that often last less than a millisecond. The other
# way to use two cores is data parallelism: cut the *batch* in two and let each worker run the whole network on
# its half, forward and then backward, with the same weights — one hand-off for the forward pass, one for the
# backward. The gradients of the halves are added: the loss is the mean over the whole batch, so each half's
# gradient is already scaled by $1/N$, and $\partial L/\partial W = \sum_{\text{halves}} \partial
# L_{\text{half}}/\partial W$.
#
# `vgglib.fast.BatchSplit` does this for the network's *trunk* — the convolution, ReLU and pooling layers — and
# runs the *head* (Flatten, the fully connected layers, dropout) on the whole batch: summing the head's large
# weight gradients would cost more than splitting saves, and dropout's masks stay exactly the unsplit model's.
# Each worker runs a replica of the trunk: layer objects of its own (their own caches and gradients) that share
# the model's parameter arrays. `fit` trains through it. It splits only narrow trunks (at most
# `MAX_CHANNELS` channels): on wide layers each matrix product is big enough to split well, and there the
# per-operation split was as fast. The cell checks the promise — the same logits and gradients up to rounding:
# each image's trunk is computed alone either way, only some sums run in another order (the gradients' over
# the halves, and a BLAS may block a smaller matrix product differently):

# %%
saved = workers.threads
workers.threads = 2                                           # two workers, also on a one-core machine
try:
    xq = rng.standard_normal((32, 1, 32, 32))                # float64: rounding far below what we check
    yq = rng.integers(0, 10, 32)
    plain = VGG16(1, 10, 32, width=0.25, rng=np.random.default_rng(7), dtype=np.float64)  # the recipe's
    split = VGG16(1, 10, 32, width=0.25, rng=np.random.default_rng(7), dtype=np.float64)  # ... same weights
    net = fast.BatchSplit(split)
    logits_plain = plain.forward(xq)
    plain.backward(softmax_cross_entropy(logits_plain, yq)[1], input_grad=False)
    logits_split = net.forward(xq)
    net.backward(softmax_cross_entropy(logits_split, yq)[1], input_grad=False)
    first, last, head = split.layers[0].name, split.layers[net.trunk - 1].name, split.layers[net.trunk].name
    print(f"shards {net.shards(32)}; the trunk: the first {net.trunk} layers ({first} ... {last}), the head: {head} on")
    print("logits within 1e-9 (relative) of the unsplit model's:", rel_error(logits_split, logits_plain) < 1e-9)
    grad_error = max(rel_error(ls.grads[key], lp.grads[key])
                     for ls, lp in zip(split.layers, plain.layers) for key in lp.grads)
    print("every gradient within 1e-9 (relative) of the unsplit model's:", grad_error < 1e-9)
finally:
    workers.threads = saved

# %% [markdown]
# And the time of a training step of the recipe's model (batch 64) both ways, on this machine:

# %% tags=["nbval-ignore-output"]
xr = rng.standard_normal((64, 1, 32, 32)).astype(np.float32)
yr = rng.integers(0, 10, 64)
recipe_model = VGG16(1, 10, 32, width=0.25, rng=np.random.default_rng(8))

def train_step(net):
    logits = net.forward(xr)
    net.backward(softmax_cross_entropy(logits, yr)[1], input_grad=False)

split_net = fast.BatchSplit(recipe_model)
t_ops = best_time(lambda: train_step(recipe_model), repeat=5)  # every operation split
t_batch = best_time(lambda: train_step(split_net), repeat=5)  # the batch split
print(f"on this machine, {fast.worker_count()} workers, a training step of the recipe's model (no update): "
      f"operations split {1e3 * t_ops:.0f} ms, batch split {1e3 * t_batch:.0f} ms -> {t_ops / t_batch:.2f}x")

# %% [markdown]
# ## 7 · Where the time goes
#
# Timing every layer's `forward` and `backward` in a training step shows the usual picture: the convolutions
# take most of the time. Their backward computes two products per layer ($dx$ and $dW$, section 5) against the
# forward's one, so it should cost about twice the forward. Fixed, weight-sized costs pull that ratio down: a
# training forward transforms the weights ($U$), the backward transforms $dU$ back to $dW$ and reuses $U$ for
# $dx$, so where the maps are small and the weights large — the late layers, and all of a 32×32 network — the
# backward costs less than twice the forward. The first layer's skipped $dx$ pulls the same way.
#
# First on this machine, a narrow VGG16 (so that it runs in a second; the optimizer's update is not part of it):

# %% tags=["nbval-ignore-output"]
model = VGG16(1, 10, 32, width=0.25, rng=np.random.default_rng(0))
xs = rng.standard_normal((16, 1, 32, 32)).astype(np.float32)
labels = rng.integers(0, 10, 16)
spent = {}

def timed(layer, method):
    original = getattr(layer, method)
    def run(*args, **kwargs):
        t0 = time.perf_counter()
        out = original(*args, **kwargs)
        key = f"{type(layer).__name__.replace('Maxpooling2D', 'Pooling2D')} {method}"
        spent[key] = spent.get(key, 0.0) + time.perf_counter() - t0
        return out
    setattr(layer, method, run)

for lyr in model.layers:
    timed(lyr, "forward")
    timed(lyr, "backward")
for _ in range(3):                                            # the last of three (warm) steps is kept
    spent.clear()
    logits = model.forward(xs)
    model.backward(softmax_cross_entropy(logits, labels)[1])
total = sum(spent.values())
conv_fwd, conv_bwd = spent["Convolution2D forward"], spent["Convolution2D backward"]
print(f"on this machine, VGG16 width 1/4, 32x32, batch 16: convolutions {100 * (conv_fwd + conv_bwd) / total:.0f}% "
      f"of the layers' time (forward {1e3 * conv_fwd:.1f} ms, backward {1e3 * conv_bwd:.1f} ms: "
      f"{conv_bwd / conv_fwd:.1f}x the forward)")

# %% [markdown]
# And the full-size network as the committed benchmark profiled it (batch 32, the median of its repetitions;
# "loss + SGD + overhead" is the rest of the step):

# %%
bench = json.loads((Path("..") / "results" / "benchmark" / "bench_vgg16.json").read_text())
profile = bench["profile"]
fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), sharex=True, sharey=True)
for ax, size in zip(axes, ("64", "32")):
    by_type, step = profile[size]["by_type_s"], profile[size]["step_s"]
    conv_f, conv_b = by_type["Convolution2D forward"], by_type["Convolution2D backward"]
    share = (conv_f + conv_b) / step
    print(f"{size}x{size}: step {1e3 * step:.0f} ms; convolutions {100 * share:.0f}% "
          f"(backward {conv_b / conv_f:.2f}x the forward); largest single layers: "
          + ", ".join(f"{k} {1e3 * v:.0f} ms" for k, v in list(profile[size]["top_layers_s"].items())[:3]))
    assert share > 0.5                                        # "the convolutions take most of the time"
    kinds = sorted(by_type, key=by_type.get)
    ax.barh(kinds, [100 * by_type[k] / step for k in kinds])
    ax.set_xlabel("% of one training step")
    ax.set_title(f"VGG16, {size}x{size} input, batch {bench['config']['batch']}")
axes[0].set_ylabel("layer type and pass")
plt.tight_layout()
plt.show()
by_type_at = {size: profile[size]["by_type_s"] for size in ("64", "32")}
ratios = {size: t["Convolution2D backward"] / t["Convolution2D forward"] for size, t in by_type_at.items()}
assert 1.5 < ratios["64"] < 2.5 and ratios["32"] < ratios["64"]   # about twice; less where maps are small
fc_backward = {size: t["FullyConnected backward"] for size, t in by_type_at.items()}
print(f"fully connected backward: {1e3 * fc_backward['64']:.0f} ms at 64x64, {1e3 * fc_backward['32']:.0f} ms at 32x32")
assert 0.5 < fc_backward["32"] / fc_backward["64"] < 2                # about the same at both sizes
fc2 = {size: next(r for r in summary(VGG16.spec(1, 10, size), print_table=False).rows if r.name == "fc2")
       for size in (64, 32)}
assert fc2[64].params == fc2[32].params == 4096 * 4096 + 4096       # fc2: 4096 x 4096 weights at both sizes

# %% [markdown]
# At 32×32 the fully connected layers' backward stands out too: the 4096 × 4096 weights of `fc2` do not
# shrink with the image, so their gradient costs about the same at both sizes while the convolutions' time
# shrinks with the maps.

# %% [markdown]
# ## 8 · The benchmark: vgglib against PyTorch
#
# `benchmarks/bench_vgg16.py` runs the real thing — VGG16 at 64×64×1 and 32×32×1, batch 32, float32, the same
# weights and the same thread count in both libraries — with interleaved repetitions, and measures peak
# memory in separate processes (`benchmarks/README.md` has the method, the full output and what did not
# help). The committed run, made with the machine to itself, read from its results file:

# %%
machine, config = bench["machine"], bench["config"]
print(f"measured {machine['date'][:10]} on {machine['cpu']} ({machine['logical_cpus']} logical CPUs, "
      f"{machine['memory_gb']} GB), numpy {machine['numpy']}, PyTorch {machine['torch']}, {machine['threads']} "
      f"threads each, {config['dtype']}, batch {config['batch']}, median of {config['reps']} interleaved repetitions")
print(f"\n{'input':7s} {'task':38s} {'vgglib':>8s} {'PyTorch':>8s} {'vgglib/PyTorch':>15s}")
ratio = {}
full_width = [row for row in bench["rows"] if row.get("key", str(row["size"])) == str(row["size"])]  # not "recipe"
for row in full_width:
    ratio[row["size"], row["task"]] = row["vgglib_s"] / row["torch_s"]
    print(f"{row['size']}x{row['size']:<4d} {row['task']:38s} {1e3 * row['vgglib_s']:5.0f} ms "
          f"{1e3 * row['torch_s']:5.0f} ms {ratio[row['size'], row['task']]:14.2f}x")
print(f"\n{'input':7s} {'peak memory, training: vgglib':>30s} {'PyTorch':>8s}")
for size, rss in ((size, bench["rss"][size]) for size in ("64", "32")):
    print(f"{size}x{size:<4s} {rss['vgglib']['peak_rss_mb']:27.0f} MB {rss['torch']['peak_rss_mb']:5.0f} MB")
# the introduction's words: faster than PyTorch at 64x64, close to it at 32x32
assert ratio[64, "training step"] < 1 and ratio[64, "inference"] < 1
assert max(v for (size, _), v in ratio.items() if size == 32) < 1.25

# %% [markdown]
# "Inference" is the steady state of evaluating a test set (the transformed weights kept between batches);
# "first batch after an update" pays the weight transforms again, as the first evaluation batch after a
# training step does. Only ratios measured in one run mean something: another CPU changes both libraries'
# speed, and runs on a machine shared with other jobs favour whichever thread pool suffers less. To
# reproduce it: `pip install -e '.[bench]'` and `python benchmarks/bench_vgg16.py`. The speed behind the
# table, and the ladder of section 2 on the full-size layer (GFLOP/s count the direct convolution's FLOPs, so
# Winograd can pass 100% of the GEMM peak):

# %%
print("GEMM peak measured in that run:", round(bench["gemm_peak_gflops"]), "GFLOP/s")
for row in full_width:
    print(f"{row['size']}x{row['size']} {row['task']:38s} vgglib {row['vgglib_img_s']:6.1f} img/s  "
          f"PyTorch {row['torch_img_s']:6.1f} img/s  vgglib {row['vgglib_gflops']:4.0f} GFLOP/s "
          f"({row['pct_gemm_peak']:.0f}% of the GEMM peak)")
lad = bench["ladder"]
print(f"the ladder on the full-size layer ({lad['layer']}, method {lad['fast_method']}), per image: "
      f"pixel loops {lad['naive_loops_s_per_image']:.1f} s (extrapolated), "
      f"im2col + matmul {1e3 * lad['readable_s_per_image']:.1f} ms, vgglib.fast {1e3 * lad['fast_s_per_image']:.1f} ms "
      f"-> loops / fast = {lad['naive_loops_s_per_image'] / lad['fast_s_per_image']:,.0f}x")
assert lad["naive_loops_s_per_image"] > lad["readable_s_per_image"] > lad["fast_s_per_image"]

# %% [markdown]
# What limits it further: memory traffic outside BLAS — gathering windows, the Winograd transforms, the
# weight transforms a training step must redo, new output arrays, each one numpy pass — and the hand-offs
# between threads, a fixed cost per layer. At 32×32 input every map is small, so those costs weigh most:
# that is where PyTorch keeps up. PyTorch's hand-written kernels fuse those steps; numpy cannot.

# %% [markdown]
# ## 9 · Spot the bug: memory reuse that aliases
#
# Allocating a fresh output for every layer and every batch costs time (the operating system hands out new
# memory page by page). Reusing one buffer is tempting. Here is a ReLU that does so:

# %%
class ReusingReLU(ReLU):
    # "faster": writes every output into the same buffer
    def _forward(self, x, training):
        if getattr(self, "_buf", None) is None or self._buf.shape != x.shape:
            self._buf = np.empty_like(x)
        self._y = np.maximum(x, 0, out=self._buf)
        return self._y

for cls in (ReLU, ReusingReLU):
    relu = cls()
    features_a = relu.forward(np.array([[1.0, -2.0, 3.0]]))      # kept, e.g. to plot feature maps
    snapshot = features_a.copy()
    relu.forward(np.array([[5.0, 5.0, -5.0]]))                   # the next batch
    print(f"{cls.__name__:12s} batch A's features still intact: {np.array_equal(features_a, snapshot)}")

# %% [markdown]
# The reusing ReLU returns the *same array* every time, so anything the caller kept — feature maps for a plot,
# the activations of the previous batch — silently changes under it. Worse, its backward would use the new
# batch's mask for the old batch's gradient. `vgglib.fast` reuses memory only inside a layer (window matrices,
# padded copies: "scratch"), never for what it hands out; `tests/test_fast.py` checks exactly what this cell
# shows — results of batch A unchanged after batch B, and no returned array sharing memory with the scratch
# buffers (`np.shares_memory`).

# %% [markdown]
# ## Summary
#
# | step | what it removes |
# | --- | --- |
# | loops → vectorised windows | the Python interpreter per multiply-add |
# | vectorised → im2col + GEMM | cache misses; uses the tuned BLAS kernel |
# | NHWC windows, chunked | long copies instead of short ones; the window matrix stays in cache |
# | Winograd F(2×2, 3×3) | 16 multiplications per tile and channel instead of 36 (section 4); 3×3, ≥ 64 channels |
# | worker threads | numpy's one-core copies and ufuncs |
#
# The gains, as measured in this notebook on this machine (sections 2 and 6) and in the committed benchmark
# (section 8, the full-size 64-channel layer at 64×64):

# %% tags=["nbval-ignore-output"]
print("| step | gain measured |")
for step, gain in steps.items():
    print(f"| {step} (section 2, this machine) | {gain:,.1f}x |")
print(f"| {fast.worker_count()} workers vs one core (section 6, this machine) | {t_one / t_workers:.1f}x |")
print(f"| benchmark layer: pixel loops -> im2col + matmul | "
      f"{lad['naive_loops_s_per_image'] / lad['readable_s_per_image']:,.0f}x |")
print(f"| benchmark layer: im2col + matmul -> vgglib.fast ({lad['fast_method']}, NHWC, threads) | "
      f"{lad['readable_s_per_image'] / lad['fast_s_per_image']:.1f}x |")

# %% [markdown]
# Checks: every fast result equals the readable one (float32 tolerance) and the loops (float64); nothing
# handed out aliases reused memory. A model picks its layers: `VGG16(..., fast=True)` (the default) or
# `fast=False`, and `model.to_reference()` / `model.to_fast()` switch later, keeping the weights.

# %% [markdown]
# ## Exercises
#
# Each exercise ends with a self-check that says whether your answer is right and, if not, gives a hint —
# never the answer. Worked solutions are in `solutions/14_making_it_fast_solutions.ipynb`.
#
# **Exercise 1 (easy).** How many multiply-adds does VGG16's `conv2_1` do for one image at 64×64 input? It
# maps 64 → 128 channels with 3×3 kernels and padding 1, on 32×32 maps (after the first pooling).

# %% tags=["exercise-1"]
answer = None   # your answer: the multiply-adds of conv2_1 for one image (a number)
check_conv2_1_macs(answer)


# %% [markdown]
# **Exercise 2 (medium).** Section 3 gathered the windows of a padded NHWC array with stride 1. VGG16 needs no
# more, but other networks do. Write `im2col_nhwc(x, k, stride, padding)` for any stride and padding: the k×k
# windows of an NHWC array `x` (N, H, W, C), padded with `padding` zeros on H and W, taken every `stride` rows
# and pixels, as a matrix (N·Ho·Wo, k·k·C) of x's dtype, rows ordered (n, oy, ox), columns (i, j, c), where
# Ho = (H + 2·padding − k) // stride + 1 (Wo likewise). Use `np.pad` and `as_strided`: which of the six
# strides does `stride` change, and which not?

# %% tags=["exercise-2"]
def im2col_nhwc(x, k, stride, padding):
    raise NotImplementedError   # your code here


check_im2col_nhwc_strided(im2col_nhwc)


# %% [markdown]
# **Exercise 3 (medium).** Write `pool2x2(x)`: 2×2 max pooling, stride 2, of (N, C, H, W), from the four
# corner views (section 5), returning `(y, winners)` where `winners` is the flat index $i\cdot 2 + j$ of each
# window's maximum — **the first one in row-major order** when several are equal. Odd sizes drop the last
# row/column.

# %% tags=["exercise-3"]
def pool2x2(x):
    raise NotImplementedError   # your code here


check_pool2x2_corners(pool2x2)


# %% [markdown]
# **Exercise 4 (harder).** The backward pass of one Winograd tile. Section 4's forward, for a 4×4 tile $d$
# and a 3×3 kernel $g$, is four steps:
#
# $$U = G\,g\,G^\top,\qquad V = B^\top d\,B,\qquad M = U \odot V,\qquad Y = A^\top M\,A \quad (2\times 2)$$
#
# Write `winograd_backward(d, g, dY)` returning `(dd, dg)`: the gradients of $\sum dY \odot Y$ with respect to
# $d$ (4×4) and $g$ (3×3), by running the four steps backwards with notebook 02's rules — $Z = P\,X\,Q$ gives
# $dX = P^\top dZ\, Q^\top$, and $M = U \odot V$ gives $dU = dM \odot V$, $dV = dM \odot U$. Use `BT`, `G`
# and `AT` from section 4 (`BT` is $B^\top$, `AT` is $A^\top$). The check compares with the gradients of the
# direct sums and counts your products of numbers that depend on $dY$ with numbers that depend on the tile or
# the kernel: the direct sums take 72, the transposed transforms 32. It counts them by running your function
# on "counting numbers": use `+`, `-`, `*` and `@` on the inputs (no `float()`, no float arrays to fill).

# %% tags=["exercise-4"]
def winograd_backward(d, g, dY):
    raise NotImplementedError   # your code here


check_winograd_backward(winograd_backward)
