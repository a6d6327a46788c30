"""Mind2Web-Live (WebCanvas): match functions, get_netloc, the tracker's timing and budget, metrics,
and the page reader on real pages (Chromium maps *.test to the local server)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.async_api import Page
from test_eval_support import ASSETS, ScriptedChatModel, Site

from eval.evaluators import mind2web_live as m
from eval.evaluators.judges import parse_semantic_score, semantic_match
from eval.evaluators.mind2web_live_page import (
    _find_marked,
    read_live_step,
    webcanvas_element_value,
    webcanvas_selector,
)
from eval.evaluators.mind2web_live_tracker import (
    LiveStepInput,
    LiveTaskOutcome,
    Mind2WebLiveTracker,
    mind2web_live_metrics,
    parse_key_nodes,
)
from eval.evaluators.results import EvaluationError, JudgeRequiredError

pytest_plugins = ["test_eval_support"]  # shared fixtures: browser, page, site, site_pair


@pytest.mark.parametrize(
    ("url", "netloc"),
    [
        ("https://www.x.com/a", "x"),
        ("https://www2.x.com/", "x"),
        ("https://wwwx.com/", ""),
        ("https://WWW.X.com/", "WWW"),
        ("http://127.0.0.1:9980/index.php", "127"),
        ("http://localhost:7770/", ""),
        ("https://store.steampowered.com/app/1", "store"),
        ("https://www.google.com.hk/search", "google"),
        ("http://shop.test:7770/search?q=x", "shop"),
        ("about:blank", ""),
    ],
)
def test_get_netloc(url: str, netloc: str) -> None:
    assert m.get_netloc(url) == netloc


U = "http://shop.test:7770"

URL_CASES = [
    ("exact key", "url_exactly_match", f"{U}/search?q=ceramic%20mug", "q", "ceramic mug", 1.0),
    ("exact key plus", "url_exactly_match", f"{U}/search?q=ceramic+mug", "q", "ceramic mug", 1.0),
    (
        "exact key decoded twice",
        "url_exactly_match",
        f"{U}/search?q=ceramic%2520mug",
        "q",
        "ceramic mug",
        1.0,
    ),
    ("exact key case-sensitive", "url_exactly_match", f"{U}/search?q=Ceramic", "q", "ceramic", 0.0),
    ("exact first value", "url_exactly_match", f"{U}/s?q=a&q=b", "q", "a", 1.0),
    ("exact blank value is missing", "url_exactly_match", f"{U}/s?q=", "q", "", 0.0),
    ("exact missing key", "url_exactly_match", f"{U}/s?x=1", "q", "1", 0.0),
    ("exact whole url", "url_exactly_match", f"{U}/a%20b", "", f"{U}/a b", 1.0),
    ("included netloc", "url_included_match", f"{U}/search?q=x", "", "shop.test", 1.0),
    ("included path", "url_included_match", f"{U}/f/gardening/12", "", "/f/gardening", 1.0),
    ("included ignores query", "url_included_match", f"{U}/index.php?page=item", "", "page=item", 0.0),
    ("included key", "url_included_match", f"{U}/index.php?page=item&id=7", "page", "item", 1.0),
    (
        "included key substring",
        "url_included_match",
        f"{U}/s?sPattern=mountain+bike",
        "sPattern",
        "bike",
        1.0,
    ),
    ("included drops ;params", "url_included_match", f"{U}/a;v=1", "", "v=1", 0.0),
    ("included keeps fragment", "url_included_match", f"{U}/p#reviews", "", "/p#reviews", 1.0),
    ("included unquoted", "url_included_match", f"{U}/caf%C3%A9", "", "/café", 1.0),
]


@pytest.mark.parametrize(
    ("name", "fn", "url", "key", "ref", "expected"), URL_CASES, ids=[c[0] for c in URL_CASES]
)
def test_url_nodes(name: str, fn: str, url: str, key: str, ref: str, expected: float) -> None:
    rule = m.url_exactly_match if fn == "url_exactly_match" else m.url_included_match
    assert rule(url, ref, key) == expected


DOC = """<html><body><div id="wrap"><form><button id="buy"><span class="label">Buy now</span></button>
<div class="deep"><div><div><div><span id="leaf">leaf</span></div></div></div></div></form>
<ul id="list"><li><a class="x">one</a></li><li><a class="x">two</a></li></ul></div></body></html>"""

PATH_CASES = [
    ("same node", "selector", "#buy", "#buy", "shop", 1.0),
    ("agent clicked the ancestor of a span", "selector", "#buy", "#buy > span.label", "shop", 1.0),
    ("ancestor up to 3 levels", "selector", "div.deep > div > div", "#leaf", "shop", 1.0),
    ("not 4 levels", "selector", "div.deep", "#leaf", "shop", 0.0),
    ("reference not a mapped tag", "selector", "form", "#buy", "shop", 0.0),
    ("descendant does not count", "selector", "#buy > span", "#buy", "shop", 0.0),
    ("other site", "selector", "#buy", "#buy", "forum", 0.0),
    ("bad selector", "selector", "#buy[", "#buy", "shop", 0.0),
    ("nth-child", "selector", "#list > li:nth-child(2) > a", "#list > li:nth-child(2) > a.x", "shop", 1.0),
    ("xpath same", "xpath", "//button[@id='buy']", "//*[@id='buy']", "shop", 1.0),
    ("xpath ancestor", "xpath", "//button[@id='buy']", "//span[@class='label']", "shop", 1.0),
    ("unknown method", "css", "#buy", "#buy", "shop", 0.0),
]


@pytest.mark.parametrize(
    ("name", "method", "agent", "ref", "netloc", "expected"), PATH_CASES, ids=[c[0] for c in PATH_CASES]
)
def test_element_path(name: str, method: str, agent: str, ref: str, netloc: str, expected: float) -> None:
    assert m.path_exact_match(agent, ref, method, DOC, "shop", netloc) == expected


@pytest.mark.parametrize(
    ("agent", "ref"), [("//nothing", "//*[@id='buy']"), ("#buy", "//*[@id='buy']"), (None, "//a")]
)
def test_xpath_failures_raise_like_the_original(agent: str | None, ref: str) -> None:
    with pytest.raises(EvaluationError):
        m.path_exact_match(agent, ref, "xpath", DOC, "shop", "shop")


@pytest.mark.parametrize(
    ("fn", "value", "ref", "netloc", "expected"),
    [
        (m.element_value_exact_match, "Tomato cracking", "Tomato cracking", "forum", 1.0),
        (m.element_value_exact_match, "tomato cracking", "Tomato cracking", "forum", 0.0),
        (m.element_value_exact_match, "Tomato cracking", "Tomato cracking", "shop", 0.0),
        (m.element_value_included_match, "My Tomato cracking post", "Tomato cracking", "forum", 1.0),
        (m.element_value_included_match, "tomato", "Tomato", "forum", 0.0),
    ],
)
def test_element_values(fn: Any, value: str, ref: str, netloc: str, expected: float) -> None:
    assert fn(value, ref, "forum", netloc) == expected


@pytest.mark.parametrize(
    ("reply", "score"),
    [
        ("```1```, same place", 1.0),
        ("```0.85``` close", 0.85),
        ("```1.5```", 1.0),
        ("```-2```", 0.0),
        ("```1/2```", 0.5),
        ("```\n0.8\n```", 0.8),
        ("```0.3``` then ```0.9```", 0.3),
        ("no number", None),
        ("```__import__('os').getcwd()```", None),
        ("```0.5 + x```", None),
        ("```nan```", None),
        ("```1/0```", None),
    ],
)
def test_semantic_score_parsing(reply: str, score: float | None) -> None:
    assert parse_semantic_score(reply) == (pytest.approx(score) if score is not None else None)


async def test_semantic_match_retries_and_rounds() -> None:
    judge = ScriptedChatModel(["hmm", "still none", "```0.857``` fairly close"])
    verdict = await semantic_match(judge, "bright red clothing", "Decide whether I look for red clothes")
    assert verdict.score == 0.86 and len(judge.calls) == 3
    assert judge.calls[0][1]["temperature"] == 0.7
    text = judge.calls[0][0][-1].text()
    assert "bright red clothing" in text and "Decide whether I look for red clothes" in text
    failing = ScriptedChatModel(["a", "b", "c", "d"])
    assert (await semantic_match(failing, "x", "rule")).score == 0.0 and len(failing.calls) == 3


def task(nodes: list[dict[str, Any]], length: int = 5) -> dict[str, Any]:
    return {"index": 7, "task": "t", "reference_task_length": length, "evaluation": nodes}


def url_node(fn: str, key: str, ref: str) -> dict[str, Any]:
    return {"match_function_name": fn, "content": {"key": key, "reference_answer": ref, "url": "unused"}}


async def test_scores_are_sticky_and_order_free() -> None:
    tracker = Mind2WebLiveTracker(
        task([url_node("url_exactly_match", "sort", "asc"), url_node("url_included_match", "", "/search")])
    )
    first = await tracker.evaluate(LiveStepInput(url=f"{U}/search?sort=asc"))
    assert first.node_scores == [1.0, 1.0] and first.newly_matched == [0, 1]
    later = await tracker.evaluate(LiveStepInput(url=f"{U}/home"))
    assert later.node_scores == [1.0, 1.0] and later.newly_matched == []
    assert tracker.finished


async def test_semantic_nodes_keep_their_best_score() -> None:
    judge = ScriptedChatModel(["```0.6```", "```0.4```", "```1```"])
    tracker = Mind2WebLiveTracker(
        task([url_node("url_semantic_match", "q", "Decide whether it is a bike")]), judge=judge
    )
    scores = [(await tracker.evaluate(LiveStepInput(url=f"{U}/s?q=bike"))).total for _ in range(3)]
    assert scores == [0.6, 0.6, 1.0]
    await tracker.evaluate(LiveStepInput(url=f"{U}/s?q=bike"))
    assert len(judge.calls) == 3  # a node at 1 is not asked again
    no_key = await Mind2WebLiveTracker(
        task([url_node("url_semantic_match", "q", "r")]), judge=judge
    ).evaluate(LiveStepInput(url=f"{U}/s"))
    assert no_key.total == 0.0 and len(judge.calls) == 3  # missing key: 0 without asking


def test_semantic_nodes_need_a_judge() -> None:
    with pytest.raises(JudgeRequiredError):
        Mind2WebLiveTracker(task([url_node("url_semantic_match", "", "r")]))


async def test_an_exception_skips_the_rest_of_the_step() -> None:
    xpath = {
        "match_function_name": "element_path_exactly_match",
        "method": "xpath",
        "content": {"reference_answer": "//button", "netloc": "shop", "url": ""},
    }
    included = url_node("url_included_match", "", "shop.test")
    step = LiveStepInput(
        url=f"{U}/", html="<html><body><button>b</button></body></html>", selector="html > body > button"
    )
    tracker = Mind2WebLiveTracker(task([xpath, included]))
    record = await tracker.evaluate(step)  # the CSS selector is not an xpath: node 0 raises
    assert record.error is not None and record.node_scores == [0.0, 0.0]
    reordered = Mind2WebLiveTracker(task([included, xpath]))
    record = await reordered.evaluate(step)
    assert record.error is not None and record.node_scores == [1.0, 0.0]


async def test_element_value_nodes() -> None:
    html = "<html><body><form><input id='submission_title'><textarea id='submission_body'></textarea></form></body></html>"
    nodes = [
        {
            "match_function_name": "element_value_exactly_match",
            "content": {
                "reference_answer": "Tomato cracking",
                "netloc": "forum",
                "path": "#submission_title",
                "url": "",
            },
        },
        {
            "match_function_name": "element_value_included_match",
            "content": {"reference_answer": "water", "netloc": "forum", "url": ""},
        },
        {
            "match_function_name": "element_value_semantic_match",
            "content": {
                "reference_answer": "Decide whether it asks about watering",
                "netloc": "forum",
                "path": "#submission_body",
                "url": "",
            },
        },
    ]
    judge = ScriptedChatModel(["```0.9```"])
    tracker = Mind2WebLiveTracker(task(nodes), judge=judge)
    url = "http://forum.test:9999/submit/gardening"
    wrong_field = await tracker.evaluate(
        LiveStepInput(url=url, html=html, selector="#submission_body", element_value="Tomato cracking")
    )
    assert wrong_field.node_scores == [0.0, 0.0, 0.9]
    no_selector = await tracker.evaluate(
        LiveStepInput(url=url, html=html, selector=None, element_value="water")
    )
    assert no_selector.node_scores == [0.0, 0.0, 0.9]  # value nodes need a target element
    right = await tracker.evaluate(
        LiveStepInput(
            url=url,
            html=html,
            selector="#submission_title",
            element_value="Tomato cracking, how often to water?",
        )
    )
    assert right.node_scores == [0.0, 1.0, 0.9]
    other_site = await Mind2WebLiveTracker(task(nodes[:2]), judge=judge).evaluate(
        LiveStepInput(
            url="http://shop.test/x", html=html, selector="#submission_title", element_value="Tomato cracking"
        )
    )
    assert other_site.node_scores == [0.0, 0.0]


@pytest.mark.parametrize(
    ("fn", "text", "ref", "expected"),
    [
        ("final_answer_exact_match", "Paris", "paris", 1.0),
        ("cache_data_included_match", "It is PARIS.", "paris", 1.0),
        ("final_answer_exact_match", "", "", 0.0),
        ("final_answer_semantic_match", "x", "r", None),
    ],
)
async def test_text_nodes(fn: str, text: str, ref: str, expected: float | None) -> None:
    tracker = Mind2WebLiveTracker(task([{"match_function_name": fn, "content": {"reference_answer": ref}}]))
    record = await tracker.evaluate(LiveStepInput(url=U, text_content=text))
    if expected is None:  # WebCanvas passes an un-awaited coroutine to max(): the step aborts
        assert record.error is not None and record.total == 0.0
    else:
        assert record.total == expected


def test_node_parsing() -> None:
    nodes, skipped = parse_key_nodes(
        [url_node("url_included_match", "", "a"), {"match_function_name": "visual_match", "content": {}}]
    )
    assert [n.match_function for n in nodes] == ["url_included_match"] and len(skipped) == 1
    with pytest.raises(ValueError, match="key"):
        parse_key_nodes([{"match_function_name": "url_exactly_match", "content": {"reference_answer": "a"}}])


@pytest.mark.parametrize(
    ("length", "mode", "budget"),
    [(5, "batch_tasks", 10), (8, "batch_tasks", 12), (18, "batch_tasks", 27), (5, "single_task", 5)],
)
def test_step_budget(length: int, mode: Any, budget: int) -> None:
    tracker = Mind2WebLiveTracker(task([url_node("url_included_match", "", "zzz")], length), task_mode=mode)
    assert tracker.max_steps == budget
    steps = 0
    while tracker.can_step():
        tracker.record_action(f"{U}/page")
        steps += 1
    assert steps == min(budget, 26)  # 26: the hard stop after step index 25


def test_error_url_extends_the_budget_once() -> None:
    tracker = Mind2WebLiveTracker(task([url_node("url_included_match", "", "zzz")], 5))
    steps = 0
    while tracker.can_step():
        tracker.record_action(f"{U}/error" if steps < 3 else f"{U}/ok")
        steps += 1
    assert steps == 15


def test_hard_stop_after_step_index_25() -> None:
    tracker = Mind2WebLiveTracker(task([url_node("url_included_match", "", "zzz")], 40))
    assert tracker.max_steps == 60
    steps = 0
    while tracker.can_step():
        tracker.record_action(f"{U}/x")
        steps += 1
    assert steps == 26  # the check runs after the step numbered 25 (counting from 0)


def test_failed_planning_uses_up_a_step() -> None:
    tracker = Mind2WebLiveTracker(task([url_node("url_included_match", "", "zzz")], 5))
    for _ in range(10):
        tracker.record_no_action()
    assert not tracker.can_step() and tracker.result().steps == 0


async def test_statuses() -> None:
    done = Mind2WebLiveTracker(task([url_node("url_included_match", "", "shop")]))
    await done.evaluate(LiveStepInput(url=U))
    done.record_action(U)
    assert done.result().status == "finished" and not done.can_step()
    llm = Mind2WebLiveTracker(task([url_node("url_included_match", "", "zzz")]))
    await llm.evaluate(LiveStepInput(url=U))
    llm.record_action(U, self_reward_finished=True)
    assert llm.result().status == "llm_finished" and not llm.can_step()
    assert (
        Mind2WebLiveTracker(task([url_node("url_included_match", "", "z")])).result(early_stop=True).status
        == "early_stop"
    )
    assert (
        Mind2WebLiveTracker(task([url_node("url_included_match", "", "z")])).result().status == "step_limit"
    )


def test_metrics() -> None:
    outcomes = [
        LiveTaskOutcome(status="finished", steps=4, score=4, n_nodes=4),
        LiveTaskOutcome(status="step_limit", steps=10, score=2.5, n_nodes=4),
        LiveTaskOutcome(status="step_limit", steps=6, score=0, n_nodes=3),
        LiveTaskOutcome(status="llm_finished", steps=5, score=2, n_nodes=3),
    ]
    metrics = mind2web_live_metrics(outcomes, total_cost_usd=1.7)
    assert metrics.task_counts == 4
    assert metrics.key_node_completion_rate == pytest.approx(8.5 / 14)
    assert metrics.average_step_score_rate == pytest.approx((1 + 0.625 + 0 + 2 / 3) / 4)
    assert metrics.task_success_rate == 0.25
    assert metrics.average_efficiency_score == pytest.approx((1 + 4 + 0 + 2.5) / 4)
    assert metrics.usd_efficiency_score == pytest.approx(0.2)
    assert metrics.task_near_success_rate == 0.25
    assert mind2web_live_metrics(outcomes).usd_efficiency_score is None


SELECTOR_DOC = """<html><body><div class="page"><ul id="product-list">
<li><span>Mug A</span><button class="add-to-cart">Add</button></li>
<li><span>Mug B</span><button class="add-to-cart" title="Add B">Add</button></li></ul>
<div id="a.b c"><p>x</p></div><div id="1st"><p>y</p></div>
<section><div class="card big">one</div><div class="card big">two</div><div class="card">three</div></section>
<ol><!-- note --><li>first</li><li>second</li></ol>
<form><input type="submit"><input placeholder="Search mugs"><select><option>1</option></select></form>
</div></body></html>"""


@pytest.mark.parametrize(
    ("xpath", "selector", "value"),
    [
        ("//ul/li[1]/button", "#product-list > li:nth-child(1) > button", "Add"),
        ("//ul/li[2]/span", "#product-list > li:nth-child(2) > span", "Mug B"),
        ("//div[@id='a.b c']/p", "#a\\.b.c > p", "x"),
        ("//div[@id='1st']/p", "#\\31 st > p", "y"),
        ("//section/div[3]", "html > body > div > section > div.card", "three"),
        ("//section/div[2]", "html > body > div > section > div:nth-child(2)", "two"),
        # lxml counts the comment, so WebCanvas writes nth-child(3) for what CSS calls the 2nd child
        ("//ol/li[2]", "html > body > div > ol > li:nth-child(3)", "second"),
        ("//form/input[1]", "html > body > div > form > input:nth-child(1)", "submit"),
        ("//form/input[2]", "html > body > div > form > input:nth-child(2)", "Search mugs"),
        ("//form/select", "html > body > div > form > select", "Select an option value"),
    ],
)
def test_webcanvas_selector_and_value(xpath: str, selector: str, value: str) -> None:
    import lxml.etree

    root = lxml.etree.fromstring(SELECTOR_DOC, lxml.etree.HTMLParser())
    element = root.xpath(xpath)[0]
    assert webcanvas_selector(element) == selector
    assert webcanvas_element_value(element) == value


def test_marked_element_is_found() -> None:
    element = _find_marked("<html><body><p>a</p><p data-m=''>b</p></body></html>", "data-m")
    assert element is not None and element.text == "b"


SHOP_HOME = """<html><body><form action="/shop/search"><input id="q" name="q"><button id="go">Search</button></form></body></html>"""
SHOP_SEARCH = """<html><body><a id="sort" href="/shop/search?q=ceramic%20mug&sort=price_asc">Price: low to high</a>
<ul id="product-list"><li><span>Plain white mug</span><button class="add-to-cart">Add</button></li>
<li><span>Blue mug</span><button class="add-to-cart">Add</button></li></ul></body></html>"""


async def test_example_task_end_to_end(page: Page, site: Site) -> None:
    """Drive real pages like a runner: read inputs, evaluate, act, record; on shop.test (host-mapped)."""
    site.add("/shop/", SHOP_HOME)
    site.add("/shop/search", SHOP_SEARCH)
    raw = json.loads((ASSETS / "mind2web_live_style_tasks.json").read_text(encoding="utf-8"))[0]
    port = site.base.rsplit(":", 1)[1]
    home = f"http://shop.test:{port}/shop/"
    tracker = Mind2WebLiveTracker(raw)
    assert tracker.max_steps == 10 and len(tracker.nodes) == 4

    async def step(target: Any = None, typed: str | None = None) -> Any:
        record = await tracker.evaluate(await read_live_step(page, target, typed_value=typed))
        return record

    await step()  # about:blank, goto home
    await page.goto(home)
    tracker.record_action(page.url)
    record = await step(page.locator("#q"), typed="ceramic mug")
    assert record.newly_matched == [0]  # url_included "shop.test"
    await page.fill("#q", "ceramic mug")
    await page.click("#go")
    tracker.record_action(page.url)
    record = await step(page.locator("#sort"))
    assert record.newly_matched == [1]  # q == "ceramic mug" (decoded)
    await page.click("#sort")
    tracker.record_action(page.url)
    button = page.locator("#product-list > li:nth-child(1) > button")
    record = await step(button)
    assert record.selector == "#product-list > li:nth-child(1) > button" and record.element_value == "Add"
    assert sorted(record.newly_matched) == [2, 3]  # sort == price_asc, and the add-to-cart button
    await button.click()
    tracker.record_action(page.url)
    result = tracker.result()
    assert result.status == "finished" and result.steps == 4 and result.score == 4.0
    assert not tracker.can_step()


async def test_last_action_is_never_scored(page: Page, site: Site) -> None:
    site.add("/shop/", SHOP_HOME)
    site.add("/shop/search", SHOP_SEARCH)
    port = site.base.rsplit(":", 1)[1]
    tracker = Mind2WebLiveTracker(task([url_node("url_exactly_match", "sort", "price_asc")]))
    await page.goto(f"http://shop.test:{port}/shop/search?q=mug")
    await tracker.evaluate(await read_live_step(page, page.locator("#sort")))
    await page.click("#sort")  # reaches the sorted page, but the episode ends here
    tracker.record_action(page.url)
    assert tracker.result().score == 0.0 and "sort=price_asc" in page.url
