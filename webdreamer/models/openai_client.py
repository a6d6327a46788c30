"""A ``ChatModel`` for any OpenAI-compatible chat endpoint (OpenAI, Azure v1, vLLM, SGLang, Ollama, llama.cpp).

One request per ``complete`` call: the layers around it add retries, limits, the n-fallback, cache
and ledger (see ``stack.build_model``). So the SDK's own retries are off (``max_retries=0``); and
failures are mapped onto ``RetryableModelError`` (429, 408, 409, 5xx, timeouts, dropped
connections, garbled bodies) or ``ModelError`` (everything else, e.g. 400/401/404 or a 429 that says
the quota is spent), so the retry layer needs no knowledge of the SDK.

The ``AsyncOpenAI`` client is created on the first call, never at import, and shared by every model
object that uses the same endpoint settings (method.md §9.8: the official code made clients at import
and again per rollout). A client is kept per event loop, since its connection pool belongs to one.

The body is read as JSON by us rather than through the SDK's typed models: local servers add,
omit or vary fields, and a proxy may answer 200 with an HTML page; both must become clear errors.
"""

from __future__ import annotations

import json
import time
import weakref
from typing import Any, cast

from webdreamer.models.config import DEFAULT_BASE_URL, PLACEHOLDER_API_KEY, ModelConfig
from webdreamer.models.types import (
    Completion,
    ImagePart,
    Message,
    ModelError,
    RetryableModelError,
    TokenLogprob,
    TopLogprob,
    Usage,
)

RETRYABLE_STATUS = frozenset({408, 409, 429})


def to_openai_messages(messages: list[Message]) -> list[dict[str, Any]]:
    """Our messages in the chat-completions wire format; images become base64 data URLs with their detail."""
    out: list[dict[str, Any]] = []
    for m in messages:
        if isinstance(m.content, str):
            out.append({"role": m.role, "content": m.content})
            continue
        parts: list[dict[str, Any]] = []
        for p in m.content:
            if isinstance(p, ImagePart):
                parts.append({"type": "image_url", "image_url": {"url": p.data_url(), "detail": p.detail}})
            else:
                parts.append({"type": "text", "text": p.text})
        out.append({"role": m.role, "content": parts})
    return out


def _content_text(content: object) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # some servers answer with content parts
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return str(content)


def _logprobs_of(choice: dict[str, Any]) -> list[TokenLogprob] | None:
    lp = choice.get("logprobs")
    if not isinstance(lp, dict) or not isinstance(lp.get("content"), list):
        return None
    tokens: list[TokenLogprob] = []
    for t in lp["content"]:
        top = [
            TopLogprob(token=str(x["token"]), logprob=float(x["logprob"]))
            for x in t.get("top_logprobs") or []
        ]
        tokens.append(TokenLogprob(token=str(t["token"]), logprob=float(t["logprob"]), top=top))
    return tokens


def parse_chat_response(data: object, *, fallback_model: str = "") -> Completion:
    """A chat-completions JSON body as a ``Completion`` (without latency); garbled bodies are retryable."""
    if not isinstance(data, dict):
        raise RetryableModelError(f"reply is not a JSON object: {str(data)[:200]!r}", kind="bad_response")
    if "choices" not in data and isinstance(data.get("error"), dict | str):
        raise RetryableModelError(f"server answered 200 with an error: {data['error']}", kind="bad_response")
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices:
        raise RetryableModelError(f"reply has no choices: {json.dumps(data)[:200]}", kind="bad_response")
    try:
        choices = sorted(choices, key=lambda c: int(c.get("index", 0)))
        texts = [_content_text((c.get("message") or {}).get("content")) for c in choices]
        finish = [str(c.get("finish_reason") or "stop") for c in choices]
        per_choice = [_logprobs_of(c) for c in choices]
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise RetryableModelError(f"malformed choices in reply: {exc}", kind="bad_response") from exc
    logprobs = None if all(x is None for x in per_choice) else [x or [] for x in per_choice]
    info: dict[str, object] = {}
    raw_usage = data.get("usage")
    if isinstance(raw_usage, dict):
        details = raw_usage.get("prompt_tokens_details") or {}
        usage = Usage(
            input_tokens=int(raw_usage.get("prompt_tokens") or 0),
            output_tokens=int(raw_usage.get("completion_tokens") or 0),
            cached_tokens=int((details.get("cached_tokens") if isinstance(details, dict) else 0) or 0),
        )
    else:
        usage = Usage()
        info["usage_missing"] = True
    if data.get("id"):
        info["response_id"] = str(data["id"])
    return Completion(
        texts=texts,
        finish_reasons=finish,
        logprobs=logprobs,
        usage=usage,
        model=str(data.get("model") or fallback_model),
        info=info,
    )


def map_error(exc: Exception, model: str) -> ModelError:
    """An SDK or transport exception as our retryable / final error."""
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return RetryableModelError(f"{model}: request timed out", kind="timeout")
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc.__context__
        return RetryableModelError(f"{model}: connection failed ({cause or exc})", kind="connection")
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        message = f"{model}: HTTP {status}: {exc.message}"
        code = exc.code or ""
        if status == 429 and code == "insufficient_quota":
            return ModelError(message + " (quota spent; not retried)")
        if status in RETRYABLE_STATUS or status >= 500:
            return RetryableModelError(
                message,
                kind="rate_limit" if status == 429 else "server",
                status_code=status,
                retry_after_s=parse_retry_after(exc.response.headers),
            )
        return ModelError(message)
    if isinstance(exc, ValueError):  # JSON decode of a body that claims to be JSON
        return RetryableModelError(f"{model}: unreadable reply body ({exc})", kind="bad_response")
    return ModelError(f"{model}: {type(exc).__name__}: {exc}")


def parse_retry_after(headers: Any) -> float | None:
    """Seconds the server asks us to wait: ``retry-after-ms``, else ``Retry-After`` (seconds or an HTTP date)."""
    import email.utils

    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class _Endpoint:
    """The shared, lazily made SDK clients of one endpoint setting (one per event loop)."""

    def __init__(
        self, base_url: str, api_key: str, headers: dict[str, str], query: dict[str, str], timeout: float
    ):
        self.base_url, self.api_key, self.headers, self.query, self.timeout = (
            base_url,
            api_key,
            headers,
            query,
            timeout,
        )
        self._clients: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()

    def client(self) -> Any:
        import asyncio

        import openai

        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = openai.AsyncOpenAI(
                api_key=self.api_key,
                base_url=self.base_url,
                timeout=self.timeout,
                max_retries=0,  # the retry layer retries, with its own policy and Retry-After handling
                default_headers=self.headers or None,
                default_query=self.query or None,
            )
            self._clients[loop] = client
        return client

    async def aclose(self) -> None:
        import asyncio

        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.close()


_ENDPOINTS: dict[tuple[object, ...], _Endpoint] = {}


def _endpoint_for(config: ModelConfig) -> _Endpoint:
    base_url = config.resolved_base_url()
    api_key = config.resolved_api_key()
    if api_key is None:
        if base_url == DEFAULT_BASE_URL.rstrip("/"):
            raise ModelError(
                f"{config.model}: no API key for {base_url}; set ${config.api_key_env} or ModelConfig.api_key"
            )
        api_key = PLACEHOLDER_API_KEY
    key = (
        base_url,
        api_key,
        tuple(sorted(config.headers.items())),
        tuple(sorted(config.query.items())),
        config.timeout_s,
    )
    endpoint = _ENDPOINTS.get(key)
    if endpoint is None:
        endpoint = _ENDPOINTS[key] = _Endpoint(
            base_url, api_key, dict(config.headers), dict(config.query), config.timeout_s
        )
    return endpoint


async def aclose_clients() -> None:
    """Close the SDK clients that belong to the running event loop (call before the loop ends)."""
    for endpoint in list(_ENDPOINTS.values()):
        await endpoint.aclose()


class OpenAIChatModel:
    """One model on one OpenAI-compatible endpoint. Makes exactly one HTTP request per ``complete``.

    A server that ignores ``n`` returns fewer texts than asked; ``NSamplesFallback`` (stacked by
    ``build_model``) tops them up with parallel calls and remembers the endpoint.
    """

    def __init__(self, config: ModelConfig) -> None:
        self.config = config
        self.name = config.model

    @property
    def endpoint_key(self) -> str:
        return self.config.endpoint_key()

    def request_body(
        self,
        messages: list[Message],
        *,
        n: int,
        temperature: float | None,
        top_p: float | None,
        max_tokens: int | None,
        logprobs: bool,
        top_logprobs: int,
        stop: list[str] | None,
        seed: int | None,
    ) -> dict[str, Any]:
        """The request's keyword arguments, unset values left out so servers apply their own defaults."""
        body: dict[str, Any] = {"model": self.config.model, "messages": to_openai_messages(messages)}
        if n != 1:
            body["n"] = n
        optional = {
            "temperature": temperature,
            "top_p": top_p,
            "seed": seed,
            "stop": stop or None,
            self.config.max_tokens_param: max_tokens,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        if logprobs or top_logprobs:
            body["logprobs"] = True
            if top_logprobs:
                body["top_logprobs"] = top_logprobs
        return body

    async def complete(
        self,
        messages: list[Message],
        *,
        n: int = 1,
        temperature: float | None = None,
        top_p: float | None = None,
        max_tokens: int | None = None,
        logprobs: bool = False,
        top_logprobs: int = 0,
        stop: list[str] | None = None,
        seed: int | None = None,
    ) -> Completion:
        body = self.request_body(
            messages,
            n=n,
            temperature=temperature,
            top_p=top_p,
            max_tokens=max_tokens,
            logprobs=logprobs,
            top_logprobs=top_logprobs,
            stop=stop,
            seed=seed,
        )
        client = _endpoint_for(self.config).client()
        extra_body = self.config.extra_body or None
        t0 = time.perf_counter()
        try:
            raw = await cast(Any, client.chat.completions.with_raw_response).create(
                **body, extra_body=extra_body
            )
            text = raw.text
            data = json.loads(text)
        except ModelError:
            raise
        except Exception as exc:
            raise map_error(exc, self.config.model) from exc
        latency = time.perf_counter() - t0
        completion = parse_chat_response(data, fallback_model=self.config.model)
        completion.latency_s = latency
        if len(completion.texts) < n:
            completion.info["n_short"] = n - len(completion.texts)
        return completion

    def __repr__(self) -> str:
        return f"OpenAIChatModel({self.config.model!r} @ {self.config.resolved_base_url()})"
