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
# - say how sure "60% on 100 images" is, and recognise the seed's bugs when you meet them later.

# %%
# %matplotlib inline
import math

import matplotlib.pyplot as plt
import numpy as np

import vgglib
from vgglib import Convolution2D, Maxpooling2D, ReLU
from vgglib.mnist import load_mnist
from vgglib.preprocess import resize, shuffle, to_float
from vgglib.exercises import check_conv_parameter_count, check_flatten_size, check_receptive_field
from vgglib.model import VGG16
from vgglib.summarize import summary

np.set_printoptions(precision=4, suppress=True)
print("vgglib", vgglib.__version__)

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
print(f"VGG16 (224×224×3, 1000 classes): {total:,} parameters; "
      f"convolutions {conv_total / total:.0%}, FC layers {1 - conv_total / total:.0%}")
assert total == 138_357_544
assert summary(VGG16.spec(3, 1000, 224), print_table=False).total_params == total   # vgglib agrees

seed_rows = vgg16_layers(in_channels=1, size=64, num_classes=10)
seed_total = sum(p for _, p, _, _ in seed_rows)
print(f"the seed's MNIST variant (64×64×1, 10 classes): {seed_total:,} parameters, fc1 reads "
      f"512·2·2 = {512 * 2 * 2} values")
assert seed_total == summary(VGG16.spec(1, 10, 64), print_table=False).total_params

# %% [markdown]
# Three quarters of VGG16's parameters sit in one layer, `fc1`, which connects the 7×7×512 feature maps to
# 4096 units. The convolutions have few parameters but do almost all the computation (15.5 billion
# multiply-adds per image, notebook 08). The seed's 64×64 version has 2×2×512 = 2048 inputs to `fc1` and
# "only" 40 million parameters.
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
axes[0].set_title("the view grows, the maps shrink (224×224 input)")
axes[0].legend()
params = [p for _, p, _, _ in rows]
colors = ["C0" if n.startswith("conv") else "C2" if n.startswith("fc") else "C7" for n in names]
axes[1].bar(np.arange(len(rows)), np.maximum(params, 1), color=colors)
axes[1].set_yscale("log")
axes[1].set_ylim(1e3, 3e8)
axes[1].set_xticks(np.arange(len(rows)), names, rotation=90, fontsize=8)
axes[1].set_title("parameters per layer (log scale; pools have none)")
plt.tight_layout()
plt.show()


# %% [markdown]
# By `conv5_3` one neuron sees 196×196 of the 224×224 pixels — enough to take in a whole object.
#
# ## 3 · How sure is "60% on 100 images"?
#
# Before improving on a number, ask how precise it is. Each test image is a coin flip that comes up
# "correct" with some unknown probability $p$; with $n = 100$ images the standard error of the measured
# accuracy is $\sqrt{p(1-p)/n} \approx 4.9$ percentage points. The Wilson 95% interval:

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
# set, where an accuracy is pinned down to a few tenths of a percent — needed, since a good VGG16 gets
# above 99.5% (notebook 09 and the README's results).
#
# ## 4 · On real data: MNIST, and the seed's 64×64 zoom
#
# vgglib ships a sample of the real MNIST data — the first 6,000 training and 1,000 test digits — so every
# notebook runs offline. `load_mnist` returns `uint8` images (0 = black background, 255 = ink) and labels:

# %%
images, labels = load_mnist("train")
print("images", images.shape, images.dtype, "| labels", labels.shape, labels.dtype, "| first labels", labels[:10])

fig, axes = plt.subplots(2, 10, figsize=(12, 2.9))
for ax, img, lab in zip(axes.ravel(), images, labels):
    ax.imshow(img, cmap="gray")
    ax.set_title(str(lab), fontsize=10)
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
axes[0].imshow(x[0, 0], cmap="gray")
axes[0].set_title("64×64 input", fontsize=9)
for c, ax in enumerate(axes[1:]):
    ax.imshow(a[0, c], cmap="magma")
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
# ## 5 · The road map
#
# | # | notebook | what you build and check | vgglib |
# |---|---|---|---|
# | 00 | [overview](00_overview.ipynb) | this map; VGG16's numbers | `vgglib.summarize.summary` |
# | 01 | [convolution](01_convolution.ipynb) | the worked example, padding, stride, im2col; filters on digits | `layers.Convolution2D`, `im2col`, `reference` |
# | 02 | [convolution backprop](02_convolution_backprop.ipynb) | $db$, $dW = x \star dy$, $dx = \text{pad}(dy) \star \text{rot180}(W)$, stride, padding | `layers`, `gradcheck` |
# | 03 | [ReLU and initialisation](03_relu_and_initialization.ipynb) | the gate, dead units, He initialisation, activation histograms | `layers.ReLU` |
# | 04 | [pooling](04_pooling.ipynb) | max/min/avg, winner routing, ties, the stride bug | `layers.Pooling2D` |
# | 05 | [flatten and fully connected](05_flatten_and_fully_connected.ipynb) | $dW = x^\top dy$, $dx = dy\,W^\top$ | `layers.FullyConnected` |
# | 06 | [softmax and cross-entropy](06_softmax_and_cross_entropy.ipynb) | stable softmax, the fused gradient $p - y$, $\ln 10$ at init | `losses` |
# | 07 | [MNIST data](07_mnist_data.ipynb) | the IDX format byte by byte, normalisation, zoom, shuffling | `data` |
# | 08 | [the VGG16 architecture](08_vgg16_architecture.ipynb) | the whole network, parameters, memory, multiply-adds | `model.VGG16`, `summarize.summary` |
# | 09 | [training VGG16 on MNIST](09_training_vgg16_on_mnist.ipynb) | the seed's pipeline done right, live curves, checkpoints | `train`, `checkpoint` |
# | 10 | [dropout](10_dropout.ipynb) | inverted dropout, an interactive explorer, the softmax bug | `layers.Dropout`, `widgets` |
# | 11 | [optimizers](11_optimizers_sgd_momentum_adam.ipynb) | SGD, momentum, Adam, on a 2-D surface and on VGG | `optim` |
# | 12 | [data augmentation](12_data_augmentation.ipynb) | shifts, rotations, zoom, ZCA; why not flips | `augment` |
# | 13 | [feature maps](13_feature_maps.ipynb) | an interactive explorer of what the network sees | `widgets`, `viz` |
# | 14 | [making it fast](14_making_it_fast.ipynb) | from loops to GEMM, measured against PyTorch | fast conv path |
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
# | dropout after softmax | "probabilities" that no longer sum to 1 | 10 |

# %% [markdown]
# ## 6 · How to use these notebooks
#
# - **Run every cell, top to bottom** (Shift+Enter, or *Run → Run All Cells*). Each notebook stands alone and
#   takes under a minute. If something looks odd, *Kernel → Restart Kernel and Run All Cells*.
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
# > Shuffling the training set before every epoch is good practice. The seed's shuffling separated labels
# > from their images; in effect (a reconstruction, not its literal lines) it shuffled the two arrays with
# > **two different** random permutations:
# >
# > ```python
# > X = X[np.random.permutation(len(X))]
# > y = y[np.random.permutation(len(y))]
# > ```
# >
# > What does the network learn from `(X, y)` now?

# %%
X, y = images[:1000], labels[:1000]
rng = np.random.default_rng(0)
X_bad, y_bad = X[rng.permutation(len(X))], y[rng.permutation(len(y))]      # the bug
X_ok, y_ok = shuffle(X, y, rng=1)                                         # one permutation for both

# Which label does each shuffled image really have? Look it up by content in the original set.
index = {img.tobytes(): lab for img, lab in zip(X, y)}
truth_bad = np.array([index[img.tobytes()] for img in X_bad])
truth_ok = np.array([index[img.tobytes()] for img in X_ok])
print(f"pairs still correct after the buggy shuffle: {np.mean(truth_bad == y_bad):.0%}; "
      f"after vgglib.preprocess.shuffle: {np.mean(truth_ok == y_ok):.0%}")

fig, axes = plt.subplots(1, 10, figsize=(12, 1.7))
for ax, img, lab in zip(axes, X_bad, y_bad):
    ax.imshow(img, cmap="gray")
    ax.set_title(f"label {lab}", fontsize=9, color="black" if index[img.tobytes()] == lab else "red")
    ax.axis("off")
plt.suptitle("after the buggy shuffle (red: wrong label)", fontsize=10, y=1.05)
plt.show()

# %% [markdown]
# About one pair in ten still matches — pure chance, as with ten classes. The network is asked to learn a
# mapping that does not exist; the best it can do on such labels is to guess. Nothing crashes, the loss
# just refuses to fall. The fix is one permutation applied to both arrays (`vgglib.preprocess.shuffle`); notebook
# 07 shows what the bug does to a real training run. The check that catches it: *look at a few training
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
# | receptive field | $r_l = r_{l-1} + (k-1)\,j_{l-1}$, $j_l = j_{l-1}s_l$ | 196 pixels at conv5_3 |
#
# **Remember:** small kernels stacked deep; count parameters and receptive fields before you build; and an
# accuracy measured on $n$ images is only good to about $\pm 1/\sqrt{n}$.
#
# Next: **01 · Convolution**.

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
