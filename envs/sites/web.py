"""The small HTTP layer under the bundled sites: requests, responses, routing and the server.

Standard library only, so that the sites run anywhere Python runs and stay independent of the
rest of the project. Each site is a `SiteApp` (see `app.py`) served by a `SiteServer`.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, quote, urlsplit

MAX_BODY_BYTES = 1_000_000


@dataclass
class Request:
    """One parsed HTTP request; `db`, `user` and `session` are filled in by the app under its lock."""

    method: str
    path: str
    query: dict[str, list[str]]
    form: dict[str, list[str]]
    cookies: dict[str, str]
    headers: Message
    raw_query: str = ""
    instance: str = "0"
    db: sqlite3.Connection = field(init=False, repr=False)
    user: sqlite3.Row | None = field(default=None, init=False)
    session: str | None = field(default=None, init=False)

    def arg(self, name: str, default: str = "") -> str:
        """First value of a query-string field, stripped."""
        values = self.query.get(name)
        return values[0].strip() if values else default

    def field(self, name: str, default: str = "") -> str:
        """First value of a form field (POST body), falling back to the query string."""
        values = self.form.get(name)
        if values:
            return values[0].strip()
        return self.arg(name, default)

    def int_arg(self, name: str, default: int | None = None) -> int | None:
        """A query or form field as an int; `default` when absent or malformed."""
        raw = self.field(name)
        try:
            return int(raw)
        except ValueError:
            return default

    @property
    def full_path(self) -> str:
        """Path plus query string, as a relative URL for `next=` redirects."""
        return self.path + (f"?{self.raw_query}" if self.raw_query else "")


@dataclass
class Response:
    """An HTTP response under construction."""

    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def html(cls, markup: str, status: int = 200) -> Response:
        return cls(status, markup.encode("utf-8"), headers=[("Cache-Control", "no-store")])

    @classmethod
    def text(cls, text: str, status: int = 200) -> Response:
        return cls(status, text.encode("utf-8"), "text/plain; charset=utf-8", [("Cache-Control", "no-store")])

    @classmethod
    def json(cls, data: Any, status: int = 200) -> Response:
        return cls(status, json.dumps(data).encode("utf-8"), "application/json")

    @classmethod
    def png(cls, data: bytes) -> Response:
        return cls(200, data, "image/png", [("Cache-Control", "public, max-age=86400")])

    @classmethod
    def redirect(cls, location: str, status: int = 303) -> Response:
        """Redirect to a relative location (never an absolute URL: host names vary)."""
        return cls(status, b"", headers=[("Location", location), ("Cache-Control", "no-store")])

    def set_cookie(
        self, name: str, value: str, *, max_age: int | None = None, http_only: bool = True
    ) -> None:
        parts = [f"{name}={quote(value, safe='')}", "Path=/", "SameSite=Lax"]
        if max_age is not None:
            parts.append(f"Max-Age={max_age}")
        if http_only:
            parts.append("HttpOnly")
        self.headers.append(("Set-Cookie", "; ".join(parts)))

    def delete_cookie(self, name: str) -> None:
        self.set_cookie(name, "", max_age=0)


Handler = Callable[..., Response]

_CONVERTERS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "str": (r"[^/]+", str),
    "int": (r"\d+", int),
}


class Router:
    """Maps (method, path pattern) to handlers; patterns look like `/f/<name>/<int:post_id>`."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], dict[str, Callable[[str], Any]], Handler]] = []

    def add(self, methods: str, pattern: str, handler: Handler) -> None:
        converters: dict[str, Callable[[str], Any]] = {}

        def replace(match: re.Match[str]) -> str:
            kind, name = match.group(1) or "str", match.group(2)
            regex, convert = _CONVERTERS[kind]
            converters[name] = convert
            return f"(?P<{name}>{regex})"

        pieces = re.split(r"(<(?:\w+:)?\w+>)", pattern)
        body = "".join(
            replace(m) if (m := re.fullmatch(r"<(?:(\w+):)?(\w+)>", piece)) else re.escape(piece)
            for piece in pieces
        )
        regex = re.compile(f"^{body}$")
        for method in methods.split():
            self._routes.append((method.upper(), regex, converters, handler))

    def match(self, method: str, path: str) -> tuple[Handler, dict[str, Any]] | bool | None:
        """The handler and its converted params; False if the path exists under another method."""
        seen_path = False
        wanted = "GET" if method == "HEAD" else method
        for route_method, regex, converters, handler in self._routes:
            found = regex.match(path)
            if not found:
                continue
            seen_path = True
            if route_method == wanted:
                return handler, {k: converters[k](v) for k, v in found.groupdict().items()}
        return False if seen_path else None


class App(Protocol):
    """What the server needs from a site."""

    @property
    def name(self) -> str: ...

    def handle(self, request: Request) -> Response: ...


def parse_cookies(header: str | None) -> dict[str, str]:
    """Cookie header to a dict, leniently: on 127.0.0.1 other local apps' odd cookies arrive too,
    and `http.cookies.SimpleCookie` gives up on the whole header at the first one it dislikes."""
    cookies: dict[str, str] = {}
    for part in (header or "").split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name and name not in cookies:
            cookies[name] = value.strip().strip('"')
    return cookies


def _make_handler(app: App, quiet: bool) -> type[BaseHTTPRequestHandler]:
    class SiteHandler(BaseHTTPRequestHandler):
        server_version = f"webdreamer-{app.name}/1.0"

        def _dispatch(self) -> None:
            split = urlsplit(self.path)
            form: dict[str, list[str]] = {}
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if not 0 <= length <= MAX_BODY_BYTES:
                self._send(Response.text("bad or too large request body", 413))
                return
            if length:
                body = self.rfile.read(length).decode("utf-8", "replace")
                if "application/x-www-form-urlencoded" in (self.headers.get("Content-Type") or ""):
                    form = parse_qs(body, keep_blank_values=True)
            request = Request(
                method=self.command,
                path=split.path or "/",
                query=parse_qs(split.query, keep_blank_values=True),
                form=form,
                cookies=parse_cookies(self.headers.get("Cookie")),
                headers=self.headers,
                raw_query=split.query,
            )
            self._send(app.handle(request))

        def _send(self, response: Response) -> None:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers:
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        do_GET = do_POST = do_HEAD = _dispatch

        def log_message(self, format: str, *args: Any) -> None:
            if not quiet:
                super().log_message(format, *args)

    return SiteHandler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Many browser contexts may connect at once; the default backlog of 5 turns a burst into
    # one-second SYN retries.
    request_queue_size = 256

    def server_bind(self) -> None:
        # HTTPServer.server_bind asks for the FQDN, which can stall on machines without DNS.
        TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", self.server_address[1]


class SiteServer:
    """A ThreadingHTTPServer for one app, serving from a daemon thread."""

    def __init__(self, app: App, port: int, *, quiet: bool = True) -> None:
        self.app = app
        self.httpd = _Server(("127.0.0.1", port), _make_handler(app, quiet))
        self.port: int = self.httpd.server_address[1]
        self._thread = threading.Thread(
            target=self.httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"site-{app.name}",
            daemon=True,
        )

    def start(self) -> SiteServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)


def status_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
