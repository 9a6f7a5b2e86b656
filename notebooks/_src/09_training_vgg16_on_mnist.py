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
# bug once more, in training, and notebook 10 the dropout bug. It runs the same pipeline, done right, with the
# seed's own `train`/`run` calls.
#
# To fit into a minute on two CPU cores it trains a narrower VGG16 (1/8 of the channels) on 32×32 inputs and
# 2,500 sample digits for two epochs. One switch, `FULL_RUN`, turns the same code into the full run behind the
# stored result (recipe `mnist-vgg16`): all 60,000 MNIST digits (55,000 for training), 32×32, a quarter-width
# VGG16, 15 epochs with augmentation — more than an hour on two cores, not seconds (section 1 prints what the
# stored run took, section 9 what it reached).
#
# **Learning goals** — after this notebook you can
#
# - run two sanity checks before any long training: the loss at initialisation ($\ln 10$) and overfitting 100
#   images;
# - train VGG16 with Adam, watch live loss and accuracy curves, and save a checkpoint every epoch;
# - evaluate a model with a confusion matrix and a gallery of its worst mistakes;
# - reload a checkpoint through the seed-style `model.run(X, y, weights_file)` and get identical predictions;
# - spot the seed's shuffling bug, and know what the full run costs.

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
from vgglib.exercises import check_batches_per_epoch, check_confusion_matrix, check_early_stopping
from vgglib.losses import softmax_cross_entropy
from vgglib.model import VGG16
from vgglib.summarize import summary
from vgglib.optim import Adam
from vgglib.recipes import Recipe, get_recipe
from vgglib.train import evaluate, fit
from vgglib.viz import plot_confusion_matrix, plot_training, show_images, show_misclassified
from vgglib.widgets import LiveCurves

np.set_printoptions(precision=4, suppress=True)
print("vgglib", vgglib.__version__)

# %% [markdown]
# ## 1 · Settings: the lesson run and the full run
#
# A **recipe** (`vgglib.recipes`) holds every choice of a training run in one place. The lesson run is small on
# purpose; `FULL_RUN = True` switches to the registered recipe `mnist-vgg16`, the recipe of the full run whose
# history is stored in the repository (`results/mnist-vgg16/history.json`, read in section 9): full MNIST (the
# four original files, found via `$VGGLIB_DATA` — see notebook 07), 28×28 padded to 32×32, a quarter-width
# VGG16, Adam with a cosine schedule, random shifts and rotations (notebook 12), 15 epochs, 5,000 images held
# out for validation. The seed's 64×64 zoomed input is a second recipe, `mnist-vgg16-64` — the same network on
# 4× the pixels; no run of it is stored.

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
# recipes. Training writes a checkpoint after every epoch and can be interrupted (Kernel → Interrupt) and
# resumed; with `FULL_RUN = True`, section 5 first measures your machine and prints its own estimate.

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

# %% [markdown]
# ## 2 · The data, and the seed's shuffling bug
#
# `load_mnist` returns raw `uint8` images $(N, 28, 28)$ and labels $(N,)$. They stay raw in memory; the model
# prepares each batch when it needs it (to $[0, 1]$, augmented, resized, standardised), so even the full
# training set at 64×64 never has to exist as floats (that would be 1 GB). The last `val_size` training images
# are held out for validation — chosen by their position, not at random, so they are the same in every run.

# %%
X_all, y_all = load_mnist("train", source=recipe.data)
X_test, y_test = load_mnist("test", source=recipe.data)
if recipe.limit:
    X_all, y_all = X_all[:recipe.limit], y_all[:recipe.limit]
(X_train, y_train), (X_val, y_val) = train_val_split(X_all, y_all, recipe.val_size)
print(f"train {X_train.shape} {X_train.dtype}, validation {X_val.shape}, test {X_test.shape}")
print("digits per class in the training set:", np.bincount(y_train, minlength=10))
show_images(X_train[:20], labels=y_train[:20].tolist(), ncols=10, size=0.9)
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
# one label in ten is still right, by chance. No network can learn from that — it can only learn the class
# frequencies — and no error message says so. The fix is one permutation for both (`vgglib.preprocess.shuffle`; the
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
# with a black border (nothing interpolated; MNIST's digits already sit in a 20×20 box inside the 28×28).

# %%
one = to_float(X_train[:1])[:, None]
versions = (("28x28 original", one[0, 0]), ("padded to 32x32", resize(one, 32, "pad")[0, 0]),
            ("zoomed to 64x64 (seed)", resize(one, 64, "zoom")[0, 0]))
fig, axes = plt.subplots(1, 3, figsize=(6.5, 2.4))
for ax, (title, img) in zip(axes, versions):
    ax.imshow(img, cmap="gray")
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
# ## 4 · The second sanity check: overfit 100 images
#
# A network with half a million parameters must be able to memorise 100 images. If it cannot drive their loss
# to about zero, something is broken — the gradients, the optimizer, the data pipeline — and training on 60,000
# images would only hide it. Dropout is switched off for this check (it exists to *prevent* memorising), and
# training stops as soon as all 100 are right (a callback; at most 60 epochs). The
# seed's training would have failed here: with its labels shuffled away from the images there is nothing
# consistent to memorise.

# %% tags=["nbval-ignore-output"]
# (trained numbers differ in the last digits between BLAS builds and thread counts; the assert holds everywhere)
tiny = VGG16(input_size=recipe.input_size, width=recipe.width, dropout=0.0, rng=np.random.default_rng(1),
             resize=recipe.resize_method)
all_right = lambda h: h["train_accuracy"][-1] == 1.0          # a callback returning True stops training
t0 = time.perf_counter()
overfit = fit(tiny, (X_train[:100], y_train[:100]), epochs=60, batch_size=20, optimizer=Adam(1e-3), seed=0,
              callbacks=[all_right], progress=False, verbose=False)
print(f"100 images, {len(overfit['epoch'])} epochs ({time.perf_counter() - t0:.0f} s): training accuracy "
      f"{100 * overfit['train_accuracy'][-1]:.0f}%, loss {overfit['train_loss'][-1]:.4f}")
assert overfit["train_accuracy"][-1] >= 0.95

# %% [markdown]
# ## 5 · Training, the seed's way: `model.train(X, y, batch_size, epochs, weights_file)`
#
# The seed's call signature, with everything behind it done properly (`vgglib.train.fit`): mini-batches of
# shuffled *indices* (images and labels stay together), Adam, the recipe's learning-rate schedule, dropout only
# in training mode, a checkpoint written atomically after every epoch, and the validation images evaluated after
# every epoch. The progress bar is `tqdm.auto`; the curves are drawn by a `LiveCurves` callback into one picture
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


# %% [markdown]
# **Why is the training accuracy below the validation accuracy?** Not because the validation digits are easier:
# the two are measured differently. The training accuracy of an epoch is a *running average* over its batches,
# each scored with the weights as they were at that batch — in epoch 1 the first batches met a nearly random
# network — and with dropout on (here $p$ = 0.3). The validation accuracy is measured once, at the end of the
# epoch, with the final weights and dropout off. Score the training images again now, with the final weights,
# once with dropout on and once in inference mode:

# %% tags=["nbval-ignore-output"]
# (trained numbers differ in the last digits between BLAS builds and thread counts; the assert holds everywhere)
def accuracy_dropout_on(model, X, y, batch_size=250):
    # accuracy with the weights as they are now, scored in training mode (dropout on, nothing updated)
    correct = 0
    for i in range(0, len(y), batch_size):
        logits = model.forward(model.prepare(X[i:i + batch_size]), training=True)
        correct += int(np.sum(logits.argmax(axis=1) == y[i:i + batch_size]))
    return correct / len(y)


train_inference = evaluate(model, X_train, y_train)["accuracy"]
print(f"training images, running average over the last epoch (as recorded): {100 * history['train_accuracy'][-1]:.1f}%")
print(f"training images, final weights, dropout on:                         {100 * accuracy_dropout_on(model, X_train, y_train):.1f}%")
print(f"training images, final weights, inference mode:                     {100 * train_inference:.1f}%")
print(f"validation images, final weights, inference mode:                   {100 * history['val_accuracy'][-1]:.1f}%")
assert train_inference > history["train_accuracy"][-1] and train_inference > history["val_accuracy"][-1] - 0.03

# %% [markdown]
# Scored the same way as the validation images — final weights, inference mode — the training images come out
# as good as or better than the validation images, as they should; the recorded figure is lower because it
# averages over an epoch of improving weights, and dropout lowers it a little more. The gap is largest in
# epoch 1, where the weights change most.

# %%
plot_training(history, title="the run above: every batch's loss, and per-epoch metrics")
plt.show()

# %% [markdown]
# ## 6 · Evaluation: accuracy, confusion matrix, mistakes
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
axes[1].bar(range(10), 100 * recall, color="tab:blue")
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
# ## 7 · The checkpoint: reload it the seed's way, `model.run(X, y, weights_file)`
#
# The checkpoint is one `.npz` file: every parameter under `"<layer>.<key>"`, the optimizer's state, the
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
# ## 8 · The full run
#
# Set `FULL_RUN = True` in section 1 and run the notebook again (Kernel → Restart Kernel and Run All Cells). The
# original MNIST files must be where `load_mnist("train", source="full")` finds them (notebook 07). The same
# cells then train the `mnist-vgg16` recipe — the recipe of the stored run — with the live curves updating
# every 10 batches; the checkpoint goes to `checkpoints/09_vgg16_full.npz`, and an interrupted run continues
# when `resume=True` is added to the `model.train` call. The command line runs the same recipe without Jupyter:
# `python -m vgglib train --recipe mnist-vgg16` (the stored run's exact command is printed below); the seed's
# 64×64 variant is `--recipe mnist-vgg16-64`.
#
# ## 9 · Stored results of the full run
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
    print(f"training accuracy in the last epoch {100 * full_history['train_accuracy'][-1]:.2f}% "
          "(running average, dropout 0.5 and augmentation on)")
else:
    print(f"No stored full run in {STORED}.")

# %% [markdown]
# ## Summary
#
# | step | what | catches |
# |---|---|---|
# | shuffle | one permutation for images and labels | the seed's bug: labels random w.r.t. images |
# | loss at init | $\approx \ln 10 = 2.303$ for 10 classes | wrong initialisation scale, label leaks |
# | overfit 100 images | training loss → 0 without dropout | broken gradients, optimizer, pipeline |
# | train | `model.train(X, y, batch_size, epochs, weights_file)` = `fit` + Adam + checkpoints | — |
# | watch | `LiveCurves` callback, `tqdm` progress | divergence, plateaus, overfitting (train vs val) |
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
# far, and `False` otherwise. (Use it as `model.train(..., val_data=..., callbacks=[make_early_stopping(3)])`.)

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
