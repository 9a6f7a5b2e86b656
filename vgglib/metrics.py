"""Classification metrics: accuracy and the confusion matrix, in plain numpy (no matplotlib).

Derived in ``notebooks/09_training_vgg16_on_mnist.ipynb`` (the confusion matrix of the trained VGG16, and the
exercise that rebuilds it); :func:`vgglib.train.evaluate` returns both and :mod:`vgglib.viz` draws the matrix
(``vgglib.viz.confusion_matrix`` is this one).

Labels are class ids, integer arrays (N,) (not one-hot); rows of the confusion matrix are the true class,
columns the predicted one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .checks import check_class_ids

__all__ = ["accuracy", "confusion_matrix"]


def _pair(y_true: Any, y_pred: Any, where: str) -> tuple[np.ndarray, np.ndarray]:
    t = check_class_ids(y_true, f"{where} y_true")
    p = check_class_ids(y_pred, f"{where} y_pred")
    if t.shape != p.shape:
        raise ValueError(f"{where}: y_true has {t.shape[0]} labels, y_pred {p.shape[0]}")
    return t, p


def accuracy(y_true: Any, y_pred: Any) -> float:
    """Fraction of predictions (N,) equal to the true class ids (N,); 0.0 for no images."""
    t, p = _pair(y_true, y_pred, "accuracy")
    return float(np.mean(t == p)) if t.size else 0.0


def confusion_matrix(y_true: Any, y_pred: Any, num_classes: int = 10) -> np.ndarray:
    """Counts ``cm[t, p]`` = how many images of true class t were predicted as p. Shape (C, C), int64.

    Every id must be in 0..num_classes-1; ``cm.sum()`` is N and ``np.trace(cm) / N`` the accuracy.
    """
    t, p = _pair(y_true, y_pred, "confusion_matrix")
    for name, y in (("y_true", t), ("y_pred", p)):
        if y.size and (y.min() < 0 or y.max() >= num_classes):
            raise ValueError(f"confusion_matrix: {name} has ids outside 0..{num_classes - 1}")
    flat = t.astype(np.int64) * num_classes + p.astype(np.int64)
    cm = np.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)
    return cm.astype(np.int64, copy=False)
