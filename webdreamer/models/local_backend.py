"""The `local` and `embedded` backends for `ModelConfig.backend`, loaded lazily.

Loading a transformers model takes seconds (the embedded GGUF about 16 s the first time, 0.2 s
from its cache), so the backend object is created at once and the weights load in a worker
thread on the first call, never blocking the event loop. `ModelConfig.extra_body` carries
`LocalModelConfig` fields (`attention`, `device`, `dtype`, `gguf_file`, ...).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from webdreamer.models.config import ModelConfig
from webdreamer.models.types import ChatModel, Completion, Message


class LazyLocalModel:
    """A ChatModel whose model is built on first use, off the event loop."""

    def __init__(self, name: str, loader: Callable[[], ChatModel]) -> None:
        self.name = name
        self.endpoint_key = f"local#{name}"
        self._loader = loader
        self._model: ChatModel | None = None
        self._lock = asyncio.Lock()

    async def model(self) -> ChatModel:
        if self._model is None:
            async with self._lock:
                if self._model is None:
                    self._model = await asyncio.to_thread(self._loader)
        return self._model

    async def complete(self, messages: list[Message], **params: Any) -> Completion:
        return await (await self.model()).complete(messages, **params)

    async def score_options(self, messages: list[Message], options: list[str], **kw: Any) -> Any:
        """Exact log-probabilities of fixed answers (see LocalChatModel.score_options)."""
        return await (await self.model()).score_options(messages, options, **kw)  # type: ignore[attr-defined]


def local_backend(config: ModelConfig) -> ChatModel:
    def load() -> ChatModel:
        from webdreamer.models.local import LocalChatModel, LocalModelConfig

        return LocalChatModel.load(
            LocalModelConfig(path=config.model, name=config.model, **config.extra_body)
        )

    return LazyLocalModel(config.model, load)


def embedded_backend(config: ModelConfig) -> ChatModel:
    def load() -> ChatModel:
        from webdreamer.models.local import embedded_model

        return embedded_model(**config.extra_body)

    return LazyLocalModel(config.model, load)
