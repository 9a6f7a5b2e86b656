"""Self-checks for the exercises of ``notebooks/09_training_vgg16_on_mnist.ipynb``.

Worked solutions: ``notebooks/solutions/09_training_vgg16_on_mnist_solutions.ipynb``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ._common import ExerciseResult, verdict

__all__ = ["check_batches_per_epoch", "check_early_stopping", "check_confusion_matrix"]


def check_batches_per_epoch(answer: Any) -> ExerciseResult:
    """Exercise 1: batches per epoch for 55,000 training images in batches of 64 (the last batch may be smaller)."""
    name = "batches_per_epoch"
    if answer is None:
        return verdict(name, False, "", "no answer yet: replace None with a whole number")
    if isinstance(answer, bool) or not isinstance(answer, (int, np.integer, float, np.floating)):
        return verdict(name, False, "", f"expected a number, got {type(answer).__name__} {answer!r}")
    expected = math.ceil(55_000 / 64)
    if float(answer) == expected:
        return verdict(name, True, "859 full batches of 64 and a last one of 24 images: ceil(55000 / 64) = 860.", "")
    if float(answer) == 55_000 // 64:
        hint = "that drops the last, smaller batch: its 24 images would never be trained on"
    elif not float(answer).is_integer():
        hint = "a number of batches is a whole number; round in the direction that keeps every image"
    elif float(answer) == math.ceil(60_000 / 64):
        hint = "that is for all 60,000 images; 5,000 are held out for validation"
    else:
        hint = "divide the number of images by the batch size"
    return verdict(name, False, "", hint)


def check_early_stopping(make_callback: Callable[..., Any]) -> ExerciseResult:
    """Exercise 2: ``make_callback(patience)`` returns a ``fit`` callback ``callback(history) -> bool`` that returns
    True (stop) once ``history["val_accuracy"]`` has not improved on its best for ``patience`` epochs in a row."""
    name = "early_stopping"
    if not callable(make_callback):
        return verdict(name, False, "", f"pass your function itself, got {type(make_callback).__name__}")
    cases = [  # (validation accuracies, patience, the epoch (1-based) at which training must stop, or None)
        ([0.50, 0.60, 0.70, 0.80, 0.85], 2, None),
        ([0.90, 0.80, 0.85], 1, 2),
        ([0.50, 0.70, 0.60, 0.72, 0.71, 0.70, 0.69], 3, 7),
        ([0.50, 0.70, 0.69, 0.70, 0.65], 2, 4),  # 0.70 again is no improvement
    ]
    for accs, patience, stop_at in cases:
        try:
            callback = make_callback(patience)
        except NotImplementedError:
            return verdict(name, False, "", "not implemented yet: replace the `raise NotImplementedError` line.")
        except Exception as err:  # noqa: BLE001 — the student's code may raise anything
            return verdict(name, False, "", f"make_callback({patience}) raised {type(err).__name__}: {err}")
        if not callable(callback):
            return verdict(name, False, "", "make_callback(patience) must return a function callback(history)")
        stopped = None
        for e in range(1, len(accs) + 1):
            history = {
                "epoch": list(range(1, e + 1)),
                "val_accuracy": list(accs[:e]),
                "train_loss": [1.0 / k for k in range(1, e + 1)],
            }
            try:
                decision = callback(history)
            except Exception as err:  # noqa: BLE001
                return verdict(name, False, "", f"your callback raised {type(err).__name__}: {err} (epoch {e})")
            if decision is True or (isinstance(decision, np.bool_) and bool(decision)):  # as fit decides
                stopped = e
                break
        if stopped != stop_at:
            what = f"accuracies {accs} with patience {patience}"
            if stop_at is None:
                return verdict(
                    name, False, "", f"it stopped at epoch {stopped} although the accuracy kept improving ({what})"
                )
            tie = any(accs[k] == max(accs[:k]) for k in range(1, stop_at))
            if stopped is not None and stopped < stop_at:
                hint = "too early: wait until `patience` epochs in a row have not beaten the best"
            elif tie:
                hint = "an accuracy equal to the best so far is no improvement: only a larger one resets the count"
            elif stopped is None:
                hint = "it never stopped: count the epochs since the best accuracy so far, return True (a bool) to stop"
            else:
                hint = "too late: stop as soon as `patience` epochs in a row have not beaten the best"
            return verdict(name, False, "", f"{hint} ({what})")
    return verdict(name, True, "stops after `patience` epochs without a new best validation accuracy.", "")


def check_confusion_matrix(func: Callable[..., Any]) -> ExerciseResult:
    """Exercise 3: ``func(y_true, y_pred, num_classes) -> (accuracy, confusion)`` with confusion[t, p] = how many
    images of true class t were predicted as p."""
    name = "confusion_matrix"
    if not callable(func):
        return verdict(name, False, "", f"pass your function itself, got {type(func).__name__}")
    rng = np.random.default_rng(90)
    t = rng.integers(0, 4, 60)
    p = np.where(rng.random(60) < 0.7, t, rng.integers(0, 4, 60))
    p[:3] = 3  # make the matrix clearly asymmetric
    t[:3] = 0
    expected = np.zeros((4, 4), dtype=int)
    for a, b in zip(t, p):
        expected[a, b] += 1
    acc = float(np.mean(t == p))
    try:
        out = func(t.copy(), p.copy(), 4)
    except NotImplementedError:
        return verdict(name, False, "", "not implemented yet: replace the `raise NotImplementedError` line.")
    except Exception as err:  # noqa: BLE001 — the student's code may raise anything
        return verdict(name, False, "", f"your function raised {type(err).__name__}: {err}")
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        return verdict(name, False, "", "return the pair (accuracy, confusion)")
    try:
        a = float(out[0])
        cm = np.asarray(out[1])
    except (TypeError, ValueError):
        return verdict(name, False, "", "accuracy must be a number and confusion an array")
    if cm.shape != (4, 4):
        return verdict(
            name, False, "", f"the confusion matrix must be (num_classes, num_classes) = (4, 4), got {cm.shape}"
        )
    if np.array_equal(cm, expected.T):
        return verdict(
            name, False, "", "rows and columns are swapped: rows are the true classes, columns the predictions"
        )
    if not np.array_equal(cm, expected):
        return verdict(name, False, "", "wrong counts: add 1 at [true, predicted] for every image")
    if math.isclose(a, 100 * acc, rel_tol=1e-9):
        return verdict(name, False, "", "the accuracy should be a fraction in [0, 1], not a percentage")
    if not math.isclose(a, acc, rel_tol=1e-9):
        return verdict(
            name, False, "", "the accuracy is the fraction of correct predictions: the diagonal's sum over all counts"
        )
    return verdict(name, True, "counts at [true, predicted]; the accuracy is trace / total.", "")
