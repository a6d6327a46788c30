"""The Magento REST helpers of WA/VWA (`evaluation_harness/helper_functions.py`).

They talk to the shop's REST API from Python, as the originals do with ``requests`` (not through
the browser), after fetching an admin token from ``$SHOPPING/rest/default/V1/integration/admin/token``
with the ``shopping_site_admin`` account. The site URL comes from the ``SHOPPING`` environment
variable, as in the originals' ``browser_env/env_config.py``. Their asserts (HTTP 200, the rating
name) become evaluation errors, as an assert would have crashed the original's scoring.
"""

from __future__ import annotations

import asyncio
import json
import os
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel

from eval.evaluators.results import EvaluationError


class MagentoConfig(BaseModel):
    """Where the shop is and how to log in as its admin (the originals' `ACCOUNTS` defaults)."""

    shopping_url: str | None = None  # None: read $SHOPPING at call time
    username: str = "admin"
    password: str = "admin1234"
    timeout_s: float = 30.0

    def base_url(self) -> str:
        url = self.shopping_url if self.shopping_url is not None else os.environ.get("SHOPPING", "")
        if not url:
            raise EvaluationError("Magento helpers need the shop URL: set the SHOPPING environment variable")
        return url


def _http(
    method: str, url: str, headers: dict[str, str], body: bytes | None, timeout: float
) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


async def _request(
    method: str, url: str, cfg: MagentoConfig, headers: dict[str, str], body: bytes | None = None
) -> tuple[int, Any]:
    try:
        status, raw = await asyncio.to_thread(_http, method, url, headers, body, cfg.timeout_s)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise EvaluationError(f"Magento request {method} {url} failed: {exc}") from exc
    try:
        return status, json.loads(raw.decode("utf-8")) if raw else None
    except ValueError as exc:
        if status != 200:
            return status, None
        raise EvaluationError(f"Magento {url} did not return JSON") from exc


async def shopping_get_auth_token(cfg: MagentoConfig) -> Any:
    """The admin bearer token (whatever JSON the endpoint returns, as the original takes it)."""
    body = json.dumps({"username": cfg.username, "password": cfg.password}).encode()
    _, token = await _request(
        "POST",
        f"{cfg.base_url()}/rest/default/V1/integration/admin/token",
        cfg,
        {"content-type": "application/json"},
        body,
    )
    return token


async def _authorized_get(cfg: MagentoConfig, path: str, params: dict[str, str] | None = None) -> Any:
    token = await shopping_get_auth_token(cfg)
    url = f"{cfg.base_url()}{path}" + (f"?{urlencode(params)}" if params else "")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    status, data = await _request("GET", url, cfg, headers)
    if status != 200:
        raise EvaluationError(f"Magento GET {path} answered HTTP {status} (the original asserts 200)")
    return data


async def shopping_get_latest_order_url(cfg: MagentoConfig) -> str:
    """The storefront URL of the most recently created order."""
    params = {
        "searchCriteria[sortOrders][0][field]": "created_at",
        "searchCriteria[sortOrders][0][direction]": "DESC",
        "searchCriteria[pageSize]": "1",
    }
    data = await _authorized_get(cfg, "/rest/V1/orders", params)
    try:
        order_id = int(data["items"][0]["increment_id"])
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise EvaluationError(f"no latest order in the Magento answer: {exc!r}") from exc
    return f"{cfg.base_url()}/sales/order/view/order_id/{order_id}/"


async def _reviews(cfg: MagentoConfig, sku: str) -> list[Any]:
    data = await _authorized_get(cfg, f"/rest/V1/products/{sku}/reviews")
    if not isinstance(data, list):
        raise EvaluationError(f"Magento reviews of {sku!r} are not a list")
    return data


async def shopping_get_sku_latest_review_author(cfg: MagentoConfig, sku: str) -> str:
    """Nickname on the product's last review ("" when it has none)."""
    reviews = await _reviews(cfg, sku)
    if not reviews:
        return ""
    try:
        return str(reviews[-1]["nickname"])
    except (KeyError, TypeError) as exc:
        raise EvaluationError(f"review without a nickname: {exc!r}") from exc


async def shopping_get_sku_latest_review_rating(cfg: MagentoConfig, sku: str) -> str:
    """Percent rating of the product's last review, as a string ("" when it has none)."""
    reviews = await _reviews(cfg, sku)
    if not reviews:
        return ""
    try:
        # Quirk kept: the rating *name* is checked on the first review, the value read from the last.
        if reviews[0]["ratings"][0]["rating_name"] != "Rating":
            raise EvaluationError("first review's rating is not named 'Rating' (the original asserts it)")
        return str(reviews[-1]["ratings"][0]["percent"])
    except (KeyError, IndexError, TypeError) as exc:
        raise EvaluationError(f"review without a rating: {exc!r}") from exc


async def shopping_get_sku_latest_review_text(cfg: MagentoConfig, sku: str) -> str:
    """Body of the product's last review ("" when it has none)."""
    reviews = await _reviews(cfg, sku)
    if not reviews:
        return ""
    try:
        return str(reviews[-1]["detail"])
    except (KeyError, TypeError) as exc:
        raise EvaluationError(f"review without a detail: {exc!r}") from exc
