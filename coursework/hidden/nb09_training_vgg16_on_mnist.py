"""Hidden tests for notebooks/09_training_vgg16_on_mnist.ipynb: exercises 2 (``make_early_stopping``) and 3
(``accuracy_and_confusion``).

The self-checks (public) use four accuracy curves and one 60-image case; these use other patience values, long
curves with ties, numpy floats, many classes (some never seen), a single image, uint8 labels, and compare with
``vgglib.metrics``.
"""

import math

import numpy as np

from vgglib.coursework import assert_close, call, hidden_test
from vgglib.metrics import accuracy, confusion_matrix


def _stop_epoch(accs, patience):
    """The reference rule: stop once `patience` epochs in a row have not beaten the best so far."""
    for e in range(1, len(accs) + 1):
        if e - 1 - int(np.argmax(accs[:e])) >= patience:
            return e
    return None


def _run(make_early_stopping, accs, patience, where):
    callback = call(make_early_stopping, patience, where=where)
    if not callable(callback):
        raise AssertionError(f"make_early_stopping(patience) must return a function callback(history) ({where})")
    for e in range(1, len(accs) + 1):
        history = {
            "epoch": list(range(1, e + 1)),
            "train_loss": [1.0 / k for k in range(1, e + 1)],
            "train_accuracy": list(accs[:e]),
            "val_loss": [1.0 - a for a in accs[:e]],
            "val_accuracy": list(accs[:e]),
        }
        if call(callback, history, where=f"{where}, epoch {e}") is True:
            return e
    return None


@hidden_test("check_early_stopping")
def random_curves_with_ties(make_early_stopping):
    """Twenty random accuracy curves (rounded to 2 decimals, so ties happen), patience 1 to 5, numpy floats."""
    rng = np.random.default_rng(909)
    for _ in range(20):
        accs = [np.float64(a) for a in np.round(np.clip(0.5 + np.cumsum(rng.normal(0.01, 0.03, 15)), 0, 1), 2)]
        patience = int(rng.integers(1, 6))
        where = f"accuracies {[float(a) for a in accs]}, patience {patience}"
        if _run(make_early_stopping, accs, patience, where) != _stop_epoch(accs, patience):
            raise AssertionError(f"stopped at the wrong epoch for {where}")


@hidden_test("check_early_stopping")
def short_runs_and_late_improvements(make_early_stopping):
    """Fewer epochs than the patience, an improvement on the very last allowed epoch, a flat curve."""
    cases = [([0.3, 0.2], 3), ([0.5, 0.4, 0.45, 0.49, 0.51, 0.3, 0.3, 0.3], 3), ([0.7] * 6, 4), ([0.9], 1)]
    for accs, patience in cases:
        where = f"accuracies {accs}, patience {patience}"
        if _run(make_early_stopping, accs, patience, where) != _stop_epoch(accs, patience):
            raise AssertionError(f"stopped at the wrong epoch for {where}")


def _check_confusion(fn, t, p, c, where):
    out = call(fn, t, p, c, where=where)
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise AssertionError(f"return the pair (accuracy, confusion) ({where})")
    try:
        acc = float(out[0])
    except (TypeError, ValueError):
        raise AssertionError(f"the accuracy must be a number ({where})") from None
    assert_close(out[1], confusion_matrix(t, p, c), where, what="the confusion matrix", rtol=0, atol=0)
    if not math.isclose(acc, accuracy(t, p), rel_tol=1e-9):
        raise AssertionError(f"the accuracy is wrong ({where})")


@hidden_test("check_confusion_matrix")
def ten_classes_some_never_seen(accuracy_and_confusion):
    """5000 predictions over 10 classes where classes 8 and 9 never occur as true labels; uint8 labels."""
    rng = np.random.default_rng(9091)
    t = rng.integers(0, 8, 5000).astype(np.uint8)
    p = np.where(rng.random(5000) < 0.8, t, rng.integers(0, 10, 5000)).astype(np.uint8)
    _check_confusion(accuracy_and_confusion, t, p, 10, "5000 uint8 labels, 10 classes")


@hidden_test("check_confusion_matrix")
def a_single_image_and_all_wrong(accuracy_and_confusion):
    """One image (right, then wrong), and 40 predictions all wrong over 3 classes."""
    _check_confusion(accuracy_and_confusion, np.array([2]), np.array([2]), 5, "one image, predicted right")
    _check_confusion(accuracy_and_confusion, np.array([4]), np.array([0]), 5, "one image, predicted wrong")
    t = np.arange(40) % 3
    _check_confusion(accuracy_and_confusion, t, (t + 1) % 3, 3, "40 predictions, all wrong")
