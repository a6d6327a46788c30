"""Shared pieces for the evaluator tests: a scripted judge, a real local web server, real Chromium.

Test modules import the fixtures from here. Nothing is mocked except the LLM: pages are served
by `http.server` on 127.0.0.1 and read by Chromium through Playwright's async API. Chromium maps
``*.test`` host names to 127.0.0.1, so dotted site names (``shop.test``) work without DNS.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
import pytest_asyncio
from PIL import Image
from playwright.async_api import Browser, Page, async_playwright

from webdreamer.models.types import Completion, Message

CHROMIUM = "/usr/bin/chromium-headless-shell"
CHROMIUM_PRESENT = Path(CHROMIUM).exists()
ASSETS = Path(__file__).parent / "assets" / "eval"


class ScriptedChatModel:
    """A judge double: replies come from a list (in order) or a function of the messages."""

    def __init__(self, replies: list[str] | Callable[[list[Message]], str], name: str = "scripted") -> None:
        self.name = name
        self._replies = replies
        self.calls: list[tuple[list[Message], dict[str, Any]]] = []

    async def complete(self, messages: list[Message], **kwargs: Any) -> Completion:
        self.calls.append((messages, kwargs))
        if callable(self._replies):
            text = self._replies(messages)
        else:
            if not self._replies:
                raise AssertionError("scripted model ran out of replies")
            text = self._replies.pop(0)
        return Completion(texts=[text])


def png(color: tuple[int, int, int], size: tuple[int, int] = (64, 48), pattern: int = 0) -> bytes:
    """A deterministic test image: a solid colour with a pattern-dependent block structure."""
    array = np.zeros((size[1], size[0], 3), dtype=np.uint8)
    array[:, :] = color
    rng = np.random.default_rng(pattern)
    if pattern:
        array[:, :, :] = rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
    else:
        array[size[1] // 4 : size[1] // 2, size[0] // 4 : size[0] // 2] = (
            255 - color[0],
            255 - color[1],
            255 - color[2],
        )
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass
class Route:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Site:
    """A running server: register pages with `add`, build URLs with `url`."""

    base: str
    routes: dict[str, Route]
    requests: list[tuple[str, str, dict[str, str], bytes]]
    magento: dict[str, Any]

    def url(self, path: str) -> str:
        return self.base + path

    def add(
        self, path: str, html: str | bytes, content_type: str = "text/html; charset=utf-8", **headers: str
    ) -> str:
        body = html.encode() if isinstance(html, str) else html
        self.routes[path] = Route(body=body, content_type=content_type, headers=dict(headers))
        return self.url(path)


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(
            self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def _magento(self, method: str, body: bytes) -> bool:
            parsed = urlparse(self.path)
            state = site.magento
            if parsed.path == "/rest/default/V1/integration/admin/token" and method == "POST":
                creds = json.loads(body or b"{}")
                if creds == {"username": "admin", "password": "admin1234"}:
                    self._send(200, json.dumps("tok-123").encode(), "application/json")
                else:
                    self._send(401, json.dumps({"message": "bad login"}).encode(), "application/json")
                return True
            if not parsed.path.startswith("/rest/V1/"):
                return False
            if self.headers.get("Authorization") != "Bearer tok-123":
                self._send(401, b'{"message": "unauthorized"}', "application/json")
                return True
            if parsed.path == "/rest/V1/orders":
                state["order_query"] = parse_qs(parsed.query)
                self._send(200, json.dumps({"items": state.get("orders", [])}).encode(), "application/json")
                return True
            if parsed.path.startswith("/rest/V1/products/") and parsed.path.endswith("/reviews"):
                sku = parsed.path.split("/")[4]
                reviews = state.get("reviews", {}).get(sku)
                if reviews is None:
                    self._send(404, b'{"message": "no such product"}', "application/json")
                else:
                    self._send(200, json.dumps(reviews).encode(), "application/json")
                return True
            return False

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            site.requests.append((method, self.path, dict(self.headers), body))
            if self._magento(method, body):
                return
            path = urlparse(self.path).path
            route = site.routes.get(path)
            if route is not None:
                self._send(route.status, route.body, route.content_type, route.headers)
                return
            file = ASSETS / "site" / path.lstrip("/")
            if path != "/" and file.is_file():
                kind = "image/png" if file.suffix == ".png" else "text/html; charset=utf-8"
                self._send(200, file.read_bytes(), kind)
                return
            self._send(404, b"<html><body>not found</body></html>", "text/html")

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

    return Handler


@pytest.fixture(scope="session")
def site_pair() -> Iterator[tuple[Site, Site]]:
    """Two servers on 127.0.0.1 (two origins, for cross-origin image downloads)."""
    sites: list[Site] = []
    servers: list[ThreadingHTTPServer] = []
    for _ in range(2):
        site = Site(base="", routes={}, requests=[], magento={})
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
        site.base = f"http://127.0.0.1:{server.server_address[1]}"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        sites.append(site)
        servers.append(server)
    yield sites[0], sites[1]
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def site(site_pair: tuple[Site, Site]) -> Site:
    return site_pair[0]


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    assert CHROMIUM_PRESENT, f"{CHROMIUM} is required for these tests"
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--host-resolver-rules=MAP *.test 127.0.0.1"],
        )
        yield chromium
        await chromium.close()


@pytest_asyncio.fixture(loop_scope="session")
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context()
    tab = await context.new_page()
    yield tab
    await context.close()
