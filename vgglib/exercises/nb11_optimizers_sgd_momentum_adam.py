"""Self-checks for the exercises of ``notebooks/11_optimizers_sgd_momentum_adam.ipynb``.

Worked solutions: ``notebooks/solutions/11_optimizers_sgd_momentum_adam_solutions.ipynb``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ._common import ExerciseResult, _as_float, _call, verdict

__all__ = ["check_largest_stable_lr", "check_momentum_speedup", "check_adamw_step"]


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


def _adamw_reference(p, g, m, v, t, lr, b1, b2, eps, wd, *, mistake=""):
    """One AdamW step (``mistake`` = "" is right; the other values are the typical slips the check recognises)."""
    if mistake == "l2":  # L2 regularisation: the decay term goes into the gradient and the moments
        g = g + wd * p
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    if mistake == "no_correction":
        adam = lr * m / (np.sqrt(v) + eps)
    else:
        adam = lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    if mistake in ("l2", "no_decay"):
        return p - adam, m, v
    if mistake == "no_lr":
        return p * (1 - wd) - adam, m, v
    if mistake == "after":  # decays the updated weights instead of the ones the step started from
        return (p - adam) * (1 - lr * wd), m, v
    if mistake == "sign":
        return p * (1 + lr * wd) - adam, m, v
    return p * (1 - lr * wd) - adam, m, v


_ADAMW_HINTS = {
    "l2": (
        "you added weight_decay·p to the gradient: that is L2 regularisation, which Adam then divides by "
        "sqrt(v^) like the rest. Decoupled decay shrinks p directly; m and v average the gradient g alone"
    ),
    "no_decay": "the weights were not decayed: AdamW shrinks p by lr·weight_decay·p besides the Adam step",
    "no_lr": "the decay is scaled by the learning rate too: p shrinks by lr·weight_decay·p, not weight_decay·p",
    "after": (
        "you decayed the weights after the Adam update; decay the weights the step starts from (p before this "
        "step), as in section 11's formula"
    ),
    "sign": "the decay pulls the weights towards 0: subtract lr·weight_decay·p, do not add it",
    "no_correction": (
        "the bias correction is missing: divide m by (1 - beta1**t) and v by (1 - beta2**t) before the step"
    ),
}

#: the cases the check runs: (shape, dtype, lr, weight_decay, steps)
_ADAMW_CASES = (
    ((3, 4), np.float64, 0.01, 0.1, 5),
    ((1,), np.float64, 0.1, 0.5, 3),  # a single weight, strong decay
    ((2, 1, 3), np.float32, 0.05, 0.2, 3),  # float32 parameters, another shape
    ((5,), np.float64, 0.01, 0.0, 3),  # no decay: plain Adam
)


def check_adamw_step(func: Callable[..., Any]) -> ExerciseResult:
    """Exercise 3: ``func(p, g, m, v, t, lr, beta1, beta2, eps, weight_decay) -> (p, m, v)``, one step of Adam with
    decoupled weight decay (AdamW; t counts from 1)."""
    name = "adamw_step"
    if not callable(func):
        return verdict(name, False, "", f"pass your function itself, got {type(func).__name__}")
    b1, b2, eps = 0.9, 0.999, 1e-8
    rng = np.random.default_rng(11)
    for shape, dtype, lr, wd, steps in _ADAMW_CASES:
        p = (rng.standard_normal(shape) * 2).astype(dtype)
        m = np.zeros(shape, dtype)
        v = np.zeros(shape, dtype)
        rp, rm, rv = (a.astype(np.float64) for a in (p, m, v))
        for t in range(1, steps + 1):
            g = (rng.standard_normal(shape) * (t + 1)).astype(dtype)
            p_in, m_in, v_in = rp, rm, rv
            out, err = _call(func, p.copy(), g.copy(), m.copy(), v.copy(), t, lr, b1, b2, eps, wd)
            if err is not None:
                if err.startswith("NotImplementedError"):
                    return verdict(
                        name, False, "", "not implemented yet: replace the `raise NotImplementedError` line."
                    )
                return verdict(name, False, "", f"your function raised {err} (step t = {t}, shape {shape})")
            if not isinstance(out, (tuple, list)) or len(out) != 3:
                return verdict(name, False, "", "return the triple (p, m, v)")
            try:
                p64, m64, v64 = (np.asarray(a, dtype=np.float64) for a in out)
            except (TypeError, ValueError):
                return verdict(name, False, "", "p, m and v must be arrays")
            if p64.shape != shape or m64.shape != shape or v64.shape != shape:
                return verdict(name, False, "", f"p, m and v must keep the parameter's shape {shape}")
            g64 = g.astype(np.float64)
            rp, rm, rv = _adamw_reference(p_in, g64, m_in, v_in, t, lr, b1, b2, eps, wd)
            rtol, atol = (1e-9, 1e-12) if dtype == np.float64 else (1e-5, 1e-6)

            def close(a: np.ndarray, b: np.ndarray, rtol: float = rtol, atol: float = atol) -> bool:
                return bool(np.allclose(a, b, rtol=rtol, atol=atol))

            if close(p64, rp) and close(m64, rm) and close(v64, rv):
                p, m, v = (np.asarray(a).astype(dtype) for a in out)
                continue
            for mistake, hint in _ADAMW_HINTS.items():
                wrong = _adamw_reference(p_in, g64, m_in, v_in, t, lr, b1, b2, eps, wd, mistake=mistake)
                if all(close(a, b) for a, b in zip((p64, m64, v64), wrong)):
                    return verdict(name, False, "", f"step t = {t}: {hint}.")
            if not close(m64, rm):
                return verdict(
                    name, False, "", f"m is wrong at step {t}: m <- beta1·m + (1 - beta1)·g, with the gradient alone"
                )
            if not close(v64, rv):
                return verdict(name, False, "", f"v is wrong at step {t}: v <- beta2·v + (1 - beta2)·g² (element-wise)")
            if t > 1 and close(p64, _adamw_reference(p_in, g64, m_in, v_in, 1, lr, b1, b2, eps, wd)[0]):
                return verdict(name, False, "", f"p is wrong at step {t}: the bias correction uses this step's t")
            return verdict(
                name,
                False,
                "",
                f"p is wrong at step {t} (shape {shape}, weight_decay {wd}): first shrink the old p by "
                "lr·weight_decay·p, then subtract Adam's step lr·m^/(sqrt(v^) + eps)",
            )
    return verdict(
        name,
        True,
        "decoupled decay, moments, bias correction and update all match, for several shapes, float32 "
        "and float64, with and without decay.",
        "",
    )
