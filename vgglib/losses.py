"""Softmax and cross-entropy, and their fused gradient ``(p - y) / N``.

Derived in ``notebooks/06_softmax_and_cross_entropy.ipynb``.

Labels are class ids of shape (N,) or one-hot rows of shape (N, C). The loss is the mean over the batch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .checks import check_float_array

__all__ = ["softmax", "cross_entropy", "softmax_cross_entropy", "log_softmax", "labels_to_one_hot"]


def softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax: ``exp(z - max z) / Σ exp(z - max z)`` along ``axis``.

    Subtracting the maximum changes nothing mathematically and keeps ``exp`` from overflowing
    (logits of ±1000 are fine).
    """
    z = check_float_array(logits, "softmax")
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    """``log(softmax(z))`` computed without under/overflow: ``z - max z - log Σ exp(z - max z)``."""
    z = check_float_array(logits, "log_softmax")
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def labels_to_one_hot(labels: Any, num_classes: int, n: int, where: str = "labels") -> np.ndarray:
    """Validate ``labels`` for a batch of ``n`` rows of ``num_classes`` and return them one-hot (N, C) float64."""
    y = np.asarray(labels)
    if y.ndim == 1:
        if y.shape[0] != n:
            raise ValueError(f"{where}: got {y.shape[0]} labels for a batch of {n} rows")
        if y.size and not np.issubdtype(y.dtype, np.integer):
            if not (np.issubdtype(y.dtype, np.floating) and np.all(y == np.round(y))):
                raise TypeError(f"{where}: class ids must be integers, got dtype {y.dtype}")
        if y.size and (y.min() < 0 or y.max() >= num_classes):
            bad = y[(y < 0) | (y >= num_classes)]
            raise ValueError(f"{where}: class ids must be in 0..{num_classes - 1}, got {bad[:5].tolist()}")
        one_hot = np.zeros((n, num_classes))
        one_hot[np.arange(n), y.astype(np.int64)] = 1.0
        return one_hot
    if y.ndim == 2:
        if y.shape != (n, num_classes):
            raise ValueError(f"{where}: one-hot labels have shape {y.shape}, expected ({n}, {num_classes})")
        if not np.issubdtype(y.dtype, np.number):
            raise TypeError(f"{where}: one-hot labels must be numeric, got dtype {y.dtype}")
        if np.any(y < 0) or not np.allclose(y.sum(axis=1), 1.0):
            raise ValueError(f"{where}: each one-hot (or probability) row must be >= 0 and sum to 1")
        return y.astype(np.float64)
    raise ValueError(f"{where}: expected class ids (N,) or one-hot (N, C), got shape {y.shape}")


def cross_entropy(probs: np.ndarray, labels: Any, eps: float = 1e-12) -> float:
    """Mean cross-entropy ``-1/N Σ_n Σ_c y[n,c] log p[n,c]`` of probabilities (N, C) against labels.

    ``eps`` guards ``log(0)``; prefer :func:`softmax_cross_entropy` on logits, which needs no guard.
    """
    p = check_float_array(probs, "cross_entropy", ndim=2)
    y = labels_to_one_hot(labels, p.shape[1], p.shape[0])
    return float(-(y * np.log(np.clip(p, eps, None))).sum() / p.shape[0])


def softmax_cross_entropy(logits: np.ndarray, labels: Any) -> tuple[float, np.ndarray]:
    """Mean softmax cross-entropy of logits (N, C) and its gradient: returns ``(loss, dlogits)``.

    ``dlogits = (softmax(logits) - one_hot(labels)) / N`` has the logits' shape and dtype.
    """
    z = check_float_array(logits, "softmax_cross_entropy", ndim=2)
    n, c = z.shape
    if n == 0:
        raise ValueError("softmax_cross_entropy: empty batch (0 rows)")
    y = labels_to_one_hot(labels, c, n)
    logp = log_softmax(z)
    loss = float(-(y * logp).sum() / n)
    dlogits = ((np.exp(logp) - y) / n).astype(z.dtype, copy=False)
    return loss, dlogits
