"""`func:` helpers: the safe expression reader, the page helpers on real pages, the Magento REST ones."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Page
from test_eval_support import ASSETS, Site

from eval.evaluators.func_helpers import (
    VWA_HELPERS,
    WA_HELPERS,
    HelperContext,
    call_helper,
    parse_helper_call,
    reddit_get_post_url,
)
from eval.evaluators.magento import MagentoConfig
from eval.evaluators.results import EvaluationError, Profile

PARSE_OK = [
    ("get_query_text(page, '.price')", "get_query_text", 2),
    (
        "  \tshopping_get_latest_order_url()",
        "shopping_get_latest_order_url",
        0,
    ),  # eval() ignores leading blanks
    ("shopping_get_order_product_quantity(page,'B00PZ9WV94')", "shopping_get_order_product_quantity", 2),
    ('shopping_get_sku_latest_review_rating("B09PQ6G5WL")', "shopping_get_sku_latest_review_rating", 1),
    ("get_query_text(page, selector='.a')", "get_query_text", 2),
]

pytest_plugins = ["test_eval_support"]  # shared fixtures: browser, page, site, site_pair


@pytest.mark.parametrize(("expr", "name", "nargs"), PARSE_OK)
def test_parse_accepts_task_file_calls(expr: str, name: str, nargs: int) -> None:
    parsed_name, args, kwargs = parse_helper_call(expr, VWA_HELPERS)
    assert parsed_name == name
    assert len(args) + len(kwargs) == nargs


PARSE_REJECTED = [
    ("__import__('os').system('true')", "single helper call"),
    ("os.system('true')", "single helper call"),
    ("get_query_text(page, open('/etc/passwd').read())", "literals"),
    ("get_query_text(page, '.a' + '.b')", "literals"),
    ("get_query_text(*['.a'])", "unpack"),
    ("get_query_text(**{'selector': '.a'})", "unpack"),
    ("eval('1')", "not defined"),
    ("get_query_text(page, '.a'); print(1)", "not valid Python"),
    ("[get_query_text(page, '.a')]", "single helper call"),
    ("get_query_text(page, x)", "literals"),
]


@pytest.mark.parametrize(("expr", "message"), PARSE_REJECTED)
def test_parse_rejects_anything_else(expr: str, message: str) -> None:
    with pytest.raises(EvaluationError, match=message):
        parse_helper_call(expr, VWA_HELPERS)


@pytest.mark.parametrize(
    ("profile", "name", "allowed"),
    [
        ("webarena", "get_query_text", False),
        ("vwa", "get_query_text", True),
        ("webarena", "gitlab_get_project_memeber_role", True),
        ("webarena", "shopping_get_order_product_quantity", False),
        ("vwa", "shopping_get_sku_latest_review_text", True),
        ("webarena", "shopping_get_sku_latest_review_text", False),
    ],
)
def test_each_profile_has_exactly_its_originals_helpers(profile: Profile, name: str, allowed: bool) -> None:
    table = WA_HELPERS if profile == "webarena" else VWA_HELPERS
    assert (name in table) is allowed


@pytest.mark.parametrize(
    ("url", "post"),
    [
        ("http://r.test:9999/f/books/12/some-title", "http://r.test:9999/f/books/12/"),
        ("http://r.test:9999/f/books/12/some-title/-/comment/77", "http://r.test:9999/f/books/12/"),
        ("http://r.test:9999/f/books", "http://r.test:9999/f/books"),  # too short: unchanged
        ("http://r.test:9999/user/alice/posts", "http://r.test:9999/user/alice/posts"),  # not /f/: unchanged
        ("http://r.test:9999/f/books/", "http://r.test:9999/f/books//"),  # 4 parts: post id is ""
    ],
)
async def test_reddit_get_post_url(url: str, post: str) -> None:
    assert await reddit_get_post_url(HelperContext(page=None), url) == post


async def run(page: Page, expr: str, profile: Profile = "vwa") -> Any:
    return await call_helper(expr, profile=profile, ctx=HelperContext(page=page))


async def test_shopping_page_helpers(page: Page, site: Site) -> None:
    await page.goto(site.url("/product.html"))
    assert await run(page, "get_query_text(page, '.price')") == "$649.99"
    assert await run(page, "get_query_text_lowercase(page, 'h1 span')") == "men's tennis shoe"
    assert await run(page, "get_query_text(page, '.missing')") == ""
    # a quote in the selector breaks the original's JS string too: empty result
    assert await run(page, "get_query_text(page, \"a[title='x']\")") == ""
    assert (
        await run(page, "shopping_get_product_attributes(page, 'manufacturer |OR| brand name')")
        == "Microsoft, Xbox"
    )
    assert await run(page, "shopping_get_product_attributes(page, 'weight')") == ""
    assert await run(page, "shopping_get_product_price(page)") == 649.99
    assert await run(page, "shopping_get_num_reviews(page)") == 12
    assert await run(page, "shopping_get_rating_as_percentage(page)") == 87
    await page.goto(site.url("/members.html"))
    assert await run(page, "shopping_get_product_price(page)") == 0
    assert await run(page, "shopping_get_num_reviews(page)") == 0
    assert await run(page, "shopping_get_rating_as_percentage(page)") == 0


async def test_order_helpers(page: Page, site: Site) -> None:
    await page.goto(site.url("/order.html"))
    assert await run(page, "shopping_get_order_product_quantity(page, 'B00PZ9WV94')") == 10
    assert (
        await run(page, "shopping_get_order_product_quantity(page, 'B00MXUFL0E')") == 2
    )  # sku cell is stripped
    assert await run(page, "shopping_get_order_product_quantity(page, 'NOPE |OR| B00PZ9WV94')") == 10
    assert await run(page, "shopping_get_order_product_quantity(page, 'NOPE')") == 0
    assert (
        await run(page, "shopping_get_order_product_option(page, 'B00MXUFL0E', 'Size')")
        == "12 Count (Pack of 1)"
    )
    assert await run(page, "shopping_get_order_product_option(page, 'B00PZ9WV94', 'Size')") == ""
    names = await run(page, "shopping_get_order_product_name_list(page)")
    assert names.startswith("Protein Bars, Strawberry") and names.endswith(" |OR| Bamboo Chopsticks")
    await page.goto(site.url("/members.html"))
    assert await run(page, "shopping_get_order_product_quantity(page, 'B00PZ9WV94')") == 0
    assert await run(page, "shopping_get_order_product_name_list(page)") == ""


async def test_reddit_comment_helpers(page: Page, site: Site) -> None:
    await page.goto(site.url("/post.html"))
    latest = "reddit_get_latest_comment_content_by_username(page, 'MarvelsGrantMan136')"
    assert await run(page, latest) == "Sorry to hear that, bob."
    assert await run(page, "reddit_get_latest_comment_content_by_username(page, 'nobody')") == ""
    parent = "reddit_get_parent_comment_username_of_latest_comment_by_username(page, 'MarvelsGrantMan136')"
    assert await run(page, parent) == "bob"
    obj = await run(page, "reddit_get_latest_comment_obj_by_username(page, 'alice')")
    assert obj["content"] == "I did, it is fine." and obj["net_score"] == 3
    await page.goto(site.url("/members.html"))  # no #main: every helper falls back
    assert await run(page, latest) == ""
    assert await run(page, parent) == ""


async def test_gitlab_role(page: Page, site: Site) -> None:
    await page.goto(site.url("/members.html"))
    assert await run(page, "gitlab_get_project_memeber_role(page, 'abisubramanya27')", "webarena") == "Guest"
    assert await run(page, "gitlab_get_project_memeber_role(page, 'byteblaze')", "webarena") == "Owner"
    assert await run(page, "gitlab_get_project_memeber_role(page, 'nobody')", "webarena") == ""


async def test_wa_cannot_call_vwa_helpers(page: Page) -> None:
    with pytest.raises(EvaluationError, match="not defined"):
        await run(page, "get_query_text(page, '.price')", "webarena")


async def test_wrong_arity_is_an_error(page: Page) -> None:
    with pytest.raises(EvaluationError, match="get_query_text"):
        await run(page, "get_query_text(page)")


@pytest.fixture
def shop(site: Site, monkeypatch: pytest.MonkeyPatch) -> Site:
    monkeypatch.setenv("SHOPPING", site.base)
    site.magento.clear()
    site.magento.update(
        {
            "orders": [{"increment_id": "000000190"}],
            "reviews": {
                "B00J8RZL7I": [
                    {
                        "nickname": "First",
                        "detail": "meh",
                        "ratings": [{"rating_name": "Rating", "percent": 40}],
                    },
                    {
                        "nickname": "Emma Lopez",
                        "detail": "Great!",
                        "ratings": [{"rating_name": "Rating", "percent": 100}],
                    },
                ],
                "EMPTY": [],
                "ODD": [
                    {"nickname": "x", "detail": "y", "ratings": [{"rating_name": "Quality", "percent": 60}]}
                ],
            },
        }
    )
    return site


async def test_magento_helpers_use_the_shopping_env_var(shop: Site) -> None:
    ctx = HelperContext(page=None)
    url = await call_helper("shopping_get_latest_order_url()", profile="webarena", ctx=ctx)
    assert url == f"{shop.base}/sales/order/view/order_id/190/"
    query = shop.magento["order_query"]
    assert query["searchCriteria[sortOrders][0][field]"] == ["created_at"]
    assert query["searchCriteria[sortOrders][0][direction]"] == ["DESC"]
    assert query["searchCriteria[pageSize]"] == ["1"]
    assert (
        await call_helper("shopping_get_sku_latest_review_author('B00J8RZL7I')", profile="webarena", ctx=ctx)
        == "Emma Lopez"
    )
    assert (
        await call_helper("shopping_get_sku_latest_review_rating('B00J8RZL7I')", profile="webarena", ctx=ctx)
        == "100"
    )
    assert (
        await call_helper('shopping_get_sku_latest_review_text("B00J8RZL7I")', profile="vwa", ctx=ctx)
        == "Great!"
    )
    assert await call_helper("shopping_get_sku_latest_review_author('EMPTY')", profile="vwa", ctx=ctx) == ""
    token_calls = [r for r in shop.requests if r[1].endswith("/integration/admin/token")]
    assert token_calls and b'"username": "admin"' in token_calls[-1][3]


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("shopping_get_sku_latest_review_rating('ODD')", "Rating"),
        ("shopping_get_sku_latest_review_author('MISSING')", "HTTP 404"),
    ],
)
async def test_magento_asserts_become_errors(shop: Site, expr: str, message: str) -> None:
    with pytest.raises(EvaluationError, match=message):
        await call_helper(expr, profile="vwa", ctx=HelperContext(page=None))


async def test_magento_wrong_password_fails(shop: Site) -> None:
    ctx = HelperContext(page=None, magento=MagentoConfig(password="wrong"))
    with pytest.raises(EvaluationError, match="HTTP 401"):
        await call_helper("shopping_get_latest_order_url()", profile="vwa", ctx=ctx)


async def test_magento_without_site_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHOPPING", raising=False)
    with pytest.raises(EvaluationError, match="SHOPPING"):
        await call_helper("shopping_get_latest_order_url()", profile="vwa", ctx=HelperContext(page=None))


async def test_latest_order_url_drives_program_html(shop: Site, page: Page) -> None:
    from eval.evaluators.program_html import program_html

    shop.add("/sales/order/view/order_id/190/", (ASSETS / "site" / "order.html").read_text())
    await page.goto(shop.url("/members.html"))
    targets = [
        {
            "url": "func:shopping_get_latest_order_url()",
            "locator": "func:shopping_get_order_product_quantity(__page__, 'B00PZ9WV94')",
            "required_contents": {"required_values": ["== 10"]},
        }
    ]
    result = await program_html(targets, page=page, profile="vwa", nav_sleep_s=0)
    assert result.error is None and result.score == 1.0
    assert page.url == shop.url("/sales/order/view/order_id/190/")
