"""WebArena / VisualWebArena answer rules (`evaluation_harness/evaluators.py: StringEvaluator`,
`NumericEvaluator`), reproduced rule for rule, quirks included.

The two harnesses differ: WA strips whitespace before cleaning, VWA does not; WA tokenizes a
must_include item only when it is the list's single, single-character item, VWA whenever the item
is one token and also splits `` |OR| `` alternatives; VWA adds must_exclude, one_of and
required_values, which WA's string_match silently skips. The answer is cleaned once up front and
again inside each comparison, so two layers of quotes come off.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from eval.evaluators.judges import llm_fuzzy_match, llm_ua_match
from eval.evaluators.results import Check, EvaluationError, EvaluatorResult, Profile
from eval.evaluators.tokenize import word_tokenize
from webdreamer.models.types import ChatModel

OR = " |OR| "
VWA_ONLY_KEYS = ("must_exclude", "one_of", "required_values")

# What the prediction can be in VWA once `required_values` has run: its int value, or None when the
# answer was not an integer. Later keys then hit the original's beartype checks (or a TypeError).
Pred = str | int | None


def clean_answer(answer: str, profile: Profile) -> str:
    """Drop one pair of surrounding quotes and lowercase; WA strips whitespace first, VWA does not."""
    if profile == "webarena":
        answer = answer.strip()
    if answer.startswith("'") and answer.endswith("'"):
        answer = answer[1:-1]
    elif answer.startswith('"') and answer.endswith('"'):
        answer = answer[1:-1]
    return answer.lower()


def _as_str(pred: Any, rule: str) -> str:
    if not isinstance(pred, str):
        raise EvaluationError(
            f"{rule} got a {type(pred).__name__} ({pred!r}) where the original's type check requires a string"
        )
    return pred


def exact_match(ref: str, pred: Pred, profile: Profile) -> float:
    """Cleaned equality. VWA also accepts an int prediction (compared as its string)."""
    if profile == "vwa" and isinstance(pred, int):
        pred = str(pred)
    text = _as_str(pred, "exact_match")
    return float(clean_answer(text, profile) == clean_answer(ref, profile))


def must_include(ref: str, pred: Pred, profile: Profile, *, tokenize: bool = False) -> float:
    """Is ``ref`` in ``pred``? Single tokens must equal an NLTK token (WA: one-char refs only).

    WA applies the token rule only when ``tokenize`` (the item is the list's only one) and the
    cleaned ref is a single character; VWA whenever the ref tokenizes to one token, so "4" does
    not match "14" and "25000.00" must appear whole.
    """
    text = _as_str(pred, "must_include")
    clean_ref = clean_answer(ref, profile)
    clean_pred = clean_answer(text, profile)
    if profile == "webarena":
        use_tokens = tokenize and len(clean_ref) == 1 and len(word_tokenize(clean_ref)) == 1
    else:
        use_tokens = len(word_tokenize(clean_ref)) == 1
    if use_tokens:
        return float(clean_ref in word_tokenize(clean_pred))
    return float(clean_ref in clean_pred)


def must_exclude(ref: str, pred: Pred) -> float:
    """VWA: the negation of must_include (an empty ref is always "included", so it scores 0)."""
    text = _as_str(pred, "must_exclude")
    clean_ref = clean_answer(ref, "vwa")
    clean_pred = clean_answer(text, "vwa")
    if len(word_tokenize(clean_ref)) == 1:
        return float(clean_ref not in word_tokenize(clean_pred))
    return float(clean_ref not in clean_pred)


def str_2_int(text: str) -> int | None:
    """VWA's numeric reading: strip, drop commas, ``int()``; None if that fails."""
    try:
        text = text.strip()
        if "," in text:
            text = text.replace(",", "")
        return int(text)
    except ValueError:
        return None


# Checked in this order, so "<=" wins over "<" and "=> 5" reads as "> 5". The tolerance is applied
# in the lenient direction, which makes "<" behave as "<=" and ">" as ">=".
_INEQUALITIES = ("<=", ">=", "==", "<", ">")


def compare_inequality(value: int | float, inequality: str, tol: float = 1e-8) -> bool:
    """Does ``value`` satisfy an inequality string such as ``">= 12"`` (VWA `NumericEvaluator`)?"""
    if isinstance(value, str) or not isinstance(value, int | float):
        raise EvaluationError(f"required_values compares a number, got {type(value).__name__} {value!r}")
    for op in _INEQUALITIES:
        if op in inequality:
            parts = inequality.split(op)
            if len(parts) != 2:
                raise EvaluationError(f"cannot read inequality {inequality!r}")
            try:
                number = float(parts[1].strip())
            except ValueError as exc:
                raise EvaluationError(f"cannot read the number in inequality {inequality!r}") from exc
            if op == "<=":
                return value <= number + tol
            if op == ">=":
                return value >= number - tol
            if op == "==":
                return abs(value - number) <= tol
            if op == "<":
                return value < number + tol
            return value > number - tol
    raise EvaluationError(f"Invalid inequality string: {inequality!r}")


def _require_list(value: Any, key: str) -> list[Any]:
    if not isinstance(value, list):
        raise EvaluationError(f"{key} must be a list, got {type(value).__name__}")
    return value


async def string_match(
    reference_answers: Mapping[str, Any] | None,
    answer: str,
    *,
    profile: Profile,
    intent: str = "",
    string_note: str | None = None,
    judge: ChatModel | None = None,
    prompts: Path | None = None,
) -> EvaluatorResult:
    """Score the final answer against ``reference_answers`` (multiplying, key by key, in order).

    A ``fuzzy_match`` of ``"N/A"`` multiplies by exact_match("N/A"); if the running score is then
    not 1 it is *replaced* by the unachievable-reason judge's verdict on ``string_note``.
    Errors the original would raise become an ``error`` with no score.
    """
    result = EvaluatorResult(eval_type="string_match")
    try:
        result.score = await _string_match(
            result, reference_answers, answer, profile, intent, string_note, judge, prompts
        )
    except EvaluationError as exc:
        result.error = str(exc)
    return result


async def _string_match(
    result: EvaluatorResult,
    reference_answers: Mapping[str, Any] | None,
    answer: str,
    profile: Profile,
    intent: str,
    string_note: str | None,
    judge: ChatModel | None,
    prompts: Path | None,
) -> float:
    if not isinstance(reference_answers, Mapping):
        raise EvaluationError(f"reference_answers must be a dict, got {type(reference_answers).__name__}")
    checks = result.checks
    pred: Pred = clean_answer(answer, profile)
    score = 1.0
    for key, value in reference_answers.items():
        if key == "exact_match":
            s = exact_match(value, pred, profile)
            checks.append(Check(rule="exact_match", expected=value, actual=pred, score=s))
            score *= s
        elif key == "must_include":
            items = _require_list(value, key)
            for item in items:
                if profile == "webarena":
                    s = must_include(item, pred, profile, tokenize=len(items) == 1)
                else:
                    s = float(any([must_include(alt, pred, profile) for alt in item.split(OR)]))
                checks.append(Check(rule="must_include", expected=item, actual=pred, score=s))
                score *= s
        elif key in VWA_ONLY_KEYS and profile == "webarena":
            checks.append(Check(rule=key, expected=value, score=1.0, note="not a WebArena rule; ignored"))
        elif key == "must_exclude":
            for item in _require_list(value, key):
                s = must_exclude(item, pred)
                checks.append(Check(rule="must_exclude", expected=item, actual=pred, score=s))
                score *= s
        elif key == "one_of":
            found = False
            for item in _require_list(value, key):
                if clean_answer(item, profile) in _as_str(pred, "one_of"):
                    found = True
                    break
            checks.append(Check(rule="one_of", expected=value, actual=pred, score=float(found)))
            score *= float(found)
        elif key == "required_values":
            items = _require_list(value, key)
            pred = str_2_int(_as_str(pred, "required_values"))
            if pred is None:
                checks.append(
                    Check(
                        rule="required_values",
                        expected=items,
                        actual=None,
                        score=0.0,
                        note="answer is not an integer",
                    )
                )
                score = 0.0
            else:
                for item in items:
                    s = float(any([compare_inequality(pred, alt) for alt in item.split(OR)]))
                    checks.append(Check(rule="required_values", expected=item, actual=pred, score=s))
                    score *= s
        elif key == "fuzzy_match":
            score = await _fuzzy(result, value, pred, score, profile, intent, string_note, judge, prompts)
        else:
            checks.append(
                Check(rule=key, expected=value, score=1.0, note="unknown key; ignored as in the original")
            )
    return score


async def _fuzzy(
    result: EvaluatorResult,
    value: Any,
    pred: Pred,
    score: float,
    profile: Profile,
    intent: str,
    string_note: str | None,
    judge: ChatModel | None,
    prompts: Path | None,
) -> float:
    if value == "N/A":
        s = exact_match("N/A", pred, profile)
        result.checks.append(Check(rule="fuzzy_match N/A (exact)", expected="N/A", actual=pred, score=s))
        score *= s
        if score != 1:
            if string_note is None:
                raise EvaluationError("fuzzy_match 'N/A' needs eval.string_note, which is missing")
            verdict = await llm_ua_match(
                judge, pred=_as_str(pred, "ua_match"), reference=string_note, question=intent, prompts=prompts
            )
            result.judge_calls += 1
            result.checks.append(
                Check(
                    rule="ua_match (replaces score)",
                    expected=string_note,
                    actual=pred,
                    score=verdict.score,
                    note=f"judge: {verdict.reply[:200]}",
                )
            )
            score = 1.0 * verdict.score
        return score
    for reference in _require_list(value, "fuzzy_match"):
        verdict = await llm_fuzzy_match(
            judge,
            pred=_as_str(pred, "fuzzy_match"),
            reference=reference,
            question=intent,
            profile=profile,
            prompts=prompts,
        )
        result.judge_calls += 1
        result.checks.append(
            Check(
                rule="fuzzy_match",
                expected=reference,
                actual=pred,
                score=verdict.score,
                note=f"judge: {verdict.reply[:200]}",
            )
        )
        score *= verdict.score
    return score
