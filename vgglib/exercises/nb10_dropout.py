"""Self-checks for the exercises of ``notebooks/10_dropout.ipynb``.

Worked solutions: ``notebooks/solutions/10_dropout_solutions.ipynb``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ._common import ExerciseResult, _as_float, verdict

__all__ = ["check_dropout_scale", "check_dropout_variance", "check_inverted_dropout"]


def check_dropout_scale(answer: Any) -> ExerciseResult:
    """Exercise 1: with p = 0.2, by what factor does inverted dropout multiply the surviving activations?"""
    name = "dropout_scale"
    value = _as_float(answer)
    if value is None:
        if answer is None:
            return verdict(name, False, "", "no answer yet: replace None with a number")
        return verdict(name, False, "", f"expected a number, got {type(answer).__name__} {answer!r}")
    if math.isclose(value, 1.25, rel_tol=1e-6):
        return verdict(
            name,
            True,
            "survivors are divided by the keep probability 1 - p, so the expected activation is unchanged.",
            "",
        )
    if math.isclose(value, 5.0, rel_tol=1e-6):
        hint = "that divides by p, the drop probability; the survivors were kept with probability 1 - p."
    elif math.isclose(value, 0.8, rel_tol=1e-6):
        hint = "0.8 is the keep probability; the scale makes up for the units that were dropped, so it is > 1."
    elif math.isclose(value, 2.0, rel_tol=1e-6):
        hint = "that is the factor for p = 0.5; here p = 0.2."
    else:
        hint = "write E[y] for y = m·x·s with m ~ Bernoulli(1 - p) and choose s so that E[y] = x."
    return verdict(name, False, "", hint)


def check_dropout_variance(answer: Any) -> ExerciseResult:
    """Exercise 2: the variance of one inverted-dropout output for the input x = 2 and p = 0.5."""
    name = "dropout_variance"
    value = _as_float(answer)
    if value is None:
        if answer is None:
            return verdict(name, False, "", "no answer yet: replace None with a number")
        return verdict(name, False, "", f"expected a number, got {type(answer).__name__} {answer!r}")
    x, p = 2.0, 0.5
    expected = x * x * p / (1 - p)
    if math.isclose(value, expected, rel_tol=1e-6):
        return verdict(name, True, "Var[y] = x²·p/(1-p): zero without dropout, growing without bound as p -> 1.", "")
    if math.isclose(value, x * x * p * (1 - p), rel_tol=1e-6):
        hint = "that is the variance of x·m without the 1/(1-p) scale; the survivors are scaled."
    elif math.isclose(value, math.sqrt(expected), rel_tol=1e-6):
        hint = "that is the standard deviation; the exercise asks for the variance."
    elif math.isclose(value, x * x / (1 - p), rel_tol=1e-6):
        hint = "that is E[y²]; subtract E[y]² = x²."
    else:
        hint = "y takes two values, 0 and x/(1-p); compute E[y²] - E[y]² from their probabilities."
    return verdict(name, False, "", hint)


def check_inverted_dropout(func: Callable[..., Any]) -> ExerciseResult:
    """Exercise 3: ``func(x, p, rng) -> y`` — inverted dropout in training mode, without vgglib.layers.Dropout."""
    name = "inverted_dropout"
    if not callable(func):
        return verdict(name, False, "", f"pass your function itself, got {type(func).__name__}")
    x = np.random.default_rng(10).uniform(0.5, 2.0, size=(400, 50)).astype(np.float32)
    for p in (0.5, 0.2, 0.0):
        x_in = x.copy()
        try:
            y = func(x_in, p, np.random.default_rng(1))
        except NotImplementedError:
            return verdict(name, False, "", "not implemented yet: replace the `raise NotImplementedError` line.")
        except Exception as err:  # noqa: BLE001 — the student's code may raise anything
            return verdict(name, False, "", f"your function raised {type(err).__name__}: {err} (p = {p})")
        if not np.array_equal(x_in, x):
            return verdict(name, False, "", "your function changed x in place; return a new array")
        if not isinstance(y, np.ndarray) or y.shape != x.shape:
            return verdict(
                name,
                False,
                "",
                f"expected an array of x's shape {x.shape}, got {getattr(y, 'shape', type(y).__name__)}",
            )
        if y.dtype != x.dtype:
            return verdict(name, False, "", f"float32 in should give float32 out, got {y.dtype}")
        dropped = y == 0
        if p == 0.5 and np.all(dropped == dropped[:1]):
            return verdict(
                name,
                False,
                "",
                "every row has the same mask: draw one decision per unit of every "
                "sample, i.e. a mask of x's full shape",
            )
        frac = float(dropped.mean())
        if abs(frac - p) > 0.02:
            return verdict(
                name,
                False,
                "",
                f"with p = {p} about {100 * p:.0f}% of the units should be zero, "
                f"got {100 * frac:.1f}%: p is the probability to DROP a unit",
            )
        kept = ~dropped
        if p > 0 and np.allclose(y[kept], x[kept], rtol=1e-5):
            return verdict(
                name,
                False,
                "",
                "the survivors are not scaled: that is the original dropout, which "
                "would need a rescaling at test time; inverted dropout divides by 1 - p",
            )
        if not np.allclose(y[kept], x[kept] / (1 - p), rtol=1e-5):
            return verdict(name, False, "", f"survivors should equal x / (1 - p) (p = {p})")
    return verdict(name, True, "zeros with probability p, survivors scaled by 1/(1-p), x left alone.", "")
