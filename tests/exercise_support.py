"""What every exercise-check test asserts of a verdict: right answers accepted, wrong ones rejected with the hint
that diagnoses them, and never a hint that gives the answer away."""

from __future__ import annotations

from collections.abc import Iterable

from vgglib.exercises import ExerciseResult


def accepted(result: ExerciseResult) -> ExerciseResult:
    assert isinstance(result, ExerciseResult)
    assert result.correct, repr(result)
    assert "✔" in repr(result)
    return result


def rejected(
    result: ExerciseResult, *fragments: str, secret: str | None = None, secrets: Iterable[str] = ()
) -> ExerciseResult:
    """A wrong answer: not correct, its message holds every fragment, and no secret (the answer) appears in it."""
    assert isinstance(result, ExerciseResult)
    assert not result.correct and not result, repr(result)
    assert "✘" in repr(result)
    for fragment in fragments:
        assert fragment in result.message, (fragment, result.message)
    for s in [*([secret] if secret is not None else []), *secrets]:
        assert s not in result.message, f"the check revealed the answer: {result.message}"
    return result
