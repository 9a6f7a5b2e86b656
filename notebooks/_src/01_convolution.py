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
# # 01 · Convolution: the operation VGG16 repeats thirteen times
#
# Thirteen of VGG16's sixteen weight layers are **convolutions**, all with 3×3 kernels. A convolution slides a
# small window of weights over the image and, at every position, multiplies and adds. That is all — and yet
# it is where a CNN spends almost all of its time: about 99% of VGG16's multiply-adds happen here.
#
# The seed project wrote its convolution as Python loops over every output pixel. The loops were right, but
# they made the network "very slow to train". In this notebook we write the same loops first — because
# they say exactly what a convolution *is* — then rewrite them as one matrix product (**im2col**), check that
# both agree, and measure how much faster the second one is. Along the way we reproduce the worked example
# from the seed's presentation and run a few hand-made filters over a real MNIST digit.
#
# **Learning goals** — after this notebook you can
#
# - compute a 2-D convolution (a *cross-correlation*, as CNNs use it) by hand, and say how it differs from
#   the convolution of signal processing;
# - predict the output size from input size $H$, kernel size $k$, padding $p$ and stride $s$;
# - state the shapes of a convolution layer: $(N, C, H, W)$ input, $(F, C, k, k)$ weights, $(F,)$ bias,
#   $(N, F, H_o, W_o)$ output — and count its parameters;
# - write the naive loops, then the im2col version, and check they agree;
# - say what edge and blur filters do to an image;
# - explain why CNNs use convolutions rather than fully connected layers on images — locality, weight sharing,
#   translation equivariance — and count what that saves.

# %%
# %matplotlib inline
import inspect
import time

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle
from scipy import signal

import vgglib
from vgglib import Convolution2D, reference
from vgglib.gradcheck import below
from vgglib.mnist import load_mnist
from vgglib.preprocess import to_float
from vgglib.im2col import im2col, output_size
from vgglib.exercises import (check_conv2d, check_convolution_by_hand, check_horizontal_edge_kernel,
                              check_output_size, reveal)
from vgglib.viz import IMAGE_CMAP, SIGNED_CMAP

np.set_printoptions(precision=4, suppress=True)
print("vgglib", vgglib.__version__)


def outline(ax, row, col, height, width, color="darkorange", inset=0.0):
    '''Outline the cells [row, row + height) × [col, col + width) of a matrix drawn with imshow.'''
    ax.add_patch(Rectangle((col - 0.5 + inset, row - 0.5 + inset), width - 2 * inset, height - 2 * inset,
                           fill=False, edgecolor=color, linewidth=3))


def show_matrix(ax, m, title, box=None, signed=False, fontsize=11):
    '''Draw a small matrix with its numbers written in: grey for values >= 0 (0 is black), the red-blue scale
    (symmetric around 0) for signed values such as kernels; box=(row, col, size) outlines a window.'''
    m = np.asarray(m, dtype=float)
    if signed:
        lim = max(np.abs(m).max(), 1e-12)
        ax.imshow(m, cmap=SIGNED_CMAP, vmin=-lim, vmax=lim)
        dark = np.abs(m) > 0.6 * lim                     # strong red or blue: white text
    else:
        top = max(m.max(), 1e-12)
        ax.imshow(m, cmap=IMAGE_CMAP, vmin=0, vmax=top)
        dark = m < 0.5 * top                             # black to dark grey: white text
    for (i, j), v in np.ndenumerate(m):
        ax.text(j, i, f"{v:g}", ha="center", va="center", fontsize=fontsize, color="white" if dark[i, j] else "black")
    if box is not None:
        r, c, k = box
        outline(ax, r, c, k, k, inset=0.06)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])


# %% [markdown]
# ## 1 · Intuition: a worked example by hand
#
# Take a 5×5 binary image and a 3×3 kernel shaped like an "X":
#
# $$
# x = \begin{bmatrix} 1&1&1&0&0\\ 0&1&1&1&0\\ 0&0&1&1&1\\ 0&0&1&1&0\\ 0&1&1&0&0 \end{bmatrix},\qquad
# W = \begin{bmatrix} 1&0&1\\ 0&1&0\\ 1&0&1 \end{bmatrix}.
# $$
#
# Put the kernel on the top-left 3×3 window of the image, multiply the nine overlapping pairs, and add:
#
# $$
# y[0,0] = \underbrace{1\cdot1}_{\text{corner}} + 1\cdot0 + \underbrace{1\cdot1}_{\text{corner}}
#         + 0\cdot0 + \underbrace{1\cdot1}_{\text{centre}} + 1\cdot0
#         + \underbrace{0\cdot1}_{\text{corner}} + 0\cdot0 + \underbrace{1\cdot1}_{\text{corner}} = 4 .
# $$
#
# The kernel "asks" how much of an X is under it: the four corners and the centre count, the rest is
# ignored. Now slide the window one pixel to the right and repeat, to the end of the row; then one row down.
# A 3×3 window fits in 3 positions across and 3 down, so the output is 3×3. Try the next one yourself
# before reading on: the window at row 0, column 1 has corners 1, 0, 0, 1 and centre 1, so $y[0,1] = 3$.

# %%
image = np.array([[1, 1, 1, 0, 0],
                  [0, 1, 1, 1, 0],
                  [0, 0, 1, 1, 1],
                  [0, 0, 1, 1, 0],
                  [0, 1, 1, 0, 0]], dtype=np.float64)
kernel = np.array([[1, 0, 1],
                   [0, 1, 0],
                   [1, 0, 1]], dtype=np.float64)


def correlate2d_naive(x, w):
    '''Slide w over x (no padding, stride 1): y[oy, ox] = sum_ij w[i, j] * x[oy + i, ox + j].'''
    k = w.shape[0]
    ho, wo = x.shape[0] - k + 1, x.shape[1] - k + 1
    y = np.zeros((ho, wo))
    for oy in range(ho):
        for ox in range(wo):
            y[oy, ox] = np.sum(w * x[oy:oy + k, ox:ox + k])
    return y


y = correlate2d_naive(image, kernel)
print(y)
assert np.array_equal(y, [[4, 3, 4], [2, 4, 3], [2, 3, 4]])

# %% [markdown]
# This is exactly the seed's worked example, $[[4,3,4],[2,4,3],[2,3,4]]$. Here are the three matrices, with
# the window that produces the output at row 1, column 2 outlined:

# %%
fig, axes = plt.subplots(1, 3, figsize=(10, 3.4), gridspec_kw={"width_ratios": [5, 3, 3]})
show_matrix(axes[0], image, "image x (5×5)", box=(1, 2, 3))
show_matrix(axes[1], kernel, "kernel W (3×3)", signed=True)
show_matrix(axes[2], y, "output y (3×3)", box=(1, 2, 1))
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 2 · The definition, and why CNNs call a correlation "convolution"
#
# For a 2-D input $x$ of shape $(H, W)$ and a kernel $w$ of shape $(k, k)$, the output $y$ of shape
# $(H-k+1,\ W-k+1)$ is
#
# $$
# y[o_y, o_x] \;=\; \sum_{i=0}^{k-1} \sum_{j=0}^{k-1} w[i, j]\; x[o_y + i,\; o_x + j] .
# $$
#
# Mathematicians call this a **cross-correlation**, written $y = x \star w$. The **convolution** of signal
# processing flips the kernel first: $(x * w)[o] = \sum_{i} x[o - i]\, w[i]$, which is the same as
# correlating with the kernel rotated by 180°. In a CNN the kernel is *learned*, so whether it is stored
# flipped or not makes no difference to what the network can do. Both cost exactly the same; by
# convention, every deep-learning library computes the correlation (no flip to write down) and calls it
# convolution. So do we. (The flip comes back, for real, in
# the backward pass — notebook 02.)
#
# Our X kernel is symmetric under a 180° rotation, so it cannot tell the two apart. An asymmetric kernel can;
# scipy has both operations, and we check our loops against them:

# %%
asym = np.array([[1, 2, 0],
                 [0, 0, 0],
                 [0, 0, -1]], dtype=np.float64)
ours = correlate2d_naive(image, asym)
assert np.array_equal(ours, signal.correlate2d(image, asym, mode="valid"))
assert np.array_equal(ours, signal.convolve2d(image, asym[::-1, ::-1], mode="valid"))
print("correlation:\n", ours)
print("true convolution (kernel flipped):\n", signal.convolve2d(image, asym, mode="valid"))

# %% [markdown]
# ## 3 · Padding, stride and the output-size formula
#
# Two knobs change where the window goes:
#
# - **Padding** $p$ surrounds the input with $p$ rings of zeros, so windows can be centred on the border
#   pixels too. The padded input is $(H + 2p) \times (W + 2p)$.
# - **Stride** $s$ moves the window $s$ pixels at a time instead of 1.
#
# With both, the output is
#
# $$
# y[o_y, o_x] = \sum_{i,j} w[i,j]\; x_{\text{pad}}[o_y s + i,\; o_x s + j] .
# $$
#
# **How big is the output?** Along one axis the windows start at $0, s, 2s, \dots, (H_o - 1)s$ in the padded
# input, and the last one must still fit: $(H_o - 1)s + k \le H + 2p$. The largest whole $H_o$ that
# satisfies this is
#
# $$
# H_o = \left\lfloor \frac{H + 2p - k}{s} \right\rfloor + 1 ,
# $$
#
# and the same for the width. The floor matters: when $s$ does not divide $H + 2p - k$, the last few rows
# are never covered by a window and are simply not used.
#
# **VGG16's choice.** Every VGG16 convolution has $k = 3$, $p = 1$, $s = 1$, so $H_o = H$: the convolutions
# never change the size of the feature maps, and only the 2×2 pools (notebook 04) halve it, 224 → 112 → 56 →
# 28 → 14 → 7.

# %%
print(f"{'H':>4} {'k':>2} {'p':>2} {'s':>2} {'H_o':>4}")
for h, k, p, s, note in [(5, 3, 0, 1, "the worked example"), (5, 3, 1, 1, "'same' padding"),
                         (224, 3, 1, 1, "every VGG16 convolution"), (224, 2, 0, 2, "every VGG16 pool"),
                         (7, 3, 0, 2, "stride 2 fits exactly"), (8, 3, 0, 2, "one row is never used")]:
    print(f"{h:>4} {k:>2} {p:>2} {s:>2} {output_size(h, k, p, s):>4}   {note}")


# %% [markdown]
# Here is the single-channel convolution with padding and stride — the naive loops once more, now reading
# the window at $(o_y s, o_x s)$ of the padded input:

# %%
def correlate2d(x, w, stride=1, padding=0):
    '''Single-channel cross-correlation with zero padding and stride (plain loops).'''
    k = w.shape[0]
    xp = np.pad(x, padding)
    ho = (x.shape[0] + 2 * padding - k) // stride + 1
    wo = (x.shape[1] + 2 * padding - k) // stride + 1
    y = np.zeros((ho, wo))
    for oy in range(ho):
        for ox in range(wo):
            y[oy, ox] = np.sum(w * xp[oy * stride:oy * stride + k, ox * stride:ox * stride + k])
    return y


assert np.array_equal(correlate2d(image, kernel), y)          # no padding, stride 1: as before
same = correlate2d(image, kernel, padding=1)
print("padding 1 keeps the 5×5 size:\n", same)
assert same.shape == image.shape and np.array_equal(same[1:-1, 1:-1], y)

# %% [markdown]
# With padding 1 the inner 3×3 block is our old answer; the new border values come from windows that hang
# over the edge onto the zeros. Exercise 2 asks you for padding 1 *and* stride 2.

# %% [markdown]
# ## 4 · Many channels in, many filters out
#
# Real inputs have several **channels**: 3 for a colour photo, 1 for an MNIST digit, 64 to 512 for the
# feature maps inside VGG16. A filter then has one $k\times k$ slice per input channel and sums over all of
# them; a layer has $F$ such filters, each producing one output channel (one *feature map*), plus a bias
# $b[f]$ per filter. For a batch of $N$ images:
#
# $$
# y[n, f, o_y, o_x] \;=\; b[f] \;+\; \sum_{c=0}^{C-1} \sum_{i=0}^{k-1} \sum_{j=0}^{k-1}
# W[f, c, i, j]\; x_{\text{pad}}[n, c,\; o_y s + i,\; o_x s + j]
# $$
#
# | array | shape | VGG16 `conv1_2` on 224×224 |
# |---|---|---|
# | input $x$ | $(N, C, H, W)$ | $(N, 64, 224, 224)$ |
# | weights $W$ | $(F, C, k, k)$ | $(64, 64, 3, 3)$ |
# | bias $b$ | $(F,)$ | $(64,)$ |
# | output $y$ | $(N, F, H_o, W_o)$ | $(N, 64, 224, 224)$ |
#
# In a picture, with $C = 3$ input channels of 5×5, $F = 2$ filters of $C\times k\times k = 3\times3\times3$
# and no padding: each filter lays one 3×3 slice on each channel, at the same place; the $C$ sums of
# slice times window are added *together* into one number, plus the filter's bias; sliding gives one 3×3
# output map per filter.

# %%
rng = np.random.default_rng(5)
x_demo = rng.integers(0, 4, size=(1, 3, 5, 5)).astype(float)        # N = 1 image, C = 3 channels, 5×5
w_demo = rng.integers(-1, 2, size=(2, 3, 3, 3)).astype(float)       # F = 2 filters, each (C, k, k)
b_demo = np.array([1.0, -1.0])                                      # one bias per filter
y_demo = reference.conv2d_forward_naive(x_demo, w_demo, b_demo)     # (1, F, 3, 3)
oy, ox = 1, 2                                                       # the output position outlined below
for f in range(2):
    by_hand = sum(np.sum(w_demo[f, c] * x_demo[0, c, oy:oy + 3, ox:ox + 3]) for c in range(3)) + b_demo[f]
    assert y_demo[0, f, oy, ox] == by_hand
    print(f"y[{f}, {oy}, {ox}] = b[{f}] + Σ over c, i, j of W[{f}, c, i, j] · x[c, {oy} + i, {ox} + j] = {by_hand:g}")

fig, axes = plt.subplots(3, 4, figsize=(12, 8.5), gridspec_kw={"width_ratios": [5, 3, 3, 3]})
for c in range(3):
    show_matrix(axes[c, 0], x_demo[0, c], f"input x, channel c = {c}", box=(oy, ox, 3), fontsize=9)
    for f in range(2):
        show_matrix(axes[c, 1 + f], w_demo[f, c], f"filter {f}, slice c = {c}: W[{f}, {c}]", signed=True, fontsize=9)
for f in range(2):
    show_matrix(axes[f, 3], y_demo[0, f], f"output map y[{f}]  (b[{f}] = {b_demo[f]:g})", box=(oy, ox, 1),
                signed=True, fontsize=9)
axes[2, 3].axis("off")
axes[2, 3].text(0.0, 0.5, "each filter: C = 3 slices;\none output value =\nthe 3 slice-times-window sums\n"
                "added together + the bias;\nF = 2 filters → 2 output maps", fontsize=10, va="center")
fig.suptitle("C input channels, F filters of shape C×k×k, F output maps", fontsize=12)
plt.tight_layout()
plt.show()

# %% [markdown]
# A layer has $F\cdot C\cdot k^2 + F$ parameters ($64\cdot64\cdot9 + 64 = 36{,}928$ for `conv1_2`) and does
# $F\cdot C\cdot k^2\cdot H_o W_o$ multiply-adds per image (1.85 billion for `conv1_2`!). Summed over all
# thirteen convolutions and compared with the three fully connected layers, this is the "99%" of the
# introduction:

# %%
F = C = 64
print(f"conv1_2: {F * C * 9 + F:,} parameters, {F * C * 9 * 224 * 224 / 1e9:.2f} billion multiply-adds per image")

# VGG16 on 224×224: (C, F) of every convolution, "M" for a 2×2 pool; then FC 25088 → 4096 → 4096 → 1000
vgg = [(3, 64), (64, 64), "M", (64, 128), (128, 128), "M", (128, 256), (256, 256), (256, 256), "M",
       (256, 512), (512, 512), (512, 512), "M", (512, 512), (512, 512), (512, 512), "M"]
size, conv_macs = 224, 0
for cfg in vgg:
    if cfg == "M":
        size //= 2
    else:
        conv_macs += cfg[0] * cfg[1] * 9 * size * size
fc_macs = 7 * 7 * 512 * 4096 + 4096 * 4096 + 4096 * 1000
share = conv_macs / (conv_macs + fc_macs)
print(f"all 13 convolutions: {conv_macs / 1e9:.1f} billion, 3 FC layers: {fc_macs / 1e9:.2f} billion"
      f" -> convolutions do {share:.1%} of the multiply-adds")
assert 0.985 < share < 0.995

# %% [markdown]
# Written as loops, that formula has seven nested indices. `vgglib.reference` keeps exactly this version,
# as the yardstick every faster implementation in the library is tested against:

# %%
print(inspect.getsource(reference.conv2d_forward_naive))

# %% [markdown]
# Two checks: on the worked example it reproduces our answer, and a multi-channel convolution really is the
# sum of single-channel ones — one per input channel — plus the bias.

# %%
y_ref = reference.conv2d_forward_naive(image[None, None], kernel[None, None], np.zeros(1))
assert np.array_equal(y_ref[0, 0], y)

rng = np.random.default_rng(0)
x = rng.standard_normal((2, 3, 6, 6))          # N=2 images, C=3 channels, 6×6
w = rng.standard_normal((4, 3, 3, 3))          # F=4 filters
b = rng.standard_normal(4)
y_multi = reference.conv2d_forward_naive(x, w, b, stride=1, padding=1)
by_channel = b[1] + sum(correlate2d(x[0, c], w[1, c], padding=1) for c in range(3))
err = np.abs(y_multi[0, 1] - by_channel).max()
print("output shape", y_multi.shape, "| max difference to the per-channel sum:", below(err, 1e-12))

# %% [markdown]
# ## 5 · Why convolution? Locality, weight sharing, translation equivariance
#
# Why not simply connect every pixel to every output, as a fully connected (FC) layer does (notebook 05)?
# Images have a structure an FC layer ignores, and a convolution is built on three assumptions about it:
#
# - **locality** — what a pixel means depends mostly on its neighbours: a stroke, an edge, a corner fits in a
#   small window. So each output reads only a $k\times k$ window, not the whole image.
# - **weight sharing** — a stroke is a stroke wherever it is, so the *same* $k \times k$ weights are used at
#   every position. An FC layer learns a separate weight for every (pixel, output) pair.
# - **translation equivariance** — a consequence of weight sharing: shift the input, and the feature map
#   shifts by the same amount, unchanged otherwise (away from the borders). A detector learnt in one corner
#   works everywhere. (Pooling, notebook 04, then makes the network's answer *less sensitive* to small
#   shifts.)
#
# What the first two save, for one 28×28 MNIST digit turned into feature maps of the same size:

# %%
H = W = 28                                                   # one 28×28 digit, C = 1 channel
for maps in (1, 64):                                         # one feature map; 64 of them, like conv1_1
    outputs = maps * H * W
    fc_params, fc_macs = H * W * outputs + outputs, H * W * outputs
    conv_params, conv_macs = maps * 1 * 3 * 3 + maps, maps * 1 * 3 * 3 * H * W
    print(f"{maps:>2} map(s) of 28×28:  FC {fc_params:>12,} parameters, {fc_macs / 1e6:7.1f} M multiply-adds | "
          f"conv 3×3 {conv_params:>4,} parameters, {conv_macs / 1e6:5.2f} M multiply-adds "
          f"({fc_params / conv_params:,.0f}× fewer parameters)")
assert (H * W * H * W + H * W, 1 * 9 + 1) == (615_440, 10)

# %% [markdown]
# 615,440 parameters against 10 for a single map; for VGG16's 64 maps of the first layer an FC layer would
# need 39 million parameters — as many as the seed's whole network — where the convolution has 640.
#
# **Equivariance, seen.** Shift a digit 2 pixels down and 3 to the right, and compare feature maps: the
# convolution's output of the shifted digit is exactly its output of the original, shifted. An FC layer with
# random weights and the same number of outputs has no such property: its output for the shifted digit is
# unrelated to its output for the original.

# %%
images, labels = load_mnist("test")                          # uint8 (1000, 28, 28), the embedded sample


def shift(img, down, right):
    '''Move a 2-D image down and right by whole pixels (negative: up/left), filling with zeros (background).'''
    h, w = img.shape
    out = np.zeros_like(img)
    out[max(down, 0):h + min(down, 0), max(right, 0):w + min(right, 0)] = \
        img[max(-down, 0):h - max(down, 0), max(-right, 0):w - max(right, 0)]
    return out


digit = to_float(images[4]).astype(np.float64)               # a 4
moved = shift(digit, 2, 3)
sobel = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float64)       # a vertical-edge filter


def conv_map(img):                                           # one 3×3 filter, padding 1: the naive loops
    return reference.conv2d_forward_naive(img[None, None], sobel[None, None], np.zeros(1), padding=1)[0, 0]


W_fc = np.random.default_rng(0).standard_normal((784, 784)) / 28            # FC: 784 pixels -> 784 outputs


def fc_map(img):
    return (img.reshape(784) @ W_fc).reshape(28, 28)


err_conv = np.abs(conv_map(moved) - shift(conv_map(digit), 2, 3)).max()
err_fc = np.abs(fc_map(moved) - shift(fc_map(digit), 2, 3)).max() / np.abs(fc_map(moved)).max()
print(f"conv: max |map(shifted digit) − shifted map| {below(err_conv, 1e-12)}")
print(f"FC:   max |map(shifted digit) − shifted map| = {err_fc:.2f} × the largest output")
assert err_fc > 0.5

fig, axes = plt.subplots(2, 3, figsize=(9.5, 6.6))
for row, (img, what) in enumerate([(digit, "digit x"), (moved, "x shifted by (2, 3)")]):
    axes[row, 0].imshow(img, cmap=IMAGE_CMAP)
    axes[row, 0].set_title(what)
    for ax, m, name in [(axes[row, 1], conv_map(img), "conv 3×3"), (axes[row, 2], fc_map(img), "FC, random W")]:
        lim = np.abs(m).max()
        ax.imshow(m, cmap=SIGNED_CMAP, vmin=-lim, vmax=lim)
        ax.set_title(f"{name}: output of the {'shifted ' if row else ''}digit", fontsize=10)
for ax in axes.ravel():
    ax.axis("off")
plt.tight_layout()
plt.show()

# %% [markdown]
# The edge map moves with the digit (down 2, right 3), pixel for pixel; the FC output turns into a different
# pattern. A convolution does not need to learn the same detector at every position — it is the same
# detector everywhere by construction.

# %% [markdown]
# ## 6 · The real thing: convolution as one matrix product (im2col)
#
# The loops do $N\cdot F\cdot H_o W_o$ separate little dot products of length $C k^2$. Written differently,
# they are *one* matrix product:
#
# 1. cut every window out of the input and lay it out as a **column** of length $C k^2$ — there are
#    $H_o W_o$ windows, so the columns form a matrix of shape $(C k^2,\ H_o W_o)$ per image (**im2col**,
#    "image to columns");
# 2. reshape the weights into a matrix of shape $(F,\ C k^2)$ — one row per filter;
# 3. multiply: $(F, C k^2) \times (C k^2, H_o W_o) = (F, H_o W_o)$, add the bias, and reshape to
#    $(F, H_o, W_o)$.
#
# Each entry of the product is one filter's row times one window's column: exactly the dot product the
# loops computed. Matrix products are what numpy (through BLAS) does fastest.
#
# For the worked example ($C = 1$, $k = 3$, 3×3 output) the column matrix is 9×9: window $(o_y, o_x)$
# becomes column $m = 3 o_y + o_x$ (windows counted row by row), and its pixel at kernel offset $(i, j)$
# goes to row $3i + j$ (the window read row by row). The code, and next to it the picture of three windows
# and their columns:

# %%
cols = im2col(image[None, None], kernel_size=3)        # (N, C, k, k, Ho, Wo) = (1, 1, 3, 3, 3, 3)
cols = cols.reshape(9, 9)                               # (C·k·k, Ho·Wo): row 3i + j, column 3·oy + ox
print(cols.astype(int))
y_matmul = (kernel.reshape(1, 9) @ cols).reshape(3, 3)  # (F, C·k·k) @ (C·k·k, Ho·Wo)
print("kernel row × columns =", y_matmul.ravel().astype(int))
assert np.array_equal(y_matmul, y)

colors = {0: "darkorange", 1: "deepskyblue", 5: "limegreen"}        # window m -> its colour
fig, axes = plt.subplots(1, 2, figsize=(13, 5.2), gridspec_kw={"width_ratios": [5, 9]})
show_matrix(axes[0], image, "image x: windows 0, 1 and 5")
for n_box, (m, color) in enumerate(colors.items()):
    oy, ox = divmod(m, 3)
    outline(axes[0], oy, ox, 3, 3, color, inset=0.06 + 0.08 * n_box)   # inset: overlapping windows stay visible
    assert np.array_equal(cols[:, m], image[oy:oy + 3, ox:ox + 3].ravel())   # window m == column m
show_matrix(axes[1], cols, "cols = im2col(x): window m becomes column m")
for m, color in colors.items():
    outline(axes[1], 0, m, 9, 1, color, inset=0.06)
axes[1].set_xticks(range(9), [f"{m}\n({m // 3},{m % 3})" for m in range(9)])
axes[1].set_yticks(range(9), [f"{r} ({r // 3},{r % 3})" for r in range(9)])
axes[1].set_xlabel("column m = window (o_y, o_x), m = 3·o_y + o_x")
axes[1].set_ylabel("row = kernel offset (i, j), 3·i + j")
plt.tight_layout()
plt.show()


# %% [markdown]
# Column 0 is the top-left window (1 1 1 / 0 1 1 / 0 0 1), column 1 the window one step right, column 5 the
# window at $(o_y, o_x) = (1, 2)$. The price is memory: every input pixel appears in up to $k^2 = 9$ columns.
#
# **Predict, then run.** VGG16's `conv1_2` reads one 224×224 image with 64 channels, stored as float32
# (4 bytes a number), with a 3×3 kernel, stride 1 and padding 1. How many megabytes (10⁶ bytes) does its
# column matrix take, for this one image?

# %%
guess = None   # your prediction: megabytes, e.g. 50

# %%
x_big = np.zeros((1, 64, 224, 224), dtype=np.float32)         # conv1_2's input, one image
cols_big = im2col(x_big, kernel_size=3, stride=1, padding=1)   # (1, 64, 3, 3, 224, 224)
megabytes = cols_big.nbytes / 1e6
reveal(guess, round(megabytes, 1), what="im2col")
print(f"input {x_big.nbytes / 1e6:.1f} MB -> columns {cols_big.shape}: {megabytes:.1f} MB, "
      f"{cols_big.nbytes / x_big.nbytes:.0f}× the input")
del x_big, cols_big

# %% [markdown]
# Nine times the input, for every image of a batch: with padding 1 and stride 1 there are as many windows as
# pixels, and each window copies $k^2 = 9$ numbers per channel. The fast layer of notebook 14 gathers the
# windows chunk by chunk, so that only a slice of this matrix exists at any time.
#
# `vgglib.im2col.im2col` returns the windows as an array of shape $(N, C, k, k, H_o, W_o)$, whose entry
# $[n, c, i, j, o_y, o_x]$ is $x_{\text{pad}}[n, c, o_y s + i, o_x s + j]$ — the formula's index, verbatim. It
# needs a Python loop only over the $k^2$ kernel offsets (9 iterations), each moving a whole strided slice of
# the batch. With it, the full convolution is five lines:

# %%
def conv2d_im2col(x, w, b, stride=1, padding=0):
    '''x (N, C, H, W), w (F, C, k, k), b (F,) -> y (N, F, Ho, Wo), as one batched matrix product.'''
    n, (f, c, k, _) = x.shape[0], w.shape
    cols = im2col(x, k, stride, padding)                          # (N, C, k, k, Ho, Wo)
    ho, wo = cols.shape[-2:]
    y = w.reshape(f, c * k * k) @ cols.reshape(n, c * k * k, ho * wo)   # (N, F, Ho·Wo)
    return y.reshape(n, f, ho, wo) + b[None, :, None, None]


rng = np.random.default_rng(1)
for (n, c, h, wd), (f, k), s, p in [((2, 3, 9, 9), (4, 3), 1, 1), ((2, 3, 9, 9), (4, 3), 2, 1),
                                    ((1, 2, 8, 7), (3, 5), 3, 2), ((3, 1, 5, 5), (2, 1), 1, 0)]:
    x, w, b = rng.standard_normal((n, c, h, wd)), rng.standard_normal((f, c, k, k)), rng.standard_normal(f)
    err = np.abs(conv2d_im2col(x, w, b, s, p) - reference.conv2d_forward_naive(x, w, b, s, p)).max()
    print(f"x {(n, c, h, wd)}, W {(f, c, k, k)}, stride {s}, padding {p}:  max |im2col − loops| {below(err, 1e-12)}")

# %% [markdown]
# vgglib's `Convolution2D` layer (`vgglib/layers.py`) computes the same im2col product: it is the function
# above plus bookkeeping for the backward pass, and it is what you run here. `vgglib.fast.Convolution2D` is a
# faster version of the same idea with the same constructor and weights (channels-last memory, chunks that fit
# in the cache — notebook 14); `VGG16` uses it by default, and the tests check it against the readable one. Its weights live in `layer.params["weights"]`, shape
# $(F, C, k, k)$, and `layer.params["bias"]`, shape $(F,)$. Load our random weights into it and compare:

# %%
layer = Convolution2D(inputs_channel=3, num_filters=4, kernel_size=3, padding=1, stride=2).astype(np.float64)
x, w, b = rng.standard_normal((2, 3, 9, 9)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
layer.params["weights"][...] = w
layer.params["bias"][...] = b
y_layer = layer.forward(x)
err = np.abs(y_layer - reference.conv2d_forward_naive(x, w, b, stride=2, padding=1)).max()
print(layer, "->", y_layer.shape, "| max |layer − loops|", below(err, 1e-12))


# %% [markdown]
# **How much faster?** A small timing (the numbers depend on your machine, so this cell's output is not
# compared by the tests). Besides the seven-loop reference we time the style the seed used: a Python loop
# over every output pixel and filter, with numpy doing the multiply-and-add inside each window. From that
# we estimate what one forward pass of the seed's 64×64 VGG16 costs this way.

# %% tags=["nbval-ignore-output"]
def best_time(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def conv2d_pixel_loops(x, w, b, stride=1, padding=0):
    '''One Python iteration per output value; numpy multiplies and adds inside the window.'''
    n, (f, c, k, _) = x.shape[0], w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    ho, wo = (xp.shape[2] - k) // stride + 1, (xp.shape[3] - k) // stride + 1
    y = np.zeros((n, f, ho, wo))
    for i in range(n):
        for o in range(f):
            for oy in range(ho):
                for ox in range(wo):
                    window = xp[i, :, oy * stride:oy * stride + k, ox * stride:ox * stride + k]
                    y[i, o, oy, ox] = np.sum(window * w[o]) + b[o]
    return y


rng = np.random.default_rng(2)
x, w, b = rng.standard_normal((1, 64, 16, 16)), rng.standard_normal((64, 64, 3, 3)), np.zeros(64)
layer = Convolution2D(64, 64, 3, padding=1).astype(np.float64)
t_ref = best_time(lambda: reference.conv2d_forward_naive(x[:, :4], w[:8, :4], b[:8], 1, 1), 1)
t_pixel = best_time(lambda: conv2d_pixel_loops(x, w, b, 1, 1), 2)
t_im2col = best_time(lambda: conv2d_im2col(x, w, b, 1, 1), 20)
t_layer = best_time(lambda: layer.forward(x), 20)
assert np.allclose(conv2d_pixel_loops(x, w, b, 1, 1), conv2d_im2col(x, w, b, 1, 1))
print("one 3×3 convolution, 64 → 64 channels, 16×16 pixels, one image:")
print(f"  seven nested loops: {t_ref * 128:9.3f} s  (timed on 1/128 of the work)")
print(f"  loop over pixels:   {t_pixel:9.3f} s")
print(f"  im2col matmul:      {t_im2col:9.5f} s  ({t_pixel / t_im2col:,.0f}× faster than the pixel loop)")
print(f"  Convolution2D:      {t_layer:9.5f} s")

# The seed's VGG16 on 64×64 MNIST: 13 convolutions, 3×3, padding 1; the size halves after each block.
blocks = [(1, 64), (64, 64), "M", (64, 128), (128, 128), "M", (128, 256), (256, 256), (256, 256), "M",
          (256, 512), (512, 512), (512, 512), "M", (512, 512), (512, 512), (512, 512), "M"]
size, outputs = 64, 0
for cfg in blocks:
    if cfg == "M":
        size //= 2
    else:
        outputs += cfg[1] * size * size               # one Python iteration per output value
per_image = outputs * t_pixel / (64 * 16 * 16)
print(f"VGG16 64×64 with pixel loops: ≈ {per_image:.0f} s per image, forward only (a lower bound: deeper"
      f" layers have bigger windows);\n  one training epoch on the 6,000-image sample (forward + backward"
      f" ≈ 3× forward) ≈ {3 * per_image * 6000 / 3600:.0f} hours")

# %% [markdown]
# That estimate is the seed's "very slow to train" in numbers: the loops are correct, but every output value
# costs a trip through the Python interpreter. The matrix product hands the same arithmetic to compiled,
# vectorised code. (Notebook 14 takes this further and races vgglib against PyTorch.)

# %% [markdown]
# ## 7 · On real data: hand-made filters on an MNIST digit
#
# Before a network learns its filters, we can design some. A few classics, each a 3×3 kernel:
#
# - **box blur** — all weights $\tfrac19$: every output is the average of its window;
# - **Gaussian blur** — $\tfrac1{16}\begin{bmatrix}1&2&1\\2&4&2\\1&2&1\end{bmatrix}$, a softer average;
# - **vertical edges** (Sobel) — $\begin{bmatrix}-1&0&1\\-2&0&2\\-1&0&1\end{bmatrix}$: right column minus
#   left column, so it is positive where the image gets brighter from left to right, negative where it gets
#   darker, and 0 on flat regions;
# - **Laplacian** — $\begin{bmatrix}0&1&0\\1&-4&1\\0&1&0\end{bmatrix}$: neighbours minus centre, large at
#   outlines in every direction;
# - **sharpen** — identity minus Laplacian: pushes each pixel away from its neighbours' average.
#
# A `Convolution2D` layer with 1 input channel and 5 filters applies all five at once and returns 5 feature
# maps — exactly what VGG16's first layer does with its 64 (learned) filters. Notebook 13 shows what VGG16
# learns; here the filters are ours.

# %%
images, labels = load_mnist("test")                    # uint8 (1000, 28, 28), the embedded sample
digit = to_float(images[4])                            # float32 in [0, 1]
print("digit label:", labels[4], "| shape", digit.shape, digit.dtype)

bank = {"box blur": np.full((3, 3), 1 / 9),
        "Gaussian blur": np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16,
        "vertical edges (Sobel)": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
        "Laplacian": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
        "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]])}
filters = Convolution2D(inputs_channel=1, num_filters=len(bank), kernel_size=3, padding=1)
filters.params["weights"][:, 0] = np.stack(list(bank.values()))
maps = filters.forward(digit[None, None])              # (1, 1, 28, 28) -> (1, 5, 28, 28)
print("feature maps:", maps.shape, maps.dtype)

fig, axes = plt.subplots(1, 6, figsize=(15, 2.9))
axes[0].imshow(digit, cmap=IMAGE_CMAP)
axes[0].set_title(f"input (a {labels[4]})")
for ax, (name, m) in zip(axes[1:], zip(bank, maps[0])):
    if name.endswith("blur"):
        ax.imshow(m, cmap=IMAGE_CMAP)
    else:                                               # signed responses: red > 0, blue < 0
        lim = np.abs(m).max()
        ax.imshow(m, cmap=SIGNED_CMAP, vmin=-lim, vmax=lim)
    ax.set_title(name, fontsize=10)
for ax in axes:
    ax.axis("off")
plt.tight_layout()
plt.show()

# %% [markdown]
# Read the edge map from left to right along a stroke: red where the stroke begins (dark → bright), blue
# where it ends (bright → dark), white on the flat background and inside thick strokes. The horizontal bar of
# the 4 almost vanishes in it: a vertical-edge filter does not see horizontal edges. Exercise 3 asks you to
# build the filter that does.

# %% [markdown]
# ## 🐞 Spot the bug: convolving pixels that wrapped around
#
# > The seed loaded MNIST as `uint8` pixels (0…255) and normalised them **while they were still `uint8`**,
# > e.g. by subtracting the mean pixel value in place:
# >
# > ```python
# > images -= 33          # ≈ 0.1307 · 255, the MNIST mean — in uint8 arithmetic
# > ```
# >
# > The code runs without a warning. What does the first convolution see?
#
# `uint8` arithmetic is arithmetic modulo 256: $0 - 33 = 223$, $10 - 33 = 233$, $250 + 10 = 4$. The black
# background turns light grey (223), the solid centres of the strokes (255 → 222) become almost the same grey,
# and the faint anti-aliased rims wrap around to anything from black to white. The digit almost disappears.

# %%
wrapped = images[4].copy()
wrapped -= 33                                          # the bug: uint8 in, uint8 out, modulo 256
print("background pixel: 0 - 33 =", wrapped[0, 0], "| full-ink pixel: 255 - 33 =", np.uint8(255) - np.uint8(33),
      "| dtype", wrapped.dtype)

sobel = bank["vertical edges (Sobel)"]
fig, axes = plt.subplots(1, 4, figsize=(11, 2.9))
for ax, img, title in [(axes[0], images[4], "uint8 digit"), (axes[1], wrapped, "after -= 33 (uint8)")]:
    ax.imshow(img, cmap=IMAGE_CMAP, vmin=0, vmax=255)
    ax.set_title(title, fontsize=10)
for ax, img, title in [(axes[2], to_float(images[4]) - 33 / 255, "edges, normalised right"),
                       (axes[3], wrapped / 255, "edges, wrapped pixels")]:
    m = correlate2d(img, sobel)
    ax.imshow(m, cmap=SIGNED_CMAP, vmin=-np.abs(m).max(), vmax=np.abs(m).max())
    ax.set_title(title, fontsize=10)
for ax in axes:
    ax.axis("off")
plt.tight_layout()
plt.show()

# %% [markdown]
# The first edge map is the one from section 7, without its padding ring (subtracting a constant does not
# change edges). The wrapped
# one has lost the strokes: what is left are edges along the rims, in a pattern that depends on how faint
# each rim pixel happened to be. The network would have to learn to read digits through that. The fix is to convert first and compute in float:
# `to_float(images)` (then subtract the mean). vgglib's layers refuse integer input outright, with a message
# that says what to do — the check that catches this bug before it costs accuracy:

# %%
try:
    Convolution2D(1, 1, 3).forward(images[:2, None])     # uint8 (2, 1, 28, 28)
except TypeError as e:
    print("TypeError:", e)


# %% [markdown]
# Notebook 07 (MNIST data) shows the same bug at the normalisation step itself.

# %% [markdown]
# ## Summary
#
# | | formula | shapes / numbers |
# |---|---|---|
# | cross-correlation ("convolution" in CNNs) | $y[o_y,o_x] = \sum_{i,j} w[i,j]\,x[o_y+i,\,o_x+j]$ | no kernel flip |
# | with padding $p$, stride $s$ | $x_{\text{pad}}[o_y s+i,\ o_x s+j]$ | pad with zeros on all sides |
# | output size | $H_o = \lfloor (H + 2p - k)/s \rfloor + 1$ | VGG16: $k=3, p=1, s=1 \Rightarrow H_o = H$ |
# | layer | $y[n,f] = b[f] + \sum_c x_{\text{pad}}[n,c] \star W[f,c]$ | $(N,C,H,W) \to (N,F,H_o,W_o)$, $W: (F,C,k,k)$, $b: (F,)$ |
# | cost | $F C k^2 + F$ parameters | $F C k^2 H_o W_o$ multiply-adds per image |
# | im2col | $Y = W_{(F,\,Ck^2)} \cdot \text{cols}_{(Ck^2,\,H_oW_o)}$ | one matrix product; $k^2\times$ the memory |
#
# **Remember:** write the loops first (they are the definition), test the fast version against them, and
# feed the network float inputs, never raw `uint8`.
#
# Next: **02 · Convolution backprop** — the gradients of this layer, which turn out to be convolutions too.

# %% [markdown]
# ## Exercises
#
# Each exercise ends with a self-check that says whether your answer is right and, if not, gives a hint —
# never the answer. Worked solutions are in `solutions/01_convolution_solutions.ipynb`.
#
# **Exercise 1 (easy).** Write `conv_output_size(size, kernel_size, padding, stride)` — without looking at
# section 3 if you can. The check tries ten cases, including strides that do not divide evenly.

# %% tags=["exercise-1"]
def conv_output_size(size, kernel_size, padding, stride):
    raise NotImplementedError   # your code here


check_output_size(conv_output_size)

# %% [markdown]
# **Exercise 2 (easy).** By hand (pencil and paper, then type it in): the worked example's image and X
# kernel with **padding 1 and stride 2**. First work out the output's shape, then each entry.

# %% tags=["exercise-2"]
answer = None   # your answer: a nested list or an array
check_convolution_by_hand(answer)

# %% [markdown]
# **Exercise 3 (medium).** Design a 3×3 kernel that detects **horizontal** edges: 0 on any flat patch, 0 on
# any patch whose brightness changes only from left to right, and **positive where a bright region lies
# above a dark one**. Then apply it to the digit (uncomment the plotting lines) and check which edges light
# up red. (Careful: the strokes are bright on a dark background, so "bright above dark" is the **bottom**
# edge of a stroke; its top edge comes out blue.)

# %% tags=["exercise-3"]
my_kernel = None   # your answer: a 3×3 array

# m = correlate2d(digit, np.asarray(my_kernel, dtype=float), padding=1)
# plt.imshow(m, cmap=SIGNED_CMAP, vmin=-np.abs(m).max(), vmax=np.abs(m).max())
# plt.show()
check_horizontal_edge_kernel(my_kernel)


# %% [markdown]
# **Exercise 4 (harder).** Write your own vectorised `conv2d(x, weights, bias, stride, padding)` for
# $(N, C, H, W)$ inputs and $(F, C, k, k)$ weights, **without** `vgglib.im2col`: no Python loops over the
# batch, the filters or the pixels (a loop over the $k\times k$ kernel offsets is fine). Hint: for each
# offset $(i, j)$, the slice `xp[:, :, i:i + s*Ho:s, j:j + s*Wo:s]` holds the pixel that every window reads
# at that offset; `np.einsum` or `np.tensordot` can do the sum over channels. The check compares with the
# naive loops on six cases.

# %% tags=["exercise-4"]
def conv2d(x, weights, bias, stride=1, padding=0):
    '''x (N, C, H, W), weights (F, C, k, k), bias (F,) -> (N, F, Ho, Wo).'''
    raise NotImplementedError   # your code here


check_conv2d(conv2d)
