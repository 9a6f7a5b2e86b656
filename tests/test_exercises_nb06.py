"""Notebook 06's exercise 3 self-check (changed in issue 14): it fails a softmax without the max shift on
logits of ±1000 and says so, and tells that apart from a batch-wide shift and from ``log(softmax)``."""

import warnings

import numpy as np
import pytest

from vgglib import exercises as ex
from vgglib.exercises import ExerciseResult


def assert_wrong(result, *words):
    assert isinstance(result, ExerciseResult)
    assert not result.correct and result.message
    for word in words:
        assert word in result.message, (word, result.message)


def _grad(p, labels):
    n = len(p)
    g = p.copy()
    g[np.arange(n), labels] -= 1
    return g / n


def right(logits, labels):
    n = len(logits)
    shifted = logits - logits.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(n), labels].mean()), _grad(np.exp(logp), labels)


def no_max_shift(logits, labels):  # the coursework kit's planted bug: the softmax without the max shift
    e = np.exp(logits)
    p = e / e.sum(axis=1, keepdims=True)
    return float(-np.log(p[np.arange(len(p)), labels]).mean()), _grad(p, labels)


def no_max_shift_log_softmax(logits, labels):  # the same bug in the log-softmax form
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(logp)), labels].mean()), _grad(np.exp(logp), labels)


def batch_wide_shift(logits, labels):  # one shift for the whole batch, not one per row
    return no_max_shift(logits - logits.max(), labels)


def log_of_softmax(logits, labels):  # stable softmax, then np.log: log(0) when a probability underflows
    return no_max_shift(logits - logits.max(axis=1, keepdims=True), labels)


def log_with_epsilon(logits, labels):  # stable softmax, log guarded by 1e-12: finite but capped
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    p = e / e.sum(axis=1, keepdims=True)
    return float(-np.log(np.maximum(p[np.arange(len(p)), labels], 1e-12)).mean()), _grad(p, labels)


def test_the_right_answer_passes_every_case():
    result = ex.check_softmax_cross_entropy(right)
    assert result.correct, result.message
    assert "±1000" in result.message


@pytest.mark.parametrize("bug", [no_max_shift, no_max_shift_log_softmax])
def test_a_softmax_without_the_max_shift_fails_on_large_logits_and_is_named(bug):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the student's overflow warnings are silenced by the check, not shown
        result = ex.check_softmax_cross_entropy(bug)
    assert_wrong(result, "logits of ±1000", "without the max shift", "exp(1000) overflows")


def test_the_max_shift_bug_passes_small_logits():
    """The check fails the bug on the large logits, not before: the earlier cases are ordinary ones."""
    z = np.random.default_rng(0).standard_normal((5, 4))
    y = np.array([0, 1, 2, 3, 0])
    loss, grad = no_max_shift(z, y)
    loss_ref, grad_ref = right(z, y)
    assert np.isclose(loss, loss_ref) and np.allclose(grad, grad_ref)


def test_a_batch_wide_shift_is_told_apart():
    assert_wrong(ex.check_softmax_cross_entropy(batch_wide_shift), "whole batch", "own")


def test_log_of_an_underflowed_probability_is_diagnosed():
    assert_wrong(ex.check_softmax_cross_entropy(log_of_softmax), "800 below", "underflowed", "log-softmax")


def test_a_log_guarded_by_epsilon_is_diagnosed():
    assert_wrong(ex.check_softmax_cross_entropy(log_with_epsilon), "too small", "epsilon")


def test_other_mistakes_still_get_their_hints():
    assert_wrong(ex.check_softmax_cross_entropy(lambda z, y: (right(z, y)[0] * len(z), right(z, y)[1])), "sum")
    assert_wrong(ex.check_softmax_cross_entropy(lambda z, y: (right(z, y)[0], -right(z, y)[1])), "sign")

    def in_place(z, y):
        z -= z.max(axis=1, keepdims=True)
        return right(z, y)

    def not_done(z, y):
        raise NotImplementedError

    assert_wrong(ex.check_softmax_cross_entropy(in_place), "in place")
    assert_wrong(ex.check_softmax_cross_entropy(not_done), "not implemented")
    assert_wrong(ex.check_softmax_cross_entropy(lambda z, y: 1 / 0), "ZeroDivisionError")
    assert_wrong(ex.check_softmax_cross_entropy(lambda z, y: (None, None)), "one number")
    assert_wrong(ex.check_softmax_cross_entropy(None), "function")


def test_no_message_gives_the_solution_away():
    for bug in (no_max_shift, batch_wide_shift, log_of_softmax, log_with_epsilon):
        message = ex.check_softmax_cross_entropy(bug).message
        assert "z.max(axis=1" not in message and "keepdims" not in message
