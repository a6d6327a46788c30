"""VWA ``page_image_query`` (`evaluation_harness/evaluators.py: PageImageEvaluator`, SSIM from
`image_utils.py: get_image_ssim`).

Per query: navigate as program_html does, collect images (empty class: every element with the
``img`` role; ``.class``: matching IMG elements, else the ``img`` inside the matches), download
each ``src``, then ask the VQA questions and/or compare with reference images by SSIM. Quirks kept:
no image found (or none downloadable) returns 0 for the whole evaluator at once; the score is
reset for every query, so only the last query's score counts.

Downloads go through the browser (an in-page ``fetch``, or a scratch tab when CORS blocks it),
so the browser's host mapping applies. Like the original's ``requests``, only http(s) URLs are
fetched (``data:`` and scheme-less ``www.`` sources are skipped) and the status is not checked.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlparse

import numpy as np
from PIL import Image
from playwright.async_api import ElementHandle, Locator, Page

from eval.evaluators.func_helpers import HelperContext
from eval.evaluators.judges import vqa_answers
from eval.evaluators.program_html import DEFAULT_NAV_SLEEP_S, navigate
from eval.evaluators.results import Check, EvaluationError, EvaluatorResult
from webdreamer.models.types import ChatModel

OR = " |OR| "
DEFAULT_SSIM_THRESHOLD = 0.8


def image_ssim(image_a: Image.Image, image_b: Image.Image) -> float:
    """SSIM as VWA computes it: both resized (LANCZOS) to the larger width and the larger height,
    converted to grayscale, then scikit-image's default SSIM."""
    from skimage.metrics import structural_similarity  # imported here: scikit-image pulls in scipy (slow)

    size = (max(image_a.size[0], image_b.size[0]), max(image_a.size[1], image_b.size[1]))
    gray_a = np.array(image_a.resize(size, Image.Resampling.LANCZOS).convert("L"))
    gray_b = np.array(image_b.resize(size, Image.Resampling.LANCZOS).convert("L"))
    score, _ = structural_similarity(gray_a, gray_b, full=True)
    return float(score)


async def collect_images(page: Page, image_class: str) -> list[Locator | ElementHandle]:
    """The image elements a query looks at."""
    if not image_class.strip():
        return list(await page.get_by_role("img").all())
    if image_class.startswith("."):
        images: list[Locator | ElementHandle] = []
        for element in await page.query_selector_all(image_class):
            if await element.evaluate('element => element.tagName === "IMG"'):
                images.append(element)
            else:
                images.extend(await element.query_selector_all("img"))
        return images
    raise EvaluationError(f"Unknown locator: {image_class!r} (page_image_query takes '' or '.class')")


_FETCH_JS = """async (url) => {
  const response = await fetch(url);
  const blob = await response.blob();
  return await new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}"""


async def fetch_via_browser(page: Page, url: str) -> bytes:
    """GET ``url`` with the browser's network stack: in-page fetch, else a scratch tab."""
    try:
        data_url = await page.evaluate(_FETCH_JS, url)
        _, _, payload = str(data_url).partition(",")
        return base64.b64decode(payload)
    except Exception:
        pass  # most often CORS on a cross-origin image; a top-level navigation is not subject to it
    scratch = await page.context.new_page()
    try:
        response = await scratch.goto(url)
        if response is None:
            raise EvaluationError(f"no response for {url}")
        return await response.body()
    finally:
        await scratch.close()


def _fetchable(url: str) -> bool:
    return urlparse(url).scheme in ("http", "https")


async def _download_page_images(
    page: Page, images: Sequence[Locator | ElementHandle]
) -> tuple[list[Image.Image], list[str]]:
    pixels: list[Image.Image] = []
    notes: list[str] = []
    for image in images:
        try:
            src = await image.get_attribute("src")
            if src is None:
                raise ValueError("no src")
            if not src.startswith(("http://", "https://", "www.")):
                src = urljoin(page.url, src)
            if not _fetchable(src):
                raise ValueError(f"not an http(s) URL: {src[:60]}")
            pixels.append(Image.open(io.BytesIO(await fetch_via_browser(page, src))))
            notes.append(f"ok {src}")
        except Exception as exc:  # the original prints a warning and skips the image
            notes.append(f"skipped: {exc}")
    return pixels, notes


async def _load_reference(ref: str, page: Page, assets_dir: Path | None) -> Image.Image:
    try:
        if ref.startswith("http"):
            return Image.open(io.BytesIO(await fetch_via_browser(page, ref)))
        path = Path(ref)
        if not path.is_absolute():
            path = (assets_dir if assets_dir is not None else Path.cwd()) / path
        return Image.open(path)
    except EvaluationError:
        raise
    except Exception as exc:
        raise EvaluationError(f"cannot load reference image {ref!r}: {exc}") from exc


async def page_image_query(
    queries: Sequence[Mapping[str, Any]],
    *,
    page: Page,
    vqa_judge: ChatModel | None = None,
    ctx: HelperContext | None = None,
    nav_sleep_s: float = DEFAULT_NAV_SLEEP_S,
    assets_dir: Path | None = None,
    vqa_max_tokens: int = 32,
    prompts: Path | None = None,
) -> EvaluatorResult:
    """Score the page's images; relative reference paths resolve against ``assets_dir`` (default cwd)."""
    result = EvaluatorResult(eval_type="page_image_query")
    context = ctx if ctx is not None else HelperContext(page=page)
    try:
        result.score = await _run(
            result, queries, page, vqa_judge, context, nav_sleep_s, assets_dir, vqa_max_tokens, prompts
        )
    except EvaluationError as exc:
        result.error = str(exc)
    except KeyError as exc:
        result.error = f"page_image_query entry lacks {exc}"
    return result


async def _run(
    result: EvaluatorResult,
    queries: Sequence[Mapping[str, Any]],
    page: Page,
    vqa_judge: ChatModel | None,
    ctx: HelperContext,
    nav_sleep_s: float,
    assets_dir: Path | None,
    vqa_max_tokens: int,
    prompts: Path | None,
) -> float:
    score: float | None = None
    for index, query in enumerate(queries):
        image_class = query["eval_image_class"]
        url = await navigate(query["eval_image_url"], page=page, profile="vwa", ctx=ctx, sleep_s=nav_sleep_s)
        where = f"query {index} ({url}, {image_class!r})"
        images = await collect_images(page, image_class)
        if not images:
            result.checks.append(
                Check(
                    rule=f"{where}: images",
                    expected="at least one",
                    actual=0,
                    score=0.0,
                    note="no image: the whole evaluator returns 0",
                )
            )
            return 0.0
        pixels, notes = await _download_page_images(page, images)
        score = 1.0  # reset per query: only the last query's score survives
        if not pixels:
            result.checks.append(
                Check(
                    rule=f"{where}: downloads",
                    expected="at least one",
                    actual=notes,
                    score=0.0,
                    note="none downloadable: the whole evaluator returns 0",
                )
            )
            return 0.0
        vqas = query.get("eval_vqa", [])
        if not vqas and "eval_fuzzy_image_match" not in query:
            raise EvaluationError(f"{where}: needs eval_vqa questions or eval_fuzzy_image_match")
        for qa in vqas:
            answers = await vqa_answers(
                vqa_judge, pixels, qa["question"], max_tokens=vqa_max_tokens, prompts=prompts
            )
            result.judge_calls += len(answers)
            s = float(any(qa["answer"].lower() in answer.lower() for answer in answers))
            result.checks.append(
                Check(rule=f"{where}: vqa {qa['question']!r}", expected=qa["answer"], actual=answers, score=s)
            )
            score *= s
        if "eval_fuzzy_image_match" in query:
            threshold = query.get("ssim_threshold", DEFAULT_SSIM_THRESHOLD)
            refs = query["eval_fuzzy_image_match"].split(OR)
            references = [await _load_reference(ref, page, assets_dir) for ref in refs]
            found = False
            best = -1.0
            for reference in references:
                for pixel in pixels:
                    try:
                        value = image_ssim(pixel, reference)
                    except Exception as exc:
                        raise EvaluationError(f"{where}: SSIM failed: {exc}") from exc
                    best = max(best, value)
                    if value > threshold:
                        found = True
                        break
            result.checks.append(
                Check(
                    rule=f"{where}: ssim > {threshold}",
                    expected=refs,
                    actual=round(best, 4),
                    score=float(found),
                    note=f"{len(pixels)} page image(s)",
                )
            )
            score *= float(found)
    if score is None:
        raise EvaluationError("page_image_query has no queries (the original fails on an unset score)")
    return score
