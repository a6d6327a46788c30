"""page_image_query on real pages: image collection, downloads through the browser, SSIM, VQA."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from playwright.async_api import Page
from skimage.metrics import structural_similarity
from test_eval_support import ScriptedChatModel, Site, png

from eval.evaluators.images import DEFAULT_SSIM_THRESHOLD, image_ssim, page_image_query

RED = png((200, 30, 30))
BLUE = png((30, 30, 200))
NOISE = png((0, 0, 0), pattern=7)

pytest_plugins = ["test_eval_support"]  # shared fixtures: browser, page, site, site_pair


def _open(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def _scaled(data: bytes, size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    _open(data).resize(size, Image.Resampling.BICUBIC).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def images(site_pair: tuple[Site, Site]) -> dict[str, str]:
    site, other = site_pair
    for name, data in {"red": RED, "blue": BLUE, "noise": NOISE, "red_big": _scaled(RED, (128, 96))}.items():
        site.add(f"/img/{name}.png", data, "image/png")
        other.add(f"/img/{name}.png", data, "image/png")
    return {
        "red": "/img/red.png",
        "noise": "/img/noise.png",
        "blue": "/img/blue.png",
        "cross_red": other.url("/img/red.png"),
    }


@pytest.fixture
def refs(tmp_path: Path) -> Path:
    (tmp_path / "refs").mkdir()
    (tmp_path / "refs" / "red.png").write_bytes(RED)
    (tmp_path / "refs" / "red_big.png").write_bytes(_scaled(RED, (128, 96)))
    (tmp_path / "refs" / "noise.png").write_bytes(NOISE)
    return tmp_path


def test_ssim_is_the_originals_formula() -> None:
    a, b = _open(RED), _open(_scaled(BLUE, (80, 40)))
    size = (max(a.size[0], b.size[0]), max(a.size[1], b.size[1]))  # (80, 48): max width and max height
    gray_a = np.array(a.resize(size, Image.Resampling.LANCZOS).convert("L"))
    gray_b = np.array(b.resize(size, Image.Resampling.LANCZOS).convert("L"))
    assert image_ssim(a, b) == pytest.approx(float(structural_similarity(gray_a, gray_b)))
    assert image_ssim(_open(RED), _open(RED)) == pytest.approx(1.0)
    assert image_ssim(_open(RED), _open(_scaled(RED, (128, 96)))) > DEFAULT_SSIM_THRESHOLD
    assert image_ssim(_open(RED), _open(NOISE)) < DEFAULT_SSIM_THRESHOLD


async def run(page: Page, *queries: dict[str, Any], judge: Any = None, assets: Path | None = None) -> Any:
    return await page_image_query(list(queries), page=page, vqa_judge=judge, nav_sleep_s=0, assets_dir=assets)


def q(cls: str, **extra: Any) -> dict[str, Any]:
    return {"eval_image_url": "last", "eval_image_class": cls, **extra}


@pytest.mark.parametrize(
    ("reference", "threshold", "expected"),
    [
        ("refs/red.png", None, 1.0),
        ("refs/red_big.png", None, 1.0),  # resized copy still matches
        ("refs/noise.png", None, 0.0),
        ("refs/noise.png |OR| refs/red.png", None, 1.0),
        ("refs/red.png", 1.0, 0.0),  # strict ">": an identical image does not beat a threshold of 1
        ("refs/noise.png", -1.0, 1.0),
    ],
)
async def test_fuzzy_image_match(
    page: Page,
    site: Site,
    images: dict[str, str],
    refs: Path,
    reference: str,
    threshold: float | None,
    expected: float,
) -> None:
    await page.goto(
        site.add(
            "/items/31",
            f"<div class='item-photos'><img src='{images['blue']}'><img src='{images['red']}'></div>",
        )
    )
    extra: dict[str, Any] = {"eval_fuzzy_image_match": reference}
    if threshold is not None:
        extra["ssim_threshold"] = threshold
    result = await run(page, q(".item-photos", **extra), assets=refs)
    assert result.error is None, result.error
    assert result.score == expected


async def test_reference_image_over_http(page: Page, site: Site, images: dict[str, str]) -> None:
    await page.goto(site.add("/items/40", f"<img class='photo' src='{images['red']}'>"))
    result = await run(page, q(".photo", eval_fuzzy_image_match=site.url("/img/red_big.png")))
    assert result.score == 1.0


@pytest.mark.parametrize(
    ("html", "cls", "count"),
    [
        ("<div class='g'><img src='/img/red.png'><span><img src='/img/blue.png'></span></div>", ".g", 2),
        (
            "<img class='g' src='/img/red.png'><img class='g' src='/img/blue.png'><img src='/img/noise.png'>",
            ".g",
            2,
        ),
        # empty class: elements with the img role; alt="" makes an image presentational
        (
            "<img alt='a' src='/img/red.png'><img alt='' src='/img/blue.png'><img alt='b' src='/img/noise.png'>",
            "",
            2,
        ),
    ],
)
async def test_image_collection(
    page: Page, site: Site, images: dict[str, str], html: str, cls: str, count: int
) -> None:
    await page.goto(site.add(f"/collect/{abs(hash(html))}", html))
    judge = ScriptedChatModel(lambda messages: "yes")
    result = await run(page, q(cls, eval_vqa=[{"question": "Is it an image?", "answer": "yes"}]), judge=judge)
    assert result.score == 1.0
    assert len(judge.calls) == count


@pytest.mark.parametrize(
    "html",
    [
        "<div class='item-photos'></div>",  # no image at all
        # nothing downloadable: a data: URI, a scheme-less www. URL, no src
        "<div class='item-photos'><img src='data:image/png;base64,iVBORw0KGgo='><img src='www.example.test/a.png'><img></div>",
    ],
)
async def test_no_usable_image_scores_zero_at_once(page: Page, site: Site, html: str) -> None:
    await page.goto(site.add(f"/empty/{abs(hash(html))}", html))
    judge = ScriptedChatModel(["yes"])
    result = await run(
        page,
        q(".item-photos", eval_vqa=[{"question": "x", "answer": "yes"}]),
        q(".item-photos", eval_fuzzy_image_match="refs/red.png"),
        judge=judge,
    )
    assert result.score == 0.0 and result.error is None and judge.calls == []


async def test_cross_origin_and_host_mapped_images_download_through_the_browser(
    page: Page, site: Site, images: dict[str, str], refs: Path
) -> None:
    port = site.base.rsplit(":", 1)[1]
    # shop.test resolves only inside the browser (host mapping); the other server is another origin
    html = (
        f"<div class='p'><img src='http://shop.test:{port}/img/noise.png'>"
        f"<img src='{images['cross_red']}'></div>"
    )
    await page.goto(site.add("/items/77", html))
    pages_before = len(page.context.pages)
    result = await run(page, q(".p", eval_fuzzy_image_match="refs/red.png"), assets=refs)
    assert result.score == 1.0
    assert sum(c.note.startswith("2 page image") for c in result.checks) == 1
    assert len(page.context.pages) == pages_before  # the scratch tab is closed again


async def test_only_the_last_query_counts(page: Page, site: Site, images: dict[str, str], refs: Path) -> None:
    await page.goto(site.add("/items/90", f"<div class='a'><img src='{images['red']}'></div>"))
    failing = q(".a", eval_fuzzy_image_match="refs/noise.png")
    passing = q(".a", eval_fuzzy_image_match="refs/red.png")
    assert (await run(page, failing, passing, assets=refs)).score == 1.0
    assert (await run(page, passing, failing, assets=refs)).score == 0.0
    # ...but an earlier query without images still returns 0 straight away
    assert (
        await run(page, q(".none", eval_fuzzy_image_match="refs/red.png"), passing, assets=refs)
    ).score == 0.0


async def test_vqa_asks_each_image_and_matches_substrings(
    page: Page, site: Site, images: dict[str, str]
) -> None:
    await page.goto(
        site.add("/items/91", f"<div class='a'><img src='{images['red']}'><img src='{images['blue']}'></div>")
    )
    judge = ScriptedChatModel(["No.", "YES, it is"])
    result = await run(
        page, q(".a", eval_vqa=[{"question": "Is this shirt green? (yes/no)", "answer": "Yes"}]), judge=judge
    )
    assert result.score == 1.0 and result.judge_calls == 2
    message = judge.calls[0][0][-1]
    assert message.text() == "Q: Is this shirt green? (yes/no) A:"
    assert len(message.images()) == 1 and message.images()[0].data.startswith(b"\x89PNG")
    judge = ScriptedChatModel(["no", "no", "yes", "yes"])
    result = await run(
        page,
        q(".a", eval_vqa=[{"question": "a", "answer": "yes"}, {"question": "b", "answer": "yes"}]),
        judge=judge,
    )
    assert result.score == 0.0  # the first question fails on both images


@pytest.mark.parametrize(
    ("query", "judge", "message"),
    [
        (q(".a"), None, "eval_vqa"),
        (q(".a", eval_vqa=[{"question": "x", "answer": "y"}]), None, "needs a judge"),
        (q("img.a", eval_fuzzy_image_match="refs/red.png"), None, "Unknown locator"),
        (q(".a", eval_fuzzy_image_match="refs/missing.png"), None, "cannot load reference"),
    ],
)
async def test_image_query_errors(
    page: Page,
    site: Site,
    images: dict[str, str],
    refs: Path,
    query: dict[str, Any],
    judge: Any,
    message: str,
) -> None:
    await page.goto(site.add("/items/92", f"<div class='a'><img src='{images['red']}'></div>"))
    result = await run(page, query, judge=judge, assets=refs)
    assert result.score is None and result.error is not None and message in result.error


async def test_no_queries_is_an_error(page: Page) -> None:
    result = await page_image_query([], page=page)
    assert result.score is None and result.error is not None
