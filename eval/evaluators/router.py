"""A WebArena / VisualWebArena task's score: every ``eval_types`` entry, in order, multiplied.

Mirrors `evaluator_router` + `EvaluatorComb`: the evaluators are built first (an unknown type
fails before anything runs), then run in list order on the same page, so a ``program_html`` or
``page_image_query`` that navigates changes what a later ``url_match`` sees [quirk]. The task
passes iff the product is exactly 1.0. If any evaluator would have raised in the original, the
task gets no score (the original drops it from the average) and the error says why.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from playwright.async_api import Page
from pydantic import BaseModel

from eval.evaluators.func_helpers import HelperContext
from eval.evaluators.images import page_image_query
from eval.evaluators.magento import MagentoConfig
from eval.evaluators.program_html import DEFAULT_NAV_SLEEP_S, program_html
from eval.evaluators.results import EvalResult, EvaluatorResult, Profile
from eval.evaluators.strings import string_match
from eval.evaluators.urls import url_match
from webdreamer.models.types import ChatModel

EVAL_TYPES: dict[Profile, tuple[str, ...]] = {
    "webarena": ("string_match", "url_match", "program_html"),
    "vwa": ("string_match", "url_match", "program_html", "page_image_query"),
}


class WAEvalOptions(BaseModel):
    """Knobs that the originals hard-code; the defaults reproduce them."""

    nav_sleep_s: float = DEFAULT_NAV_SLEEP_S
    assets_dir: Path | None = None  # where relative reference images live (the original: the cwd)
    magento: MagentoConfig = MagentoConfig()
    vqa_max_tokens: int = 32
    prompts_dir: Path | None = None  # judge templates; default prompts/judges


def _needs_page(eval_type: str) -> bool:
    return eval_type != "string_match"


async def evaluate_wa_task(
    spec: Mapping[str, Any],
    *,
    profile: Profile,
    page: Page | None,
    answer: str,
    intent: str = "",
    judge: ChatModel | None = None,
    vqa_judge: ChatModel | None = None,
    options: WAEvalOptions | None = None,
) -> EvalResult:
    """Score one task.

    ``spec`` is the task's raw ``eval`` dict with placeholders substituted; ``answer`` the final
    (stop) action's answer, early-stop text included; ``intent`` the task intent (fuzzy judges see
    it); ``judge`` grades fuzzy_match / N/A; ``vqa_judge`` (default ``judge``) answers eval_vqa.
    """
    opts = options if options is not None else WAEvalOptions()
    eval_types = spec.get("eval_types")
    if not isinstance(eval_types, list):
        return EvalResult(profile=profile, score=None, passed=False, error="eval.eval_types must be a list")
    unknown = [t for t in eval_types if t not in EVAL_TYPES[profile]]
    if unknown:
        return EvalResult(
            profile=profile,
            score=None,
            passed=False,
            error=f"eval_type {unknown[0]!r} is not supported by {profile}",
        )
    ctx = HelperContext(page=page, magento=opts.magento)
    results: list[EvaluatorResult] = []
    score = 1.0
    for eval_type in eval_types:
        if page is None and _needs_page(eval_type):
            outcome = EvaluatorResult(
                eval_type=eval_type, error=f"{eval_type} needs the final page; none given"
            )
        else:
            outcome = await _run_one(
                eval_type,
                spec,
                profile,
                page,
                answer,
                intent,
                judge,
                vqa_judge if vqa_judge is not None else judge,
                ctx,
                opts,
            )
        results.append(outcome)
        if outcome.error is not None or outcome.score is None:
            error = outcome.error or f"{eval_type} produced no score"
            return EvalResult(
                profile=profile, score=None, passed=False, evaluators=results, error=f"{eval_type}: {error}"
            )
        score *= outcome.score
    return EvalResult(profile=profile, score=score, passed=score == 1.0, evaluators=results)


async def _run_one(
    eval_type: str,
    spec: Mapping[str, Any],
    profile: Profile,
    page: Page | None,
    answer: str,
    intent: str,
    judge: ChatModel | None,
    vqa_judge: ChatModel | None,
    ctx: HelperContext,
    opts: WAEvalOptions,
) -> EvaluatorResult:
    if eval_type == "string_match":
        return await string_match(
            spec.get("reference_answers"),
            answer,
            profile=profile,
            intent=intent,
            string_note=spec.get("string_note"),
            judge=judge,
            prompts=opts.prompts_dir,
        )
    assert page is not None
    if eval_type == "url_match":
        return url_match(spec, page.url, profile)
    if eval_type == "program_html":
        targets = spec.get("program_html")
        if not isinstance(targets, list):
            return EvaluatorResult(eval_type=eval_type, error="eval.program_html must be a list")
        return await program_html(
            targets,
            page=page,
            profile=profile,
            judge=judge,
            ctx=ctx,
            nav_sleep_s=opts.nav_sleep_s,
            prompts=opts.prompts_dir,
        )
    queries = spec.get("page_image_query")
    if not isinstance(queries, list):
        return EvaluatorResult(eval_type=eval_type, error="eval.page_image_query must be a list")
    return await page_image_query(
        queries,
        page=page,
        vqa_judge=vqa_judge,
        ctx=ctx,
        nav_sleep_s=opts.nav_sleep_s,
        assets_dir=opts.assets_dir,
        vqa_max_tokens=opts.vqa_max_tokens,
        prompts=opts.prompts_dir,
    )
