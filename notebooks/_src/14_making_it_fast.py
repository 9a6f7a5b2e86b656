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
# 1.27 billion multiply-adds; at the few million operations per second a Python loop manages, that is minutes
# per image for the forward pass alone, and hours for one training step of 32 images. This notebook climbs the
# ladder from those loops to the fast path in `vgglib.fast`, which trains VGG16 on a small two-core CPU faster
# than PyTorch at 64×64 input and within about 1.1× of it at 32×32 — in plain numpy.
#
# Every rung is checked against the readable layers of notebooks 01–05: speed never changes the answer.
#
# **Learning goals** — after this notebook you can
#
# - count the work of a network (multiply-adds, FLOPs) and turn a timing into GFLOP/s;
# - explain why im2col + one matrix product (GEMM) beats loops by three to four orders of magnitude, and gather the
#   windows of a channels-last (NHWC) array with `as_strided`;
# - derive Winograd's F(2, 3) trick — 4 multiplications where the definition needs 6 — and its 2-D form;
# - say where the time of a training step goes, and what limits it further (GEMM peak, memory, threads).

# %%
# %matplotlib inline
import json
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from numpy.lib.stride_tricks import as_strided, sliding_window_view

import vgglib
import vgglib.fast as fast
from vgglib import layers, reference
from vgglib.fast import Convolution2D, Maxpooling2D, ReLU       # the fast layers: same contract as vgglib.layers
from vgglib.fast import workers
from vgglib.im2col import im2col
from vgglib.losses import softmax_cross_entropy
from vgglib.model import VGG16
from vgglib.summarize import summary
from vgglib.exercises import check_conv2_1_macs, check_im2col_nhwc, check_pool2x2_corners, check_winograd_1d

def best_time(fn, repeat=3):
    # the fastest of a few runs: the least disturbed by whatever else the machine is doing
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
for size in (64, 32):
    s = summary(VGG16.spec(1, 10, size), print_table=False)
    per_step = 3 * 2 * s.total_macs * 32
    print(f"VGG16 {size}x{size}x1: {s.total_macs / 1e9:.3f} GMAC per image forward, "
          f"{s.total_params / 1e6:.1f} M parameters; a training step of 32 images = {per_step / 1e9:.0f} GFLOP")

# %% [markdown]
# How fast is a Python loop at multiply-adds? We time one and extrapolate to a single training step
# (the output of this cell, like every timing here, depends on the machine: nbval ignores it).

# %% tags=["nbval-ignore-output"]
a, b = 1.0001, 0.9999
def loop(n=200_000):
    total = 0.0
    for _ in range(n):
        total += a * b
    return total
macs_per_s = 200_000 / best_time(loop)
step_macs = 3 * summary(VGG16.spec(1, 10, 64), print_table=False).total_macs * 32
print(f"a Python loop: {macs_per_s / 1e6:.0f} M multiply-adds per second -> one 64x64 training step "
      f"of 32 images would take {step_macs / macs_per_s / 3600:.1f} hours")

# %% [markdown]
# ## 2 · The ladder, timed live
#
# One convolution layer, small enough to time in seconds: 16 → 16 channels, 3×3, padding 1, 24×24 maps, a
# batch of 8. Four implementations:
#
# 1. **pixel loops** — `vgglib.reference.conv2d_forward_naive`, the formula written out (the seed's way);
# 2. **vectorised windows** — `sliding_window_view` + `np.einsum(..., optimize=False)`: no Python loops, but
#    no BLAS either (with `optimize=True`, einsum would hand the product to BLAS via `tensordot` — we time that
#    too, as an aside);
# 3. **im2col + matmul** — the readable `vgglib.layers.Convolution2D` of notebook 01;
# 4. **the fast path** — `vgglib.fast.Convolution2D`: the same layer (same constructor, weights and
#    checkpoints; `fast.to_reference(layer)` gives the readable one sharing its weights), computed by
#    channels-last windows gathered chunk by chunk into one GEMM each.
#
# First: all four give the same numbers.

# %%
rng = np.random.default_rng(0)
layer = Convolution2D(16, 16, 3, padding=1, rng=rng)
layer.params["bias"][:] = rng.standard_normal(16).astype(np.float32)
x = rng.standard_normal((8, 16, 24, 24)).astype(np.float32)
w, b = layer.params["weights"], layer.params["bias"]

def windows_einsum(x, optimize=False):
    # optimize=False: einsum's own C loop, no BLAS; optimize=True would route the product through BLAS
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    win = sliding_window_view(xp, (3, 3), axis=(2, 3))            # (N, C, H, W, 3, 3), a view
    return np.einsum("nchwij,fcij->nfhw", win, w, optimize=optimize) + b[:, None, None]

readable_layer = fast.to_reference(layer)                      # a vgglib.layers.Convolution2D, same weights

def readable(x):
    return readable_layer.forward(x)

y_fast = layer.forward(x)
y_loops = reference.conv2d_forward_naive(x[:1, :, :4].astype(np.float64), w, b, 1, 1)   # a corner: loops are slow
errors = {"loops (corner)": np.abs(y_loops[:, :, :3] - y_fast[:1, :, :3]).max(),
          "einsum": np.abs(windows_einsum(x) - y_fast).max(),
          "im2col + matmul": np.abs(readable(x) - y_fast).max()}
for name, err in errors.items():
    print(f"{name:16s} vs fast path: max difference < 1e-5: {err < 1e-5}")
assert max(errors.values()) < 1e-5

# %% tags=["nbval-ignore-output"]
x_slice, w_slice = x[:1, :, :3], w[:2]                          # 1 image, 3 input rows, 2 of the 16 filters
y_slice = reference.conv2d_forward_naive(x_slice, w_slice, b[:2], 1, 1)
t_slice = best_time(lambda: reference.conv2d_forward_naive(x_slice, w_slice, b[:2], 1, 1), repeat=1)
rows_covered = y_slice.shape[2]                                 # padding 1: 3 input rows give 3 output rows
scale = (x.shape[0] / y_slice.shape[0]) * (w.shape[0] / y_slice.shape[1]) * (y_fast.shape[2] / rows_covered)
print(f"loop slice: {y_slice.shape[0]} image, {y_slice.shape[1]} filters, {rows_covered} of "
      f"{y_fast.shape[2]} output rows -> times {scale:.0f} for the whole batch")
t_loops = t_slice * scale
times = {"pixel loops (extrapolated)": t_loops,
         "vectorised windows (einsum)": best_time(lambda: windows_einsum(x)),
         "im2col + matmul (readable)": best_time(lambda: readable(x)),
         "vgglib.fast": best_time(lambda: layer.forward(x))}
t_einsum_blas = best_time(lambda: windows_einsum(x, optimize=True))
flops = 2 * 8 * 24 * 24 * 16 * 16 * 9
print(f"{'':28s} {'time':>10s}    {'speed':>14s}   {'vs loops':>9s}  {'vs the rung above':>17s}")
previous = None
for name, t in times.items():
    step = "" if previous is None else f"{previous / t:,.1f}x"
    print(f"{name:28s} {t * 1e3:10.2f} ms {flops / t / 1e9:8.3f} GFLOP/s   {t_loops / t:8,.0f}x  {step:>17s}")
    previous = t
print(f"aside: einsum with optimize=True (BLAS via tensordot) {t_einsum_blas * 1e3:.2f} ms, "
      f"{times['vectorised windows (einsum)'] / t_einsum_blas:.1f}x faster than optimize=False")
fig, ax = plt.subplots(figsize=(7, 2.6))
ax.barh(list(times)[::-1], [t * 1e3 for t in times.values()][::-1], color="tab:blue")
ax.set_xscale("log")
ax.set_xlabel("milliseconds for the batch (log scale)")
ax.set_title("one 3x3 conv layer, 16->16 channels, 24x24, batch 8")
plt.tight_layout()
plt.show()

# %% [markdown]
# The big jump is from Python to compiled code; the second one, from `einsum` to im2col, is from "compiled"
# to "a GEMM": a matrix product reuses every number it loads many times from the CPU's caches and registers,
# and the BLAS library behind `np.matmul` is tuned for exactly that. On the full-size layer (64 channels,
# 64×64) the gap between the first and last rung is larger still — the benchmark in section 8 measures it.

# %% [markdown]
# ## 3 · Memory layout: why channels last
#
# numpy stores an array as one line of memory; `strides` say how many bytes to jump along each axis. The
# readable code keeps activations NCHW. The fast convolution works in **NHWC** ("channels last"): a 3×3
# window then is three runs of $3C$ neighbouring numbers instead of $3C$ runs of 3, so copying windows is a
# few long copies. It hands back an array of NCHW *shape* whose memory is NHWC — a transposed view, which
# is what PyTorch calls `channels_last`. Nothing downstream can tell, except by looking at the strides; the
# next ReLU and pooling keep that order, and the next convolution gets its NHWC input without copying.

# %%
print("NCHW input  shape", x.shape, "strides", x.strides)
print("fast output shape", y_fast.shape, "strides", y_fast.strides, "-> channels last:", fast.is_channels_last(y_fast))
print("same values as the readable layer's plain NCHW array:", np.allclose(y_fast, readable(x), atol=1e-5))

# %% [markdown]
# Gathering the windows of an NHWC array with `as_strided`: a view of shape $(N, H_o, W_o, k, k, C)$ whose
# window axes $(i, j)$ step one row and one pixel — no data moves until we copy the view into a matrix of
# shape $(N H_o W_o,\ k k C)$. One GEMM with the weights reordered to $(F, k, k, C)$ is the convolution.

# %%
xh = np.ascontiguousarray(x.transpose(0, 2, 3, 1))                # NHWC
xp = np.pad(xh, ((0, 0), (1, 1), (1, 1), (0, 0)))
s0, s1, s2, s3 = xp.strides
win = as_strided(xp, (8, 24, 24, 3, 3, 16), (s0, s1, s2, s1, s2, s3))   # a view: nothing copied yet
cols = win.reshape(8 * 24 * 24, 9 * 16)                          # the copy: (4608, 144)
w_rows = w.transpose(0, 2, 3, 1).reshape(16, 9 * 16)             # (F, k*k*C), same (i, j, c) order
y_gemm = (cols @ w_rows.T + b).reshape(8, 24, 24, 16).transpose(0, 3, 1, 2)
print("window matrix", cols.shape, "| one GEMM reproduces the layer:", np.abs(y_gemm - y_fast).max() < 1e-5)

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
print(f"direct: y0 = {direct[0]:.1f}, y1 = {direct[1]:.1f}   winograd: y0 = {m1 + m2 + m3:.1f}, y1 = {m2 - m3 - m4:.1f}")
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
# **16 multiplications instead of 36** (2.25× fewer). With many channels, the element-wise product summed
# over input channels is 16 independent GEMMs of shape (tiles × C)·(C × F) — BLAS again, on 2.25× less work.
# The transforms are additions only — but in numpy every addition is a pass over memory, so they decide
# whether Winograd pays. Tiles overlap by two pixels; `vgglib.fast` first splits the padded input into its
# four 2×2 *phases* (even/odd rows × even/odd columns), after which row $r$ of every tile is one contiguous
# slice of a phase and each step streams through long runs. It uses Winograd for 3×3 layers with ≥ 64
# channels; the backward pass is the transposed transform for $dW$ (notebook 02's rules, applied to $U$ and
# $V$), and $dx$ is the same Winograd convolution with the kernel rotated by 180° — which only permutes the
# 16 transformed taps, so it reuses the forward's $U$.

# %%
BT = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], float)
G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])
AT = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], float)
tile, kernel = rng.standard_normal((4, 4)), rng.standard_normal((3, 3))
Y = AT @ ((G @ kernel @ G.T) * (BT @ tile @ BT.T)) @ AT.T
Y_direct = np.array([[(tile[i:i + 3, j:j + 3] * kernel).sum() for j in range(2)] for i in range(2)])
print("2x2 tile, Winograd == direct:", np.allclose(Y, Y_direct))

wide = Convolution2D(128, 32, 3, padding=1, rng=rng)
xw = np.maximum(rng.standard_normal((2, 128, 16, 16)), 0).astype(np.float32)
yw = wide.forward(xw)
exact = reference.conv2d_forward_naive(xw[:1, :, :4].astype(np.float64), wide.params["weights"].astype(np.float64),
                                       wide.params["bias"].astype(np.float64), 1, 1)[:, :, :3]
rel = np.abs(yw[:1, :, :3] - exact).max() / np.abs(exact).max()
print("vgglib.fast chose:", wide._fast_cache.method, "| float32 relative error below 1e-5:", rel < 1e-5)

# %% [markdown]
# **Inference transforms the weights once.** $U = G\,g\,G^\top$ depends on the weights alone. In training
# they change every step, so $U$ is computed in every forward pass (and reused by that step's $dx$). In
# inference — evaluating a test set batch after batch — they don't: `forward(x, training=False)` keeps $U$
# in the layer (`vgglib.fast.WeightCache`) and reuses it. The guard is a plain comparison of the weights
# with a private copy — one read of each, a fraction of the transform's cost — so a weight changed in place,
# a new array or another dtype is always noticed; a stale $U$ is impossible. The second batch also stores $U$
# transposed and contiguous, (16, C, F), once: the forward's 16 GEMMs run faster on it than on a transposed
# view. From the third batch on, each of VGG16's 512-channel layers skips its weight transform; the cell below
# measures what that saves for one such layer on this machine (a few milliseconds on the benchmark machine,
# where these layers' transforms are the largest single item of inference at 32×32 input; on a busy machine
# the difference can drown in noise).

# %% tags=["nbval-ignore-output"]
deep = Convolution2D(512, 512, 3, padding=1, rng=rng)       # conv4_2 of VGG16 at 32x32 input: 4x4 maps
xd = rng.standard_normal((8, 512, 4, 4)).astype(np.float32)
t_train = best_time(lambda: deep.forward(xd, training=True))
print(f"a training forward (transforms the weights every time): {1e3 * t_train:5.1f} ms")
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
print("after an in-place change the output follows the new weights:", np.abs(changed - expected).max() < 1e-4)

# %% [markdown]
# ## 5 · The backward pass, and the small layers
#
# - $db = \sum dy$, and $dW = dy^\top \cdot \text{cols}$: the same window matrix again, re-gathered chunk by
#   chunk rather than kept (it is 9× the size of the input: 300 MB for VGG16's second layer at batch 32).
# - $dx$ without a scatter: for stride 1, $dx$ **is** a convolution — of $dy$ padded by $k-1-p$ with the
#   kernel rotated by 180° and its $F$ and $C$ axes swapped (notebook 02). So it is one more gather + GEMM
#   (or Winograd convolution). The network's first layer skips $dx$ altogether: nobody needs the gradient
#   of the images (`model.backward(dlogits, input_grad=False)`, what the trainer calls; PyTorch does the same
#   for inputs that don't require grad).
# - ReLU keeps its *output* $y$ instead of a mask: $dx = dy\cdot[y > 0]$, and $y$ is kept anyway, by the next
#   layer.
# - 2×2 max pooling compares the four corners of every window, `x[:, :, 0::2, 0::2]`, `x[:, :, 0::2, 1::2]`, …
#   — three `np.maximum`s — and keeps the winner as a number 0–3, with the readable code's tie rule. In
#   inference nothing needs the winners: `forward(x, training=False)` computes the maxima alone (a third of
#   the time) and finds the winners later only if `backward` or the `winners` attribute asks for them.
#
# All of it is tested against the readable layers (`tests/test_fast.py`): forward, $dx$, $dW$, $db$, random
# shapes, strides and paddings, and numerical gradient checks in float64.

# %%
dy = rng.standard_normal(y_fast.shape).astype(np.float32)
dx_fast = layer.backward(dy)
grads_fast = {k: v.copy() for k, v in layer.grads.items()}
readable_layer.forward(x)
dx_read = readable_layer.backward(dy)
print("dx:", np.abs(dx_fast - dx_read).max() < 1e-4,
      "| dW:", np.abs(grads_fast["weights"] - readable_layer.grads["weights"]).max() < 1e-3,
      "| db:", np.abs(grads_fast["bias"] - readable_layer.grads["bias"]).max() < 1e-3)

# %% [markdown]
# ## 6 · Both cores
#
# numpy's BLAS uses every core, but everything else in numpy — copies, `np.maximum`, comparisons — runs on
# one. So `vgglib.fast` splits each batch into chunks and shares them among a few workers (as many as BLAS
# would use): the calling thread and helper threads take the chunks one at a time from a shared counter, and
# each gathers, transforms and multiplies its own images with a one-thread BLAS. Python threads can do this
# because numpy releases the interpreter lock (GIL) inside copies, ufuncs and BLAS calls. Small late layers,
# with too few pixels to split, cut their matrix products into blocks instead.

# %% tags=["nbval-ignore-output"]
big = Convolution2D(64, 64, 3, padding=1, rng=rng)
xb = rng.standard_normal((16, 64, 32, 32)).astype(np.float32)
saved = workers.threads                                       # vgglib.fast.workers: the thread settings
try:
    workers.threads = 1
    t1 = best_time(lambda: big.forward(xb))
    workers.threads = saved
    tn = best_time(lambda: big.forward(xb))
finally:
    workers.threads = saved
print(f"workers: {fast.worker_count()} | one thread {t1 * 1e3:.0f} ms, all workers {tn * 1e3:.0f} ms "
      f"({t1 / tn:.1f}x)")

# %% [markdown]
# ## 7 · Where the time goes
#
# Timing every layer's `forward` and `backward` in a training step (a narrow VGG16 here, so it runs in a
# second; the optimizer's update is not part of it) shows the usual picture: the convolutions take most of the
# time. Their backward computes two products per layer ($dx$ and $dW$, section 5) against the forward's one, so
# it should cost about twice the forward — less where the first layer skips $dx$, more where the small late
# layers pay fixed costs. The cell prints the measured shares and the backward / forward ratio.

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
for _ in range(3):
    spent.clear()
    logits = model.forward(xs)
    model.backward(softmax_cross_entropy(logits, labels)[1])
total = sum(spent.values())
conv_fwd, conv_bwd = spent["Convolution2D forward"], spent["Convolution2D backward"]
print(f"convolutions: {100 * (conv_fwd + conv_bwd) / total:.0f}% of the layers' time "
      f"(forward {1e3 * conv_fwd:.1f} ms, backward {1e3 * conv_bwd:.1f} ms: {conv_bwd / conv_fwd:.1f}x the forward)")
print(f"everything else (ReLU, pooling, dropout, flatten, fully connected): "
      f"{100 * (1 - (conv_fwd + conv_bwd) / total):.0f}%")
top = sorted(spent.items(), key=lambda kv: -kv[1])[:8]
fig, ax = plt.subplots(figsize=(7, 2.8))
ax.barh([k for k, _ in top][::-1], [100 * v / total for _, v in top][::-1], color="tab:orange")
ax.set_xlabel("% of the layers' time in one training step")
ax.set_title("VGG16 width 1/4, 32x32, batch 16")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 8 · The benchmark: vgglib against PyTorch
#
# `benchmarks/bench_vgg16.py` runs the real thing — VGG16 at 64×64×1 and 32×32×1, batch 32, float32, the same
# weights and the same thread count in both libraries — with interleaved repetitions, and measures peak
# memory in separate processes (`benchmarks/README.md` has the method, the full output and what did not
# help). The committed run, made with the machine to itself:
#
# Measured 2026-12-01 on AMD EPYC (2 logical CPUs, 23.5 GB), numpy 2.4.6, PyTorch 2.13.0+cpu, 2 threads each, float32, batch 32, median of 7 interleaved repetitions:
#
# | input | task | vgglib | PyTorch | vgglib / PyTorch |
# | --- | --- | ---: | ---: | ---: |
# | 64×64×1 | training step | 1370 ms | 1814 ms | 0.76× |
# | 64×64×1 | inference | 399 ms | 451 ms | 0.89× |
# | 64×64×1 | inference, first batch after an update | 406 ms | 451 ms | 0.90× |
# | 32×32×1 | training step | 421 ms | 400 ms | 1.05× |
# | 32×32×1 | inference | 128 ms | 122 ms | 1.05× |
# | 32×32×1 | inference, first batch after an update | 143 ms | 122 ms | 1.17× |
#
# | input | peak memory, training: vgglib | PyTorch |
# | --- | ---: | ---: |
# | 64×64×1 | 869 MB | 980 MB |
# | 32×32×1 | 619 MB | 710 MB |
#
# "Inference" is the steady state of evaluating a test set (the transformed weights kept between batches);
# "first batch after an update" pays the weight transforms again, as the first evaluation batch after a
# training step does. Only ratios measured in one run mean something: another CPU changes both libraries'
# speed, and runs on a machine shared with other jobs favour whichever thread pool suffers less. To
# reproduce it: `pip install -e '.[bench]'` and `python benchmarks/bench_vgg16.py`. The numbers behind the
# table (GFLOP/s count the direct convolution's FLOPs, so Winograd can pass 100% of the GEMM peak):

# %% tags=["nbval-ignore-output"]
bench = json.loads((Path("..") / "results" / "benchmark" / "bench_vgg16.json").read_text())
print("GEMM peak measured in that run:", round(bench["gemm_peak_gflops"]), "GFLOP/s")
for row in bench["rows"]:
    print(f"{row['size']}x{row['size']} {row['task']:38s} vgglib {row['vgglib_img_s']:6.1f} img/s  "
          f"PyTorch {row['torch_img_s']:6.1f} img/s  vgglib {row['vgglib_gflops']:4.0f} GFLOP/s "
          f"({row['pct_gemm_peak']:.0f}% of the GEMM peak)")
lad = bench["ladder"]
print(f"the ladder on the full-size layer ({lad['layer']}, method {lad['fast_method']}), per image: "
      f"pixel loops {lad['naive_loops_s_per_image']:.1f} s (extrapolated), "
      f"im2col + matmul {1e3 * lad['readable_s_per_image']:.1f} ms, vgglib.fast {1e3 * lad['fast_s_per_image']:.1f} ms "
      f"-> loops / fast = {lad['naive_loops_s_per_image'] / lad['fast_s_per_image']:,.0f}x")


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
# | Winograd F(2×2, 3×3) | 2.25× fewer multiplications on 3×3 layers with ≥ 64 channels |
# | worker threads | numpy's one-core copies and ufuncs |
#
# The gains, as measured in this notebook (sections 2 and 6, on this machine) and in the committed benchmark
# (section 8, the full-size 64-channel layer at 64×64, where `vgglib.fast` uses Winograd):

# %% tags=["nbval-ignore-output"]
print("| step | gain measured here (16 -> 16 channels, 24x24) |")
for (a, ta), (b, tb) in zip(list(times.items())[:-1], list(times.items())[1:]):
    print(f"| {a} -> {b} | {ta / tb:,.1f}x |")
print(f"| worker threads ({fast.worker_count()}) vs one thread (section 6) | {t1 / tn:.1f}x |")
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
answer = None   # a number
check_conv2_1_macs(answer)


# %% [markdown]
# **Exercise 2 (medium).** Write `im2col_nhwc(x, k)`: the k×k windows (stride 1, no padding) of an NHWC array
# `x` (N, H, W, C) as a matrix (N·Ho·Wo, k·k·C), rows ordered (n, oy, ox), columns (i, j, c). Use
# `as_strided` (section 3); reshaping the overlapping view makes the copy.

# %% tags=["exercise-2"]
def im2col_nhwc(x, k):
    raise NotImplementedError   # your code here


check_im2col_nhwc(im2col_nhwc)


# %% [markdown]
# **Exercise 3 (medium).** Write `winograd_1d(d, g)` returning `[y0, y1]` for 4 inputs and a 3-tap filter
# with only **4** products that involve both inputs and weights. The check runs your function on "counting
# numbers" that tally those products.

# %% tags=["exercise-3"]
def winograd_1d(d, g):
    raise NotImplementedError   # your code here


check_winograd_1d(winograd_1d)


# %% [markdown]
# **Exercise 4 (harder).** Write `pool2x2(x)`: 2×2 max pooling, stride 2, of (N, C, H, W), from the four
# corner views (section 5), returning `(y, winners)` where `winners` is the flat index $i\cdot 2 + j$ of each
# window's maximum — **the first one in row-major order** when several are equal. Odd sizes drop the last
# row/column.

# %% tags=["exercise-4"]
def pool2x2(x):
    raise NotImplementedError   # your code here


check_pool2x2_corners(pool2x2)
