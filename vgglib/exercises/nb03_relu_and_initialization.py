"""Self-checks for the exercises of ``notebooks/03_relu_and_initialization.ipynb``.

Worked solutions: ``notebooks/solutions/03_relu_and_initialization_solutions.ipynb``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ._common import ExerciseResult, _as_float, _call, verdict

__all__ = ["check_relu_backward", "check_he_std", "check_init_scale"]


def check_relu_backward(fn: Any) -> ExerciseResult:
    """Exercise 1: ``fn(dy, x)`` returns dL/dx of ``y = max(x, 0)`` (gradient 0 at x == 0, like vgglib)."""
    name = "relu_backward"
    if not callable(fn):
        return verdict(name, False, "", "pass your function itself, e.g. check_relu_backward(relu_backward)")
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 4, 4))
    x[0, 0, 0, :2] = 0.0  # exact zeros: the kink
    dy = rng.standard_normal(x.shape)
    got, error = _call(fn, dy, x)
    if error is not None:
        return verdict(name, False, "", f"your function raised {error}")
    try:
        got = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return verdict(name, False, "", f"return an array of dy's shape, got {type(got).__name__}")
    if got.shape != x.shape:
        return verdict(name, False, "", f"dx must have x's shape {x.shape}, got {got.shape}")
    expected = dy * (x > 0)
    if np.array_equal(got, expected):
        return verdict(name, True, "the gradient passes where the unit was active and stops where it was not.", "")
    if np.array_equal(got, dy * (x >= 0)):
        hint = (
            "right except at x == 0, where you let the gradient through; take 0 there (vgglib and PyTorch "
            "do), any value in [0, 1] is a valid subgradient but a fixed convention keeps results reproducible."
        )
    elif np.array_equal(got, np.maximum(dy, 0)) or np.array_equal(got, dy * (dy > 0)):
        hint = "that applies ReLU to dy; whether the gradient passes is decided by the forward input x, not by dy."
    elif np.array_equal(got, (x > 0).astype(np.float64)):
        hint = "that is the local derivative ∂y/∂x alone; the chain rule multiplies it by the incoming dy."
    elif np.array_equal(got, dy):
        hint = "you pass every gradient through; units with x ≤ 0 output a constant 0, so their gradient is 0."
    else:
        hint = "compare with the chain rule: dx = dy · ∂y/∂x, and ∂y/∂x is 1 where x > 0, else 0."
    return verdict(name, False, "", hint)


def check_he_std(answer: Any) -> ExerciseResult:
    """Exercise 2: the He-initialisation standard deviation of VGG16's conv4_2 (512 input channels, 3×3)."""
    name = "he_std"
    value = _as_float(answer)
    if value is None:
        if answer is None:
            return verdict(name, False, "", "no answer yet: replace None with a number")
        return verdict(name, False, "", f"expected a number, got {type(answer).__name__}")
    fan_in = 512 * 3 * 3
    expected = math.sqrt(2 / fan_in)
    if math.isclose(value, expected, rel_tol=1e-2):
        return verdict(
            name, True, "with this spread the variance of the pre-activations stays the same from layer to layer.", ""
        )
    if math.isclose(value, 2 / fan_in, rel_tol=1e-2):
        hint = "that is the variance; the question asks for the standard deviation."
    elif math.isclose(value, math.sqrt(1 / fan_in), rel_tol=1e-2):
        hint = (
            "that keeps the variance for a linear layer; the ReLU zeroes half of its inputs, so He "
            "doubles the variance."
        )
    elif math.isclose(value, math.sqrt(2 / 512), rel_tol=1e-2) or math.isclose(value, math.sqrt(2 / 9), rel_tol=1e-2):
        hint = "the fan-in counts every weight that feeds one output: input channels × kernel height × width."
    elif math.isclose(value, math.sqrt(2 / (512 * 9 + 512 * 9)), rel_tol=1e-2):
        hint = "that averages fan-in and fan-out (Glorot's idea); He uses the fan-in only."
    else:
        hint = "use std = sqrt(2 / fan_in) with fan_in = the number of inputs one output unit sums over."
    return verdict(name, False, "", hint)


def _stack_rms(std_fn: Callable[[int], float], seed: int = 4) -> tuple[np.ndarray | None, str | None]:
    """RMS of the pre-activations of a 20-layer ReLU stack whose widths vary, with weights ~ N(0, std_fn(fan_in)²)."""
    rng = np.random.default_rng(seed)
    widths = [784] + [400, 100, 256, 64] * 5
    x = rng.standard_normal((256, 784))
    rms = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        std, error = _call(std_fn, fan_in)
        if error is not None:
            return None, f"your function raised {error} for fan_in={fan_in}"
        std = _as_float(std)
        if std is None or not math.isfinite(std) or std <= 0:
            return None, f"for fan_in={fan_in} it returned {std!r}; return a positive number (a std)"
        z = x @ (rng.standard_normal((fan_in, fan_out)) * std)
        rms.append(float(np.sqrt(np.mean(z**2))))
        x = np.maximum(z, 0)
    return np.array(rms), None


def check_init_scale(fn: Any) -> ExerciseResult:
    """Exercise 3: ``fn(fan_in) -> std`` keeps activations at the same scale through a deep ReLU stack.

    The check builds 20 fully connected ReLU layers of varying widths (784 → 400 → 100 → 256 → 64 → …),
    draws weights from N(0, fn(fan_in)²), passes 256 random inputs through, and requires the RMS of the last
    layer's pre-activations to be within a factor 4 of the first layer's.
    """
    name = "init_scale"
    if not callable(fn):
        return verdict(name, False, "", "pass your function itself, e.g. check_init_scale(init_std)")
    rms, error = _stack_rms(fn)
    if error is not None:
        return verdict(name, False, "", error)
    assert rms is not None
    ratio = rms[-1] / rms[0]
    if 0.25 <= ratio <= 4:
        return verdict(
            name, True, f"after 20 layers the activations keep their scale (last/first RMS {ratio:.2f}).", ""
        )
    if ratio < 0.25:
        hint = f"the activations shrink: after 20 layers their RMS is {ratio:.1e} times the first layer's"
    else:
        hint = f"the activations blow up: after 20 layers their RMS is {ratio:.1e} times the first layer's"
    return verdict(
        name,
        False,
        "",
        hint + ". Make the variance of each layer's output equal its input's; "
        "note the widths (fan-ins) differ from layer to layer.",
    )
