"""Configuration of the in-process transformers backend (importable without torch)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Attention = Literal["sage", "sdpa", "eager"]


class LocalModelConfig(BaseModel):
    """How to load and run a local causal LM.

    ``device``/``dtype`` "auto": CUDA → bfloat16 (float16 where bf16 is unsupported); MPS → float16;
    CPU → bfloat16 when the CPU has AVX512-BF16 or AMX (prefill 3–4x faster than float32 there, decode
    about 10% slower), else float32.
    """

    model_config = ConfigDict(extra="forbid")

    path: str = Field(default="", description="local folder or an already-cached hub id (never downloaded)")
    gguf_file: str | None = Field(
        default=None, description="GGUF file name inside `path`, loaded dequantised"
    )
    name: str | None = Field(default=None, description="name reported in completions (default: path)")
    device: str = "auto"
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    attention: Attention = "sdpa"
    sage_min_q_len: int = Field(default=512, ge=1, description="shorter queries (decode included) use SDPA")
    sage_strict: bool = Field(default=False, description="raise instead of falling back (tests)")
    images: Literal["drop", "error"] = Field(
        default="drop", description="text-only model: drop image parts (counted in info) or raise ModelError"
    )
    max_tokens: int = Field(default=256, ge=1, description="default max_tokens")
    temperature: float = Field(default=1.0, ge=0.0, description="default temperature; 0 means greedy")
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    max_top_logprobs: int = Field(default=20, ge=0)
    threads: int | None = Field(
        default=None, ge=1, description="torch.set_num_threads; None keeps torch's default"
    )
