"""``ModelConfig``: everything needed to reach one model, typed and saved with each run.

Every role gets its own config (method.md §9.4: no hard-coded models), so a world model on a local
vLLM server and a GPT-4o judge live side by side. Unset connection fields fall back to the usual
environment variables at call time (never at import time), and the API key is left out of ``repr``
and of every dump, so that a saved run config or a log line never contains it.
"""

from __future__ import annotations

import os
from typing import Any, Literal

from pydantic import BaseModel, Field

from webdreamer.models.limits import LimitsConfig
from webdreamer.models.retry import RetryPolicy

DEFAULT_BASE_URL = "https://api.openai.com/v1"
# What local OpenAI-compatible servers (vLLM, SGLang, Ollama, llama.cpp) accept when started without a key.
PLACEHOLDER_API_KEY = "EMPTY"


class ModelConfig(BaseModel):
    """How to reach and call one model."""

    model: str = Field(description="model name as the endpoint knows it, e.g. gpt-4o or osunlp/Dreamer-7B")
    backend: str = Field(default="openai", description="'openai' (any OpenAI-compatible server) or 'local'")
    base_url: str | None = Field(default=None, description="endpoint URL; else $<base_url_env>, else OpenAI")
    api_key: str | None = Field(
        default=None, repr=False, exclude=True, description="else $<api_key_env>; optional for local servers"
    )
    base_url_env: str = "OPENAI_BASE_URL"
    api_key_env: str = "OPENAI_API_KEY"
    headers: dict[str, str] = Field(
        default_factory=dict, description="extra HTTP headers (e.g. Azure api-key)"
    )
    query: dict[str, str] = Field(
        default_factory=dict, description="extra URL query (e.g. Azure api-version)"
    )
    timeout_s: float = Field(default=120.0, gt=0, description="per request, connection included")
    max_tokens_param: Literal["max_tokens", "max_completion_tokens"] = Field(
        default="max_tokens", description="newer OpenAI reasoning models only accept max_completion_tokens"
    )
    extra_body: dict[str, Any] = Field(
        default_factory=dict, description="extra request fields (e.g. vLLM top_k); not part of the cache key"
    )
    n_mode: Literal["auto", "native", "parallel"] = Field(
        default="auto",
        description="auto: send n, fall back to parallel calls if the server ignores it; "
        "native: always send n; parallel: always n single calls",
    )
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)

    def resolved_base_url(self) -> str:
        url = self.base_url or os.environ.get(self.base_url_env) or DEFAULT_BASE_URL
        return url.rstrip("/")

    def resolved_api_key(self) -> str | None:
        return self.api_key or os.environ.get(self.api_key_env) or None

    def endpoint_key(self) -> str:
        """One serving endpoint: where rate limits apply and where 'ignores n' is remembered."""
        return f"{self.resolved_base_url()}#{self.model}"
