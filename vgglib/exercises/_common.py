"""What every exercise check returns: a verdict that prints as one friendly line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class ExerciseResult:
    """``correct`` is the verdict; ``message`` says why (never the solution itself)."""

    name: str
    correct: bool
    message: str

    def __bool__(self) -> bool:
        return self.correct

    def __repr__(self) -> str:
        mark = "✔ correct" if self.correct else "✘ not yet"
        return f"{self.name}: {mark} — {self.message}"

    _repr_pretty_ = lambda self, p, cycle: p.text(repr(self))  # noqa: E731  (IPython display)


def verdict(name: str, correct: bool, right: str, wrong: str) -> ExerciseResult:
    """Build the result with the message for a right or a wrong answer."""
    return ExerciseResult(name, bool(correct), right if correct else wrong)


# -- reading a student's answer (shared by every notebook's checks) ------------------------------------------
def _as_int(answer: Any) -> int | None:
    """``answer`` as a Python int when it is a whole number (int, numpy integer or integral float), else None."""
    if isinstance(answer, bool):
        return None
    if isinstance(answer, (int, np.integer)):
        return int(answer)
    if isinstance(answer, (float, np.floating)) and float(answer).is_integer():
        return int(answer)
    return None


def _as_float(answer: Any) -> float | None:
    """``answer`` as a Python float (a number or a one-element numeric array), else None."""
    if isinstance(answer, bool):
        return None
    if isinstance(answer, (int, float, np.integer, np.floating)):
        return float(answer)
    if isinstance(answer, np.ndarray) and answer.size == 1 and np.issubdtype(answer.dtype, np.number):
        return float(answer.reshape(()))
    return None


def _as_array(answer: Any) -> np.ndarray | None:
    """``answer`` as a float64 array, or None when it cannot be one (None, strings, ragged lists)."""
    if answer is None or isinstance(answer, (str, bytes)):
        return None
    try:
        return np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError):
        return None


def _call(fn: Callable, *args: Any) -> tuple[Any, str | None]:
    """Call the student's function on copies of array arguments; (result, None) or (None, what it raised)."""
    try:
        return fn(*(a.copy() if isinstance(a, np.ndarray) else a for a in args)), None
    except Exception as e:  # noqa: BLE001 — any error in the student's code is reported, not raised
        return None, f"{type(e).__name__}: {e}" if str(e) else type(e).__name__


def _not_a_number(name: str, answer: Any, what: str) -> ExerciseResult:
    """The verdict for a missing answer (None) or one of the wrong type."""
    if answer is None:
        return verdict(name, False, "", f"no answer yet: replace None with {what}")
    return verdict(name, False, "", f"expected {what}, got {type(answer).__name__} {answer!r}")


def reveal(guess: Any, actual: Any, *, rel_tol: float = 0.05, what: str = "the run") -> str:
    """A "predict, then run" question's answer, printed after the run: your guess next to the computed value.

    ``guess`` is what the student wrote before running the cell (None: no guess written); numbers within
    ``rel_tol`` of ``actual`` count as close. Returns the line it prints.
    """
    if guess is None:
        line = f"{what} gives {actual!r} (you wrote no prediction: set `guess` before running, then compare)"
    else:
        g, a = _as_float(guess), _as_float(actual)
        if g is not None and a is not None:
            close = abs(g - a) <= rel_tol * max(abs(a), 1e-12)
            mark = "close" if close else "not close: find the step of your reasoning that differs"
        else:
            mark = "the same" if guess == actual else "different: find the step of your reasoning that differs"
        line = f"you predicted {guess!r}; {what} gives {actual!r} ({mark})"
    print(line)
    return line
