"""Notebook 05's changed self-checks: exercise 2 (VGG16's FC parameters on 96×96 STL-10 photos) and exercise 3
(the backward pass of an FC layer stored the other way round, PyTorch's (outputs, inputs)). Right answers pass,
typical mistakes fail with their hint, and no message gives the answer away."""

import numpy as np
import pytest

from vgglib import exercises as ex
from vgglib.exercises import ExerciseResult
from vgglib.model import VGG16
from vgglib.summarize import summary


def assert_right(result):
    assert isinstance(result, ExerciseResult) and result.correct and bool(result), result.message
    assert "✔" in repr(result)


def assert_wrong(result, *words, secret=None):
    assert isinstance(result, ExerciseResult) and not result.correct and not bool(result)
    assert result.message and "✘" in repr(result)
    for word in words:
        assert word in result.message, (word, result.message)
    if secret is not None:
        assert secret not in result.message, f"the check revealed the answer: {result.message}"


# ------------------------------------------------------------------------------------------------- exercise 2
def fc(flat, classes, hidden=4096, biases=True):
    return sum(d * m + (m if biases else 0) for d, m in ((flat, hidden), (hidden, hidden), (hidden, classes)))


RIGHT = fc(512 * 3 * 3, 10)


def test_fc_parameters_stl10_matches_the_library_summary():
    """Independent of the check: vgglib's summary of VGG16(3, 10, 96), FC rows only."""
    rows = summary(VGG16.spec(3, 10, 96), print_table=False).rows
    assert sum(r.params for r in rows if r.type == "FullyConnected") == RIGHT == 35_700_746
    assert_right(ex.check_fc_parameters_stl10(RIGHT))
    assert_right(ex.check_fc_parameters_stl10(np.int64(RIGHT)))
    assert_right(ex.check_fc_parameters_stl10(float(RIGHT)))


@pytest.mark.parametrize(
    "wrong, words",
    [
        (fc(4608, 10, biases=False), ["weights only"]),
        (fc(512 * 7 * 7, 10), ["224×224"]),
        (fc(512 * 2 * 2, 10), ["64×64"]),
        (fc(512, 10), ["every position"]),
        (fc(4608, 1000), ["10 classes"]),
        (fc(3 * 4608, 10), ["colour channels"]),
        (fc(512 * 6 * 6, 10), ["five"]),
        (RIGHT + 14_714_688, ["convolutions"]),
        (12_345_678, ["D·M weights"]),
    ],
)
def test_fc_parameters_stl10_diagnoses_typical_mistakes(wrong, words):
    assert_wrong(ex.check_fc_parameters_stl10(wrong), *words, secret=f"{RIGHT:,}")
    assert str(RIGHT) not in ex.check_fc_parameters_stl10(wrong).message
    assert "4608" not in ex.check_fc_parameters_stl10(wrong).message


def test_fc_parameters_stl10_missing_or_wrong_type():
    assert_wrong(ex.check_fc_parameters_stl10(None), "no answer yet")
    assert_wrong(ex.check_fc_parameters_stl10("35700746"), "whole number")
    assert_wrong(ex.check_fc_parameters_stl10(1.5), "whole number")
    assert_wrong(ex.check_fc_parameters_stl10(True))


# ------------------------------------------------------------------------------------------------- exercise 3
def linear_backward_right(x, W, dy):  # y = x Wᵀ + b with W (M, D): written from the index form, not the check
    dx = np.einsum("nm,md->nd", dy, W)
    dW = np.einsum("nm,nd->md", dy, x)
    return dx, dW, dy.sum(axis=0)


def test_linear_backward_accepts_a_right_answer_and_agrees_with_numerical_gradients():
    from vgglib.gradcheck import numerical_gradient

    rng = np.random.default_rng(1)
    x, W, b, R = (
        rng.standard_normal((3, 4)),
        rng.standard_normal((2, 4)),
        rng.standard_normal(2),
        rng.standard_normal((3, 2)),
    )

    def loss():
        return float(((x @ W.T + b) * R).sum())

    dx, dW, db = linear_backward_right(x, W, R)
    for ours, wrt in ((dx, x), (dW, W), (db, b)):
        assert np.allclose(ours, numerical_gradient(loss, wrt), atol=1e-8)
    assert_right(ex.check_linear_backward(linear_backward_right))
    assert_right(ex.check_linear_backward(lambda x, W, dy: [dy @ W, dy.T @ x, dy.sum(axis=0)]))


SQUARE = lambda W: W.shape[0] == W.shape[1]  # noqa: E731


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda x, W, dy: (dy @ W, x.T @ dy, dy.sum(axis=0)), ["dW has shape", "(outputs, inputs)"]),
        (lambda x, W, dy: (dy @ W.T, dy.T @ x, dy.sum(axis=0)), ["raised", "each factor's shape"]),
        (
            lambda x, W, dy: (dy @ W, (dy.T @ x).T if SQUARE(W) else dy.T @ x, dy.sum(axis=0)),
            ["dW has the right shape but wrong values", "transposed", "square"],
        ),
        (
            lambda x, W, dy: (dy @ W.T if SQUARE(W) else dy @ W, dy.T @ x, dy.sum(axis=0)),
            ["dx has the right shape but wrong values", "wrong way round"],
        ),
        (lambda x, W, dy: (dy @ W, dy.T @ x, dy.sum(axis=0, keepdims=True)), ["db has shape", "2-D bias"]),
        (lambda x, W, dy: (dy @ W, dy.T @ x, dy), ["db has shape", "shared"]),
        (lambda x, W, dy: (dy @ W, dy.T @ x / len(x), dy.sum(axis=0)), ["wrong values", "1/N"]),
        (lambda x, W, dy: (dy @ W, dy.T @ x, dy.sum(axis=0) + 1), ["db has the right shape but wrong values"]),
        (lambda x, W, dy: (dy @ W, dy.T @ x), ["tuple"]),
        (lambda x, W, dy: (dy @ W, None, dy.sum(axis=0)), ["dW has shape None"]),
    ],
)
def test_linear_backward_diagnoses_typical_mistakes(wrong, words):
    result = ex.check_linear_backward(wrong)
    assert_wrong(result, *words)
    for formula in ("dy.T @ x", "dy @ W", "dYᵀ", "dY W", "sum(axis=0)"):
        assert formula not in result.message, f"the check revealed the formula: {result.message}"


def test_linear_backward_catches_float32_only_mistakes_and_in_place_changes():
    def float32_breaks(x, W, dy):
        dx, dW, db = linear_backward_right(x, W, dy)
        return (dx, dW, db) if x.dtype == np.float64 else (dx, dW * 2, db)

    assert_wrong(ex.check_linear_backward(float32_breaks), "x (5, 3)", "dW has the right shape but wrong values")

    def in_place(x, W, dy):
        W[0, 0] = 7.0
        return linear_backward_right(x, W, dy)

    assert_wrong(ex.check_linear_backward(in_place), "in place")


def test_linear_backward_missing_or_not_a_function():
    def not_done(x, W, dy):
        raise NotImplementedError

    assert_wrong(ex.check_linear_backward(not_done), "not implemented")
    assert_wrong(ex.check_linear_backward(None), "function")
    assert_wrong(ex.check_linear_backward(np.zeros(3)), "function", "ndarray")


def test_the_old_exercise_2_and_3_checks_are_gone():
    """Both answers are printed in the notebook (the FC table, FullyConnected._backward); the exercises moved."""
    assert not hasattr(ex, "check_fc_parameter_count") and not hasattr(ex, "check_fc_backward")
