"""program_html on real pages (Chromium + a local http.server): URL and locator rules, the
if/elif precedence of required_contents, VWA's None rule, WA's html.unescape."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.async_api import Page
from test_eval_support import ScriptedChatModel, Site

from eval.evaluators.program_html import DEFAULT_NAV_SLEEP_S, program_html
from eval.evaluators.results import Profile

BASIC = """<!doctype html><html><head><title>basic</title></head><body>
<div id="title">Water &amp; Soil</div>
<span class="count">1 comment</span>
<p class="esc">a &amp;amp; b</p>
<div class="num">42</div>
<div class="padded">  Padded  </div>
<div class="empty"></div>
<ul><li class="tag">x</li><li class="tag">y</li></ul>
</body></html>"""

pytest_plugins = ["test_eval_support"]  # shared fixtures: browser, page, site, site_pair


@pytest.fixture
async def basic(page: Page, site: Site) -> Page:
    await page.goto(site.add("/ph/basic", BASIC))
    return page


def t(locator: str, required: dict[str, Any], url: str = "last", **extra: Any) -> dict[str, Any]:
    return {"url": url, "locator": locator, "required_contents": required, **extra}


async def run(
    page: Page, profile: Profile, *targets: dict[str, Any], judge: Any = None
) -> tuple[float | None, Any]:
    result = await program_html(list(targets), page=page, profile=profile, judge=judge, nav_sleep_s=0)
    return result.score, result


CASES: list[tuple[str, Profile, dict[str, Any], float]] = [
    ("whole page, WA unescapes", "webarena", t("", {"must_include": ["Water & Soil"]}), 1.0),
    ("whole page, VWA keeps entities", "vwa", t("", {"must_include": ["Water & Soil"]}), 0.0),
    ("whole page, VWA raw entity", "vwa", t("", {"must_include": ["Water &amp; Soil"]}), 1.0),
    ("js text", "vwa", t("document.querySelector('#title').outerText", {"exact_match": "water & soil"}), 1.0),
    (
        "WA unescapes js text",
        "webarena",
        t("document.querySelector('.esc').textContent", {"exact_match": "a & b"}),
        1.0,
    ),
    (
        "VWA does not unescape",
        "vwa",
        t("document.querySelector('.esc').textContent", {"exact_match": "a &amp; b"}),
        1.0,
    ),
    (
        "null becomes 'None'",
        "webarena",
        t("document.querySelector('.missing')", {"exact_match": "None"}),
        1.0,
    ),
    (
        "raising locator gives ''",
        "vwa",
        t("document.querySelector('.missing').outerText", {"exact_match": ""}),
        1.0,
    ),
    (
        "list is str()'d",
        "vwa",
        t("[...document.querySelectorAll('.tag')].map(e => e.textContent)", {"exact_match": "['x', 'y']"}),
        1.0,
    ),
    (
        "WA exact strips",
        "webarena",
        t("document.querySelector('.padded').textContent", {"exact_match": "padded"}),
        1.0,
    ),
    (
        "VWA exact keeps spaces",
        "vwa",
        t("document.querySelector('.padded').textContent", {"exact_match": "padded"}),
        0.0,
    ),
    (
        "must_include |OR| in WA too",
        "webarena",
        t("document.querySelector('#title').outerText", {"must_include": ["clay |OR| soil"]}),
        1.0,
    ),
    (
        "WA html must_include is substring",
        "webarena",
        t("document.querySelector('.num').textContent", {"must_include": ["4"]}),
        1.0,
    ),
    (
        "VWA html must_include tokenizes",
        "vwa",
        t("document.querySelector('.num').textContent", {"must_include": ["4"]}),
        0.0,
    ),
    (
        "if/elif: exact_match wins",
        "vwa",
        t(
            "document.querySelector('#title').outerText",
            {"must_include": ["zzz"], "exact_match": "Water & Soil"},
        ),
        1.0,
    ),
    (
        "if/elif: must_exclude ignored",
        "vwa",
        t(
            "document.querySelector('#title').outerText",
            {"must_include": ["Water"], "must_exclude": ["Water"]},
        ),
        1.0,
    ),
    ("must_exclude", "vwa", t("document.querySelector('#title').outerText", {"must_exclude": ["clay"]}), 1.0),
    (
        "must_exclude hit",
        "vwa",
        t("document.querySelector('#title').outerText", {"must_exclude": ["soil"]}),
        0.0,
    ),
    (
        "func locator + required_values",
        "vwa",
        t("func:get_query_text(__page__, '.num')", {"required_values": [">= 40", "< 42"]}),
        1.0,
    ),
    (
        "required_values on text",
        "vwa",
        t("document.querySelector('#title').outerText", {"required_values": [">= 1"]}),
        0.0,
    ),
    (
        "lambda",
        "vwa",
        t("lambda:(() => document.querySelector('#title').textContent)()", {"must_include": ["soil"]}),
        1.0,
    ),
    # str.lstrip("lambda:") also eats the "d" of "document": the expression breaks, None scores 0
    (
        "lambda lstrip quirk",
        "vwa",
        t("lambda:document.querySelector('#title').textContent", {"must_include": ["soil"]}),
        0.0,
    ),
    (
        "lambda empty is None",
        "vwa",
        t("lambda:(() => document.querySelector('.empty').textContent)()", {"exact_match": ""}),
        0.0,
    ),
    ("lambda number", "vwa", t("lambda:(() => 42)()", {"exact_match": "42"}), 1.0),
    ("lambda number required_values", "vwa", t("lambda:(() => 42)()", {"required_values": ["== 42"]}), 1.0),
]


@pytest.mark.parametrize(("name", "profile", "target", "expected"), CASES, ids=[c[0] for c in CASES])
async def test_program_html_rules(
    basic: Page, name: str, profile: Profile, target: dict[str, Any], expected: float
) -> None:
    score, result = await run(basic, profile, target)
    assert result.error is None, result.error
    assert score == expected


async def test_prep_actions_run_before_the_locator(basic: Page) -> None:
    target = t(
        "document.querySelector('.count').textContent",
        {"exact_match": "2 comments"},
        prep_actions=["document.querySelector('.count').textContent = '2 comments'"],
    )
    assert (await run(basic, "webarena", target))[0] == 1.0


async def test_a_failing_prep_action_skips_the_rest(basic: Page) -> None:
    target = t(
        "document.querySelector('.count').textContent",
        {"exact_match": "1 comment"},
        prep_actions=[
            "document.querySelector('.nope').click()",
            "document.querySelector('.count').textContent = 'changed'",
        ],
    )
    assert (await run(basic, "webarena", target))[0] == 1.0


async def test_vwa_none_scores_zero_and_stops(basic: Page) -> None:
    # The second target would raise (unknown locator) if it were reached.
    score, result = await run(
        basic, "vwa", t("lambda:(() => '')()", {"exact_match": ""}), t("bogus locator", {"exact_match": "x"})
    )
    assert score == 0.0 and result.error is None


async def test_targets_multiply(basic: Page) -> None:
    score, _ = await run(basic, "vwa", t("", {"must_include": ["Water"]}), t("", {"must_include": ["Fire"]}))
    assert score == 0.0


@pytest.mark.parametrize(
    ("profile", "target", "message"),
    [
        ("webarena", t("lambda:(() => 1)()", {"exact_match": "1"}), "Unknown locator"),
        ("webarena", t("", {"must_exclude": ["x"]}), "Unknown required_contents"),
        ("vwa", t("", {"must_exclude": ["a |OR| b"]}), "|OR|"),
        ("vwa", t("", {"something": ["x"]}), "Unknown required_contents"),
        ("vwa", t("xpath://div", {"exact_match": "x"}), "Unknown locator"),
        (
            "vwa",
            t("[...document.querySelectorAll('.tag')]", {"must_include": ["x"]}),
            None,
        ),  # str() of a list: fine
        ("vwa", t("lambda:(() => [1, 2])()", {"exact_match": "x"}), "type check"),
        ("vwa", {"url": "last", "locator": ""}, "required_contents"),
    ],
)
async def test_program_html_errors(
    basic: Page, profile: Profile, target: dict[str, Any], message: str | None
) -> None:
    score, result = await run(basic, profile, target)
    if message is None:
        assert result.error is None
        return
    assert score is None and result.error is not None and message in result.error


async def test_goto_persists_and_sleeps(page: Page, site: Site) -> None:
    await page.goto(site.add("/ph/start", "<p>start</p>"))
    other = site.add("/ph/other", "<p class='x'>other page</p>")
    started = time.monotonic()
    result = await program_html(
        [t("document.querySelector('.x').textContent", {"exact_match": "other page"}, url=other)],
        page=page,
        profile="vwa",
        nav_sleep_s=0.4,
    )
    assert result.score == 1.0
    assert time.monotonic() - started >= 0.4
    assert page.url == other  # navigation persists for later evaluators
    assert DEFAULT_NAV_SLEEP_S == 3.0


async def test_func_url_uses_the_last_url(page: Page, site: Site) -> None:
    site.add("/f/books/12/", "<h1 class='t'>Has anyone bought this product?</h1>")
    await page.goto(site.add("/f/books/12/some-title/-/comment/7", "<p>a comment permalink</p>"))
    target = {
        "url": "func:reddit_get_post_url('__last_url__')",
        "locator": "document.querySelector('.t').outerText",
        "required_contents": {"exact_match": "Has anyone bought this product?"},
    }
    score, result = await run(page, "webarena", target)
    assert result.error is None and score == 1.0
    assert page.url == site.url("/f/books/12/")


async def test_vwa_fuzzy_match_parts_are_multiplied(basic: Page) -> None:
    judge = ScriptedChatModel(["correct", "incorrect"])
    score, result = await run(
        basic,
        "vwa",
        t("document.querySelector('#title').outerText", {"fuzzy_match": "soil |OR| water"}),
        judge=judge,
    )
    assert score == 0.0 and result.judge_calls == 2
    assert "question: NOT USED" in judge.calls[0][0][-1].text()


async def test_vwa_fuzzy_match_without_judge_is_an_error(basic: Page) -> None:
    score, result = await run(basic, "vwa", t("", {"fuzzy_match": "soil"}))
    assert score is None and result.error is not None and "needs a judge" in result.error


async def test_breakdown_says_which_target_failed(basic: Page) -> None:
    _, result = await run(
        basic,
        "vwa",
        t("", {"must_include": ["Water"]}),
        t("document.querySelector('#title').outerText", {"must_include": ["Fire"]}),
    )
    failing = [c for c in result.checks if c.score < 1]
    assert len(failing) == 1 and failing[0].rule.startswith("target 1") and failing[0].expected == "Fire"
