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
# # 07 · MNIST, byte by byte
#
# The seed project trained VGG16 on **MNIST**: 70,000 handwritten digits, 28×28 grey pixels each — 60,000 for
# training and 10,000 for testing. The handwriting was collected by NIST, the US National Institute of
# Standards and Technology, from Census Bureau employees (its Special Database 3) and high-school students
# (Special Database 1). Yann LeCun, Corinna Cortes and Christopher Burges remixed the two into a new training
# and test split, with writers of both kinds in each, and normalised every digit: the black-and-white scans
# were scaled to fit a 20×20 box (the anti-aliasing of that scaling made the grey levels) and centred, by their
# centre of mass, in a 28×28 image — the "Modified NIST" of the name. Before a single convolution runs, the
# data has to be read, looked at, scaled, resized and shuffled. The seed did all of these, and two of them
# went wrong in ways that no error message reports: the pixels were normalised with integer arithmetic that
# **wraps around**, and images and labels were **shuffled apart**. A network cannot learn from labels that
# belong to other images — and nothing crashes.
#
# This notebook reads the files by hand, byte by byte, then does every step with `vgglib.mnist` (the files)
# and `vgglib.preprocess` (the conversions), the way the rest of the series uses them. It runs on the
# **embedded sample** (the first 6,000 training and first 1,000 test digits, shipped with vgglib) and uses the
# full set only if it is on your machine.
#
# **Learning goals** — after this notebook you can
#
# - read an IDX file by hand: magic number, dimensions, big-endian sizes, raw pixel bytes;
# - load MNIST with `vgglib.mnist.load_mnist` and describe it: a grid of digits, the class histogram, pixel
#   statistics;
# - convert uint8 pixels to standardised floats safely — and explain why `uint8` arithmetic wraps around;
# - resize digits for VGG16 (zoom 28 → 64 as the seed did, or pad 28 → 32) and say what it costs;
# - shuffle images and labels with **one** permutation, and show what two permutations do to learning.

# %%
# %matplotlib inline
import gzip
import struct

import matplotlib.pyplot as plt
import numpy as np

import vgglib
from vgglib import Convolution2D, FullyConnected, viz
from vgglib.mnist import DataNotFoundError, load_mnist, read_idx, sample_dir
from vgglib.preprocess import MNIST_MEAN, MNIST_STD, batches, resize, shuffle, standardize, to_float
from vgglib.exercises import check_parse_idx_header, check_shuffle_together, check_uint8_wraparound, reveal
from vgglib.losses import softmax_cross_entropy

print("vgglib", vgglib.__version__)


# %% [markdown]
# ## 1 · The IDX format, byte by byte
#
# MNIST comes as four files in a minimal binary format called **IDX**: a few header bytes that say what is
# stored and in which shape, then the numbers themselves, one after the other. The files are gzip-compressed
# (every gzip file starts with the bytes `1f 8b`). Let us decompress the sample's training images and print
# the first 32 bytes in hexadecimal, 16 per line:

# %%
def hexdump(data, start=0, length=32):
    for offset in range(start, start + length, 16):
        chunk = data[offset:offset + 16]
        print(f"{offset:08x}  {chunk[:8].hex(' ')}  {chunk[8:].hex(' ')}")


path = sample_dir() / "train-images-first6000.idx3.gz"
compressed = path.read_bytes()
print(f"{path.name}: {len(compressed):,} bytes on disk, starting with {compressed[:2].hex(' ')} (gzip)")
raw = gzip.decompress(compressed)
print(f"decompressed: {len(raw):,} bytes\n")
hexdump(raw)

# %% [markdown]
# Read the first 16 bytes as four big-endian 32-bit numbers:
#
# | bytes | value | meaning |
# |---|---|---|
# | `00 00 08 03` | magic number | two zero bytes; `08` = the data are **unsigned bytes** (uint8); `03` = **3 dimensions** follow |
# | `00 00 17 70` | $0\text{x}1770 = 6000$ | number of images |
# | `00 00 00 1c` | $0\text{x}1c = 28$ | rows per image |
# | `00 00 00 1c` | $28$ | columns per image |
#
# Then come $6000 \times 28 \times 28 = 4{,}704{,}000$ pixel bytes, row by row, image by image — $16 + 4{,}704{,}000
# = 4{,}704{,}016$, exactly the decompressed size. (The next bytes are zeros: the top-left corner of the first
# digit is background.)
#
# **Big-endian** means the most significant byte comes first, the way we write numbers: `00 00 17 70` is
# $0\text{x}17 \cdot 256 + 0\text{x}70 = 6000$. Intel and ARM processors store integers the other way round
# (little-endian), so reading these bytes as a native `uint32` would give $0\text{x}70170000 = 1{,}880{,}555{,}520$
# images. `struct`'s `">"` says big-endian:

# %%
zero, type_code, ndim = struct.unpack(">HBB", raw[:4])
shape = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
print(f"type code 0x{type_code:02x}, {ndim} dimensions, shape {shape}")
print("the same four bytes read little-endian:", struct.unpack("<I", raw[4:8])[0])

pixels = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)
assert zero == 0 and type_code == 0x08 and shape == (6000, 28, 28)
assert np.array_equal(pixels, read_idx(path))         # vgglib's reader agrees
print("parsed by hand == vgglib.mnist.read_idx  ✓")

# %% [markdown]
# The pixels are one byte each: 0 is background, 255 full ink. Printing the first image's bytes in hex
# (`..` for 0) shows the digit in plain text — this is all a "28×28 image" is:

# %%
first = pixels[0]
for row in first[3:25]:
    print(" ".join(".." if v == 0 else f"{v:02x}" for v in row[2:26]))

# %% [markdown]
# The label files have the same structure with one dimension: magic `00 00 08 01`, the count, then one byte
# per label. The first labels are the famous `5 0 4 1 9 2 1 3 1 4`:

# %%
raw_labels = gzip.decompress((sample_dir() / "train-labels-first6000.idx1.gz").read_bytes())
hexdump(raw_labels, length=16)
print("labels:", list(raw_labels[8:18]))
assert list(raw_labels[8:18]) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]

# %% [markdown]
# ## 2 · Loading MNIST with vgglib
#
# `vgglib.mnist.read_idx` does the above for any IDX file, and checks everything that can be wrong with one
# (wrong magic number, truncated data, trailing bytes, a `.gz` name on a file that is not gzip...).
# `load_mnist(split, source)` finds the files and returns `(images, labels)`: uint8 arrays $(N, 28, 28)$ and
# $(N,)$, checked against their recorded sha256. `source="sample"` (the default) reads the embedded sample;
# `source="full"` reads the original files from `data_dir`, `$VGGLIB_DATA` or the user cache directory
# (`download=True` fetches them).

# %%
images, labels = load_mnist("train")                  # sample: the first 6,000 training digits
test_images, test_labels = load_mnist("test")         # sample: the first 1,000 test digits
print(f"train: images {images.shape} {images.dtype}, labels {labels.shape} {labels.dtype}")
print(f"test:  images {test_images.shape} {test_images.dtype}, labels {test_labels.shape}")
print("first ten training labels:", labels[:10], " first ten test labels:", test_labels[:10])

# %% [markdown]
# If the full data set is on this machine (set `VGGLIB_DATA` to the folder with the four original `.gz`
# files), the next cell loads it, confirms that the sample is exactly its beginning, and recomputes the
# pixel mean and standard deviation that section 4 uses. Its printed output depends on your machine, so the
# automated notebook test ignores it.

# %% tags=["nbval-ignore-output"]
try:
    full_images, full_labels = load_mnist("train", source="full")
    full_test_images, full_test_labels = load_mnist("test", source="full")
except DataNotFoundError:
    full_labels = None
    print("full MNIST not found: using the sample only (set VGGLIB_DATA, or load_mnist(..., download=True))")
else:
    assert full_images.shape == (60000, 28, 28) and full_test_images.shape == (10000, 28, 28)
    assert np.array_equal(full_images[:6000], images) and np.array_equal(full_labels[:6000], labels)
    assert np.array_equal(full_test_images[:1000], test_images)
    print(f"full MNIST: {len(full_images):,} training and {len(full_test_images):,} test images; "
          "the sample is their first 6,000 / 1,000  ✓")
    hist = np.bincount(full_images.ravel(), minlength=256)          # how many pixels have each value 0..255
    v = np.arange(256) / 255
    full_mean = hist @ v / hist.sum()
    full_std = np.sqrt(hist @ (v - full_mean) ** 2 / hist.sum())
    print(f"all {full_images.size:,} training pixels: mean {full_mean:.4f}, std {full_std:.4f} "
          f"(vgglib uses {MNIST_MEAN}, {MNIST_STD})")
    assert round(full_mean, 4) == MNIST_MEAN and round(full_std, 4) == MNIST_STD
    print("full training set, images per digit:", np.bincount(full_labels, minlength=10))

# %% [markdown]
# ## 3 · Looking at the data
#
# Always look at your data before training on it. Twelve examples of every digit from the sample — notice the
# variety of slants, thicknesses and styles (sevens with and without a bar, open and closed fours):

# %%
fig, axes = plt.subplots(10, 12, figsize=(9, 7.6))
for digit in range(10):
    for j, index in enumerate(np.flatnonzero(labels == digit)[:12]):
        ax = axes[digit, j]
        ax.imshow(images[index], cmap=viz.IMAGE_CMAP)
        ax.set_xticks([]); ax.set_yticks([])
    axes[digit, 0].set_ylabel(str(digit), rotation=0, labelpad=10, fontsize=12, color=viz.digit_color(digit))
fig.suptitle("the first twelve training images of each digit", y=0.92)
plt.show()

# %% [markdown]
# How balanced are the classes? Not perfectly: the sample has 671 ones but only 514 fives, and the full set
# leans the same way (the cell of section 2 prints its counts when it is available). The bars show the
# sample's share of each digit; if the full set is available, its shares are drawn as black ticks — the
# sample follows them closely. Accuracy on a data set this balanced is a fair summary; with rare classes it
# would not be.

# %%
counts = np.bincount(labels, minlength=10)
print("training sample, images per digit:", counts, " smallest:", counts.min(), " largest:", counts.max())
print("test sample, images per digit:    ", np.bincount(test_labels, minlength=10))
assert counts.argmax() == 1 and counts.argmin() == 5 and (counts[1], counts[5]) == (671, 514)

fig, ax = plt.subplots(figsize=(7, 3))
ax.bar(range(10), counts / counts.sum(), color=[viz.digit_color(d) for d in range(10)])
title = "bars: the sample (6,000 images)"
if full_labels is not None:
    full_share = np.bincount(full_labels, minlength=10) / len(full_labels)
    ax.plot(range(10), full_share, "_", color="black", markersize=25, mew=2)
    title += "; black ticks: the full set (60,000)"
ax.axhline(0.1, color="0.6", ls=":", lw=1)
ax.set_xticks(range(10)); ax.set_xlabel("digit"); ax.set_ylabel("share of the training images")
ax.set_title(title, fontsize=10)
plt.show()

# %% [markdown]
# And the pixels: most are pure background. Over the sample,

# %%
print(f"{(images == 0).mean():.1%} of the pixels are exactly 0, {(images == 255).mean():.1%} exactly 255")
print(f"pixel mean {images.mean() / 255:.4f}, std {(images / 255).std():.4f} (on the [0, 1] scale)")
print(f"the full training set's values, used by vgglib: mean {MNIST_MEAN}, std {MNIST_STD}")

# %% [markdown]
# ## 4 · Normalisation, and the uint8 trap
#
# Networks train best when their inputs are centred around 0 with a spread of about 1 (notebook 03 shows why
# for the activations; the same holds for the input). So the pixels go through two steps:
#
# $$ x = \frac{\text{pixel}}{255} \in [0, 1], \qquad \tilde x = \frac{x - \mu}{\sigma}, \quad \mu = 0.1307,\ \sigma = 0.3081, $$
#
# with $\mu$ and $\sigma$ the mean and standard deviation of all 47 million pixels of the full training set
# (the cell of section 2 recomputes them when the full set is available), computed once and then used for
# every image, training or test — never recomputed on the test set. `vgglib.preprocess.to_float` and
# `standardize` do exactly this, always returning **new float32 arrays**. Shapes do not change:
# $(N, 28, 28)$ uint8 → $(N, 28, 28)$ float32.

# %%
x = to_float(images)                                   # float32 in [0, 1]
x_std = standardize(x)                                 # (x - 0.1307) / 0.3081
print(f"to_float:    dtype {x.dtype}, range [{x.min():.1f}, {x.max():.1f}]")
print(f"standardize: dtype {x_std.dtype}, mean {x_std.mean():.3f}, std {x_std.std():.3f}, "
      f"background = {x_std.min():.4f}")
assert x.dtype == np.float32 and images.dtype == np.uint8 and abs(x_std.mean()) < 0.05
print(f"μ and σ were computed over all 60,000 × 28 × 28 = {60_000 * 28 * 28:,} training pixels; "
      f"pixel 0 → {(0 - MNIST_MEAN) / MNIST_STD:.2f}, pixel 255 → {(1 - MNIST_MEAN) / MNIST_STD:.2f}")

# %% [markdown]
# ## 🐞 Spot the bug: normalising uint8 pixels in place
#
# > The seed normalised its images with arithmetic on the **uint8** array itself. In effect (a
# > reconstruction, not its literal line) it centred them in place:
# >
# > ```python
# > X_train -= 33        # X_train is uint8: subtract the mean pixel value (33 ≈ 0.1307 · 255)
# > ```
# >
# > No error, no warning. What is in `X_train` now?
#
# A `uint8` holds only 0…255, and numpy's integer arithmetic on arrays is **modulo 256**: it wraps around
# silently. A background pixel $0 - 33$ becomes $-33 + 256 = 223$; full ink $255 - 33 = 222$. Background and
# strokes end up one step apart:

# %%
print("uint8 examples:", np.array([250], np.uint8) + np.uint8(10), np.array([0], np.uint8) - np.uint8(33),
      np.array([200], np.uint8) * np.uint8(2))

bad = images[:4].copy()
bad -= 33                                               # the seed's in-place normalisation
good = standardize(to_float(images[:4]))

fig, axes = plt.subplots(2, 4, figsize=(8, 4.4))
for i in range(4):
    axes[0, i].imshow(good[i], cmap=viz.IMAGE_CMAP)
    axes[0, i].set_title(f"float: {good[i].min():.2f}…{good[i].max():.2f}", fontsize=9)
    axes[1, i].imshow(bad[i], cmap=viz.IMAGE_CMAP)
    axes[1, i].set_title(f"uint8 -= 33: {bad[i].min()}…{bad[i].max()}", fontsize=9)
for ax in axes.flat:
    ax.axis("off")
fig.suptitle("top: standardised floats; bottom: the same digits after X -= 33 on uint8")
plt.show()
print("background pixel after the wrap-around:", bad[0, 0, 0], "  a full-ink pixel:", bad[0][images[0] == 255][0])

# %% [markdown]
# Full ink (222) and background (223) are now neighbours, and the strongest contrast in the image sits at the
# faint anti-aliased edges of the strokes: pixels of value 1…32 wrapped around to 224…255, the brightest
# values of all. What is left is a noisy outline on a 0…255 scale instead of a digit on about
# $-0.4$…$2.8$ — inputs a network would learn far worse from, with no error anywhere.
#
# **How vgglib prevents it:** `to_float` always makes a new float32 array, and every layer refuses integer
# input with a message that names this bug:

# %%
try:
    Convolution2D(1, 4, 3).forward(images[:2, None])       # uint8 straight into a layer
except TypeError as err:
    print("TypeError:", err)

# %% [markdown]
# ## 5 · Resizing for VGG16: zoom 28 → 64, or pad 28 → 32
#
# VGG16 halves the image five times (five 2×2 max-poolings), so the input side must be divisible by
# $2^5 = 32$ to come out whole: $32 \to 1$, $64 \to 2$, $224 \to 7$. A 28×28 digit fits neither. The seed
# **zoomed** every digit to 64×64 (interpolating new pixels between the old ones); the smallest choice is to
# **pad** it with 2 background pixels on every side to 32×32, which keeps every original pixel exact.
# `vgglib.preprocess.resize` does both for a whole batch at once, $(N, C, 28, 28) \to (N, C, S, S)$:

# %%
batch = to_float(images[:8])[:, None]                   # (8, 1, 28, 28): add the channel axis (NCHW)
zoomed = resize(batch, 64, "zoom")                      # (8, 1, 64, 64), bilinear
padded = resize(batch, 32, "pad")                       # (8, 1, 32, 32), zero border
print("original", batch.shape, "  zoomed", zoomed.shape, "  padded", padded.shape)
assert np.array_equal(padded[:, :, 2:30, 2:30], batch)   # padding keeps every pixel

fig, axes = plt.subplots(1, 3, figsize=(10, 3.4))
for ax, img, title in zip(axes, (batch[0, 0], padded[0, 0], zoomed[0, 0]),
                          ("original 28×28", "padded to 32×32", "zoomed to 64×64 (the seed)")):
    ax.imshow(img, cmap=viz.IMAGE_CMAP)
    ax.set_title(title)
    ax.set_xticks([0, img.shape[1] - 1]); ax.set_yticks([0, img.shape[0] - 1])
    ax.set_xlabel("column"); ax.set_ylabel("row")
plt.tight_layout()
plt.show()

# %% [markdown]
# The zoom adds no information — the new pixels are averages of old ones — but it costs a lot: every
# convolution does its work per pixel, so on a 64×64 input each one does $(64/32)^2 = 4$ times the work it
# does on 32×32, for $(64/28)^2 \approx 5.2$ times more pixels than the digit has. Memory grows the same way:

# %%
n = 60_000
for what, nbytes in (("uint8 28×28 (as stored)", n * 28 * 28),
                     ("float32 32×32 (padded)", n * 32 * 32 * 4),
                     ("float32 64×64 (the seed's zoom)", n * 64 * 64 * 4)):
    print(f"60,000 training images as {what:<32}: {nbytes / 2**20:>6.0f} MiB")
print(f"pixels per image: 64² / 32² = {64**2 / 32**2:.0f}×,  64² / 28² = {64**2 / 28**2:.1f}×")

# %% [markdown]
# Almost a gigabyte for the zoomed training set — which is why vgglib's trainer (`vgglib.train.fit`) keeps the
# uint8 images and prepares one batch at a time, just before using it (as `vgglib.preprocess.BatchLoader`
# does), and why the later notebooks mostly use 32×32.

# %% [markdown]
# ## 6 · Shuffling: one permutation for images *and* labels
#
# Training sees the data in mini-batches. If the order never changes, every epoch presents the same batches
# in the same sequence, and the network can pick up on the order; so each epoch starts by shuffling. The
# images and the labels are two separate arrays connected only by position: image `i` has label `i`. Any
# reordering must therefore apply the **same** permutation $\pi$ to both:
#
# $$ X' = X[\pi], \qquad y' = y[\pi]. $$

# %% [markdown]
# ## 🐞 Spot the bug: images shuffled away from their labels
#
# > Shuffling the training set before every epoch is good practice. The seed's shuffling separated the labels
# > from their images: in effect (a reconstruction, not its literal lines — notebook 00 shows the same) it
# > shuffled the two arrays with **two different** random permutations:
# >
# > ```python
# > X_train = X_train[np.random.permutation(len(X_train))]
# > y_train = y_train[np.random.permutation(len(y_train))]
# > ```
# >
# > Each line on its own is fine. Together?
#
# Each call draws a **new** random permutation from the generator, so the images and the labels are
# reordered differently. Afterwards image `i` carries the label of some unrelated image. (Two calls of
# `np.random.shuffle`, one per array, do exactly the same.)
#
# **Predict, then run.** After these two lines, what share of the 6,000 shuffled images still carry their own
# label? Write it as a fraction (0.5 for half).

# %%
guess = None   # your prediction: the share of images that keep their own label (a fraction, 0..1)

# %%
rng = np.random.default_rng(0)
perm_X = rng.permutation(len(images))                  # the seed's two separate permutations
perm_y = rng.permutation(len(labels))
X_seed, y_seed = images[perm_X], labels[perm_y]

# image i of X_seed is images[perm_X[i]]; its own label is labels[perm_X[i]]
still_right = np.mean(labels[perm_X] == y_seed)
reveal(guess, round(float(still_right), 3), what="the seed's shuffle")
share = np.bincount(labels, minlength=10) / len(labels)
print(f"chance that two random images have the same label: sum of the squared class shares = "
      f"{np.sum(share ** 2):.3f}")

fig, axes = plt.subplots(1, 10, figsize=(11, 1.6))
for i, ax in enumerate(axes):
    ax.imshow(X_seed[i], cmap=viz.IMAGE_CMAP); ax.axis("off")
    ok = labels[perm_X[i]] == y_seed[i]
    ax.set_title(f"label {y_seed[i]}", color="black" if ok else viz.WRONG_COLOR)
fig.suptitle("the first ten training pairs after the seed's shuffle (red title: a wrong label)", y=1.12)
plt.show()


# %% [markdown]
# What does that do to learning? Train the tiny softmax classifier of notebook 06 (one FC layer 784 → 10,
# 100 steps of gradient descent) twice: once on the correct pairs, once on the seed's shuffled pairs, and
# test both on the 1,000 correctly labelled test digits.

# %%
def train_and_test(train_images, train_labels, steps=100, lr=0.1):
    X = standardize(to_float(train_images)).reshape(len(train_images), -1)
    X_test = standardize(to_float(test_images)).reshape(len(test_images), -1)
    fc = FullyConnected(784, 10, rng=np.random.default_rng(0))
    fc.params["weights"] *= 0.01                        # start at loss ln 10 (notebook 06)
    losses = []
    for _ in range(steps):
        loss, dlogits = softmax_cross_entropy(fc.forward(X), train_labels)
        fc.backward(dlogits)
        fc.update(lr)
        losses.append(loss)
    return losses, (fc.forward(X_test).argmax(axis=1) == test_labels).mean()


losses_ok, acc_ok = train_and_test(images, labels)
losses_bug, acc_bug = train_and_test(X_seed, y_seed)
print(f"images and labels together: final training loss {losses_ok[-1]:.2f}, test accuracy {acc_ok:.1%}")
print(f"shuffled apart (the seed):  final training loss {losses_bug[-1]:.2f}, test accuracy {acc_bug:.1%}")
assert acc_ok > 0.8 and acc_bug < 0.2

fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(losses_ok, label=f"together: test accuracy {acc_ok:.0%}")
ax.plot(losses_bug, color=viz.WRONG_COLOR, label=f"shuffled apart: test accuracy {acc_bug:.0%}")
ax.axhline(np.log(10), color="0.6", ls=":", lw=1)
ax.set_xlabel("step"); ax.set_ylabel("training loss"); ax.legend()
plt.show()

# %% [markdown]
# With the labels shuffled apart there is nothing to learn that carries over to new digits: the test accuracy
# is chance, about 10%. Nothing crashes, the code "trains" — only the numbers tell.
#
# Why does the training loss *rise*, though? Not because of noise: this is full-batch gradient descent,
# every step uses the exact gradient over all 6,000 pairs, and there is nothing random left to chase. It
# rises because the step is **too large** for this problem. Gradient descent with step $\eta$ can only
# settle along a direction whose curvature $\lambda$ (second derivative of the loss) is below $2/\eta$; along a
# more curved one every step overshoots to the other side, further than it started. At the start all
# probabilities are $1/10$, and the largest curvature of the mean cross-entropy is then $\tfrac{1}{10}$ times
# the largest eigenvalue of $\tilde X^\top \tilde X / N$ ($\tilde X$: the inputs with a column of ones for
# the bias) — it does not depend on the labels:

# %%
X = standardize(to_float(images)).reshape(len(images), -1).astype(np.float64)    # (6000, 784)
X_aug = np.hstack([X, np.ones((len(X), 1))])                                      # (6000, 785): the bias too
top_eigenvalue = np.linalg.eigvalsh(X_aug.T @ X_aug / len(X_aug))[-1]
curvature = top_eigenvalue / 10
print(f"largest curvature at the start: {curvature:.1f};  stable steps are below 2 / {curvature:.1f} = "
      f"{2 / curvature:.3f}")
assert 0.03 < 2 / curvature < 0.1

# %% [markdown]
# So the step 0.1 is too large along that one direction, and 0.03 is not. After one step the loss dips just
# below $\ln 10$, then it climbs as the overshoot grows. (With the correct labels the same step also
# overshoots along that direction, but the progress along all the others outweighs it: the loss fell to 0.28.)
# With a step 0.03 instead of 0.1 the loss falls steadily — below $\ln 10$, and even below the best loss
# that knowing only the class frequencies allows: the classifier starts to **memorise** which training image
# carries which random label. That does not help on the test set, whose accuracy stays near chance:

# %%
losses_small, acc_small = train_and_test(X_seed, y_seed, lr=0.03)
share = np.bincount(y_seed, minlength=10) / len(y_seed)
prior_loss = -np.sum(share * np.log(share))            # best loss from the class frequencies alone
print(f"step 0.1:  loss {losses_bug[0]:.3f} → lowest {min(losses_bug):.3f} (after step {np.argmin(losses_bug)})"
      f" → {losses_bug[-1]:.3f} after {len(losses_bug)} steps")
print(f"step 0.03: loss {losses_small[0]:.3f} → {losses_small[-1]:.3f}, falling at every step; "
      f"test accuracy {acc_small:.1%}")
print(f"ln 10 = {np.log(10):.3f};  class frequencies alone: {prior_loss:.3f}")
assert np.argmin(losses_bug) <= 1 and losses_bug[-1] > np.log(10)
assert np.all(np.diff(losses_small) < 0) and losses_small[-1] < prior_loss - 0.03 and acc_small < 0.2

fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(losses_bug, color=viz.WRONG_COLOR, label="shuffled apart, step 0.1")
ax.plot(losses_small, color="black", label="shuffled apart, step 0.03")
ax.axhline(np.log(10), color="0.6", ls=":", lw=1)
ax.set_xlabel("step"); ax.set_ylabel("training loss"); ax.legend()
plt.show()

# %% [markdown]
# **How a check catches it:** shuffle an index array together with the data and verify that every image
# still has its original label, or simply *look* at a few shuffled pairs (as above).
# `vgglib.preprocess.shuffle` draws one permutation and applies it to both arrays, and its unit test verifies
# exactly this pairing:

# %%
X_s, y_s = shuffle(np.arange(len(images)), labels, rng=np.random.default_rng(0))   # shuffle indices + labels
assert np.array_equal(labels[X_s], y_s)                                            # every pair intact
print(f"vgglib.preprocess.shuffle: {np.mean(labels[X_s] == y_s):.0%} of the pairs intact, "
      f"{np.sum(X_s != np.arange(len(images))):,} of {len(images):,} images moved")

# batches() shuffles with one permutation per epoch and hands out (images, labels) pairs
for xb, yb in batches(images, labels, batch_size=64, rng=np.random.default_rng(1)):
    print("first batch:", xb.shape, xb.dtype, yb.shape, " labels:", yb[:10])
    break


# %% [markdown]
# ## Summary
#
# | step | in vgglib | shapes / dtype | the trap |
# |---|---|---|---|
# | read IDX | `read_idx(path)` | header `00 00 TT DD`, then DD big-endian uint32 sizes | reading sizes little-endian |
# | load | `load_mnist(split, source="sample" \| "full")` | uint8 $(N, 28, 28)$, uint8 $(N,)$ | — |
# | to floats | `to_float(images)` | float32 in $[0, 1]$, a new array | uint8 arithmetic wraps modulo 256 |
# | standardise | `standardize(x)` | $(x - 0.1307)/0.3081$, mean ≈ 0, std ≈ 1 | computing $\mu, \sigma$ on the test set |
# | resize | `resize(x, 64, "zoom")`, `resize(x, 32, "pad")` | $(N, C, 28, 28) \to (N, C, S, S)$, $S$ divisible by 32 | 64×64 costs 4× the compute of 32×32 |
# | all of it | `prepare(images, size, method)` | uint8 $(N, 28, 28)$ → float32 $(N, 1, S, S)$ | — |
# | shuffle | `shuffle(X, y, rng)`, `batches(X, y, batch_size, rng)` | one permutation $\pi$: $X[\pi], y[\pi]$ | two shuffles separate images from labels |
#
# Next: **08 · The VGG16 architecture** — stacking everything from notebooks 01–06 into the whole network,
# counting its parameters, memory and multiply-adds, and running it on these digits.

# %% [markdown]
# ## Exercises
#
# Worked solutions are in `solutions/07_mnist_data_solutions.ipynb`.
#
# **Exercise 1 (medium).** Write `parse_idx_header(data)` that takes the first bytes of any IDX file
# (a `bytes` object; it may be longer than the header) and returns `(type_code, shape)` — e.g. `(8, (6000, 28, 28))`
# for the sample's images — without using `vgglib.mnist`. The check tries five headers, with sizes over 65,535.

# %% tags=["exercise-1"]
def parse_idx_header(data):
    '''bytes -> (type_code: int, shape: tuple of ints)'''
    raise NotImplementedError


check_parse_idx_header(parse_idx_header)

# %% [markdown]
# **Exercise 2 (easy).** `x` is a uint8 array holding a pixel of value 20. After `x -= 33`, what value does that
# pixel hold? Work it out first, then confirm it in a scratch cell.

# %% tags=["exercise-2"]
answer = None   # your answer: a whole number
check_uint8_wraparound(answer)


# %% [markdown]
# **Exercise 3 (medium).** Write `shuffle_together(X, y, rng)` that returns `X` and `y` shuffled along
# their first axis so that every image keeps its label, using only the generator `rng` it is given (so the
# same seed gives the same order). Do not use `vgglib.preprocess.shuffle`.

# %% tags=["exercise-3"]
def shuffle_together(X, y, rng):
    '''X (N, ...), y (N,), rng: np.random.Generator -> (X_shuffled, y_shuffled)'''
    raise NotImplementedError


check_shuffle_together(shuffle_together)
