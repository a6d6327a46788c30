"""``n`` samples from servers that ignore ``n``: top up with parallel single calls, and remember.

The policy asks for 20 samples in one request and the judge for 10 (method.md §6). OpenAI and vLLM
honour ``n``; Ollama, llama.cpp's server and some proxies silently return one choice. This layer
sends ``n`` once; if fewer texts come back it makes the missing ones as parallel ``n=1`` calls and
marks the endpoint, so its later calls go straight to ``n`` parallel calls.

It sits *outside* retry and limits so that each parallel call is retried on its own and takes its
own concurrency slot and rate credit (a fan-out inside one slot would break the endpoint's limit).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Literal

from webdreamer.models.types import ChatModel, Completion, Message, ModelError, Usage
from webdreamer.models.wrapper import CallParams, ModelWrapper

log = logging.getLogger(__name__)

_IGNORES_N: set[str] = set()


def endpoint_ignores_n(endpoint_key: str) -> bool:
    return endpoint_key in _IGNORES_N


def merge_completions(parts: list[Completion], latency_s: float) -> Completion:
    """Several completions of the same request as one: texts in order, usage summed, requests counted."""
    logprobs = None
    if all(p.logprobs is not None for p in parts):
        logprobs = [lp for p in parts for lp in (p.logprobs or [])]
    usage = Usage()
    for p in parts:
        usage = usage + p.usage
    return Completion(
        texts=[t for p in parts for t in p.texts],
        finish_reasons=[f for p in parts for f in p.finish_reasons],
        logprobs=logprobs,
        usage=usage,
        model=parts[0].model,
        latency_s=latency_s,
        info={
            "requests": sum(requests_of(p) for p in parts),
            "retries": sum(retries_of(p) for p in parts),
            "n_fallback": True,
        },
    )


def requests_of(c: Completion) -> int:
    """HTTP requests that produced ``c``: set by this layer, else the retry layer's attempts, else 1."""
    value = c.info.get("requests", c.info.get("attempts", 1))
    return value if isinstance(value, int) else 1


def retries_of(c: Completion) -> int:
    """Failed attempts a retry recovered from on the way to ``c``."""
    value = c.info.get("retries")
    if isinstance(value, int):
        return value
    attempts = c.info.get("attempts", 1)
    return attempts - 1 if isinstance(attempts, int) else 0


class NSamplesFallback(ModelWrapper):
    """Guarantees ``n`` texts per call (see the module docstring)."""

    def __init__(
        self,
        inner: ChatModel,
        *,
        mode: Literal["auto", "native", "parallel"] = "auto",
        endpoint_key: str | None = None,
    ) -> None:
        super().__init__(inner)
        self.mode = mode
        self._key = endpoint_key or str(getattr(inner, "endpoint_key", inner.name))

    @property
    def endpoint_key(self) -> str:
        return self._key

    async def _parallel(self, messages: list[Message], params: CallParams, count: int) -> list[Completion]:
        single = params.with_n(1).kwargs()
        return list(await asyncio.gather(*(self.inner.complete(messages, **single) for _ in range(count))))

    async def _call(self, messages: list[Message], params: CallParams) -> Completion:
        n = params.n
        if n == 1 or self.mode == "native":
            return await self.inner.complete(messages, **params.kwargs())
        t0 = time.perf_counter()
        if self.mode == "parallel" or endpoint_ignores_n(self._key):
            parts = await self._parallel(messages, params, n)
            return merge_completions(parts, time.perf_counter() - t0)
        first = await self.inner.complete(messages, **params.kwargs())
        got = len(first.texts)
        if got >= n:
            return first
        if got == 0:
            raise ModelError(f"{self.name}: server returned no choices for n={n}")
        log.warning(
            "%s returned %d of n=%d samples; using parallel calls for this endpoint from now on",
            self._key,
            got,
            n,
        )
        _IGNORES_N.add(self._key)
        rest = await self._parallel(messages, params, n - got)
        first.info.pop("n_short", None)
        return merge_completions([first, *rest], time.perf_counter() - t0)
