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
# # 09 · Training VGG16 on MNIST
#
# Everything comes together: the layers of notebooks 01–06, the data of 07, the architecture of 08. The seed
# project's pipeline was short — load MNIST, zoom the digits to 64×64, build VGG16, `model.train(...)`,
# `model.run(...)` — and it reached **60% on 100 test images**, trained "very slowly", with the five bugs listed
# in notebook 00 on the way: labels shuffled away from their images, dropout after the softmax, gradients of
# the wrong shapes, pixel normalisation that wrapped around in `uint8`, and a max-pool backward pass that
# ignored the stride. Notebooks 01–07 fixed the last three and met the first; this notebook meets the shuffling
# bug once more, in training, and notebook 10 the dropout bug. Before any library call trains anything, the
# training loop is written out in fifteen lines and run; then the same pipeline runs, done right, with the
# seed's own `train`/`run` calls — which turn out to be that loop plus what a long run needs.
#
# To fit into a minute on two CPU cores it trains a narrower VGG16 (1/8 of the channels) on 32×32 inputs and
# 2,500 sample digits for two epochs. One switch, `FULL_RUN`, turns the same code into the full run behind the
# stored result (recipe `mnist-vgg16`): all 60,000 MNIST digits (55,000 for training), 32×32, a quarter-width
# VGG16, 15 epochs with augmentation — tens of minutes to over an hour on two cores, by machine, not seconds
# (section 1 prints what the stored run and three later timed runs took, section 10 what the stored run reached).
#
# **Learning goals** — after this notebook you can
#
# - write the training loop yourself — shuffle, batch, forward, loss, backward, update, record — and find each
#   of its lines inside `vgglib.train.fit`;
# - run two sanity checks before any long training: the loss at initialisation ($\ln 10$) and overfitting a
#   tiny subset (32 images), and say what each one catches — and what it cannot;
# - train VGG16 with Adam, watch live loss and accuracy curves, save a checkpoint every epoch, and explain why
#   the recorded training accuracy can lie *below* the validation accuracy;
# - evaluate a model with a confusion matrix and a gallery of its worst mistakes;
# - reload a checkpoint through the seed-style `model.run(X, y, weights_file)` and get identical predictions;
# - spot the seed's shuffling bug, and say what `FULL_RUN` runs, how it relates to the stored run, and what it
#   costs.

# %%
# %matplotlib inline
import json
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display

import vgglib
from vgglib import checkpoint
from vgglib.mnist import load_mnist
from vgglib.preprocess import resize, shuffle, to_float, train_val_split
from vgglib import train as train_module
from vgglib.exercises import check_batches_per_epoch, check_confusion_matrix, check_early_stopping, reveal
from vgglib.losses import softmax_cross_entropy
from vgglib.model import VGG16
from vgglib.summarize import summary
from vgglib.optim import Adam
from vgglib.recipes import Recipe, get_recipe
from vgglib.runstate import reseed
from vgglib.train import evaluate, fit
from vgglib.viz import (IMAGE_CMAP, digit_color, plot_confusion_matrix, plot_training, show_images,
                        show_misclassified)
from vgglib.widgets import LiveCurves

np.set_printoptions(precision=4, suppress=True)
print("vgglib", vgglib.__version__)

# %% [markdown]
# ## 1 · Settings: the lesson run and the full run
#
# A **recipe** (`vgglib.recipes`) holds every choice of a training run in one place. The lesson run is small on
# purpose; `FULL_RUN = True` switches to the registered recipe `mnist-vgg16`, the recipe of the full run whose
# history is stored in the repository (`results/mnist-vgg16/history.json`, read in section 10): full MNIST (the
# four original files, found via `$VGGLIB_DATA` — see notebook 07), 28×28 padded to 32×32, a quarter-width
# VGG16 with dropout 0.5, Adam with a cosine schedule, random shifts and rotations (notebook 12), 15 epochs of
# batches of 64, the last 5,000 training images held out for validation, seed 0. The seed's 64×64 zoomed input
# is a second recipe, `mnist-vgg16-64` — the same network on 4× the pixels; no run of it is stored.
#
# **How `FULL_RUN` relates to the stored run.** The stored run was made by the command line,
# `python -m vgglib train --recipe mnist-vgg16` (its exact command is printed in section 10), which builds the
# model, the split, the optimizer, the schedule and the augmentation from the same recipe and calls the same
# `fit` with the recipe's seed; the second cell below asserts that the stored recipe *is* `mnist-vgg16`. So
# `FULL_RUN = True` repeats that computation: the same initial weights, the same order of batches, the same
# augmentations and dropout masks. Expect close numbers, not identical digits: another BLAS build or thread
# count rounds a few sums differently, and over fifteen epochs of updates such differences grow.

# %%
FULL_RUN = False          # True: the stored run's recipe mnist-vgg16 — full MNIST, 32x32, 15 epochs

if FULL_RUN:
    recipe = get_recipe("mnist-vgg16")
else:
    recipe = Recipe("lesson", "2,500 sample digits, 1/8-width VGG16 at 32x32, two epochs",
                    data="sample", input_size=32, width=0.125, dropout=0.3, lr=1e-3, schedule="cosine",
                    epochs=2, batch_size=32, limit=3000, val_size=500)
CHECKPOINT = Path("checkpoints") / ("09_vgg16_full.npz" if FULL_RUN else "09_vgg16_sample.npz")
print(recipe.describe())
print("checkpoint:", CHECKPOINT)

# %% [markdown]
# **What the full run costs.** The stored run records its recipe, its machine and the time of every epoch
# (validation included); the cell reads them, and compares the arithmetic per image of the two full-size
# recipes. The same recipe was timed again later, three seeds on a quieter, faster machine
# (`results/time-to-accuracy/`); the cell reads that summary too. Training writes a checkpoint after every epoch and can be interrupted (Kernel → Interrupt) and
# resumed; with `FULL_RUN = True`, section 6 first measures your machine and prints its own estimate.

# %%
STORED = Path("..") / "results" / "mnist-vgg16" / "history.json"
macs = {name: summary(get_recipe(name).build_model(), print_table=False).total_macs
        for name in ("mnist-vgg16", "mnist-vgg16-64")}
ratio = macs["mnist-vgg16-64"] / macs["mnist-vgg16"]
print(f"multiply-adds per image: mnist-vgg16 {macs['mnist-vgg16'] / 1e6:.1f} M, "
      f"mnist-vgg16-64 {macs['mnist-vgg16-64'] / 1e6:.1f} M ({ratio:.2f}x)")
if STORED.exists():
    record = json.loads(STORED.read_text())
    stored_history = record["history"]
    assert record["recipe"] == get_recipe("mnist-vgg16").as_dict()   # the stored run is FULL_RUN's recipe
    print(f"FULL_RUN's recipe mnist-vgg16 = the stored run's: {get_recipe('mnist-vgg16').describe()}")
    train_time = sum(stored_history["time"])                          # seconds, every epoch's validation included
    images = stored_history["n_train"] * len(stored_history["epoch"])
    print(f"stored run of {record['recipe']['name']}: {len(stored_history['epoch'])} epochs of "
          f"{stored_history['n_train']:,} images in {train_time / 60:.0f} min on {record['machine']['cpus']} CPUs "
          f"= {images / train_time:.0f} images/s; {min(stored_history['time']) / 60:.0f} to "
          f"{max(stored_history['time']) / 60:.0f} min per epoch (a shared machine)")
    print(f"mnist-vgg16-64 on that machine, if time grew with the multiply-adds: about "
          f"{ratio * train_time / 3600:.1f} hours (an estimate; no such run is stored)")
else:
    print(f"No stored full run in {STORED}.")
TIMED = Path("..") / "results" / "time-to-accuracy" / f"{get_recipe('mnist-vgg16').epochs}-epochs" / "summary.json"
if TIMED.exists():  # the same recipe timed later with three seeds, on a quiet machine (README "Time to 99.5%")
    timed = json.loads(TIMED.read_text())["frameworks"]["vgglib"]
    assert timed["recipe"] == {k: v for k, v in get_recipe("mnist-vgg16").as_dict().items() if k != "seed"}
    minutes = [t / 60 for t in timed["training_seconds"]["values"]]
    print(f"timed runs of the same recipe ({len(minutes)} seeds): {min(minutes):.0f} to {max(minutes):.0f} min "
          f"each, test accuracy {100 * timed['test_accuracy']['mean']:.2f}% on average")

# %% [markdown]
# ## 2 · The data, and the seed's shuffling bug
#
# `load_mnist` returns raw `uint8` images $(N, 28, 28)$ and labels $(N,)$. They stay raw in memory; the model
# prepares each batch when it needs it (to $[0, 1]$, augmented, resized, standardised), so even the full
# training set at 64×64 never has to exist as floats (the cell prints what that would take). The last
# `val_size` training images are held out for validation — chosen by their position, not at random, so they are
# the same in every run.

# %%
X_all, y_all = load_mnist("train", source=recipe.data)
X_test, y_test = load_mnist("test", source=recipe.data)
if recipe.limit:
    X_all, y_all = X_all[:recipe.limit], y_all[:recipe.limit]
(X_train, y_train), (X_val, y_val) = train_val_split(X_all, y_all, recipe.val_size)
print(f"train {X_train.shape} {X_train.dtype}, validation {X_val.shape}, test {X_test.shape}")
print("digits per class in the training set:", np.bincount(y_train, minlength=10))
print(f"raw uint8 in memory: {X_train.nbytes / 1e6:.1f} MB; all 60,000 training digits at 64x64 as float32 "
      f"would take {60_000 * 64 * 64 * 4 / 1e9:.2f} GB")
show_images(X_train[:20], labels=y_train[:20].tolist(), ncols=10, size=0.9, cmap=IMAGE_CMAP)
plt.show()

# %% [markdown]
# **Spot the bug.** The seed shuffled its images and its labels separately. Its literal lines are not kept
# (notebook 00 shows a reconstruction with two `np.random.permutation` calls, notebook 07 this equivalent
# form); in effect it did this — once for the images, once for the labels:
#
# ```python
# np.random.shuffle(train_images)
# np.random.shuffle(train_labels)
# ```
#
# Two calls draw two different permutations. Afterwards image $i$ carries the label of some other image: about
# one label in ten is still right, by chance. No network can learn to recognise digits from that — it can
# memorise the pairs it is given (section 5 shows it), but nothing that carries over to new images beyond the
# class frequencies — and no error message says so. The fix is one permutation for both (`vgglib.preprocess.shuffle`; the
# trainer shuffles indices, which amounts to the same).

# %%
rng = np.random.default_rng(0)
images_order = rng.permutation(len(y_train))       # what np.random.shuffle(train_images) does
labels_order = rng.permutation(len(y_train))       # ... and a second, different shuffle for the labels
still_right = np.mean(y_train[images_order] == y_train[labels_order])
print(f"two shuffles: {100 * still_right:.1f}% of the images keep a correct label")

X_s, y_s = shuffle(X_train, y_train, rng=0)
position = {img.tobytes(): k for k, img in enumerate(X_train)}
kept = np.mean([y_train[position[img.tobytes()]] == label for img, label in zip(X_s, y_s)])
print(f"one shuffle (vgglib.preprocess.shuffle): {100 * kept:.1f}% keep their label")
assert kept == 1.0

# %% [markdown]
# The input size: VGG16's five 2×2 poolings halve the image five times, so it needs a multiple of 32. The seed
# zoomed 28×28 to 64×64 (4× the pixels, about 4× the arithmetic — 3.85×, printed in section 1 — and no new
# information); the lesson run pads to 32×32
# with a black border (nothing interpolated). The border loses nothing: MNIST's digits were size-normalised to
# fit a 20×20 box and centred in the 28×28 image, which already has a black margin — measured below on every
# training digit of the lesson.

# %%
ink_rows, ink_cols = (X_train > 0).any(axis=2), (X_train > 0).any(axis=1)       # (N, 28): rows/columns with ink
extent = lambda has_ink: has_ink.shape[1] - has_ink.argmax(axis=1) - has_ink[:, ::-1].argmax(axis=1)
print(f"the ink of every digit fits in {extent(ink_rows).max()} rows x {extent(ink_cols).max()} columns "
      f"of the 28x28 image ({len(X_train):,} digits)")
assert extent(ink_rows).max() <= 20 and extent(ink_cols).max() <= 20

one = to_float(X_train[:1])[:, None]
versions = (("28x28 original", one[0, 0]), ("padded to 32x32", resize(one, 32, "pad")[0, 0]),
            ("zoomed to 64x64 (seed)", resize(one, 64, "zoom")[0, 0]))
fig, axes = plt.subplots(1, 3, figsize=(6.5, 2.4))
for ax, (title, img) in zip(axes, versions):
    ax.imshow(img, cmap=IMAGE_CMAP)
    ax.set_title(title, fontsize=9)
    ax.axis("off")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 3 · The model and the first sanity check: $\ln 10$ at initialisation
#
# VGG16 of notebook 08, with the recipe's width and input size. Before training anything, look at the loss of
# the untrained network: its logits are small, so its probabilities are all close to $1/10$, and the
# cross-entropy must be close to $-\ln\frac{1}{10} = \ln 10 \approx 2.303$. Far above means the initial logits
# are too large (a bad initialisation scale); far below means something leaks the labels. Cheap, and it catches
# real bugs.

# %%
model = recipe.build_model()
info = summary(model, print_table=False)
print(f"{model!r}\n{info.total_macs / 1e6:.1f} M multiply-adds per image forward")

logits = model.forward(model.prepare(X_train[:256]), training=False)
loss0, _ = softmax_cross_entropy(logits, y_train[:256])
print(f"loss at initialisation: {loss0:.2f}   ln 10 = {np.log(10):.2f}")
assert abs(loss0 - np.log(10)) < 0.15

# %% [markdown]
# ## 4 · The training loop, written out
#
# Training is one loop, and it is short enough to write before using any library call that hides it. For every
# epoch: draw **one** new order of the training images (images and labels move together — the fix of the seed's
# bug); cut it into mini-batches; for every batch run the network **forward** in training mode (dropout on),
# compute the **loss** and its gradient with respect to the logits, **backward** through every layer (each
# fills its `grads`), let the **optimizer** update the weights, and **record** the batch's loss. The epoch's
# training loss and accuracy are the averages over its batches — each batch scored with the weights *as they
# were when it ran*, before its own update.

# %%
def train_loop(model, X, y, epochs, batch_size, optimizer, rng):
    '''Train model on raw images X (N, 28, 28) and labels y (N,); return the history of losses and accuracies.'''
    history = {"batch_loss": [], "train_loss": [], "train_accuracy": []}
    n = len(y)
    for epoch in range(epochs):
        order = rng.permutation(n)                        # shuffle: ONE permutation for images and labels
        loss_sum, correct = 0.0, 0
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]         # batch (the last one may be smaller)
            xb, yb = model.prepare(X[idx]), y[idx]        # uint8 (B, 28, 28) -> standardised float (B, 1, 32, 32)
            logits = model.forward(xb, training=True)     # forward, dropout on: (B, 10)
            loss, dlogits = softmax_cross_entropy(logits, yb)   # mean loss and dL/dlogits (B, 10)
            model.backward(dlogits)                       # backward: every layer's grads
            optimizer.step(model)                         # update: w <- w - step(grads)
            history["batch_loss"].append(float(loss))     # record
            loss_sum += loss * len(yb)
            correct += int(np.sum(logits.argmax(axis=1) == yb))
        history["train_loss"].append(loss_sum / n)        # running averages over the epoch
        history["train_accuracy"].append(correct / n)
    return history


# %% [markdown]
# Run it on the lesson model for two epochs of 320 images (ten batches of 32 each), and then run the library's
# `fit` on a second, identical model with the same settings. `fit` derives all its random generators from its
# `seed` (`vgglib.runstate.reseed`: one for the order of each epoch, one for each Dropout layer's masks); giving
# the written-out loop the same generators makes the two runs draw the same orders and the same masks, so they
# must agree batch for batch.
#
# One thing `fit` does differently: on a machine with several cores it splits each batch's convolutions over
# them, half the images each (`vgglib.fast.BatchSplit`, notebook 14), which changes the order of a few sums.
# The gradients then agree only to rounding — and Adam, which divides every gradient by its running size, turns
# a rounding-sized gradient of a weight that barely matters into a full-sized step, either way. So for this
# exact comparison both runs use one worker:

# %% tags=["nbval-ignore-output"]
# (timings differ from run to run)
subset = (X_train[:320], y_train[:320])
saved_threads = vgglib.fast.workers.threads
vgglib.fast.workers.threads = 1                  # one worker: fit runs every batch whole, like the loop
try:
    mine = recipe.build_model()                  # the lesson model: same initial weights as `model`
    t0 = time.perf_counter()
    loop_history = train_loop(mine, *subset, epochs=2, batch_size=32, optimizer=Adam(1e-3),
                              rng=reseed(mine, seed=0))
    t_loop = time.perf_counter() - t0
    theirs = recipe.build_model()
    t0 = time.perf_counter()
    fit_history = fit(theirs, subset, epochs=2, batch_size=32, optimizer=Adam(1e-3), seed=0, progress=False,
                      verbose=False)
    t_fit = time.perf_counter() - t0
finally:
    vgglib.fast.workers.threads = saved_threads
print(f"on this machine: the loop {t_loop:.1f} s, fit {t_fit:.1f} s for the same {len(loop_history['batch_loss'])} "
      "steps")

# %%
n_steps = len(loop_history["batch_loss"])
same_losses = np.allclose(loop_history["batch_loss"], fit_history["batch_loss"], rtol=1e-5, atol=0)
same_weights = all(np.allclose(a.value, b.value, rtol=1e-4, atol=1e-6)
                   for a, b in zip(mine.parameters(), theirs.parameters()))
print(f"{n_steps} steps ({n_steps // 2} per epoch: 320 images in batches of 32); first batch loss "
      f"{loop_history['batch_loss'][0]:.2f} (ln 10 = {np.log(10):.2f}); the two epochs' average losses "
      f"{loop_history['train_loss'][0]:.2f}, {loop_history['train_loss'][1]:.2f}")
print("the loop and fit: the same loss at every step:", same_losses, "| the same final weights:", same_weights)
assert n_steps == len(fit_history["batch_loss"]) == 2 * 10
assert same_losses and same_weights and min(loop_history["train_loss"]) > 2.0
assert np.allclose(loop_history["train_accuracy"], fit_history["train_accuracy"])

# %% [markdown]
# Twenty steps teach the network little (the loss barely leaves $\ln 10$); what matters here is that the
# fifteen lines and `fit` compute the same thing. Everything else in `vgglib/train.py` is what a *long* run
# needs around that loop:
#
# | in the loop above | in `vgglib/train.py` | what `fit` adds there |
# |---|---|---|
# | `for epoch` … `rng.permutation(n)` | `fit`'s `while s.epoch < epochs`, `_start_epoch` | a resumed epoch keeps its stored order |
# | batch, forward, loss, backward, step, record | `_train_batch` | the batch split over the cores (`BatchSplit`); the schedule's learning rate; a NaN/∞ loss stops before the update (`TrainingDivergedError`); `input_grad=False` (the images need no gradient); lazy augmentation via `model.prepare(..., augment, rng)` |
# | the epoch's averages | `_end_epoch` | validation with `evaluate` (dropout off), the learning rate and the time of the epoch |
# | — | `_save` (called after every epoch) | an atomic checkpoint: weights, optimizer state, position, order, every generator's state |
# | — | `_resume` | `resume=True` continues bit for bit from a checkpoint |
# | — | `_notify`, `Callback` (`vgglib.callbacks`) | callbacks after every batch and epoch: live curves, early stopping; returning `True` stops |
# | — | `sigint_sets` (`vgglib.runstate`), `_stopped`, `_interrupted` | Ctrl-C finishes the batch, saves, and returns the history |
#
# Their own one-line descriptions, read from the module:

# %%
for name in ("fit", "_start_epoch", "_train_batch", "_end_epoch", "_save", "_resume", "_notify", "_stopped"):
    first_line = getattr(train_module, name).__doc__.strip().splitlines()[0]
    print(f"{name:>13}: {first_line}")

# %% [markdown]
# ## 5 · The second sanity check: overfit a tiny subset
#
# Before a long run, train on a handful of images — here 32, one batch — until the network has memorised them:
# training accuracy 100%, loss near 0. A network with half a million parameters can memorise 32 images
# easily, so if it does not, something in the machinery is broken: the gradients, the optimizer, the loss,
# the data pipeline. This is the **first** debugging step (Karpathy's "overfit one batch") because it is
# cheap — seconds instead of hours — and because it separates two questions that a full run mixes up:
# *can the code learn at all?* (answered here) and *does what it learns generalise?* (answered by the
# validation set, later). A full run that ends at 60% cannot tell you which of the two failed; this check can
# only fail for the first reason. Dropout is switched off for it (dropout exists to *prevent* memorising),
# and the loop above does the training: 40 steps of Adam on the one batch.

# %% tags=["nbval-ignore-output"]
# (trained numbers differ in the last digits between BLAS builds and thread counts; the asserts hold everywhere)
X32, y32 = X_train[:32], y_train[:32]


def overfit(labels, steps=40):
    '''The lesson's VGG16 without dropout, trained on the 32 images X32 with `labels`: the trained model.'''
    tiny = VGG16(input_size=recipe.input_size, width=recipe.width, dropout=0.0, rng=np.random.default_rng(1),
                 resize=recipe.resize_method)
    train_loop(tiny, X32, labels, epochs=steps, batch_size=32, optimizer=Adam(5e-4), rng=np.random.default_rng(0))
    return tiny


t0 = time.perf_counter()
tiny = overfit(y32)
memorised = evaluate(tiny, X32, y32)             # final weights, inference mode
print(f"32 images, 40 steps ({time.perf_counter() - t0:.0f} s on this machine): training accuracy "
      f"{100 * memorised['accuracy']:.0f}%, loss {memorised['loss']:.4f}")
assert memorised["accuracy"] == 1.0 and memorised["loss"] < 0.05

# %% [markdown]
# **Predict, then run.** The seed shuffled its images and its labels separately (section 2), so every image
# carried a random label. Repeat the check with the 32 labels shuffled away from their images: what training
# accuracy (in %) do the same 40 steps reach now?

# %%
guess = None   # your prediction: a training accuracy in %, 0 to 100

# %% tags=["nbval-ignore-output"]
# (trained numbers differ in the last digits between BLAS builds and thread counts; the asserts hold everywhere)
y32_shuffled = y32[np.random.default_rng(1).permutation(32)]
print(f"{np.mean(y32_shuffled == y32):.0%} of the shuffled labels are still right")
tiny_random = overfit(y32_shuffled)
random_fit = evaluate(tiny_random, X32, y32_shuffled)
reveal(guess, round(100 * random_fit["accuracy"]), what="the training accuracy (%) with shuffled labels")
held_out = {name: evaluate(net, X_val, y_val)["accuracy"] for name, net in (("true", tiny), ("shuffled", tiny_random))}
print(f"on the {len(y_val)} validation images: trained with the true labels {100 * held_out['true']:.0f}%, "
      f"with shuffled labels {100 * held_out['shuffled']:.0f}% (chance: 10%)")
assert random_fit["accuracy"] >= 0.9 and held_out["true"] > held_out["shuffled"] + 0.1

# %% [markdown]
# It memorises them anyway. Half a million parameters can store 32 arbitrary answers: neural networks fit even
# random labels (Zhang et al., 2017, "Understanding deep learning requires rethinking generalization"), so this
# check would **not** have caught the seed's bug — memorising needs no true relation between an image and its
# label. What gives the bug away is data the network has not trained on: with the true labels even 32 images
# teach it something about the other digits; with shuffled labels it is at chance level. Each check catches its
# own class of bug — the loss at initialisation the scale of the output, overfitting the machinery, the
# validation accuracy the data — and none replaces another.

# %% [markdown]
# ## 6 · Training, the seed's way: `model.train(X, y, batch_size, epochs, weights_file)`
#
# The seed's call signature, with everything behind it done properly: `model.train` calls `vgglib.train.fit`,
# which is the loop of section 4 — mini-batches of shuffled *indices* (images and labels stay together), forward
# with dropout on, loss, backward, Adam's step — plus the recipe's learning-rate schedule, a checkpoint written
# atomically after every epoch, and the validation images evaluated after every epoch. The progress bar is `tqdm.auto`; the curves are drawn by a `LiveCurves` callback into one picture
# that is redrawn every 10 batches — no pile of plots. (Kernel → Interrupt stops after the current batch and
# saves a checkpoint; `resume=True` continues bit for bit.)

# %% tags=["nbval-ignore-output"]
# (a live widget and a progress bar: their stored views differ from run to run)
CHECKPOINT.parent.mkdir(exist_ok=True)
live = LiveCurves(f"VGG16, width {recipe.width:g}, {recipe.input_size}x{recipe.input_size}", every=10)
display(live)
if FULL_RUN:                                         # measure this machine before committing hours to it
    probe = recipe.build_model()
    t0 = time.perf_counter()
    fit(probe, (X_train[:128], y_train[:128]), epochs=1, batch_size=recipe.batch_size, progress=False,
        verbose=False)
    rate = 128 / (time.perf_counter() - t0)
    print(f"{rate:.0f} images/s here: expect about {recipe.epochs * len(y_train) / rate / 3600:.1f} hours")
history = model.train(X_train, y_train, batch_size=recipe.batch_size, epochs=recipe.epochs,
                      weights_file=CHECKPOINT, optimizer=recipe.build_optimizer(),
                      schedule=recipe.build_schedule(), augment=recipe.build_augment(),
                      val_data=(X_val, y_val), seed=recipe.seed, callbacks=[live])

# %% tags=["nbval-ignore-output"]
# (trained numbers differ in the last digits between BLAS builds and thread counts; the asserts hold everywhere)
for e in range(len(history["epoch"])):
    print(f"epoch {history['epoch'][e]}: train loss {history['train_loss'][e]:.3f}, "
          f"train accuracy {100 * history['train_accuracy'][e]:.1f}% (with dropout), "
          f"validation accuracy {100 * history['val_accuracy'][e]:.1f}%, {history['time'][e]:.0f} s")
assert history["val_accuracy"][-1] > 0.7 and history["train_loss"][-1] < history["train_loss"][0]
gap = np.subtract(history["val_accuracy"], history["train_accuracy"])      # validation minus training, per epoch
assert np.all(gap > 0) and gap[0] == gap.max()                              # below in every epoch, most in epoch 1


# %% [markdown]
# **Why is the training accuracy below the validation accuracy?** In both epochs above, the network seems to do
# better on images it has never trained on than on the ones it trains on. Not because the validation digits are
# easier: the two numbers are measured differently.
#
# - The training accuracy of an epoch is a *running average* over its batches (the `correct += ...` line of
#   section 4), each batch scored with the weights as they were when it ran, *before* its update — while the
#   weights keep improving. In epoch 1 the first batches met a nearly random network.
# - It is scored in training mode, with dropout on (here $p$ = 0.3): every batch meets a thinned network.
# - The validation accuracy is measured once, at the end of the epoch, with the final weights and dropout off.
#
# Score the training images again now, with the final weights, once with dropout on and once in inference
# mode:

# %% tags=["nbval-ignore-output"]
# (trained numbers differ in the last digits between BLAS builds and thread counts; the assert holds everywhere)
def accuracy_dropout_on(model, X, y, batch_size=250):
    # accuracy with the weights as they are now, scored in training mode (dropout on, nothing updated)
    correct = 0
    for i in range(0, len(y), batch_size):
        logits = model.forward(model.prepare(X[i:i + batch_size]), training=True)
        correct += int(np.sum(logits.argmax(axis=1) == y[i:i + batch_size]))
    return correct / len(y)


train_dropout_on = accuracy_dropout_on(model, X_train, y_train)
train_inference = evaluate(model, X_train, y_train)["accuracy"]
print(f"training images, running average over the last epoch (as recorded): {100 * history['train_accuracy'][-1]:.1f}%")
print(f"training images, final weights, dropout on:                         {100 * train_dropout_on:.1f}%")
print(f"training images, final weights, inference mode:                     {100 * train_inference:.1f}%")
print(f"validation images, final weights, inference mode:                   {100 * history['val_accuracy'][-1]:.1f}%")
assert history["train_accuracy"][-1] < train_dropout_on < train_inference
assert train_inference > history["val_accuracy"][-1] - 0.03

# %% [markdown]
# Each step up the list removes one of the differences: the final weights instead of the epoch's average
# (the largest step), then dropout off. Scored the same way as the validation images, the training images come
# out about as well as the validation images (after two short epochs the network has not yet learnt its
# training images much better than others). The gap between the recorded curves is largest in epoch 1, where
# the weights change most; in long runs it closes, and the training accuracy ends above the validation accuracy
# (section 10).

# %%
plot_training(history, title="the run above: every batch's loss, and per-epoch metrics")
plt.show()

# %% [markdown]
# ## 7 · Evaluation: accuracy, confusion matrix, mistakes
#
# `evaluate` runs the test images in inference mode (dropout off) and returns the loss, the accuracy, the
# predictions and the **confusion matrix**: row = true digit, column = predicted digit, so the diagonal holds
# the correct answers and every off-diagonal cell is one kind of mistake.

# %% tags=["nbval-ignore-output"]
# (trained numbers differ in the last digits between BLAS builds and thread counts; the assert holds everywhere)
result = evaluate(model, X_test, y_test)
print(f"test accuracy {100 * result['accuracy']:.1f}% on {result['n']} digits, loss {result['loss']:.3f}")
print("(the seed: 60% on 100 test digits)")
assert result["accuracy"] > 0.7

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4.4), gridspec_kw={"width_ratios": [1, 1.25]})
plot_confusion_matrix(result["confusion"], ax=axes[0])
recall = np.diag(result["confusion"]) / result["confusion"].sum(axis=1)
axes[1].bar(range(10), 100 * recall, color=[digit_color(d) for d in range(10)])
axes[1].set(xticks=range(10), xlabel="true digit", ylabel="correct (%)", ylim=(0, 100),
            title="accuracy per digit")
plt.tight_layout()
plt.show()

# %% [markdown]
# The most confident mistakes first — the model's probability for its (wrong) answer above each digit. Some of
# them are digits a person would hesitate over too; others show what the short lesson run has not learnt yet.

# %%
probs = model.predict_proba(X_test)
show_misclassified(X_test, y_test, result["predictions"], probs, max_images=20, ncols=10)
plt.show()

# %% [markdown]
# ## 8 · The checkpoint: reload it the seed's way, `model.run(X, y, weights_file)`
#
# The checkpoint is one `.npz` file: every parameter under `"param/<layer>.<key>"`, the optimizer's state, the
# trainer's position and random generators, and a JSON header with the architecture. It is written atomically
# (a crash mid-save never leaves half a file) and read without pickle (loading a file can never run code). A
# **fresh** VGG16 with different random weights, `run` with the checkpoint, must make exactly the same
# predictions as the trained model:

# %%
header, arrays = checkpoint.read(CHECKPOINT)
params = {k: v for k, v in arrays.items() if k.startswith("param/")}
print(f"{CHECKPOINT.name}: {len(params)} parameter arrays, {sum(v.size for v in params.values()):,} values; "
      f"architecture {header['arch']['type']}, width {header['arch']['width']:g}; "
      f"optimizer {header['optimizer']['type']}")

fresh = VGG16(input_size=recipe.input_size, width=recipe.width, dropout=recipe.dropout,
              rng=np.random.default_rng(123), resize=recipe.resize_method)
before, _ = fresh.run(X_test[:200], y_test[:200])
predictions, accuracy = fresh.run(X_test, y_test, weights_file=CHECKPOINT)
same = bool(np.array_equal(predictions, result["predictions"]) and accuracy == result["accuracy"])
print("before loading, the fresh weights agree with the trained model on",
      "few" if np.mean(before == result["predictions"][:200]) < 0.5 else "many", "test digits")
print("after run(..., weights_file): identical predictions on all", len(predictions), "test digits:", same)
assert same

# %% [markdown]
# ## 9 · The full run
#
# Set `FULL_RUN = True` in section 1 and run the notebook again (Kernel → Restart Kernel and Run All Cells). The
# original MNIST files must be where `load_mnist("train", source="full")` finds them (notebook 07). The same
# cells then train the `mnist-vgg16` recipe — the stored run's recipe, run through the same `fit` with the same
# seed (section 1) — with the live curves updating
# every 10 batches; the checkpoint goes to `checkpoints/09_vgg16_full.npz`, and an interrupted run continues
# when `resume=True` is added to the `model.train` call. The command line runs the same recipe without Jupyter:
# `python -m vgglib train --recipe mnist-vgg16` (the stored run's exact command is printed below); the seed's
# 64×64 variant is `--recipe mnist-vgg16-64`.
#
# ## 10 · Stored results of the full run
#
# The history of a full run of `mnist-vgg16` is stored in the repository (`results/mnist-vgg16/history.json`):
# every epoch's metrics, every batch's loss, and the test set's result, measured once after training. Its
# curves and its headline numbers:

# %%
if STORED.exists():
    record = json.loads(STORED.read_text())
    full_history, test = record["history"], record["test"]
    plot_training(full_history, title=f"stored full run: {STORED}")
    plt.show()
    val = full_history["val_accuracy"]
    confusion = np.array(test["confusion"])
    assert confusion.sum() == test["n"] and np.trace(confusion) / test["n"] == test["accuracy"]
    print(f"command: {record['command']}")
    print(f"test accuracy {100 * test['accuracy']:.2f}% on {test['n']:,} test digits "
          f"({test['n'] - np.trace(confusion)} wrong), test loss {test['loss']:.4f}")
    print(f"validation accuracy: {100 * val[0]:.1f}% after epoch 1, best {100 * max(val):.2f}% "
          f"(epoch {full_history['epoch'][int(np.argmax(val))]}), {100 * min(val[9:]):.2f}–{100 * max(val[9:]):.2f}% "
          f"in epochs 10–{len(val)}, {100 * val[-1]:.2f}% after the last")
    train_acc = full_history["train_accuracy"]
    below = [e for e, t, v in zip(full_history["epoch"], train_acc, val) if t < v]
    print(f"training accuracy in the last epoch {100 * train_acc[-1]:.2f}% (running average, dropout "
          f"{record['recipe']['dropout']:g} and augmentation {record['recipe']['augment']} on)")
    above = [e for e in full_history["epoch"] if e not in below]
    print(f"training accuracy below validation accuracy in {len(below)} of {len(val)} epochs; above in epochs "
          f"{above}")
    print(f"epoch 1: training {100 * train_acc[0]:.1f}%, validation {100 * val[0]:.1f}%; learning rate at the end of "
          f"epochs {above[-3]}-{above[-1]}: {full_history['lr'][above[-3] - 1]:.0e} down to "
          f"{full_history['lr'][above[-1] - 1]:.0e} (it started at {record['recipe']['lr']:g})")
    assert len(below) > len(val) / 2 and below[0] == 1 and above[-3:] == [13, 14, 15]
else:
    print(f"No stored full run in {STORED}.")

# %% [markdown]
# The stored run shows the effect of section 6 at full scale: its recorded training accuracy lies below the
# validation accuracy in most epochs — by far the most in epoch 1, whose running average includes the first,
# nearly random batches — for the reasons of section 6 and one more: its training digits are randomly shifted
# and rotated (the recipe's augmentation), so they are harder than the untouched validation digits. The
# running average climbs above the validation accuracy once in mid-run and then for good in the last three
# epochs, where the cosine schedule has brought the learning rate close to zero: the weights barely change
# during an epoch, so its running average is scored with nearly the final weights.

# %% [markdown]
# ## Summary
#
# | step | what | catches |
# |---|---|---|
# | shuffle | one permutation for images and labels | the seed's bug: labels random w.r.t. images |
# | loss at init | $\approx \ln 10 = 2.303$ for 10 classes | wrong initialisation scale, label leaks |
# | the loop | per epoch: permute; per batch: prepare, forward, loss, backward, step, record | — |
# | overfit 32 images | 100% training accuracy, loss → 0, without dropout; the first debug step (seconds) | broken gradients, loss, optimizer, pipeline — *not* wrong labels (random labels are memorised too) |
# | train | `model.train(X, y, batch_size, epochs, weights_file)` = `fit` = the loop + schedule, validation, checkpoints, callbacks, Ctrl-C | — |
# | watch | `LiveCurves` callback, `tqdm` progress | divergence, plateaus, overfitting (train vs val) |
# | read the curves | recorded training accuracy = running average, dropout on; validation = end of epoch, dropout off | a "training below validation" that is no bug |
# | evaluate | accuracy, confusion matrix (rows true, columns predicted), worst mistakes | which digits are confused |
# | reload | `model.run(X, y, weights_file)`, npz without pickle, atomic writes | corrupt or mismatched checkpoints |
#
# Next: **10 · Dropout** — the layer the seed put after the softmax, derived and put where it belongs.

# %% [markdown]
# ## Exercises
#
# Worked solutions are in `solutions/09_training_vgg16_on_mnist_solutions.ipynb`.
#
# **Exercise 1 (easy).** The full run trains on 55,000 images (5,000 held out) in batches of 64. How many batches
# make one epoch, if every image is used exactly once?

# %% tags=["exercise-1"]
answer = None   # your answer: a whole number
check_batches_per_epoch(answer)


# %% [markdown]
# **Exercise 2 (medium).** Long runs should stop when they stop improving. Write `make_early_stopping(patience)`
# that returns a `fit` callback: a function `callback(history)`, called after every epoch, that returns `True`
# (stop) once `history["val_accuracy"]` has gone `patience` epochs in a row without beating its best value so
# far, and `False` otherwise — Python's `True` and `False`: `fit` stops only when a callback returns the value
# `True` itself. (Use it as `model.train(..., val_data=..., callbacks=[make_early_stopping(3)])`.)

# %% tags=["exercise-2"]
def make_early_stopping(patience):
    '''-> callback(history) -> bool: True once val_accuracy has not improved for `patience` epochs'''
    raise NotImplementedError


check_early_stopping(make_early_stopping)


# %% [markdown]
# **Exercise 3 (harder).** Write `accuracy_and_confusion(y_true, y_pred, num_classes)` returning the accuracy (a
# fraction) and the confusion matrix, `confusion[t, p]` = number of images of true class `t` predicted as `p`.
# Vectorise it: no Python loop over the images.

# %% tags=["exercise-3"]
def accuracy_and_confusion(y_true, y_pred, num_classes):
    '''y_true, y_pred (N,) ints -> (accuracy: float, confusion: (num_classes, num_classes) ints)'''
    raise NotImplementedError


check_confusion_matrix(accuracy_and_confusion)
