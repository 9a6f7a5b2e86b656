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
# # 09 · Training VGG16 on MNIST — solutions
#
# Worked solutions to the exercises of `../09_training_vgg16_on_mnist.ipynb`. Each cell computes the answer,
# runs the same self-check, and asserts that it passes.

# %%
import math

import numpy as np

import vgglib
from vgglib.exercises import check_batches_per_epoch, check_confusion_matrix, check_early_stopping

print("vgglib", vgglib.__version__)

# %% [markdown]
# **Exercise 1.** $55{,}000 / 64 = 859.375$: 859 full batches and one of $55{,}000 - 859 \cdot 64 = 24$ images,
# $\lceil 859.375 \rceil = 860$ batches.

# %% tags=["solution-1"]
answer = math.ceil(55_000 / 64)
print(answer, "batches; the last one has", 55_000 - 64 * (answer - 1), "images")
result = check_batches_per_epoch(answer)
print(result)
assert result.correct


# %% [markdown]
# **Exercise 2.** The epochs since the best accuracy are the number of entries after the (first) position of the
# maximum; stop when that reaches `patience`. The callback reads the history, so it needs no state of its own.
# `int(np.argmax(...))` keeps the comparison in Python numbers, so the callback returns Python's `True`/`False`
# (`fit` also takes numpy's `np.True_` as a stop request, but no other truthy value: a stray number or list
# returned by a callback does not stop training).

# %% tags=["solution-2"]
def make_early_stopping(patience):
    '''-> callback(history) -> bool: True once val_accuracy has not improved for `patience` epochs'''
    def callback(history):
        acc = history["val_accuracy"]
        since_best = len(acc) - 1 - int(np.argmax(acc))       # argmax: the first maximum
        return since_best >= patience
    return callback


stop = make_early_stopping(2)
for accs in ([0.5, 0.7, 0.69], [0.5, 0.7, 0.69, 0.7]):
    print(accs, "-> stop" if stop({"val_accuracy": accs}) else "-> go on")
result = check_early_stopping(make_early_stopping)
print(result)
assert result.correct


# %% [markdown]
# **Exercise 3.** Encode each (true, predicted) pair as one number $t \cdot C + p$ and count them with
# `np.bincount`; the accuracy is the diagonal's share.

# %% tags=["solution-3"]
def accuracy_and_confusion(y_true, y_pred, num_classes):
    '''y_true, y_pred (N,) ints -> (accuracy: float, confusion: (num_classes, num_classes) ints)'''
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    codes = y_true.astype(np.int64) * num_classes + y_pred
    confusion = np.bincount(codes, minlength=num_classes * num_classes).reshape(num_classes, num_classes)
    return float(np.trace(confusion) / len(y_true)), confusion


acc, cm = accuracy_and_confusion(np.array([0, 1, 1, 2]), np.array([0, 1, 2, 2]), 3)
print(acc)
print(cm)
result = check_confusion_matrix(accuracy_and_confusion)
print(result)
assert result.correct
