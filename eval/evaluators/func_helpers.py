"""The ``func:`` helpers that WA/VWA task files call from ``program_html`` URLs and locators.

The originals ``eval()`` the expression in their evaluator module, so exactly the helpers that
module imports are callable (WA: five; VWA: eighteen) and anything else is a NameError. We parse
the expression instead and allow only one call to a whitelisted helper whose arguments are
literals or ``page``; nothing else is ever executed. Each helper is our own re-implementation of
`evaluation_harness/helper_functions.py`, with the same page queries and fallbacks.
"""

from __future__ import annotations

import ast
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

from playwright.async_api import Page

from eval.evaluators import magento
from eval.evaluators.results import EvaluationError, Profile


@dataclass
class HelperContext:
    """What helpers may touch: the page under evaluation and the shop's REST settings."""

    page: Page | None
    magento: magento.MagentoConfig = field(default_factory=magento.MagentoConfig)


def _js_text(value: object) -> str:
    """Place a value inside a single-quoted JS string the way the originals' f-strings do.

    Nothing is escaped: a quote in the value breaks the script and the helper then falls back to
    its empty result, just as in the original.
    """
    return str(value)


async def _evaluate(page: Page, script: str, fallback: Any) -> Any:
    try:
        return await page.evaluate(script)
    except Exception:
        return fallback


async def get_query_text(ctx: HelperContext, page: Page, selector: str) -> Any:
    """``textContent`` of the first element matching ``selector`` ("" if none). Not lowercased."""
    script = (
        "(() => { try { return document.querySelector('" + _js_text(selector) + "').textContent; }"
        " catch (err) { return ''; } })()"
    )
    return await _evaluate(page, script, "")


async def get_query_text_lowercase(ctx: HelperContext, page: Page, selector: str) -> Any:
    """Like ``get_query_text``, lowercased."""
    return str(await get_query_text(ctx, page, selector)).lower()


async def shopping_get_product_attributes(ctx: HelperContext, page: Page, attribute: str) -> Any:
    """Values of the product-details rows whose label contains one of the ``|OR|`` terms."""
    script = (
        "(() => { try {"
        " const wanted = '" + _js_text(attribute) + "'.toLowerCase().split(' |or| ');"
        " const rows = document.querySelector('#productDetails_detailBullets_sections1 > tbody').children;"
        " return Array.from(rows)"
        "   .filter(row => wanted.some(w => row.children[0].outerText.toLowerCase().includes(w)))"
        "   .map(row => row.children[1].outerText).join(', ');"
        " } catch (err) { return ''; } })()"
    )
    return await _evaluate(page, script, "")


async def shopping_get_product_price(ctx: HelperContext, page: Page) -> Any:
    """The product page's final price as a number (0 when absent or unreadable)."""
    script = (
        "(() => { const el = document.querySelector('#maincontent > div.columns > div > div.product-info-main"
        " > div.product-info-price > div.price-box.price-final_price > span > span');"
        " const value = parseFloat(el.outerText.substr(1)); return value ? value : 0; })()"
    )
    return await _evaluate(page, script, 0)


async def shopping_get_num_reviews(ctx: HelperContext, page: Page) -> Any:
    """The number in the product's "Reviews N" tab label (0 when absent)."""
    script = (
        "(() => { const value = parseInt(document.querySelector('#tab-label-reviews-title')"
        ".outerText.split(' ')[1]); return value ? value : 0; })()"
    )
    return await _evaluate(page, script, 0)


async def shopping_get_rating_as_percentage(ctx: HelperContext, page: Page) -> Any:
    """The product's rating percentage from ``.rating-result``'s title (0 when absent)."""
    script = (
        "(() => { const value = parseFloat(document.querySelector('.rating-result').title.replace('%', ''));"
        " return value ? value : 0; })()"
    )
    return await _evaluate(page, script, 0)


async def shopping_get_all_product_order(page: Page) -> Any:
    """Rows of an order page: one dict per ``tbody`` of ``#my-orders-table``, keyed by td class.

    The original returns the JS error object when the table is missing; every caller then falls
    back to its empty result, which is what an empty list gives here.
    """
    script = (
        "(() => { try {"
        " return [...document.querySelector('#my-orders-table').getElementsByTagName('tbody')].map(body => {"
        "   const row = {};"
        "   for (const cell of body.getElementsByTagName('td')) {"
        "     const key = cell.className.split(' ')[1];"
        "     row[key] = cell.outerText;"
        "     const list = cell.querySelector('dl');"
        "     if (key === 'name' && list) {"
        "       const options = {}; const parts = [...list.children];"
        "       for (let i = 0; i < parts.length; i += 2) { options[parts[i].outerText] = parts[i + 1].outerText; }"
        "       row['options'] = options;"
        "     }"
        "   }"
        "   return row; });"
        " } catch (err) { return []; } })()"
    )
    return await _evaluate(page, script, [])


async def shopping_get_order_product_name_list(ctx: HelperContext, page: Page) -> Any:
    """All product names of the order, joined with `` |OR| `` ("" on any problem)."""
    try:
        products = await shopping_get_all_product_order(page)
        return " |OR| ".join([p["name"] for p in products])
    except Exception:
        return ""


async def shopping_get_order_product_quantity(ctx: HelperContext, page: Page, sku: str) -> Any:
    """Ordered quantity of the first row whose SKU is ``sku`` (``|OR|`` allowed); 0 otherwise."""
    try:
        skus = sku.split(" |OR| ") if "|OR|" in sku else [sku]
        for product in await shopping_get_all_product_order(page):
            if product["sku"].strip() in skus:
                return int(product["qty"][7:])  # the cell reads "Ordered<qty>"
        return 0
    except Exception:
        return 0


async def shopping_get_order_product_option(
    ctx: HelperContext, page: Page, sku: str, option_name: str
) -> Any:
    """An option (e.g. Size) of the order row whose SKU is ``sku``; "" otherwise."""
    try:
        for product in await shopping_get_all_product_order(page):
            if product["sku"].strip() == sku:
                return product["options"][option_name]
        return ""
    except Exception:
        return ""


_COMMENT_TREE = """(() => {
  const build = (node, level) => {
    const tree = {
      username: node.querySelector('.fg-inherit').outerText,
      net_score: parseInt(node.querySelector('.vote__net-score').outerText),
      content: node.querySelector('.comment__content').outerText,
      time: new Date(node.querySelector('.comment__main > header > h1 > span > time').dateTime),
      children: [],
    };
    for (const child of node.querySelectorAll('.comment')) {
      if (parseInt(child.getAttribute('data-level')) === level + 1) tree.children.push(build(child, level + 1));
    }
    return tree;
  };
  return build(document.querySelector('#main'), 0);
})()"""


async def reddit_get_post_comment_tree(page: Page) -> Any:
    """The post's comments as a tree; the root is ``#main`` itself (level 0), read the same way."""
    return await _evaluate(page, _COMMENT_TREE, {})


_EARLIEST = datetime.min.replace(tzinfo=UTC)


async def reddit_get_latest_comment_obj_by_username(ctx: HelperContext, page: Page, username: str) -> Any:
    """The newest comment by ``username`` (strictly newer wins, depth-first), or {}."""
    best: dict[str, Any] = {}
    latest = _EARLIEST

    def visit(node: Any) -> None:
        nonlocal best, latest
        if node["username"] == username and node["time"] > latest:
            best = {k: node[k] for k in ("username", "net_score", "content", "time")}
            latest = node["time"]
        for child in node["children"]:
            visit(child)

    try:
        visit(await reddit_get_post_comment_tree(page))
    except Exception:
        return {}
    return best


async def reddit_get_latest_comment_content_by_username(ctx: HelperContext, page: Page, username: str) -> Any:
    """Text of the newest comment by ``username`` ("" if none)."""
    try:
        return (await reddit_get_latest_comment_obj_by_username(ctx, page, username))["content"]
    except Exception:
        return ""


async def reddit_get_parent_comment_username_of_latest_comment_by_username(
    ctx: HelperContext, page: Page, username: str
) -> Any:
    """Author of the comment that ``username``'s newest reply answers ("" if none).

    As in the original, the search does not descend below a comment written by ``username``.
    """
    parent: dict[str, Any] = {}
    latest = _EARLIEST

    def visit(node: Any) -> None:
        nonlocal parent, latest
        for child in node["children"]:
            if child["username"] == username:
                if child["time"] > latest:
                    parent = {k: node[k] for k in ("username", "net_score", "content", "time")}
                    latest = child["time"]
            else:
                visit(child)

    try:
        visit(await reddit_get_post_comment_tree(page))
        return parent["username"]
    except Exception:
        return ""


async def gitlab_get_project_memeber_role(ctx: HelperContext, page: Page, account_name: str) -> Any:
    """The max role shown for ``@account_name`` on a GitLab project-members page ("" if absent).

    The name keeps the original's spelling, since task files call it by that name.
    """
    try:
        index = await page.evaluate(
            "(() => { const names = document.querySelectorAll(\"td[data-label='Account'] span.gl-avatar-labeled-sublabel\");"
            " for (let i = 0; i < names.length; i++) { if (names[i].outerText === '@"
            + _js_text(account_name)
            + "') return i; } return -1; })()"
        )
        return await page.evaluate(
            "(() => document.querySelectorAll('td.col-max-role span')[" + str(index) + "].outerText)()"
        )
    except Exception:
        return ""


async def reddit_get_post_url(ctx: HelperContext, url: str) -> Any:
    """``scheme://host/f/<forum>/<post_id>/`` for a post or comment URL; other URLs unchanged."""
    parsed = urlparse(url)
    parts = parsed.path.split("/")
    if len(parts) < 4 or parts[1] != "f":
        return url
    return f"{parsed.scheme}://{parsed.netloc}/f/{parts[2]}/{parts[3]}/"


async def _latest_order_url(ctx: HelperContext) -> Any:
    return await magento.shopping_get_latest_order_url(ctx.magento)


async def _review_author(ctx: HelperContext, sku: str) -> Any:
    return await magento.shopping_get_sku_latest_review_author(ctx.magento, sku)


async def _review_rating(ctx: HelperContext, sku: str) -> Any:
    return await magento.shopping_get_sku_latest_review_rating(ctx.magento, sku)


async def _review_text(ctx: HelperContext, sku: str) -> Any:
    return await magento.shopping_get_sku_latest_review_text(ctx.magento, sku)


Helper = Callable[..., Awaitable[Any]]

# Exactly the names each evaluator module imports (and so can eval).
WA_HELPERS: dict[str, Helper] = {
    "gitlab_get_project_memeber_role": gitlab_get_project_memeber_role,
    "reddit_get_post_url": reddit_get_post_url,
    "shopping_get_latest_order_url": _latest_order_url,
    "shopping_get_sku_latest_review_author": _review_author,
    "shopping_get_sku_latest_review_rating": _review_rating,
}
VWA_HELPERS: dict[str, Helper] = {
    **WA_HELPERS,
    "get_query_text": get_query_text,
    "get_query_text_lowercase": get_query_text_lowercase,
    "reddit_get_latest_comment_content_by_username": reddit_get_latest_comment_content_by_username,
    "reddit_get_latest_comment_obj_by_username": reddit_get_latest_comment_obj_by_username,
    "reddit_get_parent_comment_username_of_latest_comment_by_username": reddit_get_parent_comment_username_of_latest_comment_by_username,
    "shopping_get_num_reviews": shopping_get_num_reviews,
    "shopping_get_order_product_name_list": shopping_get_order_product_name_list,
    "shopping_get_order_product_option": shopping_get_order_product_option,
    "shopping_get_order_product_quantity": shopping_get_order_product_quantity,
    "shopping_get_product_attributes": shopping_get_product_attributes,
    "shopping_get_product_price": shopping_get_product_price,
    "shopping_get_rating_as_percentage": shopping_get_rating_as_percentage,
    "shopping_get_sku_latest_review_text": _review_text,
}
HELPERS: dict[Profile, dict[str, Helper]] = {"webarena": WA_HELPERS, "vwa": VWA_HELPERS}


class PageArg:
    """Marks where the expression passed the page."""


PAGE = PageArg()
Literal_ = str | int | float | bool | None


def _literal(node: ast.expr) -> Literal_ | PageArg:
    if isinstance(node, ast.Name) and node.id == "page":
        return PAGE
    if isinstance(node, ast.Constant) and isinstance(node.value, str | int | float | bool | None):
        return node.value
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
        and isinstance(node.operand.value, int | float)
        and not isinstance(node.operand.value, bool)
    ):
        return -node.operand.value
    raise EvaluationError(f"func: arguments must be literals or page, got {ast.dump(node)[:80]}")


def parse_helper_call(expr: str, allowed: dict[str, Helper]) -> tuple[str, list[Any], dict[str, Any]]:
    """Read ``name(arg, ...)`` and check it names an allowed helper; never evaluates code."""
    try:
        tree = ast.parse(expr.lstrip(" \t"), mode="eval")  # eval() ignores leading spaces and tabs
    except SyntaxError as exc:
        raise EvaluationError(f"func: expression is not valid Python: {expr!r}") from exc
    call = tree.body
    if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name):
        raise EvaluationError(f"func: expression must be a single helper call, got {expr!r}")
    if call.func.id not in allowed:
        raise EvaluationError(f"name {call.func.id!r} is not defined (not a helper of this harness)")
    args = [_literal(a) for a in call.args if not isinstance(a, ast.Starred)]
    if len(args) != len(call.args) or any(k.arg is None for k in call.keywords):
        raise EvaluationError("func: expression may not unpack arguments")
    kwargs = {str(k.arg): _literal(k.value) for k in call.keywords}
    return call.func.id, args, kwargs


async def call_helper(expr: str, *, profile: Profile, ctx: HelperContext) -> Any:
    """Run a ``func:`` expression (``__page__``/``__last_url__`` already substituted)."""
    allowed = HELPERS[profile]
    name, args, kwargs = parse_helper_call(expr, allowed)

    def bind(value: Any) -> Any:
        if value is PAGE:
            if ctx.page is None:
                raise EvaluationError("func: expression uses the page, but no page was given")
            return ctx.page
        return value

    bound = [bind(a) for a in args]
    named = {k: bind(v) for k, v in kwargs.items()}
    try:
        return await allowed[name](ctx, *bound, **named)
    except TypeError as exc:
        raise EvaluationError(f"{name}: {exc}") from exc
