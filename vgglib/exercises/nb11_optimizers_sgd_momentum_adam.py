"""Self-checks for the exercises of ``notebooks/11_optimizers_sgd_momentum_adam.ipynb``.

Worked solutions: ``notebooks/solutions/11_optimizers_sgd_momentum_adam_solutions.ipynb``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ._common import ExerciseResult, _as_float, verdict

__all__ = ["check_largest_stable_lr", "check_momentum_speedup", "check_adam_step"]


def _number(name: str, answer: Any) -> tuple[float | None, ExerciseResult | None]:
    value = _as_float(answer)
    if value is None:
        if answer is None:
            return None, verdict(name, False, "", "no answer yet: replace None with a number")
        return None, verdict(name, False, "", f"expected a number, got {type(answer).__name__} {answer!r}")
    return value, None


def check_largest_stable_lr(answer: Any) -> ExerciseResult:
    """Exercise 1: plain gradient descent on f(w) = 5·w² (a 1-D quadratic); the learning rate where it stops
    converging (the supremum of the stable learning rates)."""
    name = "largest_stable_lr"
    value, bad = _number(name, answer)
    if bad is not None:
        return bad
    assert value is not None
    a = 10.0  # f = 5 w² = ½ a w² with curvature a = 10
    if math.isclose(value, 2 / a, rel_tol=1e-6):
        return verdict(
            name,
            True,
            "w <- (1 - lr·a)·w converges iff |1 - lr·a| < 1, i.e. lr < 2/a = 0.2; "
            "the steepest direction sets the limit.",
            "",
        )
    if math.isclose(value, 1 / a, rel_tol=1e-6):
        hint = "lr = 1/a jumps to the minimum in one step, but larger rates still converge (with oscillations)."
    elif math.isclose(value, 2 / 5, rel_tol=1e-6) or math.isclose(value, 1 / 5, rel_tol=1e-6):
        hint = "the curvature of 5·w² is its second derivative, 10, not 5."
    else:
        hint = "write one step as w <- (1 - lr·f''(w))·w and ask when the factor has magnitude below 1."
    return verdict(name, False, "", hint)


def check_momentum_speedup(answer: Any) -> ExerciseResult:
    """Exercise 2: with momentum 0.95 and a gradient that stays the same step after step, how many times larger
    than plain SGD's (same lr) does the step become in the long run?"""
    name = "momentum_speedup"
    value, bad = _number(name, answer)
    if bad is not None:
        return bad
    assert value is not None
    mu = 0.95
    if math.isclose(value, 1 / (1 - mu), rel_tol=1e-6):
        return verdict(
            name,
            True,
            "v converges to g/(1 - μ): momentum 0.95 multiplies a steady step by 20, "
            "and damps an alternating one to g/(1 + μ).",
            "",
        )
    if math.isclose(value, 1 / (1 + mu), rel_tol=1e-6):
        hint = "that is the factor for a gradient that flips sign every step; here it stays the same."
    elif math.isclose(value, 10.0, rel_tol=1e-6):
        hint = "that is the factor for momentum 0.9; here μ = 0.95."
    elif math.isclose(value, mu, rel_tol=1e-6) or math.isclose(value, 1 + mu, rel_tol=1e-6):
        hint = "unroll v_t = μ·v_{t-1} + g for many steps: it is a geometric series."
    else:
        hint = "the velocity stops changing when v = μ·v + g; solve for v."
    return verdict(name, False, "", hint)


def _adam_reference(p, g, m, v, t, lr, b1, b2, eps):
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    m_hat = m / (1 - b1**t)
    v_hat = v / (1 - b2**t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def check_adam_step(func: Callable[..., Any]) -> ExerciseResult:
    """Exercise 3: ``func(p, g, m, v, t, lr, beta1, beta2, eps) -> (p, m, v)``, one Adam step (t counts from 1)."""
    name = "adam_step"
    if not callable(func):
        return verdict(name, False, "", f"pass your function itself, got {type(func).__name__}")
    rng = np.random.default_rng(11)
    shape = (3, 4)
    p = rng.standard_normal(shape)
    m = np.zeros(shape)
    v = np.zeros(shape)
    rp, rm, rv = p.copy(), m.copy(), v.copy()
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    for t in range(1, 6):
        g = rng.standard_normal(shape) * (t + 1)
        p_in = p.copy()
        try:
            out = func(p.copy(), g.copy(), m.copy(), v.copy(), t, lr, b1, b2, eps)
        except NotImplementedError:
            return verdict(name, False, "", "not implemented yet: replace the `raise NotImplementedError` line.")
        except Exception as err:  # noqa: BLE001 — the student's code may raise anything
            return verdict(name, False, "", f"your function raised {type(err).__name__}: {err} (step t = {t})")
        if not isinstance(out, (tuple, list)) or len(out) != 3:
            return verdict(name, False, "", "return the triple (p, m, v)")
        try:
            p, m, v = (np.asarray(a, dtype=np.float64) for a in out)
        except (TypeError, ValueError):
            return verdict(name, False, "", "p, m and v must be arrays")
        if p.shape != shape or m.shape != shape or v.shape != shape:
            return verdict(name, False, "", f"p, m and v must keep the parameter's shape {shape}")
        rp, rm, rv = _adam_reference(rp, g, rm, rv, t, lr, b1, b2, eps)
        if not np.allclose(m, rm, rtol=1e-9, atol=1e-12):
            return verdict(
                name,
                False,
                "",
                f"m is wrong at step {t}: m <- β1·m + (1 - β1)·g (the raw average, without the bias correction)",
            )
        if not np.allclose(v, rv, rtol=1e-9, atol=1e-12):
            return verdict(name, False, "", f"v is wrong at step {t}: v <- β2·v + (1 - β2)·g² (element-wise square)")
        if not np.allclose(p, rp, rtol=1e-9, atol=1e-12):
            step = np.abs(p_in - p)
            if t == 1 and np.allclose(step, lr * (1 - b1) / np.sqrt(1 - b2), rtol=1e-4):
                hint = (
                    "your first step is about 3.2·lr; with the bias correction it is lr·sign(g): divide m by "
                    "(1 - β1**t) and v by (1 - β2**t)"
                )
            elif t == 1:
                hint = "the first step should be lr·g/(|g| + eps), about lr·sign(g)"
            else:
                hint = "check the bias correction: it uses this step's t, (1 - β1**t) and (1 - β2**t)"
            return verdict(name, False, "", f"p is wrong at step {t}: {hint}.")
    return verdict(name, True, "moments, bias correction and update all match for five steps.", "")
