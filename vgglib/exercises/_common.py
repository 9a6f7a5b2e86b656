"""What every exercise check returns: a verdict that prints as one friendly line."""
from __future__ import annotations

from dataclasses import dataclass


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
