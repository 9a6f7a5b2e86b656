"""Self-checks for the exercises of ``notebooks/04_pooling.ipynb``.

Worked solutions: ``notebooks/solutions/04_pooling_solutions.ipynb``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..reference import pool2d_backward_naive, pool2d_forward_naive
from ._common import ExerciseResult, _as_array, _call, verdict

__all__ = ["check_pool_by_hand", "check_maxpool_dx_by_hand", "check_tie_gradient", "check_maxpool_backward"]

#: The 4×4 worked example of the notebook (max pooling 2×2, stride 2 gives [[6, 8], [3, 4]]).
EXAMPLE = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], dtype=np.float64)
#: Exercise 2: the output gradient for 3×3 max pooling with stride 1 over ``EXAMPLE``.
HAND_DY = np.array([[1, 2], [3, 4]], dtype=np.float64)


def _pool(x: np.ndarray, k: int, s: int, mode: str) -> np.ndarray:
    return pool2d_forward_naive(x[None, None], k, s, mode)[0][0, 0]


def check_pool_by_hand(answer: Any) -> ExerciseResult:
    """Exercise 1: min and average pooling (2×2, stride 2) of the worked example: ``{"min": …, "avg": …}``."""
    name = "pool_by_hand"
    if not isinstance(answer, dict) or set(answer) != {"min", "avg"}:
        return verdict(name, False, "", 'expected a dict {"min": 2×2 array, "avg": 2×2 array}')
    problems = []
    for mode in ("min", "avg"):
        arr = _as_array(answer[mode])
        expected = _pool(EXAMPLE, 2, 2, mode)
        if arr is None or arr.shape != (2, 2):
            problems.append(f"{mode}: give a 2×2 array (a nested list works)")
        elif not np.allclose(arr, expected, atol=1e-9):
            if np.allclose(arr, _pool(EXAMPLE, 2, 2, "max")):
                problems.append(f"{mode}: that is max pooling")
            elif mode == "avg" and np.allclose(arr, expected * 4):
                problems.append("avg: those are the window sums; divide by the window's size")
            else:
                wrong = int((~np.isclose(arr, expected, atol=1e-9)).sum())
                problems.append(
                    f"{mode}: {wrong} of 4 entries differ — the four windows are the four 2×2 quadrants of the image"
                )
    if not problems:
        return verdict(name, True, "every window gives one number: its min, or its mean.", "")
    return verdict(name, False, "", "; ".join(problems) + ".")


def check_maxpool_dx_by_hand(answer: Any) -> ExerciseResult:
    """Exercise 2: dx of max pooling with pool_size 3, stride 1 on the worked example, for dy = ``HAND_DY``."""
    name = "maxpool_dx_by_hand"
    arr = _as_array(answer)
    if arr is None:
        return verdict(name, False, "", "no answer yet: replace None with a 4×4 array (a nested list works)")
    if arr.shape != (4, 4):
        return verdict(name, False, "", f"dx has the input's shape, 4×4; your answer has shape {arr.shape}")
    x = EXAMPLE[None, None]
    expected = pool2d_backward_naive(HAND_DY[None, None], x, 3, 1, "max")[0, 0]
    if np.array_equal(arr, expected):
        return verdict(
            name,
            True,
            "the windows overlap, so one pixel can win several of them — and then it collects all their gradients.",
            "",
        )
    _, winners = pool2d_forward_naive(x, 3, 1, "max")
    overwritten = np.zeros((4, 4))
    for oy in range(2):
        for ox in range(2):
            i, j = divmod(int(winners[0, 0, oy, ox]), 3)
            overwritten[oy + i, ox + j] = HAND_DY[oy, ox]
    if np.array_equal(arr, overwritten):
        hint = "some pixels win more than one window; each win brings its own dy, and they add up (+=, not =)."
    elif arr.sum() != HAND_DY.sum():
        hint = (
            f"the entries of dx should add up to the sum of dy ({HAND_DY.sum():g}): every output's gradient "
            "goes to exactly one pixel. Windows are 3×3 and move by 1."
        )
    else:
        hint = "the total is right but some gradients went to the wrong pixel: find each 3×3 window's maximum."
    return verdict(name, False, "", hint)


def check_tie_gradient(answer: Any) -> ExerciseResult:
    """Exercise 3: the central-difference derivative of max(a, b) with respect to a, at a == b."""
    name = "tie_gradient"
    if isinstance(answer, bool) or not isinstance(answer, (int, float, np.integer, np.floating)):
        if answer is None:
            return verdict(name, False, "", "no answer yet: replace None with a number")
        return verdict(name, False, "", f"expected a number, got {type(answer).__name__}")
    value = float(answer)
    if math.isclose(value, 0.5, abs_tol=1e-9):
        return verdict(
            name,
            True,
            "up by ε the max follows a, down by ε it stays at b: half the slope. Neither "
            "1 nor 0 (the layer's choices) is 'wrong' — max has no derivative at a tie.",
            "",
        )
    if math.isclose(value, 1.0):
        hint = (
            "1 is what the layer's backward sends to the first winner; the question is about the numerical "
            "check (f(a + ε) − f(a − ε)) / 2ε. What is max(a − ε, b) when a == b?"
        )
    elif math.isclose(value, 0.0):
        hint = "0 is what the second tied element gets from the layer; compute (max(a+ε, b) − max(a−ε, b)) / 2ε."
    else:
        hint = "write out (max(a + ε, b) − max(a − ε, b)) / (2ε) with a == b."
    return verdict(name, False, "", hint)


def check_maxpool_backward(fn: Any) -> ExerciseResult:
    """Exercise 4: ``fn(dy, x, pool_size, stride)`` returns dx of max pooling, for any stride (overlaps too)."""
    name = "maxpool_backward"
    if not callable(fn):
        return verdict(name, False, "", "pass your function itself, e.g. check_maxpool_backward(maxpool_backward)")
    rng = np.random.default_rng(6)
    cases = [
        ((2, 3, 4, 4), 2, 2),
        ((1, 2, 6, 6), 2, 2),
        ((2, 2, 7, 7), 3, 2),
        ((1, 2, 5, 6), 2, 1),
        ((2, 1, 6, 6), 3, 1),
        ((1, 2, 7, 7), 2, 3),
    ]
    for shape, k, s in cases:
        x = rng.permutation(int(np.prod(shape))).reshape(shape).astype(np.float64)  # distinct: no ties
        y, winners = pool2d_forward_naive(x, k, s, "max")
        dy = rng.standard_normal(y.shape)
        where = f"x {shape}, pool_size {k}, stride {s}"
        got, error = _call(fn, dy, x, k, s)
        if error is not None:
            return verdict(name, False, "", f"your function raised {error} for {where}")
        got = _as_array(got)
        if got is None or got.shape != shape:
            return verdict(
                name,
                False,
                "",
                f"for {where} dx has shape {None if got is None else got.shape}, expected the input's shape {shape}",
            )
        expected = pool2d_backward_naive(dy, x, k, s, "max")
        if np.allclose(got, expected, atol=1e-12):
            continue
        if s < k:
            hint = (
                "the windows overlap here, so a pixel can win several windows: add (+=) the gradients "
                "instead of assigning them"
            )
        elif s != 1:
            hint = (
                "the gradient lands in the wrong place when stride > 1: window (oy, ox) starts at "
                "(oy·stride, ox·stride) — the seed's bug"
            )
        else:
            hint = "route each dy to the position of its window's maximum (the first one in row-major order)"
        if not np.isclose(got.sum(), dy.sum()):
            hint += "; also, dx should sum to the sum of dy (each output sends its gradient to one pixel)"
        return verdict(name, False, "", f"for {where}: {hint}.")
    return verdict(
        name, True, f"all {len(cases)} cases match, including overlapping windows and strides that skip pixels.", ""
    )
