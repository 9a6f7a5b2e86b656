"""Notebook 04's changed self-checks: exercise 3 (a three-way tie: the layer's gradient and the numerical one)
and exercise 4 (max-pool backward), whose check must catch the seed's bug — a backward that ignores the stride —
exactly: harmless with stride 1, wrong with stride 2 for pool sizes 1, 2 and 3 (overlapping)."""

import numpy as np
import pytest

from vgglib import exercises as ex
from vgglib.exercises import ExerciseResult
from vgglib.exercises.nb04_pooling import MAXPOOL_CASES, _maxpool_case_results


def assert_right(result):
    assert isinstance(result, ExerciseResult) and result.correct, result.message
    assert "✔" in repr(result)


def assert_wrong(result, *words):
    assert isinstance(result, ExerciseResult) and not result.correct and result.message, result
    assert "✘" in repr(result)
    for word in words:
        assert word in result.message, (word, result.message)


# ------------------------------------------------------------------------------------------------- exercise 3
WINDOW = np.array([[1.0, 4.0], [4.0, 4.0]])
LAYER = [[0, 1], [0, 0]]  # np.argmax: the first maximum in row-major order
NUMERICAL = [[0, 0.5], [0.5, 0.5]]  # each tied entry: up by ε the max follows, down by ε another keeps it


def test_three_way_tie_right_answer_matches_the_library_and_numerical_gradient():
    from vgglib import Maxpooling2D, numerical_gradient

    x = WINDOW[None, None].copy()
    pool = Maxpooling2D()
    pool.forward(x)
    layer = pool.backward(np.ones((1, 1, 1, 1)))[0, 0]
    numeric = numerical_gradient(lambda: float(Maxpooling2D().forward(x).sum()), x)[0, 0]
    assert np.array_equal(layer, LAYER) and np.allclose(numeric, NUMERICAL, atol=1e-8)
    assert_right(ex.check_three_way_tie({"layer": layer, "numerical": numeric}))
    assert_right(ex.check_three_way_tie({"layer": LAYER, "numerical": NUMERICAL}))


THIRD = [[0, 1 / 3], [1 / 3, 1 / 3]]


@pytest.mark.parametrize(
    "layer, numerical, words",
    [
        ([[0, 0], [0, 1]], NUMERICAL, ["layer: that is the last maximum"]),
        ([[0, 0], [1, 0]], NUMERICAL, ["layer:", "row-major"]),
        ([[0, 1], [1, 1]], NUMERICAL, ["layer:", "single winner"]),
        (NUMERICAL, NUMERICAL, ["layer:", "one winner"]),
        (THIRD, NUMERICAL, ["layer:", "fair guess"]),
        (LAYER, THIRD, ["numerical:", "fair guess"]),
        (LAYER, LAYER, ["numerical:", "±ε on its own"]),
        (LAYER, [[0, 1], [1, 1]], ["numerical:", "nudge one tied entry down"]),
        (LAYER, [[0, 0.5], [0.5, 0]], ["numerical:", "same situation"]),
        (LAYER, [[0.5, 0.5], [0.5, 0.5]], ["numerical:", "entry 1 is not a maximum"]),
        (LAYER, [[0, 0.25], [0.25, 0.25]], ["numerical:", "(max after +ε"]),
        ([[0, 1, 0, 0]], NUMERICAL, ["layer: give a 2×2 array"]),
    ],
)
def test_three_way_tie_diagnoses_typical_mistakes(layer, numerical, words):
    result = ex.check_three_way_tie({"layer": layer, "numerical": numerical})
    assert_wrong(result, *words)
    assert "0.5" not in result.message and "½" not in result.message and "[[" not in result.message


def test_three_way_tie_reports_both_parts_and_missing_answers():
    both = ex.check_three_way_tie({"layer": THIRD, "numerical": THIRD})
    assert_wrong(both, "layer:", "numerical:")
    assert_wrong(ex.check_three_way_tie(None), "no answer yet")
    assert_wrong(ex.check_three_way_tie({"layer": None, "numerical": None}), "no answer yet")
    assert_wrong(ex.check_three_way_tie({"layer": LAYER, "numerical": None}), "numerical: give a 2×2 array")
    assert_wrong(ex.check_three_way_tie(NUMERICAL), "dict")
    assert_wrong(ex.check_three_way_tie({"layer": LAYER}), "dict")


def test_the_old_exercise_3_check_is_gone():
    """The two-way tie's ½ is printed in notebook 03 (ReLU at 0); the exercise moved to a three-way tie."""
    assert not hasattr(ex, "check_tie_gradient")


# ------------------------------------------------------------------------------------------------- exercise 4
def right(dy, x, k, s):  # independent of the check: loops over output positions, numpy over batch and channels
    dx = np.zeros_like(x)
    n, c, ho, wo = dy.shape
    rows, cols = np.arange(n)[:, None], np.arange(c)[None, :]
    for oy in range(ho):
        for ox in range(wo):
            i, j = np.divmod(x[:, :, oy * s : oy * s + k, ox * s : ox * s + k].reshape(n, c, -1).argmax(axis=2), k)
            np.add.at(dx, (rows, cols, oy * s + i, ox * s + j), dy[:, :, oy, ox])
    return dx


def ignores_stride(dy, x, k, s):  # the seed's bug: the winners are right, window (oy, ox) is put back at (oy, ox)
    dx = np.zeros_like(x)
    n, c, ho, wo = dy.shape
    rows, cols = np.arange(n)[:, None], np.arange(c)[None, :]
    for oy in range(ho):
        for ox in range(wo):
            i, j = np.divmod(x[:, :, oy * s : oy * s + k, ox * s : ox * s + k].reshape(n, c, -1).argmax(axis=2), k)
            np.add.at(dx, (rows, cols, oy + i, ox + j), dy[:, :, oy, ox])
    return dx


def ignores_stride_vectorised(dy, x, k, s):  # the same bug planted in the worked solution's offset loop
    n, c, ho, wo = dy.shape
    windows = np.stack([x[:, :, i : i + s * ho : s, j : j + s * wo : s] for i in range(k) for j in range(k)], axis=2)
    winners = windows.argmax(axis=2)
    dx = np.zeros_like(x)
    for i in range(k):
        for j in range(k):
            dx[:, :, i : i + ho, j : j + wo] += np.where(winners == i * k + j, dy, 0.0)
    return dx


def assigns(dy, x, k, s):
    dx = np.zeros_like(x)
    n, c, ho, wo = dy.shape
    rows, cols = np.arange(n)[:, None], np.arange(c)[None, :]
    for oy in range(ho):
        for ox in range(wo):
            i, j = np.divmod(x[:, :, oy * s : oy * s + k, ox * s : ox * s + k].reshape(n, c, -1).argmax(axis=2), k)
            dx[rows, cols, oy * s + i, ox * s + j] = dy[:, :, oy, ox]
    return dx


def test_maxpool_backward_accepts_a_right_answer():
    assert_right(ex.check_maxpool_backward(right))


def test_the_cases_cover_what_the_stride_bug_needs():
    """Stride 1 (where the bug is harmless) and pool 1 / 2 / 3 with stride 2 (3: overlapping) are all tried."""
    pairs = {(k, s) for _, k, s in MAXPOOL_CASES}
    assert {(1, 2), (2, 2), (3, 2)} <= pairs and any(s == 1 for _, s in pairs)
    assert any(shape[0] == 1 for shape, _, _ in MAXPOOL_CASES) and any(s == 3 for _, s in pairs)


@pytest.mark.parametrize("bug", [ignores_stride, ignores_stride_vectorised])
def test_the_stride_bug_passes_exactly_the_stride_1_cases(bug):
    results = _maxpool_case_results(bug)
    for (shape, k, s), status in results:
        assert (status == "ok") == (s == 1), (shape, k, s, status)
    failing = {(k, s) for (_, k, s), status in results if status != "ok"}
    assert {(1, 2), (2, 2), (3, 2)} <= failing


@pytest.mark.parametrize("bug", [ignores_stride, ignores_stride_vectorised])
def test_the_stride_bug_is_named(bug):
    result = ex.check_maxpool_backward(bug)
    assert_wrong(result, "every stride-1 case passes", "stride 2", "pool sizes 1, 2, 3", "seed's bug")
    assert "oy·stride" not in result.message and "oy * s" not in result.message


def test_each_stride_2_case_alone_catches_the_stride_bug(monkeypatch):
    """Pool 1, 2 and 3 with stride 2: each one by itself fails the bug (a kit may keep only some of the cases)."""
    import vgglib.exercises.nb04_pooling as nb04

    for case in [c for c in MAXPOOL_CASES if c[2] == 2]:
        monkeypatch.setattr(nb04, "MAXPOOL_CASES", (case,))
        assert_wrong(ex.check_maxpool_backward(ignores_stride), "seed's bug")
        assert_right(ex.check_maxpool_backward(right))
    monkeypatch.setattr(nb04, "MAXPOOL_CASES", tuple(c for c in MAXPOOL_CASES if c[2] == 1))
    assert_right(ex.check_maxpool_backward(ignores_stride))  # stride 1 alone would miss it


def test_maxpool_backward_diagnoses_other_mistakes():
    assert_wrong(ex.check_maxpool_backward(assigns), "overlapping", "+=")
    assert_wrong(ex.check_maxpool_backward(lambda dy, x, k, s: dy), "shape", "pool_size 2, stride 1")
    assert_wrong(ex.check_maxpool_backward(lambda dy, x, k, s: np.zeros_like(x)), "first one in row-major", "sum")

    def not_done(dy, x, k, s):
        raise NotImplementedError

    assert_wrong(ex.check_maxpool_backward(not_done), "raised NotImplementedError")
    assert_wrong(ex.check_maxpool_backward(None), "pass your function")
