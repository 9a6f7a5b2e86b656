"""Notebook 07's exercise 1 self-check (changed in issue 14): answers of the wrong type are reported, never
raised, and the right answer passes in any integer type."""

import struct

import numpy as np
import pytest

from vgglib import exercises as ex
from vgglib.exercises import ExerciseResult


def parse_right(data):
    ndim = data[3]
    return data[2], struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])


def test_right_answers_in_other_integer_types_pass():
    assert ex.check_parse_idx_header(parse_right).correct
    assert ex.check_parse_idx_header(lambda d: (np.uint8(d[2]), np.array(parse_right(d)[1]))).correct
    assert ex.check_parse_idx_header(lambda d: (float(d[2]), list(parse_right(d)[1]))).correct


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda d: (None, parse_right(d)[1]), ["wrong type code", "third byte"]),
        (lambda d: ("x08", parse_right(d)[1]), ["wrong type code"]),
        (lambda d: (d[2:3], parse_right(d)[1]), ["wrong type code", "as a number"]),
        (lambda d: (d[2], 28), ["tuple of ints"]),
        (lambda d: (d[2], [str(s) for s in parse_right(d)[1]]), ["tuple of ints"]),
        (lambda d: (d[2], (None,) * d[3]), ["tuple of ints"]),
    ],
)
def test_answers_of_the_wrong_type_are_reported_not_raised(wrong, words):
    result = ex.check_parse_idx_header(wrong)
    assert isinstance(result, ExerciseResult) and not result.correct
    for word in words:
        assert word in result.message, (word, result.message)
