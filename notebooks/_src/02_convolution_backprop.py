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
# # 02 · Convolution backprop: three gradients, each a convolution
#
# A network learns by nudging every weight against the gradient of the loss. For a convolution layer that
# means three gradients: $\partial L/\partial b$ and $\partial L/\partial W$ to update the layer, and
# $\partial L/\partial x$ to hand back to the layer below, which needs it for *its* update. VGG16 chains
# thirteen convolutions, so the backward pass runs through this layer thirteen times per step.
#
# The seed project derived these gradients — $db = \sum dy$, $dW = x \star dy$, $dx = \text{pad}(dy) \star
# \text{rot180}(W)$ — and that is the right answer for stride 1 and no padding. But its code produced
# gradients of the **wrong shapes**, which is how backprop bugs usually show themselves. Here we derive all
# three, one index at a time, extend them to stride and padding (where the short formulas need two more
# ingredients: *dilation* and *cropping*), and check every line against numerical derivatives.
#
# **Learning goals** — after this notebook you can
#
# - apply the chain rule to the convolution formula and derive $\partial L/\partial b$,
#   $\partial L/\partial W$ and $\partial L/\partial x$, stating every shape;
# - recognise each gradient as a convolution: $dW = x \star dy$, $dx = \text{pad}(dy) \star \text{rot180}(W)$;
# - handle stride (dilate $dy$) and padding (crop $dx$);
# - verify a backward pass with numerical gradients, and use shape checks to catch the classic bugs;
# - train a kernel: recover a known edge filter from input/output pairs by gradient descent with $dW$.

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle
from numpy.lib.stride_tricks import sliding_window_view

import vgglib
from vgglib import Convolution2D, ReLU, check_layer, numerical_gradient, reference, relative_error
from vgglib.gradcheck import below
from vgglib.mnist import load_mnist
from vgglib.preprocess import to_float
from vgglib.exercises import check_backward_shapes, check_conv_backward, check_dilate, check_dx_by_hand, reveal
from vgglib.viz import IMAGE_CMAP, SIGNED_CMAP

np.set_printoptions(precision=4, suppress=True)
print("vgglib", vgglib.__version__)


def corr(x, w):
    '''Valid 2-D cross-correlation x ⋆ w of any sizes (vectorised): y[a, b] = sum_ij w[i, j] x[a + i, b + j].'''
    return np.einsum("abij,ij->ab", sliding_window_view(x, w.shape), w)


# %% [markdown]
# ## 1 · What the backward pass receives and returns
#
# The layer computed $y$ from $x$, $W$ and $b$; everything after it computed the loss $L$ from $y$. The
# backward pass of the next layer hands us $dy = \partial L/\partial y$, an array **of $y$'s shape**: entry
# $dy[o]$ says how much $L$ would change per unit change of output $y[o]$. We must return
# $dx = \partial L/\partial x$ (shape of $x$) and store $dW$ (shape of $W$) and $db$ (shape of $b$).
#
# Every parameter $\theta$ influences $L$ only through the outputs $y[o]$ it took part in, so the chain
# rule reads
#
# $$
# \frac{\partial L}{\partial \theta} \;=\; \sum_{o} \frac{\partial L}{\partial y[o]}\,
# \frac{\partial y[o]}{\partial \theta} \;=\; \sum_o dy[o]\, \frac{\partial y[o]}{\partial \theta} .
# $$
#
# And since every $y[o]$ is a sum of products, $\partial y[o]/\partial\theta$ is simply *the factor that
# $\theta$ was multiplied by* in that sum (or 0 if $\theta$ is not in it). That one observation gives all
# three gradients.
#
# We start with one channel, one filter, stride 1, no padding:
# $x$ is $(H, W)$, the kernel $w$ is $(k, k)$, the bias $b$ a number, and
# $y[o_y, o_x] = b + \sum_{i,j} w[i,j]\,x[o_y+i,\, o_x+j]$ is $(H_o, W_o) = (H-k+1,\ W-k+1)$.
# (We write the kernel as $w$ in the single-channel case, to keep $W$ free for the width.)

# %% [markdown]
# ## 2 · The bias: $\partial L/\partial b = \sum dy$
#
# The bias is added, with factor 1, to every output:
#
# $$
# \frac{\partial L}{\partial b} = \sum_{o_y, o_x} dy[o_y, o_x]\cdot \frac{\partial y[o_y,o_x]}{\partial b}
# = \sum_{o_y, o_x} dy[o_y, o_x]\cdot 1 = \sum dy .
# $$
#
# With a batch and $F$ filters, $b[f]$ is added to every position of output channel $f$ of every image:
# $db[f] = \sum_{n, o_y, o_x} dy[n, f, o_y, o_x]$ — shape $(F,)$, like $b$.
#
# ## 3 · The weights: $\partial L/\partial w = x \star dy$
#
# Weight $w[i,j]$ multiplies $x[o_y+i, o_x+j]$ in output $y[o_y,o_x]$, for *every* output position:
#
# $$
# \frac{\partial L}{\partial w[i,j]} = \sum_{o_y,o_x} dy[o_y,o_x]\; x[o_y+i,\ o_x+j] = (x \star dy)[i,j] .
# $$
#
# Compare with the forward formula $y[o_y,o_x] = \sum_{i,j} w[i,j]\,x[o_y+i, o_x+j]$: it is the same
# correlation, with $x$ as the image and **$dy$ as the kernel**. Sizes agree: correlating an $H$-wide input
# with an $H_o$-wide kernel gives $H - H_o + 1 = k$ values — the shape of $w$.
#
# ## 4 · The input: $\partial L/\partial x = \text{pad}(dy) \star \text{rot180}(w)$
#
# Pixel $x[a, b]$ sits in every window that covers it; in window $(o_y, o_x)$ it is multiplied by
# $w[a-o_y,\ b-o_x]$ (when $0 \le a-o_y < k$ and $0 \le b - o_x < k$). So
#
# $$
# \frac{\partial L}{\partial x[a,b]} = \sum_{o_y, o_x} dy[o_y,o_x]\; w[a-o_y,\ b-o_x]
# = \sum_{i,j} dy[a-i,\ b-j]\; w[i,j] ,
# $$
#
# where we substituted $i = a - o_y$, $j = b - o_x$, and $dy$ outside its range counts as 0. The minus
# signs make this a *true* convolution. To write it as a correlation, substitute $i' = k-1-i$, $j' = k-1-j$
# and pad $dy$ with $k-1$ zeros on every side, $\text{pad}(dy)[u, v] = dy[u-(k-1),\ v-(k-1)]$:
#
# $$
# \frac{\partial L}{\partial x[a,b]} = \sum_{i',j'} \text{pad}(dy)[a+i',\ b+j']\;
# \underbrace{w[k-1-i',\ k-1-j']}_{\text{rot180}(w)[i',j']}
# = \big(\text{pad}_{k-1}(dy) \star \text{rot180}(w)\big)[a,b] .
# $$
#
# Sizes: the padded $dy$ is $H_o + 2(k-1)$ wide, so the result is $H_o + 2(k-1) - k + 1 = H_o + k - 1 = H$
# wide — the shape of $x$. This is the "full" correlation, and the only place the 180° flip of the kernel
# appears.
#
# Each formula is one line of numpy. We check them against numerical derivatives of
# $L = \sum y \odot dy$, a loss whose gradient with respect to $y$ is exactly the $dy$ we chose:

# %%
rng = np.random.default_rng(0)
x = rng.standard_normal((6, 7))
w = rng.standard_normal((3, 3))
b = np.array(0.5)
k = w.shape[0]
dy = rng.standard_normal((6 - k + 1, 7 - k + 1))            # the upstream gradient, shape of y


def loss():
    return float(np.sum((corr(x, w) + b) * dy))              # dL/dy = dy by construction


db = dy.sum()
dw = corr(x, dy)
dx = corr(np.pad(dy, k - 1), w[::-1, ::-1])
print("shapes:  x", x.shape, " y", dy.shape, " dx", dx.shape, " dw", dw.shape)

for name, analytic, param in [("db", db, b), ("dw", dw, w), ("dx", dx, x)]:
    err = relative_error(analytic, numerical_gradient(loss, param))
    print(f"{name}: relative error to the numerical gradient {below(err, 1e-8)}")
for name, wrong, param in [("dw transposed", dw.T, w), ("dx without the rotation", corr(np.pad(dy, k - 1), w), x)]:
    err = relative_error(wrong, numerical_gradient(loss, param))
    print(f"a classic mistake, {name}: relative error {err:.2f}")
    assert err > 0.1


# %% [markdown]
# (`numerical_gradient(f, p)` from `vgglib.gradcheck` nudges each entry of `p` by $\pm\varepsilon$ and
# measures $(f(p+\varepsilon) - f(p-\varepsilon))/2\varepsilon$; in float64 a correct gradient agrees to
# better than $10^{-8}$, the bound the cell checks, while a wrong one — a transposed $dw$, a kernel not
# rotated — is off by order 1.)
#
# **Picture it.** Set $dy$ to a single 1 at output $(1, 2)$ and zeros elsewhere. Then $dx$ is the kernel
# *stamped* onto the window that output read, and $dw$ is that window of $x$ — each side of the product
# receives the other factor. With $dy$ all ones, every output stamps its kernel, and the stamps add up: the
# pixels in the middle, covered by more windows, collect more gradient than the corners.

# %%
def draw(ax, m, title, box=None, lim=None):
    '''A small signed matrix with its numbers written in, on the red-blue scale symmetric around 0.'''
    lim = max(np.abs(m).max(), 1e-12) if lim is None else lim
    ax.imshow(m, cmap=SIGNED_CMAP, vmin=-lim, vmax=lim)
    for (i, j), v in np.ndenumerate(m):
        ax.text(j, i, f"{v:.2g}" if v else "0", ha="center", va="center", fontsize=8,
                color="white" if abs(v) > 0.6 * lim else "black")
    if box is not None:
        r, c, size = box
        ax.add_patch(Rectangle((c - 0.5, r - 0.5), size, size, fill=False, edgecolor="black", linewidth=2.5))
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])


w_demo = np.arange(1, 10, dtype=float).reshape(3, 3)        # 1..9: easy to see where each weight lands
x_demo = np.arange(30, dtype=float).reshape(5, 6) / 10
one_hot = np.zeros((3, 4))
one_hot[1, 2] = 1.0
ones = np.ones((3, 4))

fig, axes = plt.subplots(1, 5, figsize=(16, 3.2), gridspec_kw={"width_ratios": [4, 3, 6, 3, 6]})
draw(axes[0], one_hot, "dy: one output (1, 2)", box=(1, 2, 1))
draw(axes[1], w_demo, "kernel w")
draw(axes[2], corr(np.pad(one_hot, 2), w_demo[::-1, ::-1]), "dx = w stamped on its window", box=(1, 2, 3))
draw(axes[3], corr(x_demo, one_hot), "dw = the window of x")
draw(axes[4], corr(np.pad(ones, 2), np.ones((3, 3))[::-1, ::-1]), "dx for dy = 1, w = 1:\nwindows per pixel")
plt.tight_layout()
plt.show()


# %% [markdown]
# ## 5 · Batches, channels and filters
#
# With $x$ of shape $(N, C, H, W)$, weights $(F, C, k, k)$ and $y$ of shape $(N, F, H_o, W_o)$, the same
# reasoning — "each factor receives $dy$ times the other factor, summed over every place the product
# occurs" — gives
#
# $$
# \begin{aligned}
# db[f] &= \sum_{n,\,o_y,\,o_x} dy[n,f,o_y,o_x] &&(F,)\\
# dW[f,c,i,j] &= \sum_{n,\,o_y,\,o_x} dy[n,f,o_y,o_x]\; x[n,c,\,o_y+i,\,o_x+j] &&(F, C, k, k)\\
# dx[n,c] &= \sum_{f} \text{pad}_{k-1}(dy[n,f]) \star \text{rot180}(W[f,c]) &&(N, C, H, W)
# \end{aligned}
# $$
#
# $dW$ sums over the batch (every image used the same weights); $dx$ sums over the filters (every filter
# read the same input pixels).
#
# **Stride and padding, the direct way.** The forward pass read $x_{\text{pad}}[n, c, o_y s + i, o_x s + j]$.
# For a fixed kernel offset $(i, j)$, those pixels form one strided slice of the padded input,
# `xp[:, :, i:i + s*Ho:s, j:j + s*Wo:s]`, of shape $(N, C, H_o, W_o)$. Weight $W[:, :, i, j]$ multiplied
# exactly that slice, so its gradient is $dy$ times the slice, summed; and the slice's pixels receive
# $dy$ times $W[:, :, i, j]$, *added* into $dx_{\text{pad}}$ (overlapping windows accumulate). Finally the
# padding is cut off: the zeros were not inputs, so their gradient is simply dropped. Nine offsets, nine
# loop iterations:

# %%
def conv_backward(dy, x, w, stride=1, padding=0):
    '''dy (N, F, Ho, Wo), x (N, C, H, W), w (F, C, k, k) -> dx (N, C, H, W), dw (F, C, k, k), db (F,).'''
    (n, c, h, wd), (f, _, k, _), (ho, wo) = x.shape, w.shape, dy.shape[2:]
    p, s = padding, stride
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for i in range(k):
        for j in range(k):
            window = (slice(None), slice(None), slice(i, i + s * ho, s), slice(j, j + s * wo, s))
            dw[:, :, i, j] = np.einsum("nfhw,nchw->fc", dy, xp[window])     # dy × what W[:, :, i, j] multiplied
            dxp[window] += np.einsum("nfhw,fc->nchw", dy, w[:, :, i, j])    # stamp W back, accumulating
    db = dy.sum(axis=(0, 2, 3))
    return dxp[:, :, p:p + h, p:p + wd], dw, db                               # crop the padding away


# %% [markdown]
# Three independent checks, over strides 1–3 and paddings 0–2: against the naive chain-rule loops of
# `vgglib.reference` (one multiply per line of the formula), against vgglib's `Convolution2D.backward`
# (it uses `col2im`, the scatter-add of notebook 01's im2col — the same stamping; the fast layer of
# notebook 14 computes $dx$ for stride 1 as the correlation of section 4 instead), and against numerical gradients
# (`check_layer` does the numerical side for a layer):

# %%
rng = np.random.default_rng(1)
print("stride  pad   vs loops (max diff)   vs vgglib (max diff)   numerical (worst of dx, dW, db)")
for (n, c, h, wd), (f, k), s, p in [((2, 3, 6, 6), (4, 3), 1, 0), ((2, 3, 6, 6), (4, 3), 1, 1),
                                    ((2, 2, 7, 7), (3, 3), 2, 0), ((1, 3, 8, 7), (2, 3), 2, 1),
                                    ((2, 2, 9, 8), (2, 2), 3, 0), ((1, 2, 7, 8), (3, 5), 2, 2)]:
    layer = Convolution2D(c, f, k, padding=p, stride=s, rng=rng).astype(np.float64)
    x = rng.standard_normal((n, c, h, wd))
    y = layer.forward(x)
    dy = rng.standard_normal(y.shape)
    ours = conv_backward(dy, x, layer.params["weights"], s, p)
    loops = reference.conv2d_backward_naive(dy, x, layer.params["weights"], s, p)
    lib = (layer.backward(dy), layer.grads["weights"], layer.grads["bias"])
    e_loops = max(np.abs(a - r).max() for a, r in zip(ours, loops))
    e_lib = max(np.abs(a - r).max() for a, r in zip(ours, lib))
    num = check_layer(layer, x)
    print(f"{s:>6} {p:>4}   {below(e_loops, 1e-12):>18}   {below(e_lib, 1e-12):>20}   "
          f"{below(max(num.values()), 1e-7)}")

# %% [markdown]
# ## 6 · Stride > 1 as a convolution: dilate $dy$
#
# The loop above handles stride directly. The short formulas of sections 3 and 4 need one more idea. In one
# dimension, with stride $s$: $y[o] = \sum_i w[i]\,x[o s + i]$, so
#
# $$
# \frac{\partial L}{\partial w[i]} = \sum_o dy[o]\; x[o s + i],\qquad
# \frac{\partial L}{\partial x[a]} = \sum_o dy[o]\; w[a - o s] .
# $$
#
# Define the **dilated** gradient $\tilde{dy}$ by inserting $s-1$ zeros between neighbouring entries:
# $\tilde{dy}[u] = dy[u/s]$ when $s$ divides $u$, else 0, for $u = 0, \dots, (H_o - 1)s$. Then $u = os$ turns
# both sums back into stride-1 ones:
#
# $$
# \frac{\partial L}{\partial w[i]} = \sum_u \tilde{dy}[u]\; x[u + i] = (x \star \tilde{dy})[i],\qquad
# \frac{\partial L}{\partial x} = \text{pad}_{k-1}(\tilde{dy}) \star \text{rot180}(w) .
# $$
#
# Two details about sizes. $x \star \tilde{dy}$ has $H - (H_o-1)s$ entries, which can be *more* than $k$ when
# the stride does not divide $H - k$: keep the first $k$ (the extra ones belong to pixels no window used).
# And $\text{pad}(\tilde{dy}) \star \text{rot180}(w)$ has $(H_o-1)s + k$ entries, possibly *fewer* than $H$:
# the missing last rows are pixels no window read, and their gradient is 0.
#
# In 2-D the zeros go between rows and between columns:

# %%
dy_small = np.array([[1.0, 2.0], [3.0, 4.0]])
s = 2
dilated = np.zeros(((2 - 1) * s + 1, (2 - 1) * s + 1))
dilated[::s, ::s] = dy_small
print(dilated)


# %% [markdown]
# **Predict, then run.** A 3×3 convolution with stride 2 and no padding reads an 8×8 input. Whatever $dy$
# is, some input pixels always get a gradient of exactly 0. How many of the 64?

# %%
guess = None   # your prediction: a whole number of pixels, 0 to 64

# %%
rng = np.random.default_rng(5)
x8, w3 = rng.standard_normal((1, 1, 8, 8)), rng.standard_normal((1, 1, 3, 3))
ho = (8 - 3) // 2 + 1                                          # 3 windows per row and per column
dx8 = conv_backward(rng.standard_normal((1, 1, ho, ho)), x8, w3, stride=2, padding=0)[0]
zero = dx8[0, 0] == 0
reveal(guess, int(zero.sum()), what="the backward pass")
print(f"windows start at rows and columns {list(range(0, 2 * ho, 2))} and cover 0..{2 * (ho - 1) + 2}; "
      f"rows never read: {np.flatnonzero(zero.all(axis=1)).tolist()}, columns: {np.flatnonzero(zero.all(axis=0)).tolist()}")

# %% [markdown]
# Now the whole single-channel case with stride and padding, written purely as correlations — dilate, pad,
# correlate, trim or fill up, crop — checked against `conv_backward` of section 5. The input is 8×8, so
# with stride 2 or 3 some of its last rows are never read and must get a zero gradient:

# %%
def backward_as_correlations(dy, x, w, s, p):
    '''Single channel: the formulas of sections 3, 4 and 6, with stride s and padding p.'''
    k, (h, wd) = w.shape[0], x.shape
    xp = np.pad(x, p)
    d = np.zeros(((dy.shape[0] - 1) * s + 1, (dy.shape[1] - 1) * s + 1))
    d[::s, ::s] = dy                                            # dilate
    dw = corr(xp, d)[:k, :k]                                    # x ⋆ dilated dy, first k×k
    dxp = np.zeros_like(xp)
    full = corr(np.pad(d, k - 1), w[::-1, ::-1])                # pad(dilated dy) ⋆ rot180(w)
    dxp[:full.shape[0], :full.shape[1]] = full                  # rows no window read stay 0
    return dxp[p:p + h, p:p + wd], dw, dy.sum()                 # crop the padding


rng = np.random.default_rng(2)
x, w = rng.standard_normal((8, 8)), rng.standard_normal((3, 3))
for s, p in [(1, 0), (2, 0), (2, 1), (3, 1), (3, 2)]:
    ho = (8 + 2 * p - 3) // s + 1
    dy = rng.standard_normal((ho, ho))
    a = backward_as_correlations(dy, x, w, s, p)
    r = conv_backward(dy[None, None], x[None, None], w[None, None], s, p)
    err = max(np.abs(a[0] - r[0][0, 0]).max(), np.abs(a[1] - r[1][0, 0]).max(), abs(a[2] - r[2][0]))
    print(f"stride {s}, padding {p}: y {ho}×{ho}, max difference {below(err, 1e-12)}")

# %% [markdown]
# ## 7 · Padding: crop
#
# Padding needs no new formula. The forward pass is an ordinary convolution of the padded input
# $x_{\text{pad}}$, so the gradient formulas give $\partial L/\partial x_{\text{pad}}$, of the padded shape
# $(H+2p) \times (W+2p)$. The padding zeros are constants, not inputs: their gradient is thrown away, and
# $dx = dx_{\text{pad}}[p:p+H,\ p:p+W]$. Forgetting this crop is the bug of the box below.

# %% [markdown]
# ## 8 · On real data: the gradient with respect to a digit
#
# $dx$ is an image, with the shape of the input. On the first layer of a network it tells us how the loss
# would change if we changed each *pixel* — the starting point of saliency maps and adversarial examples.
# Take a vertical-edge filter on a real digit and the loss $L = \tfrac12\sum y^2$, the total "edge energy"
# ($dy = y$). The gradient is positive (red) inside the vertical strokes and negative (blue) on both sides
# of them: brighter strokes on a darker surround would make the edges stronger. The horizontal bar, which
# this filter does not see, gets almost no gradient.

# %%
images, labels = load_mnist("test")
digit = to_float(images[4]).astype(np.float64)[None, None]          # (1, 1, 28, 28)
edge = Convolution2D(1, 1, 3, padding=1).astype(np.float64)
edge.params["weights"][0, 0] = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]

y = edge.forward(digit)
dx = edge.backward(y)                                                 # dL/dy = y for L = ½ Σ y²


def energy():
    return 0.5 * float(np.sum(edge.forward(digit) ** 2))


err = relative_error(dx, numerical_gradient(energy, digit))
print(f"L = {energy():.2f};  dx {dx.shape}, relative error to the numerical gradient {below(err, 1e-8)}")

fig, axes = plt.subplots(1, 3, figsize=(9, 3.2))
axes[0].imshow(digit[0, 0], cmap=IMAGE_CMAP)
axes[0].set_title("input x")
for ax, m, title in [(axes[1], y[0, 0], "y: vertical edges"), (axes[2], dx[0, 0], "dL/dx for L = ½Σy²")]:
    lim = np.abs(m).max()
    ax.imshow(m, cmap=SIGNED_CMAP, vmin=-lim, vmax=lim)
    ax.set_title(title)
for ax in axes:
    ax.axis("off")
plt.tight_layout()
plt.show()


# %% [markdown]
# ## 9 · Learn a kernel: the first thing the series trains
#
# $dW = x \star dy$ is all it takes to **learn** a filter from examples. Take 16 digits $x_n$ and, as targets,
# their vertical-edge maps $t_n = x_n \star w_{\text{true}}$, made with the Sobel kernel of section 8. Now
# pretend $w_{\text{true}}$ is unknown: start from $w = 0$ and minimise the mean squared error over all
# $M$ output values,
#
# $$ L(w) = \frac{1}{2M} \sum_n \sum_{a,b} \big( (x_n \star w)[a,b] - t_n[a,b] \big)^2 , $$
#
# by gradient descent (notebook 00). The upstream gradient is $dy_n = \partial L/\partial y_n =
# (x_n \star w - t_n)/M$, the weight gradient is section 3's formula summed over the batch,
# $dW = \sum_n x_n \star dy_n$, and each step is $w \leftarrow w - \eta\, dW$. All 16 images' windows are
# cut once (`sliding_window_view`); `np.einsum` then computes $x_n \star w$ and $\sum_n x_n \star dy_n$ for
# the whole batch. On the first step we check that gradient against the formula written with `corr` and
# against vgglib's `Convolution2D.backward`:

# %%
x_train = to_float(images[:16]).astype(np.float64)                   # 16 digits, (16, 28, 28)
w_true = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float64)
windows = sliding_window_view(x_train, (3, 3), axis=(1, 2))          # (16, 26, 26, 3, 3): x_n[a:a+3, b:b+3]
targets = np.einsum("nabij,ij->nab", windows, w_true)                 # t_n = x_n ⋆ w_true, (16, 26, 26)
M = targets.size


def learn_kernel(lr, steps, keep=()):
    '''Gradient descent on the 9 weights from w = 0; returns the loss at every step, the kernel, snapshots.'''
    w = np.zeros((3, 3))
    losses, kept = [], {}
    for step in range(steps + 1):
        if step in keep:
            kept[step] = w.copy()
        y = np.einsum("nabij,ij->nab", windows, w)                    # forward: y_n = x_n ⋆ w
        losses.append(0.5 * np.sum((y - targets) ** 2) / M)
        dy = (y - targets) / M                                        # dL/dy_n
        dw = np.einsum("nabij,nab->ij", windows, dy)                  # dW = Σ_n x_n ⋆ dy_n
        if step == 0:                                                 # the formula, literally; and vgglib
            assert np.allclose(dw, sum(corr(x_train[n], dy[n]) for n in range(len(x_train))), atol=1e-15)
            layer = Convolution2D(1, 1, 3).astype(np.float64)
            layer.params["weights"][0, 0] = w
            layer.forward(x_train[:, None])
            layer.backward(dy[:, None])
            assert np.allclose(layer.grads["weights"][0, 0], dw, atol=1e-15)
        if step < steps:
            w -= lr * dw                                              # w <- w - lr · dW
    return np.array(losses), w, kept


losses, w_learnt, kept = learn_kernel(lr=2.0, steps=600, keep=(10, 100))
error = np.abs(w_learnt - w_true).max()
print(f"loss: {losses[0]:.3f} at the start, {losses[100]:.1e} after 100 steps, {losses[-1]:.1e} after 600")
print("learnt kernel (rounded):\n", np.round(w_learnt, 3) + 0.0)
print(f"max |learnt − true| = {error:.1e}")
assert error < 1e-3 and losses[100] < losses[0] / 1000

too_big, _, _ = learn_kernel(lr=3.0, steps=100)
print(f"with lr = 3 instead: loss {too_big[0]:.2f} at the start, {too_big[-1]:.2g} after 100 steps")
assert too_big[-1] > too_big[0]

fig = plt.figure(figsize=(15, 3.4))
grid = fig.add_gridspec(1, 5, width_ratios=[2.2, 1, 1, 1, 1])
ax = fig.add_subplot(grid[0])
ax.semilogy(losses)
ax.set_xlabel("gradient-descent step")
ax.set_ylabel("loss L (mean squared error)")
ax.set_title("learning a 3×3 kernel, lr = 2")
for col, (kernel, title) in enumerate([(kept[10], "w after 10 steps"), (kept[100], "w after 100 steps"),
                                       (w_learnt, "w after 600 steps"), (w_true, "w_true (Sobel)")], start=1):
    draw(fig.add_subplot(grid[col]), kernel, title, lim=2)
plt.tight_layout()
plt.show()

# %% [markdown]
# The loss falls by more than a factor of 1000 in the first 100 steps, then steadily but more slowly. After
# 10 steps the kernel already has the right pattern of signs, but the three weights of each column are still
# nearly equal, where the Sobel kernel has 1, 2, 1. Neighbouring pixels of a digit are almost equal, so
# moving weight between neighbours along a column hardly changes the output, hence hardly changes the loss,
# and gradient descent creeps in that direction — the problem momentum and Adam address in notebook 11. Too
# large a step overshoots and the loss explodes, as $\eta = 3$ shows. Training VGG16 is this loop for
# thirteen convolution layers at once, with the classification loss in place of a known target.

# %% [markdown]
# ## 🐞 Spot the bug: gradients of the wrong shape
#
# > The seed's convolution backward produced gradients whose shapes did not match what they were the
# > gradients of. Here is a compact reconstruction of that kind of code (not the seed's literal lines):
# >
# > ```python
# > def backward(self, dy):
# >     xp = np.pad(self.x, ((0, 0), (0, 0), (p, p), (p, p)))
# >     dx = np.zeros_like(xp)                     # gradient w.r.t. the PADDED input
# >     ...                                        # correct loops, filling dx, dw, db
# >     db = dy.sum(axis=(0, 2, 3)).reshape(-1, 1) # a column (F, 1)
# >     return dx                                  # (N, C, H+2p, W+2p)
# > ```
# >
# > The numbers inside are right. What goes wrong?
#
# `dx` still includes the padding ring: for a 28×28 input with padding 1 it is 30×30. The layer below (a ReLU
# or a pool) receives a gradient that does not match its output. Depending on the shapes, numpy either
# raises an error far away from the cause, or — worse — broadcasts silently. And `db` of shape $(F, 1)$
# turns the bias $b$ of shape $(F,)$ into an $(F, F)$ matrix at the first update `b = b - lr * db`.

# %%
def seed_style_backward(dy, x, w, stride, padding):
    dx, dw, db = conv_backward(dy, x, w, stride, padding)
    dxp = np.pad(dx, ((0, 0), (0, 0), (padding, padding), (padding, padding)))   # the crop "forgotten"
    return dxp, dw, db.reshape(-1, 1)


rng = np.random.default_rng(3)
relu, conv = ReLU(), Convolution2D(1, 4, 3, padding=1, rng=rng).astype(np.float64)
x = rng.standard_normal((2, 1, 28, 28))
a = relu.forward(x)                        # ReLU -> conv, as inside VGG16
y = conv.forward(a)
dy = rng.standard_normal(y.shape)
dx_bad, dw_bad, db_bad = seed_style_backward(dy, a, conv.params["weights"], 1, 1)
print("x", a.shape, "-> dx", dx_bad.shape, "|  b", conv.params["bias"].shape, "-> db", db_bad.shape)
print("b - lr * db has shape", (conv.params["bias"] - 0.01 * db_bad).shape)
try:
    relu.backward(dx_bad)
except ValueError as e:
    print("ValueError:", e)

# %% [markdown]
# **How the checks catch it.** vgglib's layers verify at every `backward` that `dy` has the shape of their
# output (the error above, raised at the layer that received it, naming both shapes), and the layer contract
# — tested for every layer — requires `grads[key].shape == params[key].shape`. One line of defence you can
# add to any backward pass of your own:

# %%
dx, dw, db = conv_backward(dy, a, conv.params["weights"], 1, 1)
assert dx.shape == a.shape and dw.shape == conv.params["weights"].shape and db.shape == conv.params["bias"].shape
print("dx", dx.shape, " dW", dw.shape, " db", db.shape, "— each the shape of what it differentiates")

# %% [markdown]
# ## Summary
#
# | gradient | formula (single channel, stride 1) | general | shape |
# |---|---|---|---|
# | $\partial L/\partial b$ | $\sum dy$ | $db[f] = \sum_{n,o_y,o_x} dy[n,f,o_y,o_x]$ | $(F,)$ |
# | $\partial L/\partial W$ | $x \star dy$ | $x_{\text{pad}} \star \text{dilate}_s(dy)$, first $k\times k$, summed over $n$ | $(F, C, k, k)$ |
# | $\partial L/\partial x$ | $\text{pad}_{k-1}(dy) \star \text{rot180}(W)$ | same with $\text{dilate}_s(dy)$, summed over $f$, then crop $p$ | $(N, C, H, W)$ |
# | stride $s$ | — | insert $s-1$ zeros between entries of $dy$ | $(H_o-1)s+1$ |
# | padding $p$ | — | compute $dx_{\text{pad}}$, drop the ring of width $p$ | |
# | learning $W$ | $W \leftarrow W - \eta\, dW$ | $dW = \sum_n x_n \star dy_n$ for the batch | $(F, C, k, k)$ |
#
# **Remember:** each factor of a product receives $dy$ times the *other* factor, summed over every place the
# product occurs; every gradient has the shape of what it differentiates; and a numerical gradient check
# is the proof.
#
# Next: **03 · ReLU and initialisation** — the non-linearity between the convolutions, and how to choose the
# random starting weights so that signals survive thirteen layers.

# %% [markdown]
# ## Exercises
#
# Each exercise ends with a self-check that says whether your answer is right and, if not, gives a hint —
# never the answer. Worked solutions are in `solutions/02_convolution_backprop_solutions.ipynb`.
#
# **Exercise 1 (easy).** A convolution layer with 16 filters of 3×3, stride 2 and padding 1 receives a batch
# $x$ of shape $(8, 3, 32, 32)$. Give the shapes of `dy`, `dx`, `dW` and `db` as a dict of tuples.

# %% tags=["exercise-1"]
answer = None   # e.g. {"dy": (...), "dx": (...), "dW": (...), "db": (...)}
check_backward_shapes(answer)

# %% [markdown]
# **Exercise 2 (easy).** By hand: a 5×5 input, stride 1, no padding, kernel
# $w = \begin{bmatrix}1&2&0\\0&1&0\\3&0&1\end{bmatrix}$ and the upstream gradient
# $dy = \begin{bmatrix}1&0&0\\0&0&0\\0&0&2\end{bmatrix}$. What is $dx$ (5×5)? Think "stamps", as in the
# picture of section 4.

# %% tags=["exercise-2"]
answer = None   # a 5×5 nested list or array
check_dx_by_hand(answer)


# %% [markdown]
# **Exercise 3 (medium).** Write `dilate(dy, stride)` for a whole batch: $(N, F, H_o, W_o) \to
# (N, F, (H_o-1)s+1, (W_o-1)s+1)$ with $s-1$ zeros between neighbouring entries, no loops.

# %% tags=["exercise-3"]
def dilate(dy, stride):
    raise NotImplementedError   # your code here


check_dilate(dilate)


# %% [markdown]
# **Exercise 4 (harder).** Write `conv_backward(dy, x, weights, stride, padding)` for batches, channels,
# filters, stride and padding **using the convolution form** of the formulas (dilate, pad, correlate,
# rotate, trim, crop — section 6 does it for one channel) rather than the offset loop of section 5. No
# Python loops over pixels; `sliding_window_view` and `np.einsum` are your friends. Return `(dx, dW, db)`.

# %% tags=["exercise-4"]
def conv_backward_conv_form(dy, x, weights, stride, padding):
    raise NotImplementedError   # your code here


check_conv_backward(conv_backward_conv_form)
