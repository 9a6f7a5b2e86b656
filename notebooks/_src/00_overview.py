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
# # 00 · Overview: VGG16 from scratch, in numpy, done right
#
# This series builds one of the most famous convolutional networks, **VGG16**, from nothing but numpy —
# every layer derived on paper, written as plain loops, checked against numerical derivatives, then made
# fast — and trains it to read handwritten digits (MNIST).
#
# It grew out of a student presentation. A student wrote VGG16 by hand in numpy: thirteen convolutions and
# three fully connected layers, MNIST digits zoomed from 28×28 to 64×64, fully connected sizes
# 2048 → 4096 → 4096 → 10, softmax with cross-entropy, weights saved to and loaded from a file, all behind a
# two-call API, `model.train(X, y, batch_size, epochs, weights_file)` and `model.run(X, y, weights_file)`. The
# presentation derived the mathematics of convolution and its backpropagation, ReLU, max/min/average pooling
# with "winner index" routing, flatten, the fully connected layer, softmax and cross-entropy.
#
# It reached **60% test accuracy on 100 images**, and it was "very slow to train": the convolutions looped
# over every pixel in Python. And it had bugs — labels shuffled away from their images, dropout applied after
# the softmax, gradients of the wrong shapes, pixel normalisation that wrapped around in `uint8`, a max-pool
# backward pass that ignored the stride. None of them crashed; each one quietly cost accuracy.
#
# We keep the project's spirit, its API and its worked examples, and make it **correct, fast, tested,
# explained and interactive**. This notebook is the map.
#
# **Learning goals** — after this notebook you can
#
# - describe VGG16's architecture and count its parameters layer by layer;
# - explain why VGG uses only 3×3 convolutions, using the receptive field and the parameter count;
# - find your way through the fifteen notebooks and the `vgglib` library behind them;
# - say how sure "60% on 100 images" is, and recognise the seed's bugs when you meet them later;
# - compute the gradients of a small computational graph by the chain rule, take a gradient-descent step, and
#   read the ten lines of a training loop;
# - use the series' notation: $x$, $y$, $dy$, the weight layouts, and the argument order of $\star$.

# %%
# %matplotlib inline
import inspect
import json
import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from scipy import signal

import vgglib
from vgglib import (SGD, Convolution2D, Flatten, FullyConnected, Layer, Maxpooling2D, ReLU, Sequential,
                    softmax_cross_entropy)
from vgglib.mnist import load_mnist
from vgglib.preprocess import resize, shuffle, to_float
from vgglib.exercises import (check_chain_rule, check_conv_parameter_count, check_flatten_size,
                              check_receptive_field, reveal)
from vgglib.model import VGG16
from vgglib.summarize import summary
from vgglib.viz import IMAGE_CMAP, WRONG_COLOR, digit_color

np.set_printoptions(precision=4, suppress=True)
print("vgglib", vgglib.__version__)

# %% [markdown]
# ## Before you start
#
# You need
#
# - **Python**: functions, loops, list comprehensions, dictionaries;
# - **numpy**: arrays and their `shape`, indexing and slicing (`x[:, 0, 2:5]`), `reshape`, broadcasting, the
#   matrix product `@` (the numpy quickstart, or the Python/numpy tutorial of cs231n, covers all of it);
# - **linear algebra**: the dot product, the matrix product and the transpose;
# - **calculus**: the derivative and the partial derivative; the chain rule is recalled in section 5;
# - **probability**: a mean, a standard deviation, a proportion (section 3 uses its standard error).
#
# No deep-learning framework is needed, and no GPU: everything runs in numpy on a laptop CPU. How long each
# notebook takes to study — reading, running every cell, doing the exercises — is an **estimate**, ours, not
# a measurement; yours may differ by a factor of two either way:

# %%
# an estimate of the study time per notebook (reading, running, exercises), in hours — not a measurement
STUDY_HOURS = {"00 overview": 1.5, "01 convolution": 2.5, "02 convolution backprop": 2.5,
               "03 ReLU and initialisation": 1.5, "04 pooling": 1.5, "05 flatten and fully connected": 1.5,
               "06 softmax and cross-entropy": 2, "07 MNIST data": 1.5, "08 the VGG16 architecture": 1,
               "09 training VGG16 on MNIST": 2, "10 dropout": 1, "11 optimizers": 2, "12 data augmentation": 1,
               "13 feature maps": 1, "14 making it fast": 2}
for name, hours in STUDY_HOURS.items():
    print(f"{name:<32} ≈ {hours:g} h")
print(f"{'the whole series (estimate)':<32} ≈ {sum(STUDY_HOURS.values()):g} h")

# %% [markdown]
# ## 1 · What VGG16 is
#
# Karen Simonyan and Andrew Zisserman (Visual Geometry Group, Oxford) entered the ImageNet challenge of 2014
# with a family of networks that were, for their time, very deep — 11 to 19 weight layers — and radically
# simple. They came first in localisation and second in classification. Configuration "D", with 16 weight
# layers, is **VGG16**:
#
# | block | layers | output (224×224×3 input) |
# |---|---|---|
# | 1 | conv 3×3, 64 · conv 3×3, 64 · max pool 2×2 | 112×112×64 |
# | 2 | conv 3×3, 128 · conv 3×3, 128 · max pool | 56×56×128 |
# | 3 | conv 3×3, 256 ×3 · max pool | 28×28×256 |
# | 4 | conv 3×3, 512 ×3 · max pool | 14×14×512 |
# | 5 | conv 3×3, 512 ×3 · max pool | 7×7×512 |
# | head | flatten · FC 4096 · FC 4096 · FC 1000 · softmax | 1000 class probabilities |
#
# Every convolution is 3×3 with stride 1 and padding 1 (it keeps the size), every pooling is 2×2 with
# stride 2 (it halves the size), and a ReLU follows every convolution and the first two FC layers; dropout
# regularises the FC layers. That is the entire design. Let us count its parameters — a convolution with
# $C$ input channels and $F$ filters of $k\times k$ has $F C k^2 + F$, an FC layer with $D$ inputs and $M$
# outputs $D M + M$:

# %%
BLOCKS = [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]]


def vgg16_layers(in_channels=3, size=224, num_classes=1000):
    '''(name, parameters, output side, receptive field) for every conv, pool and FC layer.'''
    rows, c, rf, jump = [], in_channels, 1, 1        # receptive field and "jump" (product of strides)
    for b, block in enumerate(BLOCKS, start=1):
        for i, f in enumerate(block, start=1):
            rf += (3 - 1) * jump
            rows.append((f"conv{b}_{i}", f * c * 9 + f, size, rf))
            c = f
        rf, jump, size = rf + (2 - 1) * jump, jump * 2, size // 2
        rows.append((f"pool{b}", 0, size, rf))
    d = c * size * size
    for j, m in enumerate([4096, 4096, num_classes], start=1):
        rows.append((f"fc{j}", d * m + m, 1, None))
        d = m
    return rows


rows = vgg16_layers()
total = sum(p for _, p, _, _ in rows)
conv_total = sum(p for name, p, _, _ in rows if name.startswith("conv"))
fc1 = dict((name, p) for name, p, _, _ in rows)["fc1"]
print(f"VGG16 (224×224×3, 1000 classes): {total:,} parameters; "
      f"convolutions {conv_total / total:.0%}, FC layers {1 - conv_total / total:.0%}, fc1 alone {fc1 / total:.0%}")
assert total == 138_357_544
assert summary(VGG16.spec(3, 1000, 224), print_table=False).total_params == total   # vgglib agrees

# multiply-adds per image: a conv does F·C·9 of them at each of its size² positions, an FC layer D·M
macs, c, size = 0, 3, 224
for block in BLOCKS:
    for f in block:
        macs, c = macs + f * c * 9 * size * size, f
    size //= 2
conv_macs = macs
macs += 512 * 7 * 7 * 4096 + 4096 * 4096 + 4096 * 1000
print(f"multiply-adds per 224×224 image: {macs / 1e9:.1f} billion, {conv_macs / macs:.0%} of them in the convolutions")

seed_rows = vgg16_layers(in_channels=1, size=64, num_classes=10)
seed_total = sum(p for _, p, _, _ in seed_rows)
print(f"the seed's MNIST variant (64×64×1, 10 classes): {seed_total:,} parameters, fc1 reads "
      f"512·2·2 = {512 * 2 * 2} values")
assert seed_total == summary(VGG16.spec(1, 10, 64), print_table=False).total_params

# %% [markdown]
# Three quarters of VGG16's parameters sit in one layer, `fc1`, which connects the 7×7×512 feature maps to
# 4096 units. The convolutions have few parameters but do almost all the computation: 15.5 billion
# multiply-adds per image, 99% of them in the convolutions (notebook 08 counts them layer by layer). The
# seed's 64×64 version has 2×2×512 = 2048 inputs to `fc1` and "only" 40 million parameters.
#
# ## 2 · Why stacks of 3×3 convolutions?
#
# A neuron's **receptive field** is the patch of the input image it can see. One 3×3 convolution sees 3×3
# pixels. A second 3×3 convolution on top sees a 3×3 patch of the first layer's outputs, each of which saw
# 3×3 pixels, overlapping: together a **5×5** patch. In one dimension, each layer widens the view by
# $k - 1 = 2$ pixels; a stride-2 pooling doubles the step size ("jump") of every layer after it:
#
# $$
# r_l = r_{l-1} + (k_l - 1)\, j_{l-1}, \qquad j_l = j_{l-1}\, s_l, \qquad r_0 = j_0 = 1 .
# $$
#
# Two 3×3 layers see as far as one 5×5 layer, but with $2\cdot 9C^2 = 18C^2$ weights instead of $25C^2$ (for
# $C$ channels in and out), and with **two** non-linearities instead of one. Stacks of three — as in VGG16's
# blocks 3 to 5 — save even more against the single large layer they replace (exercise 1 asks how large).
# Small kernels, deep stacks: more expressive, fewer parameters. That is the VGG idea, and nearly every
# CNN since has followed it.
#
# Here is how the receptive field grows through VGG16 while the maps shrink, and where the parameters are:

# %%
names = [n for n, _, _, _ in rows]
fig, axes = plt.subplots(1, 2, figsize=(14, 4))
spatial = [(n, s, r) for n, _, s, r in rows if r is not None]
xs = np.arange(len(spatial))
axes[0].plot(xs, [r for _, _, r in spatial], "o-", label="receptive field (pixels)")
axes[0].plot(xs, [s for _, s, _ in spatial], "s-", label="feature-map side (pixels)")
axes[0].axhline(224, color="gray", linestyle=":", linewidth=1)
axes[0].set_xticks(xs, [n for n, _, _ in spatial], rotation=90, fontsize=8)
axes[0].set_xlabel("layer")
axes[0].set_ylabel("pixels")
axes[0].set_title("the view grows, the maps shrink (224×224 input)")
axes[0].legend()
params = [p for _, p, _, _ in rows]
colors = ["C0" if n.startswith("conv") else "C2" if n.startswith("fc") else "C7" for n in names]
axes[1].bar(np.arange(len(rows)), np.maximum(params, 1), color=colors)
axes[1].set_yscale("log")
axes[1].set_ylim(1e3, 3e8)
axes[1].set_xticks(np.arange(len(rows)), names, rotation=90, fontsize=8)
axes[1].set_xlabel("layer")
axes[1].set_ylabel("parameters (weights + biases)")
axes[1].set_title("parameters per layer (log scale; pools have none)")
plt.tight_layout()
plt.show()

rf = {name: r for name, _, _, r in rows}
print(f"receptive field of one conv5_3 neuron: {rf['conv5_3']}×{rf['conv5_3']} pixels; after pool5: {rf['pool5']}")
assert rf["conv1_2"] == 5 and rf["conv5_3"] == 196


# %% [markdown]
# By `conv5_3` one neuron sees 196×196 of the 224×224 pixels — enough to take in a whole object.
#
# ## 3 · How sure is "60% on 100 images"?
#
# Before improving on a number, ask how precise it is. Each test image is a coin flip that comes up
# "correct" with some unknown probability $p$; with $n$ images the standard error of the measured accuracy
# is $\sqrt{p(1-p)/n}$ — for $p = 0.6$ and $n = 100$:

# %%
se = math.sqrt(0.6 * 0.4 / 100)
print(f"standard error of 60% on 100 images: {se:.3f} = {100 * se:.1f} percentage points")

# %% [markdown]
# A 95% interval is about two standard errors either side. The Wilson score interval does this properly
# (it stays inside [0, 1] and is accurate for small $n$):

# %%
def wilson_interval(correct, n, z=1.96):
    '''95% confidence interval for a proportion (Wilson score interval).'''
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


for n in (100, 1_000, 10_000):
    lo, hi = wilson_interval(0.6 * n, n)
    print(f"60% measured on {n:>6,} images: the true accuracy is in [{lo:.1%}, {hi:.1%}] (95%)")

# %% [markdown]
# On 100 images, "60%" means "somewhere between 50% and 69%". Our target is the full 10,000-image MNIST test
# set, where an accuracy near 99.5% is pinned down to about ±0.15 percentage points — as it must be to compare
# good networks. The stored run of vgglib's VGG16 (`results/mnist-vgg16/history.json`, notebook 09; the
# VGG16 architecture with a fraction of the channels, `width`):

# %%
run = json.loads((Path("..") / "results" / "mnist-vgg16" / "history.json").read_text())
stored = run["test"]
lo, hi = wilson_interval(round(stored["accuracy"] * stored["n"]), stored["n"])
print(f"vgglib's VGG16 (width {run['recipe']['width']}) on the full MNIST test set: {stored['accuracy']:.2%} of "
      f"{stored['n']:,} images, 95% interval [{lo:.2%}, {hi:.2%}]")
assert stored["accuracy"] > 0.995

# %% [markdown]
# ## 4 · On real data: MNIST, and the seed's 64×64 zoom
#
# vgglib ships a sample of the real MNIST data — the first 6,000 training and 1,000 test digits — so every
# notebook runs offline. `load_mnist` returns `uint8` images (0 = black background, 255 = ink) and labels:

# %%
images, labels = load_mnist("train")
print("images", images.shape, images.dtype, "| labels", labels.shape, labels.dtype, "| first labels", labels[:10])

fig, axes = plt.subplots(2, 10, figsize=(12, 2.9))
for ax, img, lab in zip(axes.ravel(), images, labels):
    ax.imshow(img, cmap=IMAGE_CMAP)
    ax.set_title(str(lab), fontsize=10, color=digit_color(lab))      # digit d: the same colour in every notebook
    ax.axis("off")
plt.tight_layout()
plt.show()

# %% [markdown]
# VGG16's five poolings need an input side divisible by 32. The seed zoomed the 28×28 digits to 64×64;
# vgglib can do the same (`resize`, interpolating the whole batch at once) or pad to 32×32, which is four
# times cheaper. Then one block of VGG16 — conv, ReLU, conv, ReLU, max pool — built from vgglib layers,
# applied to real digits:

# %%
x = resize(to_float(images[:8])[:, None], 64)                      # (8, 1, 64, 64) float32 in [0, 1]
rng = np.random.default_rng(0)
block1 = [Convolution2D(1, 64, 3, padding=1, rng=rng, name="conv1_1"), ReLU("relu1_1"),
          Convolution2D(64, 64, 3, padding=1, rng=rng, name="conv1_2"), ReLU("relu1_2"),
          Maxpooling2D(2, 2, name="pool1")]
a = x
print(f"{'input':>8}: {a.shape}")
for layer in block1:
    a = layer.forward(a)
    print(f"{layer.name:>8}: {a.shape}")

fig, axes = plt.subplots(1, 9, figsize=(14, 1.9))
axes[0].imshow(x[0, 0], cmap=IMAGE_CMAP)
axes[0].set_title("64×64 input", fontsize=9)
for c, ax in enumerate(axes[1:]):
    ax.imshow(a[0, c], cmap=IMAGE_CMAP)                                # after ReLU and pooling: all >= 0
    ax.set_title(f"pool1, ch {c}", fontsize=9)
for ax in axes:
    ax.axis("off")
plt.tight_layout()
plt.show()

# %% [markdown]
# These are feature maps of an *untrained* network — random filters already pick out strokes and edges,
# just not useful ones yet. Notebook 13 shows what the trained network's filters and maps look like.
#
# Backward works the same way: each layer's `backward(dy)` takes the gradient of the loss with respect to
# its output and returns the one with respect to its input, storing the gradients of its own parameters in
# `grads` — always with the same shapes as `params`:

# %%
dy = np.ones_like(a)
for layer in reversed(block1):
    dy = layer.backward(dy)
conv = block1[0]
print("dx:", dy.shape, "| conv1_1 params:", {k: v.shape for k, v in conv.params.items()},
      "| grads:", {k: v.shape for k, v in conv.grads.items()})
assert dy.shape == x.shape and all(conv.grads[k].shape == conv.params[k].shape for k in conv.params)

# %% [markdown]
# ## 5 · How a network learns: computational graphs, the chain rule, gradient descent
#
# A network is a chain of simple functions, and its **loss** $L$ — one number that says how wrong its
# answers are — sits at the end of the chain. Training changes every parameter $p$ a little in the direction
# that lowers $L$, so it needs every derivative $\partial L/\partial p$. Draw the computation as a
# **computational graph**: each node computes one output from its inputs, and knows its **local gradient**,
# the derivative of its output with respect to each of its inputs. The **chain rule** then says: the gradient
# of $L$ with respect to a node's input is the gradient of $L$ with respect to the node's output (the
# *upstream gradient*) times the local gradient,
#
# $$ \frac{\partial L}{\partial \text{input}} = \frac{\partial L}{\partial \text{output}} \cdot
#    \frac{\partial\, \text{output}}{\partial\, \text{input}} , $$
#
# and when a value feeds several nodes, the gradients that come back from them **add up**. Backpropagation is
# nothing more: one pass forward computing the values, one pass backward multiplying upstream gradients by
# local ones. Here is the smallest example that has every ingredient — one neuron with a ReLU and a squared
# error against a target $t$:
#
# ```
# x = 2   ──┐
#          (×)── u = w·x ──(+)── z = u + b ──(ReLU)── y = max(z, 0) ──(½(y − t)²)── L
# w = 0.5 ──┘               │                                              │
#                    b = 1 ─┘                                       t = 3 ─┘
# ```
#
# **Forward**, left to right: $u = w x$, $z = u + b$, $y = \max(z, 0)$, $L = \tfrac12 (y - t)^2$.
# **Backward**, right to left, each line one local gradient times the line before it:
#
# | node | local gradient | gradient of $L$ |
# |---|---|---|
# | $L = \tfrac12 (y-t)^2$ | $\partial L/\partial y = y - t$ | $dy = y - t$ |
# | $y = \max(z, 0)$ | $\partial y/\partial z = 1$ if $z > 0$, else 0 | $dz = dy \cdot [z > 0]$ |
# | $z = u + b$ | $\partial z/\partial u = 1$, $\partial z/\partial b = 1$ | $du = dz$, $db = dz$ |
# | $u = w x$ | $\partial u/\partial w = x$, $\partial u/\partial x = w$ | $dw = du \cdot x$, $dx = du \cdot w$ |
#
# (We write $dv$ for $\partial L/\partial v$, whatever $v$ is.) The cell does it with the numbers, and checks
# every gradient numerically: nudge one input by $\pm\varepsilon$ and watch $L$,
# $\partial L/\partial v \approx \big(L(v+\varepsilon) - L(v-\varepsilon)\big)/2\varepsilon$.

# %%
def neuron_loss(x, w, b, t=3.0):
    '''The graph above, forward only: L = ½ (max(w·x + b, 0) − t)².'''
    return 0.5 * (max(w * x + b, 0.0) - t) ** 2


x, w, b, t = 2.0, 0.5, 1.0, 3.0
u = w * x                       # forward, node by node
z = u + b
y = max(z, 0.0)
L = 0.5 * (y - t) ** 2
dy = y - t                      # backward: upstream gradient × local gradient, node by node
dz = dy * (1.0 if z > 0 else 0.0)
du, db = dz * 1.0, dz * 1.0
dw, dx = du * x, du * w
print(f"forward:  u = {u:g}, z = {z:g}, y = {y:g}, L = {L:g}")
print(f"backward: dy = {dy:g}, dz = {dz:g}, db = {db:g}, dw = {dw:g}, dx = {dx:g}")

eps = 1e-6
numeric = {"dx": (neuron_loss(x + eps, w, b) - neuron_loss(x - eps, w, b)) / (2 * eps),
           "dw": (neuron_loss(x, w + eps, b) - neuron_loss(x, w - eps, b)) / (2 * eps),
           "db": (neuron_loss(x, w, b + eps) - neuron_loss(x, w, b - eps)) / (2 * eps)}
for name, analytic in [("dx", dx), ("dw", dw), ("db", db)]:
    assert abs(numeric[name] - analytic) < 1e-6
    print(f"{name}: chain rule {analytic:g}, numerical {numeric[name]:.6f}")
assert (L, dw, db, dx) == (0.5, -2.0, -1.0, -0.5)

# %% [markdown]
# The gradient points uphill: $dw = -2$ says that *raising* $w$ lowers the loss, twice as fast as raising
# $b$ does. **Gradient descent** takes a small step downhill on every parameter at once,
#
# $$ p \;\leftarrow\; p - \eta\, \frac{\partial L}{\partial p} , $$
#
# with a **learning rate** $\eta$ (`lr` in code). One step with $\eta = 0.1$:

# %%
lr = 0.1
w_new, b_new = w - lr * dw, b - lr * db
L_new = neuron_loss(x, w_new, b_new)
print(f"w: {w:g} -> {w_new:g},  b: {b:g} -> {b_new:g},  L: {L:g} -> {L_new:.4g}")
assert L_new < L

# %% [markdown]
# A layer of vgglib is a node of this graph that works on whole arrays: `forward(x)` returns $y$,
# `backward(dy)` takes $dy = \partial L/\partial y$ and returns $dx = \partial L/\partial x$, storing the
# gradients of its own parameters in `grads`; notebooks 01–06 derive each layer's local gradients. A network
# is a chain of layers, and **the training loop** is the three moves above, repeated on mini-batches of
# images. Here it is for the smallest network there is — one fully connected layer from the 784 pixels to 10
# class scores (a *linear classifier*) — in ten lines:

# %%
X = to_float(images)[:, None].astype(np.float64)                # (6000, 1, 28, 28) in [0, 1]
test_images, labels_test = load_mnist("test")
X_test = to_float(test_images)[:, None].astype(np.float64)
rng = np.random.default_rng(0)

model = Sequential([Flatten(), FullyConnected(784, 10, rng=rng)]).astype(np.float64)
optimizer = SGD(lr=0.1)                                            # p <- p - lr · dL/dp
for step in range(201):
    batch = rng.choice(len(X), size=64, replace=False)             # a random mini-batch of 64 digits
    logits = model.forward(X[batch])                               # forward: x -> y, layer by layer
    loss, dlogits = softmax_cross_entropy(logits, labels[batch])   # the loss L and dL/dlogits
    model.backward(dlogits, input_grad=False)                      # backward: dy -> dx, filling every grads
    optimizer.step(model)                                          # one gradient-descent step on every p
    if step % 50 == 0:
        print(f"step {step:>3}: loss on this batch {loss:.3f}")

accuracy = np.mean(model.forward(X_test, training=False).argmax(axis=1) == labels_test)
print(f"{model.num_params():,} parameters; test accuracy after 201 steps: {accuracy:.1%} (1,000 test digits)")
assert accuracy > 0.8

# %% [markdown]
# Training VGG16 (notebook 09) is this loop with sixteen weight layers instead of one, a better optimizer
# (notebook 11) and a few more details (epochs, shuffling, a learning-rate schedule, checkpoints).
#
# ## 6 · Notation used in every notebook
#
# | symbol | meaning | shape | in vgglib's code |
# |---|---|---|---|
# | $x$, $y$ | the **input and output of the layer being discussed** — not the data and the labels | conv: $(N, C, H, W) \to (N, F, H_o, W_o)$; FC: $(N, D) \to (N, M)$ | `y = layer.forward(x)` |
# | $X$, $Y$ | the same for a batch written as a matrix (notebook 05) | $(N, D)$, $(N, M)$ | `x`, `y` |
# | labels | the true classes of the images | $(N,)$ class ids, or one-hot $(N, 10)$ | `labels`; notebook 06 writes the one-hot labels $y_k$ / $Y$, as the loss literature does, and the seed's API `model.train(X, y, …)` keeps `y` for labels |
# | $z$, $Z$ | **logits**: the last layer's output, before the softmax | $(N, 10)$ | `logits` |
# | $p$, $P$ | softmax probabilities | $(N, 10)$ | `probs` |
# | $L$ | the loss: one number, the mean over the batch | scalar | `loss` |
# | $dy$ | $\partial L/\partial y$, the **upstream gradient** a layer receives | shape of $y$ | `layer.backward(dy)` |
# | $dx$ | $\partial L/\partial x$, what the layer returns to the layer below | shape of $x$ | `dx = layer.backward(dy)` |
# | $dW$, $db$ | $\partial L/\partial W$, $\partial L/\partial b$ | shapes of $W$, $b$ | `layer.grads["weights"]`, `layer.grads["bias"]` |
# | $dZ$ | $\partial L/\partial Z$, the gradient of the logits, $(P - Y)/N$ (notebook 06) | $(N, 10)$ | `dlogits`, `model.backward(dlogits)` |
# | $W$ (conv) | $F$ filters of $C \times k \times k$: (out, in, height, width) — the same layout as PyTorch's `Conv2d.weight` | $(F, C, k, k)$ | `params["weights"]` |
# | $W$ (FC) | **(in, out)**, so that $y = x W + b$; PyTorch's `Linear.weight` is (out, in) and computes $x W^\top + b$ — transpose when you move weights between the two | $(D, M)$ | `params["weights"]`, `y = x @ W + b` |
# | $b$ | one bias per filter / per output | $(F,)$ or $(M,)$ | `params["bias"]` |
# | $x \star w$ | valid **cross-correlation**: slide the *second* argument over the *first*, $(x \star w)[a, b] = \sum_{i,j} w[i,j]\, x[a+i, b+j]$; output side $H - k + 1$ | | `scipy.signal.correlate2d(x, w, "valid")` |
# | $dW = x \star dy$ | the weight gradient (notebook 02): $dy$ is the window slid over $x$ | shape of $W$ | `grads["weights"]` |
# | $N, C, H, W, F, k, p, s$ | batch size, channels, height, width, filters, kernel side, padding, stride | | `kernel_size`, `padding`, `stride` |
# | $\eta$ | learning rate | scalar | `lr` |
#
# Two clashes to keep in mind: $W$ is the weights and also the width (notebook 02 writes a single kernel as a
# small $w$ to keep them apart), and other courses name gradients differently — cs231n's code calls the
# upstream gradient `dout`, Andrew Ng's courses write $dZ$ for the gradient of a pre-activation and $dA$ for
# that of an activation. Here every layer, ReLU included, is its own node, so one pair of names does for all:
# a layer receives $dy$ and returns $dx$. The table is checked against the code:

# %%
fc, conv = FullyConnected(784, 10), Convolution2D(3, 64, 3)
assert fc.params["weights"].shape == (784, 10)                     # FC: (in, out), y = x @ W + b
assert conv.params["weights"].shape == (64, 3, 3, 3)               # conv: (F, C, k, k)
assert all(layer.grads[k].shape == layer.params[k].shape for layer in (fc, conv) for k in layer.params)
assert list(inspect.signature(Layer.forward).parameters)[1] == "x"
assert list(inspect.signature(Layer.backward).parameters)[1] == "dy"
assert list(inspect.signature(Sequential.backward).parameters)[1] == "dlogits"
assert list(inspect.signature(softmax_cross_entropy).parameters) == ["logits", "labels"]

xs, ws = np.arange(20.0).reshape(4, 5), np.array([[1.0, 0.0], [0.0, -1.0]])
star = np.array([[np.sum(ws * xs[a:a + 2, c:c + 2]) for c in range(4)] for a in range(3)])   # the formula
assert np.array_equal(star, signal.correlate2d(xs, ws, mode="valid"))
print("FC weights", fc.params["weights"].shape, "| conv weights", conv.params["weights"].shape,
      "| x ⋆ w for x 4×5, w 2×2:", star.shape)

# %% [markdown]
# ## 7 · The road map
#
# | # | notebook | what you build and check | vgglib |
# |---|---|---|---|
# | 00 | [overview](00_overview.ipynb) | this map; VGG16's numbers | `vgglib.summarize.summary` |
# | 01 | [convolution](01_convolution.ipynb) | the worked example, padding, stride; why convolution (locality, weight sharing, equivariance); im2col; filters on digits | `layers.Convolution2D`, `im2col`, `reference` |
# | 02 | [convolution backprop](02_convolution_backprop.ipynb) | $db$, $dW = x \star dy$, $dx = \text{pad}(dy) \star \text{rot180}(W)$, stride, padding; learning a kernel by gradient descent | `layers`, `gradcheck` |
# | 03 | [ReLU and initialisation](03_relu_and_initialization.ipynb) | the gate, dead units, He initialisation, activation histograms | `layers.ReLU` |
# | 04 | [pooling](04_pooling.ipynb) | max/min/avg, winner routing, ties, the stride bug | `layers.Pooling2D` |
# | 05 | [flatten and fully connected](05_flatten_and_fully_connected.ipynb) | $dW = x^\top dy$, $dx = dy\,W^\top$ | `layers.FullyConnected` |
# | 06 | [softmax and cross-entropy](06_softmax_and_cross_entropy.ipynb) | stable softmax, the fused gradient $p - y$, $\ln 10$ at init | `losses` |
# | 07 | [MNIST data](07_mnist_data.ipynb) | the IDX format byte by byte, normalisation, zoom, shuffling | `mnist`, `preprocess` |
# | 08 | [the VGG16 architecture](08_vgg16_architecture.ipynb) | the whole network, parameters, memory, multiply-adds | `model.VGG16`, `summarize.summary` |
# | 09 | [training VGG16 on MNIST](09_training_vgg16_on_mnist.ipynb) | the seed's pipeline done right, live curves, checkpoints | `train`, `checkpoint` |
# | 10 | [dropout](10_dropout.ipynb) | inverted dropout, an interactive explorer, the softmax bug | `layers.Dropout`, `widgets` |
# | 11 | [optimizers](11_optimizers_sgd_momentum_adam.ipynb) | SGD, momentum, Adam, on a 2-D surface and on VGG | `optim` |
# | 12 | [data augmentation](12_data_augmentation.ipynb) | shifts, rotations, zoom, ZCA; why not flips | `augment` |
# | 13 | [feature maps](13_feature_maps.ipynb) | an interactive explorer of what the network sees | `widgets`, `viz` |
# | 14 | [making it fast](14_making_it_fast.ipynb) | from loops to GEMM, measured against PyTorch | `vgglib.fast` |
#
# Notebooks 01–06 each take one layer apart; 07–08 assemble data and network; 09–13 train it and look
# inside; 14 makes it fast. The seed's slowness and each of its bugs get a "Spot the bug" box where they
# belong:
#
# | the seed's bug | what it did | where |
# |---|---|---|
# | loops over every pixel | correct, but hours per epoch | 01 (timed), 14 |
# | `uint8` normalisation | pixel values wrapped around (0 − 33 = 223) | 01, 07 |
# | gradient shapes | gradients that did not have their parameters' shapes | 02, 05 |
# | max-pool backward | gradients placed without the stride | 04 |
# | labels shuffled away from images | images and labels permuted separately | below, and 07 |
# | dropout after softmax | "probabilities" that no longer sum to 1 | 06, 10 |

# %% [markdown]
# ## 8 · How to use these notebooks
#
# - **Run every cell, top to bottom** (Shift+Enter, or *Run → Run All Cells*). Each notebook stands alone and
#   runs in a minute or two. If something looks odd, *Kernel → Restart Kernel and Run All Cells*.
# - **Predict, then run.** Each notebook asks you once to write down a prediction (`guess = …`) before the
#   cell that computes the answer; `reveal(guess, actual)` prints the two side by side. A wrong guess is
#   the useful kind: find the step of your reasoning that differs.
# - **Read the checks.** Cells that end in `assert` are the proofs: a derivation is only believed once its
#   code agrees with a numerical derivative or a naive loop. If you change something and an assertion fails,
#   you have found out something.
# - **Do the exercises** at the end of each notebook. Each has a self-check, `vgglib.exercises.check_…(answer)`,
#   that says ✔ or ✘ and why — but never the answer. Worked solutions are in `notebooks/solutions/`.
# - **Use vgglib** in your own code: `from vgglib import Convolution2D, ReLU, Maxpooling2D, …`; every layer
#   follows the contract shown above (NCHW arrays, `forward`/`backward`, `params`/`grads`), and
#   `vgglib.gradcheck.check_layer` checks any layer you write. `help(vgglib.Convolution2D)` names the
#   notebook that derives it.
# - **Run the tests**: `pytest` from the repository root runs the unit tests *and* re-runs every notebook,
#   comparing its outputs with the stored ones.

# %% [markdown]
# ## 🐞 Spot the bug: labels shuffled away from their images
#
# > Shuffling the training set before every epoch is good practice. The seed shuffled its images and its
# > labels with two separate calls, and each call draws its own random permutation. In effect (a
# > reconstruction, not the seed's literal lines; notebook 07 shows the same two lines):
# >
# > ```python
# > X = X[np.random.permutation(len(X))]
# > y = y[np.random.permutation(len(y))]
# > ```
# >
# > What does the network learn from `(X, y)` now?
#
# **Predict, then run.** Take the first 1,000 training digits and shuffle them this way. What fraction of
# the (image, label) pairs still carry the right label? Write your guess as a fraction (0.25 for 25%) before
# you run the next cell.

# %%
guess = None   # your prediction: the fraction of pairs still correct, e.g. 0.25

# %%
X, y = images[:1000], labels[:1000]
rng = np.random.default_rng(0)
X_bad, y_bad = X[rng.permutation(len(X))], y[rng.permutation(len(y))]      # the bug
X_ok, y_ok = shuffle(X, y, rng=1)                                         # one permutation for both

# Which label does each shuffled image really have? Look it up by content in the original set.
index = {img.tobytes(): lab for img, lab in zip(X, y)}
truth_bad = np.array([index[img.tobytes()] for img in X_bad])
truth_ok = np.array([index[img.tobytes()] for img in X_ok])
still_right = float(np.mean(truth_bad == y_bad))
reveal(guess, round(still_right, 3), rel_tol=0.3, what="the buggy shuffle")
print(f"pairs still correct after the buggy shuffle: {still_right:.1%}; "
      f"after vgglib.preprocess.shuffle: {np.mean(truth_ok == y_ok):.0%}")
chance = float(np.sum((np.bincount(y, minlength=10) / len(y)) ** 2))
print(f"chance that a random label matches, sum over digits of (share of that digit)²: {chance:.1%}")

fig, axes = plt.subplots(1, 10, figsize=(12, 1.7))
for ax, img, lab in zip(axes, X_bad, y_bad):
    ax.imshow(img, cmap=IMAGE_CMAP)
    ax.set_title(f"label {lab}", fontsize=9, color="black" if index[img.tobytes()] == lab else WRONG_COLOR)
    ax.axis("off")
plt.suptitle("after the buggy shuffle (crimson: wrong label)", fontsize=10, y=1.05)
plt.show()

# %% [markdown]
# About one pair in ten still matches — pure chance: a random label is right with probability
# $\sum_d q_d^2 \approx 1/10$, where $q_d$ is the share of digit $d$. The network is asked to learn a
# mapping that does not exist; on new digits the best it can do is to guess. Nothing crashes: with a small
# enough step the training loss even falls, because the network memorises the random pairs, while its accuracy
# on test digits stays at chance. The fix is one permutation applied to both arrays
# (`vgglib.preprocess.shuffle`); notebook 07 shows what the bug does to a real training run. The check that catches it: *look at a few training
# images with their labels* after every preprocessing step.

# %% [markdown]
# ## Summary
#
# | | VGG16 (ImageNet) | the seed's MNIST VGG16 |
# |---|---|---|
# | input | 224×224×3 | 64×64×1 (28×28 zoomed) |
# | convolutions | 13 × (3×3, stride 1, padding 1) + ReLU | same |
# | poolings | 5 × (2×2 max, stride 2): 224 → 7 | 64 → 2 |
# | fully connected | 25088 → 4096 → 4096 → 1000 | 2048 → 4096 → 4096 → 10 |
# | parameters | 138,357,544 (74% in fc1) | 39,928,522 |
# | multiply-adds per image | 15.5 billion, 99% in the convolutions | |
# | receptive field at conv5_3, $r_l = r_{l-1} + (k_l-1)\,j_{l-1}$, $j_l = j_{l-1}s_l$ | 196 of 224 pixels | 196 pixels: more than the 64-pixel image |
#
# | learning | formula |
# |---|---|
# | chain rule on a graph | gradient of an input = upstream gradient × local gradient; gradients from several uses add |
# | gradient descent | $p \leftarrow p - \eta\, \partial L/\partial p$ |
# | a layer | `y = forward(x)`; `dx = backward(dy)` fills `grads` (shapes of `params`) |
#
# **Remember:** small kernels stacked deep; count parameters and receptive fields before you build; an
# accuracy measured on $n$ images is only good to about $\pm 1/\sqrt{n}$; and every gradient is a product of
# local gradients, checked numerically.
#
# Next: **01 · Convolution**.
#
# ## Further reading
#
# - K. Simonyan, A. Zisserman, "Very Deep Convolutional Networks for Large-Scale Image Recognition",
#   arXiv:1409.1556 (2014; ICLR 2015) — the VGG paper: the configurations A–E, training and testing details.
# - K. He, X. Zhang, S. Ren, J. Sun, "Delving Deep into Rectifiers: Surpassing Human-Level Performance on
#   ImageNet Classification", ICCV 2015, arXiv:1502.01852 — the initialisation vgglib uses (notebook 03).
# - X. Glorot, Y. Bengio, "Understanding the difficulty of training deep feedforward neural networks",
#   AISTATS 2010 — why the scale of the initial weights matters (notebook 03).
# - Stanford CS231n, *Convolutional Neural Networks for Visual Recognition*, course notes at
#   <https://cs231n.github.io/> — "Backpropagation, Intuitions" (computational graphs, local gradients) and
#   "Convolutional Neural Networks" (the layers of notebooks 01–05).
# - A. Zhang, Z. C. Lipton, M. Li, A. J. Smola, *Dive into Deep Learning*, <https://d2l.ai> — the chapters on
#   convolutional networks and on modern CNNs, VGG among them, with runnable code.
# - K. Saitoh, *Deep Learning from Scratch* (O'Reilly Japan, 2016), code at
#   <https://github.com/oreilly-japan/deep-learning-from-scratch> — a numpy network built layer by layer with
#   computational graphs and im2col, the same approach as this series.

# %% [markdown]
# ## Exercises
#
# Each exercise ends with a self-check that says whether your answer is right and, if not, gives a hint —
# never the answer. Worked solutions are in `solutions/00_overview_solutions.ipynb`.
#
# **Exercise 1 (easy).** Three 3×3 convolutions (stride 1) are stacked. What is the side of the receptive
# field of one neuron of the third layer, in input pixels?

# %% tags=["exercise-1"]
answer = None   # a whole number
check_receptive_field(answer)

# %% [markdown]
# **Exercise 2 (easy).** AlexNet, the 2012 network VGG set out to improve, used 5×5 convolutions in its second
# layer. How many parameters (weights and biases) does a 5×5 convolution from 96 to 256 channels have?

# %% tags=["exercise-2"]
answer = None   # a whole number
check_conv_parameter_count(answer)

# %% [markdown]
# **Exercise 3 (medium).** Feed VGG16 a 96×96 image. How long is the vector that `Flatten` hands to `fc1`?
# (You may use `vgg16_layers` from section 1 to check yourself — after answering.)

# %% tags=["exercise-3"]
answer = None   # a whole number
check_flatten_size(answer)

# %% [markdown]
# **Exercise 4 (medium).** The chain rule on a graph you have not seen worked: drop the ReLU of section 5
# and use the loss **without** the ½, $y = w x + b$, $L = (y - t)^2$. At $x = 3$, $w = 2$, $b = -4$,
# $t = 1$, what are $dw = \partial L/\partial w$, $db$ and $dx$? Work them out by hand (forward, then
# backward), then check yourself with `neuron_loss`-style central differences if you like.

# %% tags=["exercise-4"]
answer = None   # your answer: a dict {"dw": ..., "db": ..., "dx": ...}
check_chain_rule(answer)
