"""Self-checks for the exercises of ``notebooks/04_pooling.ipynb``.

Worked solutions: ``notebooks/solutions/04_pooling_solutions.ipynb``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..reference import pool2d_backward_naive, pool2d_forward_naive
from ._common import ExerciseResult, _as_array, _call, verdict

__all__ = ["check_pool_by_hand", "check_maxpool_dx_by_hand", "check_three_way_tie", "check_maxpool_backward"]

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


#: Exercise 3: one 2×2 window with a three-way tie for its maximum (max pooling 2×2, stride 2, dL/dy = 1)
TIE_WINDOW = np.array([[1, 4], [4, 4]], dtype=np.float64)


def _tie_hint(part: str, arr: np.ndarray) -> str | None:
    """What a typical wrong answer for the layer's or the numerical gradient at ``TIE_WINDOW`` means."""
    tied = TIE_WINDOW == TIE_WINDOW.max()
    first, last = np.zeros((2, 2)), np.zeros((2, 2))
    first.flat[int(np.argmax(TIE_WINDOW))] = 1.0
    last.flat[3 - int(np.argmax(TIE_WINDOW.ravel()[::-1]))] = 1.0
    column_major = np.zeros((2, 2))
    column_major.T.flat[int(np.argmax(TIE_WINDOW.T))] = 1.0
    same = lambda a: np.allclose(arr, a, atol=1e-6)  # noqa: E731
    if same(tied / tied.sum()):
        return (
            f"{part}: splitting dy evenly among the tied entries is a fair guess, but it is neither what the "
            "layer does nor what a central difference measures"
        )
    if part == "layer":
        if same(last):
            return "layer: that is the last maximum; np.argmax (and vgglib) keep the first one"
        if same(column_major):
            return "layer: the first maximum in column order; argmax reads the window row by row (row-major)"
        if same(tied * 1.0):
            return "layer: the layer's backward sends the whole gradient to a single winner, not to every tied entry"
        if same(tied * 0.5):
            return "layer: the backward pass does not share or halve dy; it sends all of it to one winner"
        return "layer: the backward pass routes dy to the winner that the forward pass recorded"
    if same(first) or same(last) or same(column_major):
        return (
            "numerical: the central difference nudges each entry by ±ε on its own and sees nothing of the "
            "layer's choice of winner"
        )
    if same(tied * 1.0):
        return "numerical: nudge one tied entry down by ε — what is the window's maximum then?"
    if arr.shape == (2, 2) and np.allclose(arr[~tied], 0, atol=1e-6) and np.ptp(arr[tied]) > 1e-6:
        return "numerical: the three tied entries are in the same situation; nudging any one of them does the same"
    if arr.shape == (2, 2) and not np.allclose(arr[~tied], 0, atol=1e-6):
        return "numerical: the entry 1 is not a maximum; nudging it by ±ε leaves the output unchanged"
    return "numerical: work out (max after +ε − max after −ε) / 2ε for each entry"


def check_three_way_tie(answer: Any) -> ExerciseResult:
    """Exercise 3: at ``TIE_WINDOW`` (three entries share the maximum 4), with dL/dy = 1 for the one output:
    ``{"layer": the layer's dx (2×2), "numerical": the central-difference gradient (2×2)}``."""
    name = "three_way_tie"
    if answer is None:
        return verdict(name, False, "", 'no answer yet: replace None with {"layer": 2×2 array, "numerical": 2×2 array}')
    if not isinstance(answer, dict) or set(answer) != {"layer", "numerical"}:
        return verdict(name, False, "", 'expected a dict {"layer": 2×2 array, "numerical": 2×2 array}')
    if all(answer[part] is None for part in answer):
        return verdict(name, False, "", "no answer yet: replace each None with a 2×2 array (a nested list works)")
    tied = TIE_WINDOW == TIE_WINDOW.max()
    expected = {
        "layer": pool2d_backward_naive(np.ones((1, 1, 1, 1)), TIE_WINDOW[None, None], 2, 2, "max")[0, 0],
        "numerical": 0.5 * tied,  # up by ε: the max follows; down by ε: the other tied entries keep it
    }
    problems = []
    for part in ("layer", "numerical"):
        arr = _as_array(answer[part])
        if arr is None or arr.shape != (2, 2):
            problems.append(f"{part}: give a 2×2 array (a nested list works), one entry per pixel of the window")
        elif not np.allclose(arr, expected[part], atol=1e-6):
            problems.append(_tie_hint(part, arr) or f"{part}: not yet")
    if not problems:
        return verdict(
            name,
            True,
            "the layer picks one winner; the central difference gives each tied entry half a slope, so its "
            "entries add up to more than dy — at a tie it measures no gradient at all.",
            "",
        )
    message = "; ".join(problems)
    return verdict(name, False, "", message if message.endswith(("?", ".")) else message + ".")


#: Exercise 4's cases (x shape, pool size, stride): stride 1 (where ignoring the stride is harmless) and
#: strides 2 and 3, pool sizes 1, 2, 3 (3 with stride 2 overlaps), a batch of one, odd and non-square maps
MAXPOOL_CASES: tuple[tuple[tuple[int, int, int, int], int, int], ...] = (
    ((2, 3, 5, 6), 2, 1),
    ((2, 1, 6, 6), 3, 1),
    ((1, 2, 4, 5), 1, 1),
    ((2, 3, 4, 4), 2, 2),
    ((1, 2, 6, 7), 1, 2),
    ((2, 2, 7, 7), 3, 2),
    ((1, 2, 7, 8), 2, 3),
)


def _maxpool_backward_bug(dy: np.ndarray, x: np.ndarray, k: int, s: int, *, stride: bool, add: bool) -> np.ndarray:
    """A buggy max-pool backward (the winners are right): ``stride=False`` is the seed's bug, window (oy, ox) put
    back as if it started at (oy, ox); ``add=False`` assigns with ``=`` instead of ``+=``, so a pixel that wins
    several overlapping windows keeps only the last gradient."""
    _, winners = pool2d_forward_naive(x, k, s, "max")
    dx = np.zeros_like(x)
    i, j = np.divmod(winners, k)
    step = s if stride else 1
    n, c, ho, wo = dy.shape
    for oy in range(ho):
        for ox in range(wo):
            for b in range(n):
                for ch in range(c):
                    at = (b, ch, oy * step + i[b, ch, oy, ox], ox * step + j[b, ch, oy, ox])
                    dx[at] = dx[at] + dy[b, ch, oy, ox] if add else dy[b, ch, oy, ox]
    return dx


def _maxpool_case_results(fn: Callable) -> list[tuple[tuple[tuple[int, ...], int, int], str]]:
    """Run ``fn`` on every case of ``MAXPOOL_CASES``: "ok", "ignores stride", "assigns", "wrong", or an error."""
    rng = np.random.default_rng(6)
    results: list[tuple[tuple[tuple[int, ...], int, int], str]] = []
    for shape, k, s in MAXPOOL_CASES:
        x = rng.permutation(int(np.prod(shape))).reshape(shape).astype(np.float64)  # distinct: no ties
        y, _ = pool2d_forward_naive(x, k, s, "max")
        dy = rng.standard_normal(y.shape)
        got, error = _call(fn, dy, x, k, s)
        case = (shape, k, s)
        if error is not None:
            results.append((case, f"raised {error}"))
            continue
        got = _as_array(got)
        if got is None or got.shape != shape:
            results.append((case, f"shape {None if got is None else got.shape}"))
        elif np.allclose(got, pool2d_backward_naive(dy, x, k, s, "max"), atol=1e-12):
            results.append((case, "ok"))
        elif np.allclose(got, _maxpool_backward_bug(dy, x, k, s, stride=False, add=True), atol=1e-12):
            results.append((case, "ignores stride"))
        elif np.allclose(got, _maxpool_backward_bug(dy, x, k, s, stride=True, add=False), atol=1e-12):
            results.append((case, "assigns"))
        else:
            results.append((case, "sums differ" if not np.isclose(got.sum(), dy.sum()) else "wrong"))
    return results


def check_maxpool_backward(fn: Any) -> ExerciseResult:
    """Exercise 4: ``fn(dy, x, pool_size, stride)`` returns dx of max pooling, for any stride (overlaps too).

    Tried on ``MAXPOOL_CASES``; the message names the first failing case and diagnoses the seed's bug (a
    backward that ignores the stride: right for stride 1 only) and ``=`` instead of ``+=`` (overlaps only).
    """
    name = "maxpool_backward"
    if not callable(fn):
        return verdict(name, False, "", "pass your function itself, e.g. check_maxpool_backward(maxpool_backward)")
    results = _maxpool_case_results(fn)
    failed = [(case, status) for case, status in results if status != "ok"]
    if not failed:
        return verdict(
            name,
            True,
            f"all {len(results)} cases match: strides 1 to 3, pool sizes 1 to 3, overlapping windows, a batch of one.",
            "",
        )
    (shape, k, s), status = failed[0]
    where = f"x {shape}, pool_size {k}, stride {s}"
    if status.startswith("raised"):
        return verdict(name, False, "", f"your function {status} for {where}")
    if status.startswith("shape"):
        return verdict(name, False, "", f"for {where}: dx has {status}, expected the input's shape {shape}")
    stride_one_ok = all(st == "ok" for (_, _, st_s), st in results if st_s == 1)
    statuses = {st for _, st in failed}
    if statuses == {"ignores stride"} or (stride_one_ok and all(c[2] > 1 for c, _ in failed)):
        strides = sorted({c[2] for c, _ in failed})
        pools = sorted({c[1] for c, _ in failed})
        hint = (
            f"every stride-1 case passes, but every case with stride {' or '.join(map(str, strides))} fails "
            f"(pool sizes {', '.join(map(str, pools))}): the gradient lands where window (oy, ox) would start "
            "with stride 1 — the seed's bug. With stride s, where does window (oy, ox) start?"
        )
    elif statuses == {"assigns"} or all(c[2] < c[1] for c, _ in failed):
        hint = (
            "only the cases with overlapping windows (stride < pool size) fail: a pixel can win several "
            "windows, and then it collects all their gradients — add them (+=) instead of assigning (=)"
        )
    else:
        hint = f"for {where}: route each dy to the position of its window's maximum (the first one in row-major order)"
        if "sums differ" in statuses:
            hint += "; also, dx should sum to the sum of dy (each output sends its gradient to exactly one pixel)"
    return verdict(name, False, "", hint if hint.endswith("?") else hint + ".")
