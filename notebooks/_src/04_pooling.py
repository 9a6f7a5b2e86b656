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
# # 04 · Pooling: shrinking the maps, and routing the gradient to the winner
#
# After each of its five blocks of convolutions, VGG16 applies a **2×2 max pooling with stride 2**: every
# feature map is cut into 2×2 squares and each square is replaced by its largest value. The maps shrink by
# half in each direction — 224 → 112 → 56 → 28 → 14 → 7 for ImageNet photos, 64 → 32 → 16 → 8 → 4 → 2 for the
# seed project's zoomed MNIST digits — while the number of channels stays the same. Pooling has no
# parameters and costs almost nothing, but it makes everything after it four times cheaper, and lets the
# next 3×3 convolutions see twice as far.
#
# The seed implemented max, min and average pooling, with the backward pass routing each gradient to the
# "winner" of its window. Its max-pool backward, though, **ignored the stride** — a bug that is invisible
# with stride 1 and, with VGG16's stride 2, sends the gradient of every window but the first to the wrong
# pixel. We derive the backward pass, check it
# numerically (which needs care: max has kinks at ties), and then find that bug with the checks.
#
# **Learning goals** — after this notebook you can
#
# - compute max, min and average pooling by hand, with the output size $\lfloor (H-k)/s \rfloor + 1$;
# - derive the backward pass: the gradient goes to the window's winner (max/min) or is spread evenly (avg);
# - implement winner-index routing, including overlapping windows where gradients accumulate;
# - explain what happens at ties, and why a numerical gradient check disagrees there;
# - catch the stride bug with a gradient check — and see why testing only stride 1 would miss it.

# %%
# %matplotlib inline
import time

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

import vgglib
from vgglib import Avgpooling2D, Maxpooling2D, Minpooling2D, Pooling2D, check_layer, numerical_gradient, reference
from vgglib.gradcheck import below
from vgglib.exercises import (check_maxpool_backward, check_maxpool_dx_by_hand, check_pool_by_hand,
                              check_three_way_tie, reveal)
from vgglib.mnist import load_mnist
from vgglib.preprocess import to_float
from vgglib.viz import IMAGE_CMAP, SIGNED_CMAP

np.set_printoptions(precision=4, suppress=True)
print("vgglib", vgglib.__version__)


def show_matrix(ax, m, title, marks=(), signed=False, stride=None):
    '''Draw a small matrix with its numbers: values in grey, gradients (signed=True) in red/blue on a
    symmetric scale; marks = cells to outline (the winners); stride = draw the window grid.'''
    m = np.asarray(m, dtype=float)
    if signed:
        lim = max(np.abs(m).max(), 1e-12)
        ax.imshow(m, cmap=SIGNED_CMAP, vmin=-lim, vmax=lim)
        dark = np.abs(m) > 0.6 * lim
    else:
        lo, hi = min(0, m.min()), max(1, m.max())
        ax.imshow(m, cmap=IMAGE_CMAP, vmin=lo, vmax=hi)
        dark = (m - lo) / (hi - lo) < 0.5
    for (i, j), v in np.ndenumerate(m):
        ax.text(j, i, f"{v:g}", ha="center", va="center", fontsize=11, color="white" if dark[i, j] else "black")
    for (i, j) in marks:
        ax.add_patch(Rectangle((j - 0.45, i - 0.45), 0.9, 0.9, fill=False, edgecolor="gold", linewidth=2.5))
    if stride is not None:
        for t in range(0, m.shape[0] + 1, stride):
            ax.axhline(t - 0.5, color="black", linewidth=2)
            ax.axvline(t - 0.5, color="black", linewidth=2)
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])


# %% [markdown]
# ## 1 · Intuition: the worked example
#
# Cut this 4×4 input into four 2×2 windows (pool size $k = 2$, stride $s = 2$: the windows touch but do not
# overlap) and keep the largest value of each:
#
# $$
# x = \begin{bmatrix} 1&1&2&4\\ 5&6&7&8\\ 3&2&1&0\\ 1&2&3&4 \end{bmatrix}
# \quad\xrightarrow{\ \text{max pool } 2\times2,\ s=2\ }\quad
# y = \begin{bmatrix} \max(1,1,5,6) & \max(2,4,7,8) \\ \max(3,2,1,2) & \max(1,0,3,4) \end{bmatrix}
#   = \begin{bmatrix} 6&8\\ 3&4 \end{bmatrix}.
# $$
#
# **Min pooling** keeps the smallest value of each window and **average pooling** the mean — exercise 1
# asks you for both. Max pooling asks "is this feature present *somewhere* in the window?"; it keeps the
# strongest response and throws away exactly where in the window it was, which makes the network a little
# tolerant to small shifts.

# %%
x_ex = np.array([[1, 1, 2, 4],
                 [5, 6, 7, 8],
                 [3, 2, 1, 0],
                 [1, 2, 3, 4]], dtype=np.float64)


def pool2d_naive(x, k=2, s=2, mode="max"):
    '''One channel: returns y (Ho, Wo) and the flat index i*k + j of each window's winner (max/min).'''
    ho, wo = (x.shape[0] - k) // s + 1, (x.shape[1] - k) // s + 1
    y, winners = np.zeros((ho, wo)), np.full((ho, wo), -1)
    for oy in range(ho):
        for ox in range(wo):
            window = x[oy * s:oy * s + k, ox * s:ox * s + k]
            if mode == "avg":
                y[oy, ox] = window.mean()
            else:
                winners[oy, ox] = window.argmax() if mode == "max" else window.argmin()
                y[oy, ox] = window.flat[winners[oy, ox]]
    return y, winners


y_ex, winners_ex = pool2d_naive(x_ex)
print("y =\n", y_ex)
print("winners (flat index i·k + j inside each window) =\n", winners_ex)
assert np.array_equal(y_ex, [[6, 8], [3, 4]])

# %% [markdown]
# `argmax` returns the position of the maximum inside the flattened window, read row by row: 0 = top-left,
# 1 = top-right, 2 = bottom-left, 3 = bottom-right (for $k = 2$). The winner of window $(o_y, o_x)$ sits at
# input position $(o_y s + i,\ o_x s + j)$ with $(i, j) = (\text{idx} \,/\!/\, k,\ \text{idx} \bmod k)$.
# These **winner indices** are all the backward pass needs.

# %% [markdown]
# ## 2 · The definition and the output size
#
# Every channel of every image is pooled on its own. For an input of shape $(N, C, H, W)$, pool size $k$ and
# stride $s$ (VGG16: $k = s = 2$; no padding):
#
# $$
# \begin{aligned}
# y_{\max}[n,c,o_y,o_x] &= \max_{0 \le i, j < k} x[n,c,\ o_y s + i,\ o_x s + j] \\
# y_{\min}[n,c,o_y,o_x] &= \min_{0 \le i, j < k} x[n,c,\ o_y s + i,\ o_x s + j] \\
# y_{\text{avg}}[n,c,o_y,o_x] &= \frac{1}{k^2}\sum_{i,j} x[n,c,\ o_y s + i,\ o_x s + j]
# \end{aligned}
# \qquad (N, C, H, W) \to (N, C, H_o, W_o),\quad H_o = \left\lfloor \frac{H - k}{s} \right\rfloor + 1 .
# $$
#
# It is notebook 01's output-size formula with $p = 0$. When $s = k$ the windows tile the input; when
# $s < k$ they **overlap** (AlexNet used $k = 3$, $s = 2$); when the size is odd, the last row and column are
# dropped: a 7×7 map becomes 3×3.

# %%
for h in (224, 64, 28, 7):
    sizes = [h]
    while sizes[-1] >= 2 and len(sizes) < 6:
        sizes.append((sizes[-1] - 2) // 2 + 1)
    print(" → ".join(map(str, sizes)))


# %% [markdown]
# ## 3 · Backward: route the gradient to the winner
#
# **Max.** Within one window, $y = \max_p x_p$. If the maximum is unique, a small change of the winner
# $x_{p^*}$ changes $y$ by the same amount, and a small change of any other $x_p$ does not change $y$ at all:
#
# $$
# \frac{\partial y}{\partial x_p} = \begin{cases} 1 & p = p^* \text{ (the winner)}\\ 0 & \text{otherwise} \end{cases}
# \qquad\Longrightarrow\qquad
# dx[\text{winner of window } o] \mathrel{+}= dy[o] .
# $$
#
# Min pooling is the same with the minimum's position. Every other input gets 0: it did not influence the
# output. The `+=` matters as soon as windows overlap: a pixel that wins several windows receives the sum of
# their gradients (by the chain rule, the sum over every output it influenced).
#
# **Average.** $y = \frac{1}{k^2}\sum_p x_p$, so $\partial y/\partial x_p = \frac1{k^2}$ for every $p$ in the
# window: $dx[\text{window } o] \mathrel{+}= dy[o]/k^2$ — the gradient is spread evenly.
#
# Shapes: $dy$ is $(N, C, H_o, W_o)$, $dx$ is $(N, C, H, W)$; pooling has no parameters, so `grads` stays
# empty. Here is the routing with the winner indices from the forward pass:

# %%
def pool2d_backward_naive(dy, x, k=2, s=2, mode="max"):
    '''One channel: dx (H, W) from dy (Ho, Wo), using the winners of the forward pass.'''
    _, winners = pool2d_naive(x, k, s, mode)
    dx = np.zeros_like(x)
    for oy in range(dy.shape[0]):
        for ox in range(dy.shape[1]):
            if mode == "avg":
                dx[oy * s:oy * s + k, ox * s:ox * s + k] += dy[oy, ox] / k ** 2
            else:
                i, j = divmod(winners[oy, ox], k)
                dx[oy * s + i, ox * s + j] += dy[oy, ox]     # the window starts at (oy·s, ox·s)
    return dx


dy_ex = np.array([[1.0, 2.0], [3.0, 4.0]])
dx_ex = pool2d_backward_naive(dy_ex, x_ex)
print(dx_ex)
assert dx_ex.sum() == dy_ex.sum() and dx_ex[1, 1] == 1 and dx_ex[1, 3] == 2 and dx_ex[2, 0] == 3 and dx_ex[3, 3] == 4

winner_cells = [(oy * 2 + w // 2, ox * 2 + w % 2) for (oy, ox), w in np.ndenumerate(winners_ex)]
fig, axes = plt.subplots(1, 4, figsize=(13, 3.4), gridspec_kw={"width_ratios": [4, 2, 2, 4]})
show_matrix(axes[0], x_ex, "x: windows and winners (outlined)", marks=winner_cells, stride=2)
show_matrix(axes[1], y_ex, "y = max pool")
show_matrix(axes[2], dy_ex, "dy (from above)", signed=True)
show_matrix(axes[3], dx_ex, "dx: dy routed to the winners", marks=winner_cells, signed=True, stride=2)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 4 · The checks, and vgglib's pooling layer
#
# `vgglib.reference` keeps the same loops for batches and channels (`pool2d_forward_naive`,
# `pool2d_backward_naive`). vgglib's `Pooling2D(pool_size, stride, mode)` — with the seed's names
# `Maxpooling2D`, `Minpooling2D`, `Avgpooling2D` — does it without loops over pixels: notebook 01's `im2col`
# lays every window out as a column, `argmax` over the column axis finds all winners at once (kept in the
# attribute `winners`, shape $(N, C, H_o, W_o)$), and `backward` puts each $dy$ into its winner's slot and
# lets `col2im` add the windows back onto the input — overlaps accumulate automatically. (For VGG16's
# 2×2/stride-2 case `vgglib.fast.Maxpooling2D`, which `VGG16` uses by default, takes a faster route, comparing
# four strided views of the input; notebook 14. Same winners, same gradients.)
#
# We check the layer three ways: against our one-channel loops, against the reference loops (forward,
# winners and backward), and against numerical gradients. The inputs are random reals, so no window has a
# tie (section 6 explains why that matters).

# %%
rng = np.random.default_rng(0)
print("mode  k  s   vs loops (max diff)   numerical dx (relative error)")
for mode in ("max", "min", "avg"):
    for k, s in [(2, 2), (3, 2), (3, 1), (2, 3)]:
        x = rng.standard_normal((2, 3, 7, 7))
        layer = Pooling2D(k, s, mode)
        y = layer.forward(x)
        dy = rng.standard_normal(y.shape)
        dx = layer.backward(dy)
        y_ref, winners_ref = reference.pool2d_forward_naive(x, k, s, mode)
        dx_ref = reference.pool2d_backward_naive(dy, x, k, s, mode)
        ours = pool2d_backward_naive(dy[1, 2], x[1, 2], k, s, mode)
        err = max(np.abs(y - y_ref).max(), np.abs(dx - dx_ref).max(), np.abs(dx[1, 2] - ours).max())
        if mode != "avg":
            assert np.array_equal(layer.winners, winners_ref)
        num = check_layer(layer, x)["dx"]
        print(f"{mode:>4} {k:>2} {s:>2}   {below(err, 1e-12):>18}   {below(num, 1e-8)}")

# %% [markdown]
# Lines with $s < k$ have overlapping windows; $k = 2, s = 3$ skips a column between windows, and those
# pixels get no gradient at all. A timing of the loops against the layer (machine-dependent, not compared by
# the tests):

# %% tags=["nbval-ignore-output"]
x = np.random.default_rng(1).standard_normal((4, 32, 32, 32)).astype(np.float32)
pool = Maxpooling2D()
t0 = time.perf_counter()
reference.pool2d_forward_naive(x, 2, 2, "max")
t_loops = time.perf_counter() - t0
t0 = time.perf_counter()
for _ in range(10):
    pool.forward(x)
t_layer = (time.perf_counter() - t0) / 10
print(f"max pool of (4, 32, 32, 32): loops {t_loops * 1e3:.0f} ms, Maxpooling2D {t_layer * 1e3:.2f} ms "
      f"({t_loops / t_layer:,.0f}× faster)")

# %% [markdown]
# ## 5 · Overlapping windows: one pixel, several wins
#
# With $k = 3$ and $s = 2$ neighbouring windows share a row or column. If the largest value sits in the
# shared part it wins *every* window that contains it, and its gradient is the sum of all their $dy$:

# %%
x = np.array([[1, 0, 2, 0, 1],
              [0, 3, 1, 2, 0],
              [2, 1, 9, 1, 2],
              [0, 2, 1, 3, 0],
              [1, 0, 2, 0, 1]], dtype=np.float64)
pool = Maxpooling2D(pool_size=3, stride=2)
y = pool.forward(x[None, None])
dy = np.array([[1.0, 2.0], [3.0, 4.0]])
dx = pool.backward(dy[None, None])[0, 0]
print("y =\n", y[0, 0], "\nwinners =\n", pool.winners[0, 0], "\ndx =\n", dx)
assert dx[2, 2] == dy.sum()

# %% [markdown]
# The 9 in the centre wins all four windows (index 8 = bottom-right of the top-left window, 6, 2 and 0 of
# the others) and collects $1 + 2 + 3 + 4 = 10$. A backward pass that *assigned* (`=`) instead of adding
# (`+=`) would give it only the last one, 4 — and would still pass every test with non-overlapping windows.
#
# ## 6 · Ties, and what a gradient check does at a tie
#
# When two entries of a window share the maximum, $\max$ has a kink there and no derivative. vgglib, like
# `np.argmax` and PyTorch, picks the **first** maximum in row-major order as the winner and sends it the
# whole gradient; the other tied entries get 0. That is one valid choice (a *subgradient*). A numerical
# gradient check, though, measures something else at a tie: nudging one tied entry up raises the maximum,
# nudging it down does not. So the check "fails" at ties even for a correct layer:

# %%
x_tie = np.array([[[[5.0, 5.0], [1.0, 2.0]]]])                    # two maxima in one 2×2 window
pool = Maxpooling2D()
pool.forward(x_tie)
analytic = pool.backward(np.ones((1, 1, 1, 1)))
numeric = numerical_gradient(lambda: float(pool.forward(x_tie).sum()), x_tie)
print("winner index:", int(pool.winners.ravel()[0]), "| layer's gradient:", analytic.ravel(),
      "| numerical gradient:", numeric.ravel().round(6))
print("they differ at positions:",
      [tuple(int(v) for v in p[2:]) for p in np.argwhere(~np.isclose(analytic, numeric))])
print("check_layer on a tied input, relative error:", f"{check_layer(Maxpooling2D(), x_tie)['dx']:.2f}")

# %% [markdown]
# The numerical check gives each of the two tied entries ½ (notebook 03 met the same ½ at ReLU's kink);
# exercise 3 asks what the layer and the check give when *three* entries tie. The lesson for testing:
# **build gradient-check inputs without ties** (random reals, as in section 4, or a random permutation of
# distinct values); a failure at a tie says nothing about the code.
#
# Are ties rare in practice? Section 7 counts them on real digits.

# %% [markdown]
# ## 7 · On real data: pooling MNIST digits
#
# MNIST digits are mostly background, exactly 0, and a window of four zeros is a four-way tie. Inside VGG16
# the ReLU before each pool produces many exact zeros too. That is harmless for training — the gradient
# routed to the first of those zeros is stopped by the ReLU's gate right below — but worth knowing when a
# check fails.
#
# **Predict, then run.** Cut 100 test digits (28×28, pixels scaled to $[0, 1]$) into their 2×2 pooling
# windows, 196 per digit. What fraction of those windows has a tied maximum?

# %%
guess = None   # your prediction: a fraction between 0 and 1

# %%
images, labels = load_mnist("test")
digits = to_float(images[:100])[:, None].astype(np.float64)        # (100, 1, 28, 28) in [0, 1]
windows = digits.reshape(100, 1, 14, 2, 14, 2).transpose(0, 1, 2, 4, 3, 5).reshape(100, 1, 14, 14, 4)
top = windows.max(axis=-1)                                         # (100, 1, 14, 14)
tied = (windows == top[..., None]).sum(axis=-1) > 1
ink_ties = tied & (top > 0)
print(f"2×2 windows of 100 test digits with a tied maximum: {tied.mean():.0%} "
      f"(all-zero background: {np.all(windows == 0, axis=-1).mean():.0%}, ink: {ink_ties.mean():.0%}; "
      f"{np.mean(top[ink_ties] >= 250 / 255):.0%} of the ink ties are at a grey level of 250 to 255)")
_ = reveal(guess, round(float(tied.mean()), 2), rel_tol=0.1, what="the count")

# %% [markdown]
# Most ties are background; the rest sit inside the strokes, where MNIST's ink saturates at a few grey levels
# near 255 and two pixels of one window often share one. Here are max, min and average pooling of real
# digits, and max pooling applied repeatedly, as VGG16 does between its blocks:

# %%
pooled = {name: layer.forward(digits[:1]) for name, layer in
          [("max", Maxpooling2D()), ("min", Minpooling2D()), ("avg", Avgpooling2D())]}
repeated = [digits[:1]]
for _ in range(3):
    repeated.append(Maxpooling2D().forward(repeated[-1]))

fig, axes = plt.subplots(1, 6, figsize=(15, 2.9))
axes[0].imshow(digits[0, 0], cmap="gray", vmin=0, vmax=1)
axes[0].set_title(f"input 28×28 (a {labels[0]})", fontsize=10)
for ax, (name, p) in zip(axes[1:4], pooled.items()):
    ax.imshow(p[0, 0], cmap="gray", vmin=0, vmax=1)
    ax.set_title(f"{name} pool → {p.shape[-1]}×{p.shape[-1]}", fontsize=10)
for t, ax in zip((2, 3), axes[4:]):
    ax.imshow(repeated[t][0, 0], cmap="gray", vmin=0, vmax=1)
    ax.set_title(f"max pool {t}× → {repeated[t].shape[-1]}×{repeated[t].shape[-1]}", fontsize=10)
for ax in axes.ravel():
    ax.axis("off")
plt.tight_layout()
plt.show()


# %% [markdown]
# Max pooling keeps thin strokes (any ink in a window survives) and makes them thicker; min pooling keeps
# only windows that are ink everywhere, so thin strokes vanish; average pooling blurs. After three max
# pools, the 28×28 digit is a 3×3 sketch — inside VGG16 the 512 channels of such a small map still carry
# plenty of information, because each channel encodes a learned feature rather than brightness.

# %% [markdown]
# ## 🐞 Spot the bug: a max-pool backward that ignores the stride
#
# > The seed's max-pool backward found each window's winner correctly, but put the gradient back at the
# > window's position *as if the stride were 1*. A compact reconstruction (not the seed's literal lines):
# >
# > ```python
# > for oy in range(Ho):
# >     for ox in range(Wo):
# >         i, j = divmod(winners[oy, ox], k)
# >         dx[oy + i, ox + j] += dy[oy, ox]      # should be dx[oy*s + i, ox*s + j]
# > ```
# >
# > With stride 1 this is correct. What happens with VGG16's stride 2?
#
# Window $(o_y, o_x)$ starts at $(o_y s, o_x s)$. Without the factor $s$, every gradient but window
# $(0, 0)$'s lands up and/or to the left of its winner, and all of them land in the top-left $(H_o + k - 1)$
# rows and columns: for a 28×28 map ($H_o = 14$, $k = 2$), the top-left 15×15. The rest of the map — about
# 71% of it — gets no gradient at all (the cell below counts it).

# %%
def maxpool_backward_ignoring_stride(dy, x, k=2, s=2):
    _, winners = pool2d_naive(x, k, s, "max")
    dx = np.zeros_like(x)
    for oy in range(dy.shape[0]):
        for ox in range(dy.shape[1]):
            i, j = divmod(winners[oy, ox], k)
            dx[oy + i, ox + j] += dy[oy, ox]                       # the bug: no "* s"
    return dx


digit = digits[7, 0]
y_digit, _ = pool2d_naive(digit)
dy_digit = y_digit                                                 # dL/dy for L = ½ Σ y²
fig, axes = plt.subplots(1, 5, figsize=(14, 3.1))
panels = [(x_ex, pool2d_backward_naive(dy_ex, x_ex), maxpool_backward_ignoring_stride(dy_ex, x_ex)),
          (digit, pool2d_backward_naive(dy_digit, digit), maxpool_backward_ignoring_stride(dy_digit, digit))]
show_matrix(axes[0], panels[0][1], "worked example: correct dx", signed=True, stride=2)
show_matrix(axes[1], panels[0][2], "stride ignored", signed=True, stride=2)
axes[2].imshow(digit, cmap=IMAGE_CMAP)
axes[2].set_title("a digit", fontsize=10)
lim = np.abs(panels[1][1]).max()                                   # one symmetric scale for both gradients
axes[3].imshow(panels[1][1], cmap=SIGNED_CMAP, vmin=-lim, vmax=lim)
axes[3].set_title("correct dx (dy = y)", fontsize=10)
axes[4].imshow(panels[1][2], cmap=SIGNED_CMAP, vmin=-lim, vmax=lim)
axes[4].set_title("stride ignored: top-left only", fontsize=10)
for ax in axes[2:]:
    ax.set_xlabel("column")
    ax.set_ylabel("row")
plt.tight_layout()
plt.show()

h, k = digit.shape[0], 2
reach = y_digit.shape[0] + k - 1                                   # H_o + k - 1 rows and columns
rows, cols = np.nonzero(panels[1][2])
print(f"stride ignored: gradients land in rows 0–{rows.max()}, columns 0–{cols.max()}; "
      f"{1 - reach ** 2 / h ** 2:.0%} of the {h}×{h} map lies outside the top-left {reach}×{reach} and gets none")
assert rows.max() < reach and cols.max() < reach and reach == 15

# %% [markdown]
# **How the checks catch it** — and how they could miss it. The numerical gradient check flags the bug at
# once with stride 2. With stride 1 the buggy code *is* correct ($o_y \cdot 1 = o_y$), whatever the pool size;
# with any other stride it is wrong as soon as there is more than one window — even for pool size 1, where
# each window is a single pixel but window $(o_y, o_x)$ still sits at $(o_y s, o_x s)$. Only stride 1 passes, so a test suite that only ever tried
# stride 1 would miss the bug. That is why vgglib's tests run every layer over several strides, overlapping
# windows included. The cell runs the buggy code for pool sizes 1, 2, 3 and strides 1, 2, 3:

# %%
rng = np.random.default_rng(2)
for k in (1, 2, 3):
    for s in (1, 2, 3):
        x = rng.standard_normal((8, 8))
        y, _ = pool2d_naive(x, k, s)
        r = rng.standard_normal(y.shape)
        numeric = numerical_gradient(lambda: float(np.sum(pool2d_naive(x, k, s)[0] * r)), x)
        right = np.abs(pool2d_backward_naive(r, x, k, s) - numeric).max()
        buggy = np.abs(maxpool_backward_ignoring_stride(r, x, k, s) - numeric).max()
        verdict = "passes" if buggy < 1e-8 else "FAILS"
        print(f"k={k}, s={s}: max |error| correct {below(right, 1e-8)},  stride-ignoring {buggy:.2f}  {verdict}")
        assert (buggy < 1e-8) == (s == 1)

# %% [markdown]
# ## Summary
#
# | | forward (per window) | backward | note |
# |---|---|---|---|
# | max pool | $y = \max_p x_p$ | $dx[p^*] \mathrel{+}= dy$, winner $p^*$ from the forward pass | first maximum on ties |
# | min pool | $y = \min_p x_p$ | $dx[p^*] \mathrel{+}= dy$ for the minimum | |
# | avg pool | $y = \frac1{k^2}\sum_p x_p$ | $dx[p] \mathrel{+}= dy / k^2$ for every $p$ in the window | |
# | window $(o_y, o_x)$ | starts at $(o_y s,\ o_x s)$ | the same positions in backward! | the seed's bug |
# | shapes | $(N,C,H,W) \to (N,C,H_o,W_o)$ | $H_o = \lfloor (H-k)/s \rfloor + 1$ | no parameters |
#
# **Remember:** route with the stride, accumulate with `+=`, and check gradients on inputs without ties and
# with more than one stride.
#
# Next: **05 · Flatten and fully connected layers** — what happens to the last 512 pooled maps.

# %% [markdown]
# ## Exercises
#
# Each exercise ends with a self-check that says whether your answer is right and, if not, gives a hint —
# never the answer. Worked solutions are in `solutions/04_pooling_solutions.ipynb`.
#
# **Exercise 1 (easy).** By hand: min pooling and average pooling (2×2, stride 2) of the worked example
# `x_ex`. Give both as a dict.

# %% tags=["exercise-1"]
answer = {"min": None, "avg": None}   # two 2×2 nested lists or arrays
check_pool_by_hand(answer)

# %% [markdown]
# **Exercise 2 (medium).** By hand: max pooling of `x_ex` with **pool size 3 and stride 1** (overlapping
# windows) gives a 2×2 output. With $dy = \begin{bmatrix}1&2\\3&4\end{bmatrix}$, what is $dx$ (4×4)?

# %% tags=["exercise-2"]
answer = None   # a 4×4 nested list or array
check_maxpool_dx_by_hand(answer)

# %% [markdown]
# **Exercise 3 (medium).** A three-way tie. Max pooling (2×2, stride 2) of the single window
# $x = \begin{bmatrix}1&4\\4&4\end{bmatrix}$ gives $y = 4$; take $dy = 1$. Give two 2×2 answers: `"layer"`,
# the $dx$ that vgglib's backward pass returns, and `"numerical"`, what `numerical_gradient` (the central
# difference, one entry nudged at a time) returns for $\partial y / \partial x$. Work both out on paper first;
# then you may confirm them with `Maxpooling2D` and `numerical_gradient`.

# %% tags=["exercise-3"]
answer = {"layer": None, "numerical": None}   # your answer: two 2×2 nested lists or arrays
check_three_way_tie(answer)


# %% [markdown]
# **Exercise 4 (harder).** Write `maxpool_backward(dy, x, pool_size, stride)` for batches and channels,
# $(N, C, H_o, W_o) \to (N, C, H, W)$, correct for every stride (overlapping windows included), with no Python
# loops over the batch or the channels. Loops over the output positions are allowed; a fully vectorised
# version (loops over the $k\times k$ offsets only) is a bonus.

# %% tags=["exercise-4"]
def maxpool_backward(dy, x, pool_size, stride):
    raise NotImplementedError   # your code here


check_maxpool_backward(maxpool_backward)
