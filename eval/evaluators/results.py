"""Result records shared by the evaluators: a score plus the reasons behind it.

Reports need to say *why* a task failed, so every evaluator returns the comparisons it made
(`Check`), not just a number. When the original harness would have raised (a malformed spec, a
judge reply it cannot read, a type its beartype checks reject), we record an error and leave the
score as ``None``: the original run would have dropped such a task from the average.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Profile = Literal["webarena", "vwa"]
"""Which harness's rules to follow: WebArena (`webarena`) or VisualWebArena (`vwa`)."""

_MAX_SHOWN = 400


def shorten(value: Any, limit: int = _MAX_SHOWN) -> Any:
    """Keep long page contents readable in reports (strings are cut, other values kept)."""
    if isinstance(value, str) and len(value) > limit:
        return value[:limit] + f"… [{len(value) - limit} more chars]"
    return value


class EvaluationError(Exception):
    """The original evaluator would have raised here, so the task gets no score."""


class JudgeRequiredError(EvaluationError):
    """A rule needs a judge model and none was configured."""


class JudgeReplyError(EvaluationError):
    """The judge's reply has none of the verdict words the original asserts on."""


class Check(BaseModel):
    """One comparison an evaluator made: the rule, what was expected, what was found, the score."""

    rule: str
    expected: Any = None
    actual: Any = None
    score: float
    note: str = ""


class EvaluatorResult(BaseModel):
    """The outcome of one entry of ``eval_types`` (or one benchmark-level evaluator)."""

    eval_type: str
    score: float | None = None
    checks: list[Check] = Field(default_factory=list)
    error: str | None = None
    judge_calls: int = 0

    def reasons(self) -> list[str]:
        """Human-readable lines: failed checks first, then the error if any."""
        lines = [
            f"{self.eval_type}: {c.rule} expected={c.expected!r} actual={shorten(c.actual, 120)!r}"
            + (f" ({c.note})" if c.note else "")
            for c in self.checks
            if c.score < 1.0
        ]
        if self.error:
            lines.append(f"{self.eval_type}: error: {self.error}")
        return lines


class EvalResult(BaseModel):
    """A whole task's score under WebArena/VisualWebArena rules, with a per-evaluator breakdown."""

    profile: Profile
    score: float | None
    passed: bool
    evaluators: list[EvaluatorResult] = Field(default_factory=list)
    error: str | None = None

    def reasons(self) -> list[str]:
        """Why the task did not pass (empty when it passed)."""
        if self.passed:
            return []
        lines = [line for ev in self.evaluators for line in ev.reasons()]
        if self.error and not any(self.error in line for line in lines):
            lines.append(f"error: {self.error}")
        return lines
