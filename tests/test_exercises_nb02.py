"""Notebook 02's self-checks, as changed in issue 14: a missing answer says "no answer yet" (exercise 1's dict,
and the function exercises 3 and 4 whose body still raises NotImplementedError); an error in a written function
is reported with the case that raised it."""

import numpy as np
import pytest

from vgglib import exercises as ex
from vgglib.exercises import ExerciseResult


def assert_wrong(result, *words):
    assert isinstance(result, ExerciseResult) and not result.correct and not bool(result)
    assert result.message and "✘" in repr(result)
    for word in words:
        assert word in result.message, (word, result.message)


def stub(*args):
    raise NotImplementedError  # what the lesson's exercise cell holds until the student writes the body


def test_backward_shapes_without_an_answer():
    assert_wrong(ex.check_backward_shapes(None), "no answer yet", "dict")
    assert_wrong(ex.check_backward_shapes([(8, 16, 16, 16)]), "expected a dict", "list")


@pytest.mark.parametrize("check", [ex.check_dilate, ex.check_conv_backward], ids=lambda c: c.__name__)
def test_a_function_not_written_yet_is_no_answer_yet(check):
    assert_wrong(check(stub), "no answer yet", "NotImplementedError")


def test_an_error_in_a_written_function_is_reported_with_the_case():
    def dilate_with_a_typo(dy, stride):
        return np.zeros(dy.shape)[:, :, ::stride, ::stride] + dy.reshape(-1)

    assert_wrong(ex.check_dilate(dilate_with_a_typo), "raised ValueError", "dy of shape (1, 1, 3, 3)")

    def backward_with_a_typo(dy, x, w, s, p):
        return dy @ x

    assert_wrong(ex.check_conv_backward(backward_with_a_typo), "raised ValueError", "stride 1, padding 0")
