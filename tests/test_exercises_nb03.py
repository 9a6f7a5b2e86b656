"""Notebook 03's changed self-check (exercise 2, a leaky ReLU's initialisation): the right answer passes, each
typical mistake fails with its own hint, and no message gives the answer away."""

import math

import numpy as np
import pytest

from vgglib import exercises as ex
from vgglib.exercises import ExerciseResult

FAN_IN, FAN_OUT, SLOPE = 64 * 3 * 3, 128 * 3 * 3, 0.5
RIGHT = math.sqrt(2 / ((1 + SLOPE**2) * FAN_IN))  # Var(z) = n σ² · ½(1 + slope²) Var(z')


def test_leaky_relu_std_accepts_the_answer_in_any_number_type():
    for answer in (RIGHT, np.float32(RIGHT), np.array([RIGHT]), round(RIGHT, 4)):
        result = ex.check_leaky_relu_std(answer)
        assert isinstance(result, ExerciseResult) and result.correct, result
        assert "✔" in repr(result)


def test_the_answer_keeps_the_variance_through_a_leaky_stack():
    """What the formula promises, measured: a 13-layer leaky stack keeps its scale (1 and 4 ⇒ 0.5 and 2)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((512, FAN_IN))
    first = None
    for _ in range(13):
        z = a @ (rng.standard_normal((FAN_IN, FAN_IN)) * math.sqrt(2 / ((1 + SLOPE**2) * FAN_IN)))
        first = z.std() if first is None else first
        a = np.where(z > 0, z, SLOPE * z)
    assert 0.7 < z.std() / first < 1.4


@pytest.mark.parametrize(
    "wrong, words",
    [
        (2 / ((1 + SLOPE**2) * FAN_IN), ["variance"]),
        (math.sqrt(2 / FAN_IN), ["He's value", "E[a²]"]),
        (math.sqrt(2 / ((1 + SLOPE) * FAN_IN)), ["slope enters"]),
        (math.sqrt(2 / ((1 + SLOPE) ** 2 * FAN_IN)), ["slope enters"]),
        (math.sqrt(1 / FAN_IN), ["linear"]),
        (math.sqrt(2 / (FAN_IN + FAN_OUT)), ["Glorot"]),
        (math.sqrt(2 / ((1 + SLOPE**2) * 64)), ["fan-in", "kernel"]),
        (math.sqrt(2 / ((1 + SLOPE**2) * FAN_OUT)), ["fan-in"]),
        (math.sqrt(2 / 9), ["fan-in"]),
        (0.01, ["Var(z) = fan_in"]),
    ],
)
def test_leaky_relu_std_diagnoses_typical_mistakes(wrong, words):
    result = ex.check_leaky_relu_std(wrong)
    assert not result.correct and "✘" in repr(result)
    for word in words:
        assert word in result.message, (word, result.message)
    for shown in (f"{RIGHT:.4f}", f"{RIGHT:.3f}", f"{RIGHT:.2g}", "1.25", "1 + slope²", "(1 + a²)"):
        assert shown not in result.message, f"the check revealed the answer: {result.message}"


def test_leaky_relu_std_missing_or_wrong_type():
    assert "no answer yet" in ex.check_leaky_relu_std(None).message
    assert "expected a number" in ex.check_leaky_relu_std("0.05").message
    assert "expected a number" in ex.check_leaky_relu_std(True).message
    assert not ex.check_leaky_relu_std([RIGHT, RIGHT]).correct


def test_the_old_exercise_2_check_is_gone():
    """conv4_2's He std is printed in the notebook; the exercise moved to a layer the notebook does not show."""
    assert not hasattr(ex, "check_he_std")
