"""A scripted OpenAI-compatible chat server for tests: real HTTP on 127.0.0.1, replies chosen by rules.

Role tests, planner tests and benchmarks talk to it exactly as to vLLM or OpenAI (base URL
``server.url``, any API key), so the whole client stack runs for real, faults included.

Rules
    ``server.when(...)`` picks requests and ``.reply(...)`` / ``.fault(...)`` says what to answer.
    Rules are tried in the order they were added; the first that matches and has uses left answers.
    ``when`` takes case-insensitive substrings of the ``system`` text, the last ``user`` text or
    ``text`` (all message text), an exact ``model``, ``has_images``, and/or a ``predicate`` over the
    ``ChatRequest`` (parsed body, helpers ``.system``, ``.user``, ``.text``, ``.images``, ``.n``...).
    ``times=k`` retires a rule after k uses, so ``when(times=1).fault(ServerError())`` followed by a
    plain reply rule gives "500, then success". ``first=True`` puts a rule in front of the others.

Replies
    ``.reply(x)``: ``x`` is a string (all ``n`` choices get it), a list (choice i gets ``x[i % len]``),
    a ``Reply`` (texts, finish_reason, scripted logprobs, cached_tokens, delay), a ``Fault``, or a
    callable ``ChatRequest -> any of those``. ``sequence(a, b, ...)`` answers a, then b, ... (the last
    repeats). Without a matching rule the server answers ``default`` if set, else a 400 naming the
    unmatched request (non-retryable, so a missing rule fails a test fast and clearly).

Behaviour
    ``n`` choices (``ignore_n = True`` answers one, like Ollama / llama.cpp); ``max_tokens`` /
    ``max_completion_tokens`` truncate a reply to ~4 chars per token with ``finish_reason: length``
    (or script it: ``Reply(texts=..., finish_reason="length")``);
    ``logprobs`` / ``top_logprobs`` give scripted or generated token logprobs; usage is a
    deterministic estimate (ceil(chars / 4) per text, +4 per message, +85 per image);
    ``latency_s`` delays every reply (benchmarks); ``GET /v1/models`` lists ``models``.

Faults
    ``RateLimit(retry_after=0.1)`` (429 with Retry-After, or ``retry_after_ms``), ``ServerError(500)``,
    ``HTTPStatus(400, "bad")``, ``Hang(seconds)`` (longer than the client timeout), ``Drop()`` (close
    the connection without answering), ``Garbage(b"<html>", "text/html")``.

Records
    ``server.requests``: every request (body, headers, ``received`` / ``finished`` monotonic times,
    status, outcome = rule name or fault); ``finished`` is set just before the reply is written, so a
    client holding its reply finds the record complete. ``server.chat_requests`` only the chat ones
    (``rec.chat`` is the ``ChatRequest`` view); ``server.peak_in_flight``: most requests at once.
    ``reset()`` forgets rules and records.

Use the ``llm_server`` fixture (tests/conftest.py: a fresh server per test), or the context manager;
import as ``from llm_server import ...`` (pytest puts tests/ on ``sys.path``). Example::

    with ScriptedLLMServer() as server:
        server.when(system="predict the state change").reply("State changes: a cart page opens")
        server.when(system="evaluate", times=1).fault(RateLimit(retry_after=0.05))
        server.when(system="evaluate").reply(['Status: "success"', 'Status: "failure"'])
        config = ModelConfig(model="gpt-4o", base_url=server.url, api_key="test")
"""

from __future__ import annotations

import itertools
import json
import math
import re
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# ---------------------------------------------------------------------------------------------- data


@dataclass
class ChatRequest:
    """A parsed chat request, as rules see it."""

    body: dict[str, Any]
    headers: dict[str, str]
    index: int  # 0-based order of arrival among all requests

    @property
    def model(self) -> str:
        return str(self.body.get("model", ""))

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages") or [])

    @property
    def n(self) -> int:
        return int(self.body.get("n") or 1)

    @property
    def max_tokens(self) -> int | None:
        value = self.body.get("max_tokens", self.body.get("max_completion_tokens"))
        return int(value) if value is not None else None

    def texts(self, role: str | None = None) -> list[str]:
        out = []
        for m in self.messages:
            if role is None or m.get("role") == role:
                out.append(_text_of(m.get("content")))
        return out

    @property
    def system(self) -> str:
        return "\n".join(self.texts("system"))

    @property
    def user(self) -> str:
        users = self.texts("user")
        return users[-1] if users else ""

    @property
    def text(self) -> str:
        return "\n".join(self.texts())

    @property
    def images(self) -> list[dict[str, Any]]:
        """The ``image_url`` objects (``url`` is a data URL, plus ``detail``) in message order."""
        out: list[dict[str, Any]] = []
        for m in self.messages:
            content = m.get("content")
            if isinstance(content, list):
                out.extend(
                    p["image_url"] for p in content if isinstance(p, dict) and p.get("type") == "image_url"
                )
        return out


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text"
        )
    return ""


@dataclass
class Reply:
    """A scripted answer. ``logprobs``: per choice, a list of (token, logprob) or (token, logprob, top)
    where top is a list of (token, logprob); unset, logprobs are generated from the text."""

    texts: str | Sequence[str] = ""
    finish_reason: str = "stop"
    logprobs: list[list[tuple[Any, ...]]] | None = None
    cached_tokens: int = 0
    delay_s: float = 0.0
    model: str | None = None


class Fault:
    """Base of the scripted failures."""


@dataclass
class RateLimit(Fault):
    retry_after: float | None = 0.1
    retry_after_ms: float | None = None
    code: str | None = None


@dataclass
class HTTPStatus(Fault):
    status: int = 400
    message: str = "scripted error"


@dataclass
class ServerError(HTTPStatus):
    status: int = 500
    message: str = "scripted server error"


@dataclass
class Hang(Fault):
    seconds: float = 30.0


@dataclass
class Drop(Fault):
    pass


@dataclass
class Garbage(Fault):
    body: bytes = b"<html><body>502 Bad Gateway</body></html>"
    content_type: str = "text/html"


ReplyLike = str | Sequence[str] | Reply | Fault
ReplyFn = Callable[[ChatRequest], ReplyLike]


def sequence(*replies: ReplyLike) -> ReplyFn:
    """A reply function that answers each given reply in turn, then repeats the last."""
    lock = threading.Lock()
    it = iter(replies)
    last: list[ReplyLike] = [replies[-1]]

    def fn(_: ChatRequest) -> ReplyLike:
        with lock:
            last[0] = next(it, last[0])
            return last[0]

    return fn


@dataclass
class Rule:
    match: Callable[[ChatRequest], bool]
    action: ReplyLike | ReplyFn
    times: int | None = None
    name: str = ""
    hits: int = 0

    def available(self) -> bool:
        return self.times is None or self.hits < self.times


@dataclass
class RecordedRequest:
    index: int
    method: str
    path: str
    body: dict[str, Any] | None
    headers: dict[str, str]
    received: float  # time.monotonic()
    finished: float | None = None
    status: int | None = None
    outcome: str = ""  # rule name / fault kind / "reply"

    @property
    def chat(self) -> ChatRequest:
        return ChatRequest(self.body or {}, self.headers, self.index)


@dataclass
class RuleBuilder:
    server: ScriptedLLMServer
    match: Callable[[ChatRequest], bool]
    times: int | None
    name: str
    first: bool

    def reply(self, action: ReplyLike | ReplyFn) -> Rule:
        return self.server.add_rule(self.match, action, times=self.times, name=self.name, first=self.first)

    def fault(self, fault: Fault) -> Rule:
        return self.reply(fault)


# ---------------------------------------------------------------------------------------------- helpers


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


def prompt_tokens(req: ChatRequest) -> int:
    return sum(4 + estimate_tokens(t) for t in req.texts()) + 85 * len(req.images)


def generated_logprobs(text: str, top: int) -> list[dict[str, Any]]:
    """Word-like tokens of ``text``, each at logprob -0.25, with ``top`` alternatives 1 nat apart."""
    out = []
    for tok in re.findall(r"\s*\S+|\s+", text):
        alts = [{"token": tok, "logprob": -0.25}] + [
            {"token": f"<alt{k}>", "logprob": -0.25 - k} for k in range(1, top)
        ]
        out.append({"token": tok, "logprob": -0.25, "top_logprobs": alts[:top]})
    return out


def scripted_logprobs(items: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    out = []
    for item in items:
        tok, lp = item[0], item[1]
        top = [{"token": t, "logprob": v} for t, v in (item[2] if len(item) > 2 else [])]
        out.append({"token": tok, "logprob": lp, "top_logprobs": top})
    return out


# ---------------------------------------------------------------------------------------------- server


class _Server(ThreadingHTTPServer):
    # The default listen backlog of 5 makes a burst of concurrent connections wait for SYN retries
    # (about 1 s each), which would look like a slow client under fan-out.
    request_queue_size = 512
    daemon_threads = True


class ScriptedLLMServer:
    """See the module docstring."""

    def __init__(self, *, models: Sequence[str] = ("scripted",), latency_s: float = 0.0) -> None:
        self.models = list(models)
        self.latency_s = latency_s
        self.ignore_n = False
        self.default: ReplyLike | ReplyFn | None = None
        self.rules: list[Rule] = []
        self.requests: list[RecordedRequest] = []
        self.in_flight = 0
        self.peak_in_flight = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ids = itertools.count()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> ScriptedLLMServer:
        handler = type("Handler", (_Handler,), {"scripted": self})
        self._httpd = _Server(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="scripted-llm-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()  # wakes hanging handlers
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ScriptedLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """Base URL for OpenAI clients (ends in /v1)."""
        return f"http://127.0.0.1:{self.port}/v1"

    # -- scripting ------------------------------------------------------------------------------
    def add_rule(
        self,
        match: Callable[[ChatRequest], bool],
        action: ReplyLike | ReplyFn,
        *,
        times: int | None = None,
        name: str = "",
        first: bool = False,
    ) -> Rule:
        rule = Rule(match, action, times, name or f"rule{len(self.rules)}")
        with self._lock:
            if first:
                self.rules.insert(0, rule)
            else:
                self.rules.append(rule)
        return rule

    def when(
        self,
        *,
        system: str | None = None,
        user: str | None = None,
        text: str | None = None,
        model: str | None = None,
        has_images: bool | None = None,
        predicate: Callable[[ChatRequest], bool] | None = None,
        times: int | None = None,
        name: str = "",
        first: bool = False,
    ) -> RuleBuilder:
        """Select requests (all given conditions must hold; substrings are case-insensitive)."""

        def match(req: ChatRequest) -> bool:
            checks = [
                system is None or system.lower() in req.system.lower(),
                user is None or user.lower() in req.user.lower(),
                text is None or text.lower() in req.text.lower(),
                model is None or req.model == model,
                has_images is None or bool(req.images) == has_images,
            ]
            return all(checks) and (predicate is None or predicate(req))

        return RuleBuilder(self, match, times, name, first)

    def reset(self) -> None:
        """Forget rules and records (keeps settings such as ``ignore_n`` and ``latency_s``)."""
        with self._lock:
            self.rules.clear()
            self.requests.clear()
            self.peak_in_flight = self.in_flight

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.rstrip("/").endswith("chat/completions")]

    # -- internals used by the handler ----------------------------------------------------------
    def _record(
        self, method: str, path: str, body: dict[str, Any] | None, headers: dict[str, str]
    ) -> RecordedRequest:
        with self._lock:
            rec = RecordedRequest(next(self._ids), method, path, body, headers, time.monotonic())
            self.requests.append(rec)
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            return rec

    def _done(self, rec: RecordedRequest, status: int | None, outcome: str) -> None:
        """Mark a request answered; called just *before* the reply is written, so a client that has its
        reply always finds the record complete."""
        with self._lock:
            if rec.finished is not None:
                return
            rec.finished, rec.status, rec.outcome = time.monotonic(), status, outcome
            self.in_flight -= 1

    def _choose(self, req: ChatRequest) -> tuple[ReplyLike | None, str]:
        action: ReplyLike | ReplyFn | None
        with self._lock:
            for rule in self.rules:
                if rule.available() and rule.match(req):
                    rule.hits += 1
                    action, name = rule.action, rule.name
                    break
            else:
                action, name = self.default, "default"
        if action is None:
            return None, "unmatched"
        while callable(action):
            action = action(req)
        return action, name

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._stop.wait(seconds)

    def _completion_body(self, req: ChatRequest, reply: Reply) -> dict[str, Any]:
        texts = [reply.texts] if isinstance(reply.texts, str) else list(reply.texts) or [""]
        count = 1 if self.ignore_n else req.n
        choices = []
        completion_tokens = 0
        for i in range(count):
            text, finish = texts[i % len(texts)], reply.finish_reason
            if req.max_tokens is not None and estimate_tokens(text) > req.max_tokens:
                text, finish = text[: req.max_tokens * 4], "length"
            completion_tokens += estimate_tokens(text)
            choice: dict[str, Any] = {
                "index": i,
                "message": {"role": "assistant", "content": text},
                "finish_reason": finish,
                "logprobs": None,
            }
            if req.body.get("logprobs"):
                top = int(req.body.get("top_logprobs") or 0)
                if reply.logprobs is not None:
                    content = scripted_logprobs(reply.logprobs[i % len(reply.logprobs)])
                else:
                    content = generated_logprobs(text, top)
                choice["logprobs"] = {"content": content}
            choices.append(choice)
        prompt = prompt_tokens(req)
        return {
            "id": f"chatcmpl-scripted-{req.index}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": reply.model or req.model,
            "choices": choices,
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt + completion_tokens,
                "prompt_tokens_details": {"cached_tokens": min(reply.cached_tokens, prompt)},
            },
        }


class _Handler(BaseHTTPRequestHandler):
    scripted: ScriptedLLMServer
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers
    disable_nagle_algorithm = True  # headers and body go out in two writes; no 40 ms delayed-ACK stalls
    _rec: RecordedRequest | None = None
    _outcome: str = ""

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(
        self,
        status: int,
        payload: bytes,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        if self._rec is not None:
            self.scripted._done(self._rec, status, self._outcome)
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(payload)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True

    def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data).encode(), headers=headers)

    def _error(
        self, status: int, message: str, code: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        self._json(status, {"error": {"message": message, "type": "scripted", "code": code}}, headers)

    def do_GET(self) -> None:
        srv = self.scripted
        self._rec = srv._record("GET", self.path, None, dict(self.headers))
        if self.path.rstrip("/").endswith("/models"):
            self._outcome = "models"
            self._json(
                200,
                {
                    "object": "list",
                    "data": [
                        {"id": m, "object": "model", "created": 0, "owned_by": "scripted"} for m in srv.models
                    ],
                },
            )
        else:
            self._outcome = "no route"
            self._error(404, f"no route {self.path}")

    def do_POST(self) -> None:
        srv = self.scripted
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = None
        rec = self._rec = srv._record(
            "POST", self.path, body if isinstance(body, dict) else None, dict(self.headers)
        )
        try:
            self._post(rec)
        finally:
            srv._done(rec, None, self._outcome)  # no-op unless nothing was sent (hang, drop)
            self._rec, self._outcome = None, ""

    def _post(self, rec: RecordedRequest) -> None:
        srv = self.scripted
        if not rec.path.rstrip("/").endswith("chat/completions"):
            self._outcome = "no route"
            self._error(404, f"no route {rec.path}")
            return
        if rec.body is None:
            self._outcome = "bad json"
            self._error(400, "request body is not a JSON object")
            return
        req = rec.chat
        action, name = srv._choose(req)
        srv._sleep(srv.latency_s)
        if action is None:
            self._outcome = "unmatched"
            self._error(400, f"no scripted rule matched; system={req.system[:120]!r} user={req.user[:200]!r}")
            return
        if isinstance(action, Fault):
            self._fault(action, name)
            return
        reply = action if isinstance(action, Reply) else Reply(texts=action)
        srv._sleep(reply.delay_s)
        self._outcome = name
        self._json(200, srv._completion_body(req, reply))

    def _fault(self, fault: Fault, name: str) -> None:
        self._outcome = f"{name}:{type(fault).__name__}"
        if isinstance(fault, RateLimit):
            headers = {}
            if fault.retry_after is not None:
                headers["Retry-After"] = f"{fault.retry_after:g}"
            if fault.retry_after_ms is not None:
                headers["retry-after-ms"] = f"{fault.retry_after_ms:g}"
            self._error(429, "scripted rate limit", fault.code, headers)
        elif isinstance(fault, HTTPStatus):
            self._error(fault.status, fault.message)
        elif isinstance(fault, Hang):
            self.scripted._sleep(fault.seconds)
            self.close_connection = True
        elif isinstance(fault, Drop):
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        elif isinstance(fault, Garbage):
            self._send(200, fault.body, fault.content_type)
        else:
            raise TypeError(f"unknown fault {fault!r}")
