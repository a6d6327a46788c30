"""``program_html``: read something off a page and check it (WA `HTMLContentEvaluator`, VWA
`HTMLContentExactEvaluator`).

Per target, in order: resolve the URL ("last" stays; ``func:`` runs a helper with ``__last_url__``
replaced by the current URL; anything else is ``page.goto`` plus the original's hard 3 s sleep,
and the navigation persists for later targets and evaluators); select content with the locator;
check ``required_contents``, where only the *first* present key counts (an if/elif chain).
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from playwright.async_api import Page

from eval.evaluators.func_helpers import HelperContext, call_helper
from eval.evaluators.judges import llm_fuzzy_match
from eval.evaluators.results import Check, EvaluationError, EvaluatorResult, Profile, shorten
from eval.evaluators.strings import OR, compare_inequality, exact_match, must_exclude, must_include, str_2_int
from webdreamer.models.types import ChatModel

DEFAULT_NAV_SLEEP_S = 3.0  # `time.sleep(3)` after every goto in the originals
# The if/elif order of `required_contents` keys; the first one present is the only one checked.
_KEY_ORDER: dict[Profile, tuple[str, ...]] = {
    "webarena": ("exact_match", "must_include"),
    "vwa": ("exact_match", "must_include", "must_exclude", "required_values", "fuzzy_match"),
}


async def navigate(raw_url: str, *, page: Page, profile: Profile, ctx: HelperContext, sleep_s: float) -> str:
    """Resolve a target URL and go there unless it is "last"; returns the resolved URL."""
    target: Any = raw_url
    if raw_url.startswith("func"):
        pieces = raw_url.split("func:")
        if len(pieces) < 2:
            raise EvaluationError(f"malformed func URL {raw_url!r}")
        target = await call_helper(pieces[1].replace("__last_url__", page.url), profile=profile, ctx=ctx)
    if target != "last":
        if not isinstance(target, str):
            raise EvaluationError(f"target URL resolved to {target!r}, not a string")
        try:
            await page.goto(target)
        except Exception as exc:
            raise EvaluationError(f"could not open {target}: {exc}") from exc
        if sleep_s > 0:
            await asyncio.sleep(sleep_s)
    return str(target)


async def select_content(
    target: Mapping[str, Any], *, page: Page, profile: Profile, ctx: HelperContext
) -> tuple[Any, str]:
    """Run the target's locator; returns (selected value, how it was selected)."""
    locator = target["locator"]
    if not isinstance(locator, str):
        raise EvaluationError(f"locator must be a string, got {type(locator).__name__}")
    if not locator.strip():
        return await page.content(), "page.content()"
    if locator.startswith("document.") or locator.startswith("[...document."):
        if "prep_actions" in target:
            try:  # one try around the loop: the first failing action skips the rest
                for action in target["prep_actions"]:
                    await page.evaluate(f"() => {action}")
            except Exception:
                pass
        try:
            # Python's str() of whatever came back: null gives "None", a list its repr.
            return str(await page.evaluate(f"() => {locator}")), "js"
        except Exception:
            return "", "js (raised; empty)"
    if profile == "vwa" and locator.startswith("lambda:"):
        try:
            # Quirk kept: str.lstrip removes any of the characters "lambd:" from the left, so a
            # body starting with one of them (e.g. "document") loses letters too.
            value = await page.evaluate(locator.lstrip("lambda:"))  # noqa: B005 - the quirk itself
            return (value if value else None), "lambda"
        except Exception:
            return None, "lambda (raised; None)"
    if locator.startswith("func:"):
        expr = locator.split("func:")[1].replace("__page__", "page")
        return await call_helper(expr, profile=profile, ctx=ctx), "func"
    raise EvaluationError(f"Unknown locator: {locator!r}")


async def program_html(
    targets: Sequence[Mapping[str, Any]],
    *,
    page: Page,
    profile: Profile,
    judge: ChatModel | None = None,
    ctx: HelperContext | None = None,
    nav_sleep_s: float = DEFAULT_NAV_SLEEP_S,
    prompts: Path | None = None,
) -> EvaluatorResult:
    """Check every target; the product of their scores (VWA: a None selection scores 0 and stops)."""
    result = EvaluatorResult(eval_type="program_html")
    context = ctx if ctx is not None else HelperContext(page=page)
    try:
        score = 1.0
        for index, target in enumerate(targets):
            url = await navigate(target["url"], page=page, profile=profile, ctx=context, sleep_s=nav_sleep_s)
            selected, how = await select_content(target, page=page, profile=profile, ctx=context)
            where = f"target {index} ({url}, {how})"
            if profile == "webarena":
                if not isinstance(selected, str):
                    raise EvaluationError(
                        f"{where}: html.unescape needs a string, got {type(selected).__name__}"
                    )
                selected = html.unescape(selected)
            elif selected is None:
                result.checks.append(
                    Check(
                        rule=f"{where}: locator",
                        expected="a value",
                        actual=None,
                        score=0.0,
                        note="nothing selected; the original scores 0 and stops",
                    )
                )
                score = 0.0
                break
            score = await _required(
                result, where, target["required_contents"], selected, score, profile, judge, prompts
            )
        result.score = score
    except EvaluationError as exc:
        result.error = str(exc)
    except KeyError as exc:
        result.error = f"program_html target lacks {exc}"
    return result


async def _required(
    result: EvaluatorResult,
    where: str,
    required: Mapping[str, Any],
    selected: Any,
    score: float,
    profile: Profile,
    judge: ChatModel | None,
    prompts: Path | None,
) -> float:
    shown = shorten(selected)
    checks = result.checks
    order = _KEY_ORDER[profile]
    chosen = next((k for k in order if k in required), None)
    ignored = [k for k in required if k != chosen]
    note = f"only the first present key counts; {ignored} not checked" if chosen and ignored else ""
    if "exact_match" in required:
        s = exact_match(required["exact_match"], selected, profile)
        checks.append(
            Check(
                rule=f"{where}: exact_match",
                expected=required["exact_match"],
                actual=shown,
                score=s,
                note=note,
            )
        )
        return score * s
    if "must_include" in required:
        items = required["must_include"]
        if not isinstance(items, list):
            raise EvaluationError(f"{where}: must_include must be a list")
        for item in items:
            if profile == "webarena":
                s = float(
                    any([must_include(alt, selected, profile, tokenize=False) for alt in item.split(OR)])
                )
            else:
                s = float(any([must_include(alt, selected, profile) for alt in item.split(OR)]))
            checks.append(
                Check(rule=f"{where}: must_include", expected=item, actual=shown, score=s, note=note)
            )
            score *= s
        return score
    if profile == "webarena":
        raise EvaluationError(
            f"Unknown required_contents: {list(required)} (WebArena knows exact_match, must_include)"
        )
    if "must_exclude" in required:
        items = required["must_exclude"]
        if not isinstance(items, list):
            raise EvaluationError(f"{where}: must_exclude must be a list")
        for item in items:
            if OR in item:
                raise EvaluationError(
                    f"{where}: must_exclude item {item!r} contains |OR| (the original asserts not)"
                )
            s = must_exclude(item, selected)
            checks.append(
                Check(rule=f"{where}: must_exclude", expected=item, actual=shown, score=s, note=note)
            )
            score *= s
        return score
    if "required_values" in required:
        items = required["required_values"]
        if not isinstance(items, list):
            raise EvaluationError(f"{where}: required_values must be a list")
        value = str_2_int(selected) if isinstance(selected, str) else selected
        if value is None:
            checks.append(
                Check(
                    rule=f"{where}: required_values",
                    expected=items,
                    actual=shown,
                    score=0.0,
                    note="not an integer",
                )
            )
            return 0.0
        for item in items:
            s = float(any([compare_inequality(value, alt) for alt in item.split(OR)]))
            checks.append(Check(rule=f"{where}: required_values", expected=item, actual=value, score=s))
            score *= s
        return score
    if "fuzzy_match" in required:
        refs = required["fuzzy_match"]
        if not isinstance(refs, str):
            raise EvaluationError(f"{where}: fuzzy_match must be a string here")
        if not isinstance(selected, str):
            raise EvaluationError(f"{where}: fuzzy_match needs a string, got {type(selected).__name__}")
        for ref in refs.split(OR):  # the parts are multiplied: all must hold
            verdict = await llm_fuzzy_match(
                judge, pred=selected, reference=ref, question="NOT USED", profile=profile, prompts=prompts
            )
            result.judge_calls += 1
            checks.append(
                Check(
                    rule=f"{where}: fuzzy_match",
                    expected=ref,
                    actual=shown,
                    score=verdict.score,
                    note=f"judge: {verdict.reply[:200]}",
                )
            )
            score *= verdict.score
        return score
    raise EvaluationError(f"Unknown required_contents: {list(required)}")
