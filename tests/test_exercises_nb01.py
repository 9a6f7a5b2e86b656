"""Notebook 01's self-checks, as changed in issue 14: a function exercise whose body still raises
NotImplementedError says "no answer yet"; and exercise 3 (the horizontal-edge kernel) asks for the sign the
notebook promises — checked here on a real digit: a kernel the check accepts is positive on the bottom edges of
the strokes (bright above, dark below) and negative on their top edges."""

import numpy as np
import pytest

from vgglib import exercises as ex
from vgglib.exercises import ExerciseResult
from vgglib.mnist import load_mnist
from vgglib.preprocess import to_float
from vgglib.reference import conv2d_forward_naive


def assert_right(result):
    assert isinstance(result, ExerciseResult) and result.correct and bool(result), result.message
    assert "✔" in repr(result)


def assert_wrong(result, *words):
    assert isinstance(result, ExerciseResult) and not result.correct and not bool(result)
    assert result.message and "✘" in repr(result)
    for word in words:
        assert word in result.message, (word, result.message)


def stub(*args):
    raise NotImplementedError  # what the lesson's exercise cell holds until the student writes the body


@pytest.mark.parametrize("check", [ex.check_output_size, ex.check_conv2d], ids=lambda c: c.__name__)
def test_a_function_not_written_yet_is_no_answer_yet(check):
    assert_wrong(check(stub), "no answer yet", "NotImplementedError")


def test_an_error_in_a_written_function_is_reported_with_the_case():
    def broken(size, kernel_size, padding, stride):
        return [][size]

    assert_wrong(ex.check_output_size(broken), "raised IndexError", "size=5, kernel_size=3")


# ------------------------------------------------------------------------------------------------- exercise 3
SOBEL_Y = np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]], dtype=float)  # top row minus bottom row


def edge_map(kernel):
    digit = to_float(load_mnist("test")[0][4]).astype(np.float64)  # the 4 of the notebook
    m = conv2d_forward_naive(digit[None, None], np.asarray(kernel, float)[None, None], np.zeros(1), padding=1)
    return digit, m[0, 0]


def test_an_accepted_kernel_lights_up_the_bottom_edges_of_the_strokes():
    assert_right(ex.check_horizontal_edge_kernel(SOBEL_Y))
    digit, m = edge_map(SOBEL_Y)
    ink = digit > 0.5
    below_ink = np.zeros_like(ink)
    below_ink[1:] = ink[:-1] & ~ink[1:]  # background pixels right under a stroke: its bottom edge
    above_ink = np.zeros_like(ink)
    above_ink[:-1] = ink[1:] & ~ink[:-1]  # background pixels right over a stroke: its top edge
    assert below_ink.sum() >= 10 and above_ink.sum() >= 10
    # (a few pixels at the ends of slanted strokes see ink beside them too; the bulk has the promised sign)
    assert np.mean(m[below_ink] > 0) >= 0.85 and m[below_ink].mean() > 1
    assert np.mean(m[above_ink] < 0) >= 0.85 and m[above_ink].mean() < -1
    # the 4's horizontal bar, column 12 (the solutions notebook prints it): negative above, positive below
    assert m[16, 12] < -3 and m[18, 12] > 3


def test_the_opposite_sign_is_rejected_and_lights_up_the_top_edges():
    assert_wrong(ex.check_horizontal_edge_kernel(-SOBEL_Y), "opposite sign", "bottom is brighter")
    _, m = edge_map(-SOBEL_Y)
    assert m[16, 12] > 3 and m[18, 12] < -3


@pytest.mark.parametrize(
    "kernel",
    [[[1, 1, 1], [0, 0, 0], [-1, -1, -1]], [[0, 0, 0], [1, 1, 1], [-1, -1, -1]], [[2, 0, 1], [-1, 1, 0], [-1, -1, -1]]],
    ids=["Prewitt", "one row lower", "uneven but column sums zero"],
)
def test_other_kernels_with_zero_column_sums_and_the_right_sign_pass(kernel):
    assert_right(ex.check_horizontal_edge_kernel(kernel))


def test_kernels_that_also_see_vertical_edges_or_flat_patches_fail():
    assert_wrong(ex.check_horizontal_edge_kernel(SOBEL_Y.T), "vertical edges")
    assert_wrong(ex.check_horizontal_edge_kernel(SOBEL_Y + 0.1), "constant patch")
    assert_wrong(ex.check_horizontal_edge_kernel(np.full((3, 3), np.nan)), "inf or nan")
    assert_wrong(ex.check_horizontal_edge_kernel(None), "no answer yet")
