"""The common shape of every layer that wraps a ``ChatModel`` (cache, ledger, fan-out, retry, limits).

Layers are composed, never subclassed from a backend, so the same stack wraps the OpenAI-compatible
client, the local transformers backend and test doubles alike. Each layer only implements ``_call``;
``CallParams`` carries the sampling arguments through the stack as one value.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from webdreamer.models.types import ChatModel, Completion, Message


@dataclass(frozen=True)
class CallParams:
    """The keyword arguments of ``ChatModel.complete`` as one immutable value."""

    n: int = 1
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    logprobs: bool = False
    top_logprobs: int = 0
    stop: tuple[str, ...] | None = None
    seed: int | None = None

    def kwargs(self) -> dict[str, Any]:
        out = asdict(self)
        out["stop"] = list(self.stop) if self.stop is not None else None
        return out

    def with_n(self, n: int) -> CallParams:
        return replace(self, n=n)


class ModelWrapper:
    """Base for layers: forwards ``name`` (and the endpoint key, if any) of the wrapped model."""

    def __init__(self, inner: ChatModel) -> None:
        self.inner = inner
        self.name = inner.name

    @property
    def endpoint_key(self) -> str:
        """Identifies the serving endpoint (base URL and model) for per-endpoint state; falls back to the name."""
        return str(getattr(self.inner, "endpoint_key", self.name))

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
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        params = CallParams(
            n=n,
            temperature=temperature,
            top_p=top_p,
            max_tokens=max_tokens,
            logprobs=logprobs,
            top_logprobs=top_logprobs,
            stop=tuple(stop) if stop is not None else None,
            seed=seed,
        )
        return await self._call(messages, params)

    async def _call(self, messages: list[Message], params: CallParams) -> Completion:
        return await self.inner.complete(messages, **params.kwargs())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.inner!r})"
