"""Chat-model data types shared by every backend, wrapper and role.

Kept free of any backend import so that roles, the evaluation judges and tests can speak about
messages and completions without pulling in openai or torch.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field


class TextPart(BaseModel):
    type: Literal["text"] = "text"
    text: str


class ImagePart(BaseModel):
    """An image given to a vision model; sent as a data URL by HTTP backends."""

    type: Literal["image"] = "image"
    data: bytes
    mime: str = "image/png"
    detail: Literal["auto", "low", "high"] = "auto"

    def data_url(self) -> str:
        return f"data:{self.mime};base64,{base64.b64encode(self.data).decode()}"

    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


Part = TextPart | ImagePart


class Message(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: str | list[Part]

    def text(self) -> str:
        """The message's text with images left out (for logs, token estimates and text-only models)."""
        if isinstance(self.content, str):
            return self.content
        return "\n".join(p.text for p in self.content if isinstance(p, TextPart))

    def images(self) -> list[ImagePart]:
        if isinstance(self.content, str):
            return []
        return [p for p in self.content if isinstance(p, ImagePart)]


def system(text: str) -> Message:
    return Message(role="system", content=text)


def user(
    text: str, images: list[bytes] | None = None, detail: Literal["auto", "low", "high"] = "auto"
) -> Message:
    if not images:
        return Message(role="user", content=text)
    parts: list[Part] = [TextPart(text=text)]
    parts.extend(ImagePart(data=img, detail=detail) for img in images)
    return Message(role="user", content=parts)


def assistant(text: str) -> Message:
    return Message(role="assistant", content=text)


class TopLogprob(BaseModel):
    token: str
    logprob: float


class TokenLogprob(BaseModel):
    token: str
    logprob: float
    top: list[TopLogprob] = Field(default_factory=list)


class Usage(BaseModel):
    """Token counts of one request (all of its completions together)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cached_tokens=self.cached_tokens + other.cached_tokens,
        )


class Completion(BaseModel):
    """What one request returned: ``n`` texts, optional per-token logprobs, usage and timing."""

    texts: list[str]
    finish_reasons: list[str] = Field(default_factory=list)
    logprobs: list[list[TokenLogprob]] | None = None
    usage: Usage = Field(default_factory=Usage)
    model: str = ""
    latency_s: float = 0.0
    cached: bool = False
    # Backend-specific facts worth keeping in the records (e.g. which attention path ran).
    info: dict[str, object] = Field(default_factory=dict)


class ModelError(RuntimeError):
    """A model call failed for good (after retries), or the reply could not be used."""


class RetryableModelError(ModelError):
    """A failure worth retrying: rate limit (429), server error (5xx), timeout, dropped connection, garbled
    reply. Backends raise it so the retry layer needs no backend knowledge; ``retry_after_s`` is the
    server's own requested wait (``Retry-After`` / ``retry-after-ms``), if it gave one."""

    def __init__(
        self,
        message: str,
        *,
        kind: str = "transient",
        status_code: int | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.status_code = status_code
        self.retry_after_s = retry_after_s


class BudgetExceeded(ModelError):
    """A hard budget (cost or calls) would be exceeded by the next call."""

    def __init__(
        self, message: str, *, budget: str = "", limit: float | None = None, spent: float | None = None
    ) -> None:
        super().__init__(message)
        self.budget = budget
        self.limit = limit
        self.spent = spent


@runtime_checkable
class ChatModel(Protocol):
    """The one interface every backend and wrapper implements."""

    name: str

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
    ) -> Completion: ...
