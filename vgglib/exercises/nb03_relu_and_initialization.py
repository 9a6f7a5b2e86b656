"""Self-checks for the exercises of ``notebooks/03_relu_and_initialization.ipynb``.

Worked solutions: ``notebooks/solutions/03_relu_and_initialization_solutions.ipynb``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ._common import ExerciseResult, _as_float, _call, verdict

__all__ = ["check_relu_backward", "check_leaky_relu_std", "check_init_scale"]


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


#: Exercise 2: a 3×3 convolution with 64 input channels and 128 filters reads a leaky ReLU with this slope
LEAKY_SLOPE = 0.5
LEAKY_IN_CHANNELS, LEAKY_FILTERS, LEAKY_KERNEL = 64, 128, 3


def check_leaky_relu_std(answer: Any) -> ExerciseResult:
    """Exercise 2: the weight std that keeps Var(z) from layer to layer when the inputs come from a leaky ReLU.

    The layer: a 3×3 convolution with 64 input channels and 128 filters; its input is ``a = z'`` for
    ``z' > 0`` and ``a = 0.5·z'`` otherwise, with ``z'`` symmetric around 0 (section 4's argument, redone).
    """
    name = "leaky_relu_std"
    value = _as_float(answer)
    if value is None:
        if answer is None:
            return verdict(name, False, "", "no answer yet: replace None with a number (a standard deviation)")
        return verdict(name, False, "", f"expected a number (a standard deviation), got {type(answer).__name__}")
    a, k = LEAKY_SLOPE, LEAKY_KERNEL
    fan_in, fan_out = LEAKY_IN_CHANNELS * k * k, LEAKY_FILTERS * k * k
    gain = 1 + a * a  # E[a²] = ½ (1 + slope²) Var(z')

    def near(x: float) -> bool:
        return math.isclose(value, x, rel_tol=1e-2)

    if near(math.sqrt(2 / (gain * fan_in))):
        return verdict(
            name,
            True,
            "the leaky unit passes part of the negative half too, so it needs a little less spread than He's "
            "ReLU rule (He et al. derived exactly this for their PReLU).",
            "",
        )
    if near(2 / (gain * fan_in)):
        hint = "that is the variance of the weights; the question asks for their standard deviation."
    elif near(math.sqrt(2 / fan_in)):
        hint = (
            "that is He's value for the plain ReLU, which outputs 0 for every negative input; this unit passes "
            "half of each negative value. Redo the step E[a²] = ½ Var(z') for it."
        )
    elif near(math.sqrt(2 / ((1 + a) * fan_in))) or near(math.sqrt(2 / ((1 + a) ** 2 * fan_in))):
        hint = (
            "the slope enters E[a²] the way a factor enters a variance; check how the negative half's "
            "contribution to E[a²] depends on the slope."
        )
    elif near(math.sqrt(1 / fan_in)):
        hint = "that keeps the variance of a purely linear layer; the leaky unit still shrinks the negative half."
    elif near(math.sqrt(2 / (fan_in + fan_out))) or near(math.sqrt(4 / (gain * (fan_in + fan_out)))):
        hint = "that averages fan-in and fan-out (Glorot's idea); the forward variance depends on the fan-in only."
    elif any(near(math.sqrt(2 / (g * n))) for g in (1, gain, 1 + a, 1 / gain) for n in (64, 9, 128, fan_out)):
        hint = (
            "check the fan-in: it counts every weight that feeds one output — input channels × kernel "
            "height × kernel width."
        )
    else:
        hint = (
            "write Var(z) = fan_in · σ² · E[a²], work out E[a²] for the leaky unit in terms of Var(z'), "
            "and choose σ so that Var(z) = Var(z')."
        )
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
