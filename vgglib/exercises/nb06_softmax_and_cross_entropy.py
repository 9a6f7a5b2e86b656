"""Self-checks for the exercises of ``notebooks/06_softmax_and_cross_entropy.ipynb``.

Worked solutions: ``notebooks/solutions/06_softmax_and_cross_entropy_solutions.ipynb``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ._common import ExerciseResult, _as_float, _call, verdict

__all__ = ["check_initial_loss", "check_seed_gradient", "check_softmax_cross_entropy"]

#: the seed project's example logits
SEED_LOGITS = (2.33, -1.46, 0.56)


def check_initial_loss(answer: Any) -> ExerciseResult:
    """Exercise 1: the expected cross-entropy at initialisation for ImageNet's 1000 classes."""
    name = "initial_loss"
    value = _as_float(answer)
    if value is None:
        if answer is None:
            return verdict(name, False, "", "no answer yet: replace None with a number")
        return verdict(name, False, "", f"expected a number, got {type(answer).__name__} {answer!r}")
    expected = math.log(1000)
    if abs(value - expected) < 1e-3:
        return verdict(
            name,
            True,
            "uniform probabilities p = 1/C give the loss -log(1/C) = log C; "
            "a first loss far above it means the initial logits are too large.",
            "",
        )
    if abs(value - math.log(10)) < 1e-3:
        hint = "that is the value for MNIST's 10 classes; ImageNet has 1000."
    elif abs(value - math.log10(1000)) < 1e-3:
        hint = "cross-entropy uses the natural logarithm, not log base 10."
    elif abs(value - math.log2(1000)) < 1e-3:
        hint = "that is in bits (log base 2); cross-entropy here uses the natural logarithm."
    elif abs(value - 1e-3) < 1e-9:
        hint = "that is the probability of each class; the loss is minus its logarithm."
    elif value < 0:
        hint = "a cross-entropy is never negative: it is minus the log of a probability <= 1."
    else:
        hint = "with small random logits every class gets about the same probability; what is the loss then?"
    return verdict(name, False, "", hint)


def check_seed_gradient(answer: Any) -> ExerciseResult:
    """Exercise 2: dL/dz for the seed's logits [2.33, -1.46, 0.56] when the true class is 2 (one sample)."""
    name = "seed_gradient"
    if answer is None:
        return verdict(name, False, "", "no answer yet: replace None with three numbers, e.g. a list or an array")
    try:
        g = np.asarray(answer, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        return verdict(name, False, "", f"expected three numbers, got {answer!r}")
    if g.size != 3:
        return verdict(name, False, "", f"expected one number per logit (3), got {g.size}")
    z = np.asarray(SEED_LOGITS)
    p = np.exp(z - z.max())
    p /= p.sum()
    y = np.eye(3)[2]
    expected = p - y
    if np.allclose(g, expected, atol=1e-6):
        return verdict(
            name,
            True,
            "the gradient is p - y: the wrong classes are pushed down by their "
            "probability, the true class is pulled up by 1 - p; the entries sum to 0.",
            "",
        )
    if np.allclose(g, -expected, atol=1e-6):
        hint = "the sign is flipped: that is the direction that *decreases* the loss, i.e. minus the gradient."
    elif np.allclose(g, p, atol=1e-6):
        hint = "those are the probabilities; the gradient also has a term from the label."
    elif np.allclose(g, p - np.eye(3)[0], atol=1e-6):
        hint = "that is the gradient for true class 0; the exercise asks for class 2 (counting from 0)."
    elif np.allclose(g, p - np.eye(3)[1], atol=1e-6):
        hint = "that is the gradient for true class 1; the exercise asks for class 2 (counting from 0)."
    elif abs(g.sum()) > 1e-6:
        hint = (
            "the entries of this gradient always sum to 0 (the probabilities sum to 1, and so does the "
            "one-hot label); check your softmax."
        )
    else:
        hint = "compute the softmax of the logits first (to 6 decimals or more), then use the formula derived above."
    return verdict(name, False, "", hint)


def _reference_sce(z: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of softmax(z) and its gradient, through a stable log-softmax (float64)."""
    n = len(z)
    zmax = z.max(axis=1, keepdims=True)
    logp = z - zmax - np.log(np.exp(z - zmax).sum(axis=1, keepdims=True))
    grad = np.exp(logp)
    grad[np.arange(n), labels] -= 1
    return float(-logp[np.arange(n), labels].mean()), grad / n


def _true_probabilities(z: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """softmax(z)[n, labels[n]] in float64 (0 where it underflows)."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True))[np.arange(len(z)), labels]


def _run_sce(func: Callable[..., Any], z: np.ndarray, labels: np.ndarray) -> tuple[Any, str | None]:
    """``func(z, labels)`` with floating-point warnings silenced: (output, None) or (None, the problem)."""
    with np.errstate(all="ignore"):
        out, err = _call(func, z, labels)
    if err is not None:
        return None, err
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        return None, "return a pair (loss, dlogits)"
    try:
        loss, grad = float(out[0]), np.asarray(out[1], dtype=np.float64)
    except (TypeError, ValueError):
        return None, "the loss must be one number and dlogits an array"
    return (loss, grad), None


def _matches(out: tuple[float, np.ndarray], z: np.ndarray, labels: np.ndarray) -> bool:
    loss_ref, grad_ref = _reference_sce(z, labels)
    loss, grad = out
    return (
        grad.shape == z.shape
        and math.isclose(loss, loss_ref, rel_tol=1e-7, abs_tol=1e-9)
        and bool(np.allclose(grad, grad_ref, rtol=1e-6, atol=1e-9))
    )


def _why_not_finite(func: Callable[..., Any], z: np.ndarray, labels: np.ndarray, what: str) -> str:
    """Diagnose inf/nan on a case with huge logits: a missing max shift, a batch-wide shift, or log(0)."""
    shifted = z - z.max(axis=1, keepdims=True)
    out, _ = _run_sce(func, shifted, labels)
    if out is not None and _matches(out, shifted, labels):
        # right once every row's largest logit is 0: the function itself does not shift each row
        one_row = np.array([[1000.0, 999.0, 998.0]])  # one row: a batch-wide shift is a per-row shift here
        out1, _ = _run_sce(func, one_row, np.array([1]))
        if out1 is not None and _matches(out1, one_row, np.array([1])):
            return (
                f"got inf or nan on {what}: you shift the logits by one number for the whole batch; every row "
                "needs its own shift (its own maximum), or rows far below the batch's maximum underflow to 0/0."
            )
        return (
            f"got inf or nan on {what}: this is a softmax without the max shift — exp(1000) overflows to inf "
            "and exp(-1000) underflows to 0, giving inf/inf or 0/0. Shift each row's logits as in section 2 "
            "(it leaves softmax unchanged)."
        )
    return (
        f"got inf or nan on {what}: a probability underflowed to exactly 0 and its log is -inf. Take the "
        "log of the softmax formula first (log-softmax, section 2) instead of np.log of the probabilities."
    )


def check_softmax_cross_entropy(func: Callable[..., Any]) -> ExerciseResult:
    """Exercise 3: ``func(logits (N, C), labels (N,)) -> (mean loss, dlogits (N, C))``, stable for huge logits.

    The cases: random logits, a batch of one, logits of ±1000 (where a softmax without the max shift gives
    inf/nan) and a true class whose probability underflows to 0 (where ``np.log(softmax(z))`` gives inf).
    """
    name = "softmax_cross_entropy"
    if not callable(func):
        return verdict(name, False, "", f"pass your function itself, got {type(func).__name__}")
    rng = np.random.default_rng(6)
    cases = [
        ("random logits", rng.standard_normal((5, 4)) * 3, rng.integers(0, 4, 5)),
        ("a batch of one", rng.standard_normal((1, 10)), np.array([7])),
        ("logits of ±1000", np.array([[1000.0, -1000.0, 999.0], [-1000.0, -999.0, -1001.0]]), np.array([2, 0])),
        ("a true class 800 below the others", np.array([[0.0, -800.0, 2.0], [1.0, 3.0, -2.0]]), np.array([1, 1])),
    ]
    for what, z, labels in cases:
        n = len(z)
        loss_ref, grad_ref = _reference_sce(z, labels)
        z_in = z.copy()
        try:
            with np.errstate(all="ignore"):
                out = func(z_in, labels.copy())  # no copy: a function that changes its input is told so
        except NotImplementedError:
            return verdict(name, False, "", "not implemented yet: replace the `raise NotImplementedError` line.")
        except Exception as err:  # noqa: BLE001 — the student's code may raise anything
            return verdict(name, False, "", f"your function raised {type(err).__name__}: {err} (on {what})")
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            return verdict(name, False, "", "return a pair (loss, dlogits)")
        if not np.array_equal(z_in, z):
            return verdict(name, False, "", "your function changed the logits in place; work on a copy")
        loss, grad = out
        try:
            loss = float(loss)
            grad = np.asarray(grad, dtype=np.float64)
        except (TypeError, ValueError):
            return verdict(name, False, "", "the loss must be one number and dlogits an array")
        if not np.isfinite(loss) or not np.all(np.isfinite(grad)):
            return verdict(name, False, "", _why_not_finite(func, z, labels, what))
        if grad.shape != z.shape:
            return verdict(name, False, "", f"dlogits has shape {grad.shape}, expected the logits' shape {z.shape}")
        if not math.isclose(loss, loss_ref, rel_tol=1e-7, abs_tol=1e-9):
            if n > 1 and math.isclose(loss, loss_ref * n, rel_tol=1e-7):
                why = "it is the sum over the batch; the loss is the mean"
            elif math.isclose(loss, -loss_ref, rel_tol=1e-7):
                why = "the sign is flipped: the loss is minus the log-probability"
            elif loss < loss_ref and np.any(_true_probabilities(z, labels) == 0.0):
                why = (
                    "it is too small: a log guarded by a small epsilon caps the loss of a probability that "
                    "underflowed; the log-softmax of section 2 needs no guard"
                )
            else:
                why = "the loss is the mean over the batch of -log p[true class]"
            return verdict(name, False, "", f"wrong loss on {what}: {why}.")
        if not np.allclose(grad, grad_ref, rtol=1e-6, atol=1e-9):
            if n > 1 and np.allclose(grad, grad_ref * n, rtol=1e-6, atol=1e-9):
                why = "it is N times too large: the loss is a mean, so its gradient carries a 1/N"
            elif np.allclose(grad, -grad_ref, rtol=1e-6, atol=1e-9):
                why = "the sign is flipped"
            else:
                why = "compare with numerical derivatives of your loss on a small example"
            return verdict(name, False, "", f"the loss is right but dlogits is wrong on {what}: {why}.")
    return verdict(
        name, True, "loss and gradient match, including for logits of ±1000 and a probability of e^-800.", ""
    )
