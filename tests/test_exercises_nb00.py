"""Notebook 00's new self-check: exercise 4, the chain rule on y = w·x + b with L = (y − t)² (no ½, no ReLU) at
x = 3, w = 2, b = −4, t = 1. The right answer passes, each typical mistake fails with its hint, a missing or
malformed answer says what is expected, and no message gives the answer away."""

import re

import numpy as np
import pytest

from vgglib import exercises as ex
from vgglib.exercises import ExerciseResult
from vgglib.exercises import nb00_overview as nb00


def assert_right(result):
    assert isinstance(result, ExerciseResult) and result.correct and bool(result), result.message
    assert "✔" in repr(result)


def assert_wrong(result, *words):
    assert isinstance(result, ExerciseResult) and not result.correct and not bool(result)
    assert result.message and "✘" in repr(result)
    for word in words:
        assert word in result.message, (word, result.message)
    # the answer is dw = 6, db = 2, dx = 4: neither 6 nor 4 may appear as a number in a hint
    assert not re.search(r"(?<![\w.])[64](?![\w.])", result.message), result.message


def gradients(x=3.0, w=2.0, b=-4.0, t=1.0, eps=1e-6):
    """Independent of the check: central differences of L = (w·x + b − t)²."""

    def loss(x, w, b):
        return (w * x + b - t) ** 2

    return {
        "dw": (loss(x, w + eps, b) - loss(x, w - eps, b)) / (2 * eps),
        "db": (loss(x, w, b + eps) - loss(x, w, b - eps)) / (2 * eps),
        "dx": (loss(x + eps, w, b) - loss(x - eps, w, b)) / (2 * eps),
    }


RIGHT = {"dw": 6.0, "db": 2.0, "dx": 4.0}


def test_the_right_answer_is_what_central_differences_give():
    numeric = gradients()
    assert all(abs(numeric[k] - RIGHT[k]) < 1e-6 for k in RIGHT)
    assert (nb00.CHAIN_X, nb00.CHAIN_W, nb00.CHAIN_B, nb00.CHAIN_T) == (3.0, 2.0, -4.0, 1.0)


@pytest.mark.parametrize(
    "answer",
    [RIGHT, {"dw": 6, "db": 2, "dx": 4}, {"DW": np.float64(6), "dB": np.int64(2), "dx": np.array(4.0)}],
    ids=["floats", "ints", "numpy and upper case"],
)
def test_chain_rule_accepts_the_right_answer(answer):
    assert_right(ex.check_chain_rule(answer))


def test_chain_rule_diagnoses_the_typical_mistakes():
    halved = {k: v / 2 for k, v in RIGHT.items()}  # the ½ kept, or local gradients never multiplied by dL/dy
    assert_wrong(ex.check_chain_rule(halved), "half", "½ crept in", "local gradients alone")
    assert_wrong(ex.check_chain_rule({"dw": 4.0, "db": 2.0, "dx": 6.0}), "swapped", "what w multiplied")
    assert_wrong(ex.check_chain_rule({k: -v for k, v in RIGHT.items()}), "signs are flipped", "2(y − t)")
    assert_wrong(ex.check_chain_rule({**RIGHT, "dx": 5.0}), "not yet right: dx", "local gradient")
    assert_wrong(ex.check_chain_rule({**RIGHT, "db": 1.0, "dw": 3.0}), "not yet right: dw, db")


def test_chain_rule_says_what_is_missing():
    assert_wrong(ex.check_chain_rule(None), "no answer yet", "dict")
    assert_wrong(ex.check_chain_rule(6.0), "expected a dict", "float")
    assert_wrong(ex.check_chain_rule({"dw": 6.0}), "missing keys", "db", "dx")
    assert_wrong(ex.check_chain_rule({"dw": "six", "db": 2.0, "dx": None}), "not numbers", "dw", "dx")
    assert_wrong(ex.check_chain_rule({"dw": True, "db": 2.0, "dx": 4.0}), "not numbers")
