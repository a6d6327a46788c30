"""evaluate_wa_task: product over eval_types in order, PASS iff 1.0, breakdowns and errors; the
example VWA-style tasks end to end on local pages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page
from test_eval_support import ASSETS, ScriptedChatModel, Site, png

from eval.evaluators import WAEvalOptions, evaluate_wa_task

FAST = WAEvalOptions(nav_sleep_s=0)
COMMENTS = """<html><body><h1>My tomatoes split open</h1>
<div class="comment"><div class="comment-body">Water them more evenly</div></div></body></html>"""
POST = """<html><body><h1>My tomatoes split open</h1><span class="comment-count">1 comment</span></body></html>"""

pytest_plugins = ["test_eval_support"]  # shared fixtures: browser, page, site, site_pair


def load_tasks(site: Site) -> list[dict[str, Any]]:
    """Plain text replacement over the raw file, as the benchmarks' generate_test_data.py does."""
    raw = (ASSETS / "vwa_style_tasks.json").read_text(encoding="utf-8")
    for name in ("SHOPPING", "REDDIT", "CLASSIFIEDS"):
        raw = raw.replace(f"__{name}__", site.url(f"/{name.lower()}"))
    tasks: list[dict[str, Any]] = json.loads(raw)
    return tasks


@pytest.fixture
def tasks(site: Site) -> list[dict[str, Any]]:
    site.add("/reddit/f/gardening/12", POST)
    site.add("/reddit/f/gardening/12/my-tomatoes-split-open", COMMENTS)
    site.add("/reddit/f/other/3", COMMENTS)
    site.add("/img/listing.png", png((200, 30, 30)), "image/png")
    site.add("/classifieds/index.php", "<div class='item-photos'><img src='/img/listing.png'></div>")
    return load_tasks(site)


@pytest.mark.parametrize(
    ("answer", "passed"),
    [("7.49", True), ("$7.49", True), ("It costs 7.490.", True), ("17.49", False), ("7.5", False)],
)
async def test_example_task_0_string_match(tasks: list[dict[str, Any]], answer: str, passed: bool) -> None:
    task = tasks[0]
    result = await evaluate_wa_task(
        task["eval"], profile="vwa", page=None, answer=answer, intent=task["intent"]
    )
    assert result.passed is passed
    assert result.score == (1.0 if passed else 0.0)


async def test_example_task_1_url_then_program_html(
    tasks: list[dict[str, Any]], page: Page, site: Site
) -> None:
    task = tasks[1]
    await page.goto(site.url("/reddit/f/gardening/12/my-tomatoes-split-open"))
    result = await evaluate_wa_task(task["eval"], profile="vwa", page=page, answer="", options=FAST)
    assert result.passed, result.reasons()
    assert [e.eval_type for e in result.evaluators] == ["url_match", "program_html"]
    assert page.url == site.url("/reddit/f/gardening/12")  # program_html navigated


async def test_eval_type_order_matters(tasks: list[dict[str, Any]], page: Page, site: Site) -> None:
    spec = tasks[1]["eval"]
    # The agent ended on the wrong post: url_match listed first sees that and fails...
    await page.goto(site.url("/reddit/f/other/3"))
    first = await evaluate_wa_task(spec, profile="vwa", page=page, answer="", options=FAST)
    assert first.score == 0.0 and first.evaluators[0].score == 0.0
    # ...listed after program_html it sees the page program_html navigated to, and passes.
    await page.goto(site.url("/reddit/f/other/3"))
    swapped = dict(spec, eval_types=["program_html", "url_match"])
    second = await evaluate_wa_task(swapped, profile="vwa", page=page, answer="", options=FAST)
    assert second.passed


async def test_example_task_2_exact_url_and_images(
    tasks: list[dict[str, Any]], page: Page, site: Site, tmp_path: Path
) -> None:
    reference = tmp_path / "tests/assets/input_images/classifieds/task_2/input_0.png"
    reference.parent.mkdir(parents=True)
    reference.write_bytes(png((200, 30, 30)))
    options = WAEvalOptions(nav_sleep_s=0, assets_dir=tmp_path)
    await page.goto(site.url("/classifieds/index.php?page=item&id=58"))
    result = await evaluate_wa_task(tasks[2]["eval"], profile="vwa", page=page, answer="", options=options)
    assert result.passed, result.reasons()
    await page.goto(site.url("/classifieds/index.php?page=item&id=58&extra=1"))  # EXACT: no extras allowed
    result = await evaluate_wa_task(tasks[2]["eval"], profile="vwa", page=page, answer="", options=options)
    assert result.score == 0.0 and not result.passed
    assert any("url EXACT" in line for line in result.reasons())


async def test_product_and_breakdown(page: Page, site: Site) -> None:
    await page.goto(site.add("/r/x", "<p id='a'>hello</p>"))
    spec = {
        "eval_types": ["string_match", "url_match", "program_html"],
        "reference_answers": {"must_include": ["42"]},
        "reference_url": site.url("/r/x"),
        "program_html": [
            {
                "url": "last",
                "locator": "document.querySelector('#a').textContent",
                "required_contents": {"exact_match": "hello"},
            }
        ],
    }
    ok = await evaluate_wa_task(spec, profile="webarena", page=page, answer="The answer is 42", options=FAST)
    assert ok.passed and ok.score == 1.0 and ok.reasons() == []
    bad = await evaluate_wa_task(spec, profile="webarena", page=page, answer="41", options=FAST)
    assert not bad.passed and bad.score == 0.0
    assert [e.score for e in bad.evaluators] == [0.0, 1.0, 1.0]
    assert any("must_include" in line and "42" in line for line in bad.reasons())


async def test_an_error_stops_the_combination(page: Page, site: Site) -> None:
    await page.goto(site.add("/r/y", "<p>y</p>"))
    spec = {
        "eval_types": ["string_match", "url_match"],
        "reference_answers": {"fuzzy_match": ["yes"]},
        "reference_url": site.url("/r/y"),
    }
    result = await evaluate_wa_task(spec, profile="vwa", page=page, answer="yes", judge=None, options=FAST)
    assert result.score is None and not result.passed
    assert result.error is not None and "needs a judge" in result.error
    assert [e.eval_type for e in result.evaluators] == ["string_match"]


@pytest.mark.parametrize(
    ("profile", "eval_types", "message"),
    [
        ("webarena", ["url_match", "page_image_query"], "page_image_query"),
        ("vwa", ["string_soft"], "string_soft"),
    ],
)
async def test_unknown_eval_type_fails_before_anything_runs(
    page: Page, site: Site, profile: Any, eval_types: list[str], message: str
) -> None:
    await page.goto(site.add("/r/z", "<p>z</p>"))
    spec = {"eval_types": eval_types, "reference_url": site.url("/r/z"), "page_image_query": []}
    result = await evaluate_wa_task(spec, profile=profile, page=page, answer="", options=FAST)
    assert result.score is None and result.evaluators == []
    assert result.error is not None and message in result.error


async def test_page_is_needed_except_for_string_match() -> None:
    spec = {
        "eval_types": ["string_match", "url_match"],
        "reference_answers": {"exact_match": "a"},
        "reference_url": "",
    }
    result = await evaluate_wa_task(spec, profile="webarena", page=None, answer="a")
    assert result.score is None and result.error is not None and "needs the final page" in result.error


async def test_unachievable_task_end_to_end() -> None:
    spec = {
        "eval_types": ["string_match"],
        "reference_answers": {"fuzzy_match": "N/A"},
        "string_note": "The store does not sell cars",
    }
    judge = ScriptedChatModel(["same"])
    result = await evaluate_wa_task(
        spec, profile="vwa", page=None, answer="They don't sell cars here", intent="Buy a car", judge=judge
    )
    assert result.passed and result.evaluators[0].judge_calls == 1
    direct = await evaluate_wa_task(spec, profile="vwa", page=None, answer="N/A", judge=None)
    assert direct.passed


async def test_early_stop_text_is_scored_as_the_answer() -> None:
    spec = {"eval_types": ["string_match"], "reference_answers": {"must_include": ["stop"]}}
    result = await evaluate_wa_task(
        spec, profile="webarena", page=None, answer="Early stop: Reach max steps 30"
    )
    assert result.passed  # the forced stop text is just an answer to the string rules
