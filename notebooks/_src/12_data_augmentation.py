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
# # 12 · Data augmentation
#
# A 3 written two pixels further left is still a 3; so is a 3 tilted by ten degrees, or written a little larger.
# **Data augmentation** uses that knowledge: during training, every batch is shifted, rotated and zoomed at
# random before the network sees it, so that in every epoch the network meets images it has never seen —
# with labels that are still right. It is the cheapest regulariser there is, and for small data sets often the
# strongest.
#
# The seed project trained on the same fixed images every epoch. Here we build the transforms from their
# coordinate maps, check them against an independent implementation, add ZCA whitening (a preprocessing step
# often listed with them), see why some "augmentations" are wrong for digits, and measure what augmentation
# buys on a small training set.
#
# **Learning goals** — after this notebook you can
#
# - write shift, flip, rotation and zoom as maps from output to input coordinates, with bilinear interpolation;
# - say which transforms keep a digit's label, and why flips and large rotations do not;
# - derive ZCA whitening, $W = U(\Lambda + \epsilon)^{-1/2}U^\top$, and check that it whitens;
# - add augmentation to training with `fit(..., augment=Compose([...]))`;
# - measure its effect: accuracy on clean and on shifted/rotated test digits.

# %%
# %matplotlib inline
import time

import matplotlib.pyplot as plt
import numpy as np
from scipy import ndimage

import vgglib
from vgglib import Convolution2D, Flatten, FullyConnected, Maxpooling2D, ReLU
from vgglib import augment
from vgglib.augment import (Compose, RandomFlip, RandomRotation, RandomShift, RandomZoom, ZCAWhitening,
                            random_rotation)
from vgglib.mnist import load_mnist
from vgglib.preprocess import to_float
from vgglib.exercises import TRANSFORMS, check_label_preserving, check_shift, check_zca_matrix, reveal
from vgglib.model import Sequential
from vgglib.optim import Adam
from vgglib.train import evaluate, fit
from vgglib.viz import IMAGE_CMAP, SIGNED_CMAP, digit_color, show_images
from vgglib.widgets import augmentation_explorer

np.set_printoptions(precision=3, suppress=True)
print("vgglib", vgglib.__version__)

X_train, y_train = load_mnist("train")
X_test, y_test = load_mnist("test")
digits = to_float(X_test[:8])[:, None]              # (8, 1, 28, 28) in [0, 1], background 0

# %% [markdown]
# ## 1 · By hand: shifting a 5×5 image
#
# An "L" in a 5×5 image, shifted one pixel to the right. The obvious tool, `np.roll`, is wrong: what leaves
# the image on the right comes back on the left. A shift must fill the uncovered border with background (0)
# instead — the digit moves, the frame does not.

# %%
L = np.zeros((5, 5), dtype=int)
L[1:4, 1] = 1
L[3, 1:4] = 1
L[1:4, 4] = 2                                          # something at the right edge
rolled = np.roll(L, 1, axis=1)
shifted = np.zeros_like(L)
shifted[:, 1:] = L[:, :-1]                             # output column j reads input column j - 1
for name, img in (("original", L), ("np.roll (wraps around)", rolled), ("shift, zero fill", shifted)):
    print(name)
    print(img)


# %% [markdown]
# ## 2 · The math: transforms as coordinate maps
#
# Every geometric transform is easiest to write **backwards**: for each output pixel $p = (i, j)$ (row, column),
# where in the input does its value come from? With the image centre $c = \big(\tfrac{H-1}{2}, \tfrac{W-1}{2}\big)$:
#
# | transform | output pixel $p$ reads input at | parameters drawn per image |
# |---|---|---|
# | shift by $(d_y, d_x)$ | $p - (d_y, d_x)$ | integers in $[-s, s]$ |
# | horizontal flip | $(i,\ W - 1 - j)$ | flip with probability $q$ |
# | rotation by $\theta$ | $R_\theta\,(p - c) + c$, $\ R_\theta = \begin{pmatrix}\cos\theta & \sin\theta\\ -\sin\theta & \cos\theta\end{pmatrix}$ | $\theta \sim U[-\theta_{\max}, \theta_{\max}]$ |
# | zoom by $z$ | $(p - c)/z + c$ | $z \sim U[1 - z_{\max},\ 1 + z_{\max}]$ |
#
# Backwards, because then every output pixel gets exactly one value (mapping input pixels forwards leaves holes
# and collisions). The source point is in general *between* pixels: **bilinear interpolation** mixes the four
# neighbours $(y_0, x_0) = (\lfloor s_y \rfloor, \lfloor s_x \rfloor)$ with the fractions $f_y = s_y - y_0$,
# $f_x = s_x - x_0$:
#
# $$ \text{out}(p) = (1-f_y)(1-f_x)\,x_{y_0,x_0} + (1-f_y)f_x\,x_{y_0,x_0+1} + f_y(1-f_x)\,x_{y_0+1,x_0} + f_y f_x\,x_{y_0+1,x_0+1}, $$
#
# and a source point outside the image reads background, 0. Labels are never touched: the whole point is that
# the transform does not change which digit it is.
#
# ### ZCA whitening
# Neighbouring pixels are strongly correlated (strokes are several pixels wide). **Whitening** removes that:
# flatten the $N$ training images to $X$ of shape $(N, D)$, centre them, and take the covariance
#
# $$ C = \tfrac1N\,(X - \mu)^\top (X - \mu) = U \Lambda U^\top \quad (D \times D,\ \text{eigenvectors } U,\ \text{eigenvalues } \Lambda). $$
#
# Any $W$ with $W C W^\top = I$ whitens. **PCA** whitening $\Lambda^{-1/2} U^\top$ rotates the data into the
# eigenbasis — the result no longer looks like an image. **ZCA** rotates back:
#
# $$ W = U (\Lambda + \epsilon I)^{-1/2} U^\top, \qquad W C W^\top = U\,\Lambda(\Lambda + \epsilon I)^{-1} U^\top \approx I . $$
#
# It is the whitening matrix that changes the data least (it minimises $\mathbb{E}\lVert W(x - \mu) - (x - \mu)\rVert^2$),
# so whitened digits still look like digits, with edges emphasised. $\epsilon$ keeps directions with tiny
# variance — noise, and MNIST's always-black border — from being blown up. ZCA is not random: it is fitted once
# on the training images and applied to all images.

# %% [markdown]
# ## 3 · Naive code: rotation, pixel by pixel

# %%
def rotate_naive(img, degrees):
    '''Rotate one image (H, W) about its centre, bilinear, background 0 (positive = counter-clockwise).'''
    h, w = img.shape
    t = np.deg2rad(degrees)
    cos, sin = np.cos(t), np.sin(t)
    cy, cx = (h - 1) / 2, (w - 1) / 2
    out = np.zeros_like(img)
    for i in range(h):
        for j in range(w):
            sy = cos * (i - cy) + sin * (j - cx) + cy          # where output pixel (i, j) reads the input
            sx = -sin * (i - cy) + cos * (j - cx) + cx
            if not (0 <= sy <= h - 1 and 0 <= sx <= w - 1):
                continue                                       # outside: background
            y0, x0 = int(np.floor(sy)), int(np.floor(sx))
            y1, x1 = min(y0 + 1, h - 1), min(x0 + 1, w - 1)
            fy, fx = sy - y0, sx - x0
            out[i, j] = ((1 - fy) * (1 - fx) * img[y0, x0] + (1 - fy) * fx * img[y0, x1]
                         + fy * (1 - fx) * img[y1, x0] + fy * fx * img[y1, x1])
    return out


# %% [markdown]
# ## 4 · The checks
#
# 1. **The direction.** A rotation by +90° must equal `np.rot90` (a quarter turn counter-clockwise), pixel
#    for pixel: then the sign convention of the table is the one the code follows.
# 2. The naive rotation against **scipy's** `affine_transform` — an independent implementation of the same
#    map (matrix $R_\theta$, offset $c - R_\theta c$, linear interpolation).
# 3. The naive rotation against **`vgglib.augment.random_rotation`**: the library draws one angle per image,
#    `rng.uniform(-max_degrees, max_degrees, size=N)`, so the same seed tells us which angles it used.
# 4. **ZCA whitens**: the covariance of whitened training images is close to the identity in the directions
#    that carry signal (those with $\lambda \gg \epsilon$).

# %%
img = digits[0, 0]
quarter = np.abs(rotate_naive(img, 90.0) - np.rot90(img)).max()
print(f"rotate_naive(img, 90) = np.rot90(img), counter-clockwise, up to 1e-5: {quarter < 1e-5}")
assert quarter < 1e-5

angle = 25.0
t = np.deg2rad(angle)
R = np.array([[np.cos(t), np.sin(t)], [-np.sin(t), np.cos(t)]])
c = np.array([13.5, 13.5])
scipy_rot = ndimage.affine_transform(img, R, offset=c - R @ c, order=1, mode="constant", cval=0.0)
err_scipy = np.abs(rotate_naive(img, angle) - scipy_rot).max()
print(f"naive vs scipy.ndimage.affine_transform: equal up to 1e-5: {err_scipy < 1e-5}")
assert err_scipy < 1e-5

lib = random_rotation(digits, max_degrees=30, rng=np.random.default_rng(5))
angles = np.random.default_rng(5).uniform(-30, 30, size=len(digits))
err_lib = max(np.abs(rotate_naive(digits[k, 0], angles[k]) - lib[k, 0]).max() for k in range(len(digits)))
print("angles the library drew:", angles.round(1))
print(f"naive vs vgglib.augment.random_rotation: equal up to 1e-5: {err_lib < 1e-5}")
assert err_lib < 1e-5

# %%
train = to_float(X_train[:1000])[:, None]              # ZCA is fitted on training images
zca = ZCAWhitening(epsilon=1e-2).fit(train)
W = zca.components_                                     # (784, 784)
flat = train.reshape(len(train), -1).astype(np.float64)
C = np.cov(flat, rowvar=False, bias=True)              # the covariance the whitening should undo
lam, U = np.linalg.eigh(C)
WU = W @ U
white = np.einsum("ij,ij->j", WU, C @ WU)               # variance after whitening along each eigenvector
strong = lam > 100 * zca.epsilon
# along a direction of variance λ, whitening leaves λ/(λ + ε): at least 100/101 when λ > 100·ε
ok = np.allclose(white, lam / (lam + zca.epsilon), atol=1e-6) and white[strong].min() > 0.98
print(f"{strong.sum()} of {lam.size} directions have variance λ > 100·ε; after whitening they all have variance "
      f"in [0.98, 1] (1 = white), every direction λ/(λ + ε): {ok}")
print("W symmetric:", np.allclose(W, W.T), "| shape", W.shape)
assert ok and np.allclose(W, W.T)
never_inked = int((flat.max(axis=0) == 0).sum())
print(f"{never_inked} of 784 pixels are 0 in all {len(train)} training images (variance 0: only ε keeps "
      f"1/sqrt(λ + ε) finite there)")
assert never_inked > 0 and (lam < 1e-12).sum() >= never_inked

# %% [markdown]
# ## 5 · The real thing: `vgglib.augment`
#
# The library does the same for a whole batch at once: `random_shift` and `random_flip` are pure indexing;
# `random_rotation` and `random_zoom` build one $2\times2$ matrix per image and resample the whole batch with a
# single `scipy.ndimage.map_coordinates` call. Each has a class form for pipelines, and `Compose` chains them,
# all drawing from one generator — the same seed, the same batch:

# %%
pipeline = Compose([RandomShift(2), RandomRotation(15), RandomZoom(0.1)])
a = pipeline(digits, np.random.default_rng(0))
b = pipeline(digits, np.random.default_rng(0))
print(pipeline)
print("same seed, same batch:", np.array_equal(a, b), "| shape", a.shape, a.dtype,
      "| labels untouched: there are none to touch")

# %% tags=["nbval-ignore-output"]
# (timings differ from run to run)
batch = to_float(X_train[:256])[:, None]
t0 = time.perf_counter()
for k in range(16):
    rotate_naive(batch[k, 0], 10.0)
t_naive = (time.perf_counter() - t0) * len(batch) / 16
t0 = time.perf_counter()
random_rotation(batch, 10, rng=np.random.default_rng(0))
t_lib = time.perf_counter() - t0
print(f"rotating 256 digits: naive ≈ {t_naive:.2f} s, vgglib {1e3 * t_lib:.1f} ms ({t_naive / t_lib:.0f}x faster)")

# %% [markdown]
# ## 6 · On real data — and why flips are wrong for digits
#
# The same eight test digits under each transform (every image gets its own random parameters):

# %%
rng = np.random.default_rng(1)
rows = {
    "original": digits,
    "shift ≤ 3 px": augment.random_shift(digits, 3, rng),
    "rotate ≤ 15°": augment.random_rotation(digits, 15, rng),
    "zoom ±15%": augment.random_zoom(digits, 0.15, rng),
    "flip (p = 1)": augment.random_flip(digits, rng, p=1.0),
    "ZCA, ε = 0.01": zca(digits),
}
fig, axes = plt.subplots(len(rows), 8, figsize=(8, 7))
for r, (name, imgs) in enumerate(rows.items()):
    signed = name.startswith("ZCA")                   # whitened pixels are centred: signed, symmetric scale
    for k in range(8):
        img = imgs[k, 0]
        if signed:
            vmax = np.abs(img).max()
            axes[r, k].imshow(img, cmap=SIGNED_CMAP, vmin=-vmax, vmax=vmax)
        else:
            axes[r, k].imshow(img, cmap=IMAGE_CMAP, vmin=0, vmax=1)
        axes[r, k].set_xticks([])
        axes[r, k].set_yticks([])
    axes[r, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
for k in range(8):
    axes[0, k].set_title(f"label {y_test[k]}", fontsize=8)
fig.suptitle("eight test digits under each transform (ZCA: red > 0, blue < 0, each image on its own scale)",
             fontsize=10)
plt.tight_layout()
plt.show()

# %% [markdown]
# The shifted, rotated and zoomed digits are still obviously the same digits — that is what makes them valid
# training data. The flipped row is not: a mirrored 2, 4 or 7 is not a digit at all (and a mirrored 3 looks like
# an $\varepsilon$). Rotations have a limit too: turn a 6 by 180° and it *is* a 9, with the label still saying 6.
# An augmentation is only valid if it keeps the label; for photos of cats a horizontal flip is fine, for digits
# it teaches the network nonsense. Section 8 measures how much.
#
# The ZCA row (signed values: red above the training mean, blue below) keeps the digits recognisable, but
# shows mostly their **edges**: whitening divides out the strong correlation between neighbouring pixels, and
# what is left is where the image changes.

# %%
sixes = X_test[y_test == 6][:3]
turned = np.rot90(sixes, 2, axes=(1, 2))
show_images(np.concatenate([sixes, turned]), titles=["6"] * 3 + ["6 turned 180°"] * 3, ncols=6, size=1.3,
            title="three test sixes, then the same turned by 180°: labelled 6, they look like 9s")
plt.show()

# %% [markdown]
# ## 7 · Interactive: a slider per transform
#
# The top row shows eight training digits, the rows below three random draws of the pipeline the sliders
# describe. Push the rotation to 90° and find digits whose label is no longer safe; switch on the flip; switch
# on ZCA and change $\epsilon$ — small values emphasise noise, large ones leave the digit almost unchanged.

# %%
augmentation_explorer(X_train[:8], y_train[:8], n_draws=3, zca_fit_images=X_train[:1000])


# %% [markdown]
# ## 8 · Experiment: what augmentation buys
#
# A small VGG — two VGG blocks (two 3×3 convolutions and a 2×2 max-pool each, 8 and 16 filters) and two FC
# layers, on the 28×28 digits — trained on only **500** sample digits for 10 epochs, three times from the same
# initial weights:
#
# - without augmentation,
# - with random shifts (≤ 2 px) and rotations (≤ 15°), applied per batch by `fit(..., augment=...)`,
# - with the same plus random horizontal flips.
#
# Each is tested on the 1,000 sample test digits as they are, and on the same digits shifted by up to 3 px and
# rotated by up to 20° — test digits written a little less carefully than MNIST's, which are centred by their
# centre of mass.
#
# **Predict, then run.** The network trained *without* augmentation will get most of the clean test digits
# right. What accuracy (in %) do you expect from it on the shifted and rotated test digits?

# %%
guess = None   # your prediction: accuracy in %, e.g. 80

# %% tags=["nbval-ignore-output"]
# (trained numbers differ in the last digits between BLAS builds and thread counts; the asserts hold everywhere)
def small_vgg(seed=0):
    r = np.random.default_rng(seed)
    return Sequential([
        Convolution2D(1, 8, 3, padding=1, rng=r, name="conv1_1"), ReLU(name="relu1_1"),
        Convolution2D(8, 8, 3, padding=1, rng=r, name="conv1_2"), ReLU(name="relu1_2"), Maxpooling2D(name="pool1"),
        Convolution2D(8, 16, 3, padding=1, rng=r, name="conv2_1"), ReLU(name="relu2_1"),
        Convolution2D(16, 16, 3, padding=1, rng=r, name="conv2_2"), ReLU(name="relu2_2"), Maxpooling2D(name="pool2"),
        Flatten(), FullyConnected(16 * 7 * 7, 64, rng=r, name="fc1"), ReLU(name="relu_fc1"),
        FullyConnected(64, 10, rng=r, name="fc2"),
    ], input_shape=(1, 28, 28)).to_fast()      # the same layers computed by vgglib.fast (notebook 14): faster


print(f"{len(X_test)} test digits")
hard = Compose([RandomShift(3), RandomRotation(20)])(to_float(X_test)[:, None], np.random.default_rng(1))
X_hard = np.clip(np.round(255 * hard[:, 0]), 0, 255).astype(np.uint8)      # back to raw uint8 digits

setups = {"no augmentation": None,
          "shift + rotate": Compose([RandomShift(2), RandomRotation(15)]),
          "shift + rotate + flip": Compose([RandomShift(2), RandomRotation(15), RandomFlip(0.5)])}
scores = {}
for name, aug in setups.items():
    t0 = time.perf_counter()
    model = small_vgg()
    history = fit(model, (X_train[:500], y_train[:500]), epochs=10, batch_size=32, optimizer=Adam(2e-3),
                  augment=aug, seed=0, progress=False, verbose=False)
    scores[name] = (history["train_accuracy"][-1], evaluate(model, X_test, y_test)["accuracy"],
                    evaluate(model, X_hard, y_test)["accuracy"])
    if aug is None:
        plain = model
    print(f"{name:22} train {100 * scores[name][0]:5.1f}%   test {100 * scores[name][1]:5.1f}%   "
          f"shifted/rotated test {100 * scores[name][2]:5.1f}%   ({time.perf_counter() - t0:.0f} s on this machine)")
plain_s, aug_s, flip_s = scores["no augmentation"], scores["shift + rotate"], scores["shift + rotate + flip"]
gap = {name: 100 * (s[1] - s[2]) for name, s in scores.items()}
print("clean minus shifted/rotated test accuracy: " + ", ".join(f"{k} {v:.0f} points" for k, v in gap.items()))
assert plain_s[0] > 0.99 and plain_s[1] - plain_s[2] > 0.2         # fits its 500 digits, fails on sloppier ones
assert aug_s[0] < plain_s[0] and aug_s[2] > plain_s[2] + 0.1       # harder to fit, much more robust
assert gap["shift + rotate"] < gap["no augmentation"] / 1.5 and aug_s[1] > plain_s[1]
assert flip_s[0] < aug_s[0] and flip_s[1] < aug_s[1] and flip_s[2] < aug_s[2]   # flips make all three worse

# %% tags=["nbval-ignore-output"]
# (trained numbers differ in the last digits between BLAS builds and thread counts)
_ = reveal(guess, round(100 * plain_s[2], 1), rel_tol=0.1, what="the network trained without augmentation")

# %%
fig, ax = plt.subplots(figsize=(7, 3))
xs = np.arange(len(scores))
for k, (label, color) in enumerate((("test", "0.35"), ("shifted/rotated test", "0.7"))):
    values = [100 * s[k + 1] for s in scores.values()]
    bars = ax.bar(xs + (k - 0.5) * 0.38, values, 0.38, color=color, label=label)
    ax.bar_label(bars, fmt="%.0f", fontsize=8)
ax.set_xticks(xs, list(scores))
ax.set(xlabel="training data", ylabel="test accuracy (%)", ylim=(0, 100), title="500 training digits, 10 epochs")
ax.legend(fontsize=8, loc="lower left")
plt.tight_layout()
plt.show()

# %% [markdown]
# Without augmentation the network fits its 500 training digits (over 99% training accuracy) and does well on
# the clean test digits — but loses more than 20 points of that accuracy as soon as the test digits are moved
# and tilted a little: it has only ever seen digits in one position. Shifts and rotations cost several points of
# *training* accuracy (the training task got harder) and buy robustness: more than 10 points on the sloppy
# test digits, the gap between clean and sloppy shrinks by a third or more (the gaps printed above), and even
# clean test accuracy improves a little. Adding flips makes all three numbers worse than shifts and rotations
# alone — half of the training digits are now shapes that are no digits, labelled as if they were.
#
# A last look at the flip problem, with the model trained **without** augmentation: how does it do on the test
# digits mirrored? The nearly symmetric 0 and 1 mostly survive the mirror; a mirrored 3, 5 or 6 is almost never
# recognised (under 10%) — what it looks like (an $\varepsilon$, a backwards S, a hook) is not among the ten
# classes.

# %% tags=["nbval-ignore-output"]
# (trained numbers differ in the last digits between BLAS builds and thread counts)
mirrored = X_test[:, :, ::-1]
per_class = []
for d in range(10):
    keep = y_test == d
    per_class.append(evaluate(plain, mirrored[keep], y_test[keep])["accuracy"])
print(f"accuracy on all mirrored test digits: {100 * evaluate(plain, mirrored, y_test)['accuracy']:.0f}%")
print("per class (%):", {d: round(100 * a) for d, a in enumerate(per_class)})
assert min(per_class[0], per_class[1]) > 0.5 > 0.1 > max(per_class[3], per_class[5], per_class[6])

fig, ax = plt.subplots(figsize=(6, 2.6))
ax.bar(range(10), [100 * a for a in per_class], color=[digit_color(d) for d in range(10)])
ax.set_xticks(range(10))
ax.set(xlabel="digit (true class)", ylabel="accuracy (%)", ylim=(0, 100),
       title="mirrored test digits, network trained without augmentation")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Summary
#
# | | formula / rule | remarks |
# |---|---|---|
# | transforms as maps | output pixel $p$ reads input at $A(p - c) + c$ (+ shift) | backwards mapping: no holes |
# | bilinear interpolation | weights $(1-f_y)(1-f_x), (1-f_y)f_x, f_y(1-f_x), f_y f_x$ | outside the image: background 0 |
# | valid for digits | shift ≤ 2–3 px, rotate ≤ ~15°, zoom ±10% | mimic handwriting; labels unchanged |
# | invalid for digits | flips, large rotations (6 ↔ 9) | change or destroy the label |
# | ZCA whitening | $W = U(\Lambda + \epsilon)^{-1/2}U^\top$, fitted on training data | decorrelates pixels, keeps the look; not random |
# | in vgglib | `Compose([RandomShift(2), RandomRotation(15)])`; `fit(..., augment=pipeline)` | per batch, on [0, 1] images before resizing |
#
# Next: **13 · Feature maps** — what the layers of a trained VGG16 compute, explored interactively.

# %% [markdown]
# ## Exercises
#
# Worked solutions are in `solutions/12_data_augmentation_solutions.ipynb`.
#
# **Exercise 1 (easy).** Which of these transforms keep the label of *every* MNIST digit? Answer with a set of
# names copied from `TRANSFORMS`.

# %% tags=["exercise-1"]
print(TRANSFORMS)
answer = None   # your answer: a set of names, e.g. {"shift by 2 pixels"}
check_label_preserving(answer)


# %% [markdown]
# **Exercise 2 (medium).** Write `my_shift(image, dy, dx)`: the image $(H, W)$ moved `dy` rows down and `dx`
# columns right (negative values move up / left), the uncovered border filled with 0 and nothing wrapped
# around. No `np.roll`, no loops over pixels.

# %% tags=["exercise-2"]
def my_shift(image, dy, dx):
    '''image (H, W); dy, dx integers -> shifted image (H, W), zero border'''
    raise NotImplementedError


check_shift(my_shift)


# %% [markdown]
# **Exercise 3 (harder).** Write `my_zca_matrix(X, eps)` for data $X$ of shape $(N, D)$: the ZCA whitening matrix
# $W$ $(D, D)$ of section 2 (use `np.linalg.eigh`, not `ZCAWhitening`).

# %% tags=["exercise-3"]
def my_zca_matrix(X, eps):
    '''X (N, D) -> W (D, D) with W = U (Λ + eps)^(-1/2) Uᵀ for the covariance of the centred X'''
    raise NotImplementedError


check_zca_matrix(my_zca_matrix)
