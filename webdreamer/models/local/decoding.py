"""Helpers of the local backend's generation: stop strings, truncation and per-token logprobs.

Kept apart from ``chat.py`` so that the sampling loop there reads on one screen.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import torch
from transformers import StoppingCriteria

from webdreamer.models.types import TokenLogprob, TopLogprob


class StopWatch(StoppingCriteria):
    """Ends a row once its generated text contains a stop string; also notes when the first token
    arrived (HF calls stopping criteria once per generated token, so the first call is TTFT).

    Only the tail of each row is decoded: enough tokens to hold the longest stop string even when
    tokens are single bytes of multi-byte characters.
    """

    def __init__(self, tokenizer: Any, prompt_len: int, stops: list[str]) -> None:
        self.tokenizer = tokenizer
        self.prompt_len = prompt_len
        self.stops = [s for s in stops if s]
        self.window = 4 * max((len(s) for s in self.stops), default=0) + 4
        self.first_token_at: float | None = None

    def __call__(
        self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **kwargs: Any
    ) -> torch.BoolTensor:
        if self.first_token_at is None:
            self.first_token_at = time.perf_counter()
        done = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
        if not self.stops:
            return done  # type: ignore[return-value]
        for row, ids in enumerate(input_ids[:, self.prompt_len :]):
            tail = self.tokenizer.decode(ids[-self.window :].tolist(), skip_special_tokens=False)
            done[row] = any(s in tail for s in self.stops)
        return done  # type: ignore[return-value]


@dataclass
class Sample:
    """One generated row after EOS and stop-string truncation."""

    text: str
    tokens: list[int]  # tokens whose text lies entirely inside ``text``
    finish_reason: str  # "stop" (EOS or stop string) or "length"
    generated: int  # tokens the model produced for this row, EOS included
    logprobs: list[TokenLogprob] = field(default_factory=list)


def finish_row(tokenizer: Any, generated: list[int], eos_ids: set[int], stops: list[str]) -> Sample:
    """Cut a generated row at its first EOS, then at the earliest stop string (OpenAI semantics: the
    stop string itself is not returned)."""
    end = next((i for i, t in enumerate(generated) if t in eos_ids), None)
    reason = "length" if end is None else "stop"
    tokens = generated if end is None else generated[:end]
    count = len(generated) if end is None else end + 1
    text = tokenizer.decode(tokens, skip_special_tokens=True)
    cut = min((i for i in (text.find(s) for s in stops if s) if i >= 0), default=-1)
    if cut >= 0:
        text, reason = text[:cut], "stop"
        tokens = tokens[: _tokens_within(tokenizer, tokens, cut)]
    return Sample(text=text, tokens=tokens, finish_reason=reason, generated=count)


def _tokens_within(tokenizer: Any, tokens: list[int], chars: int) -> int:
    """The largest k such that the first k tokens decode to at most ``chars`` characters."""
    lo, hi = 0, len(tokens)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if len(tokenizer.decode(tokens[:mid], skip_special_tokens=True)) <= chars:
            lo = mid
        else:
            hi = mid - 1
    return lo


def token_logprobs(
    tokenizer: Any, step_logits: tuple[torch.Tensor, ...], samples: list[Sample], top: int
) -> None:
    """Fill ``samples[i].logprobs`` from HF's raw per-step logits (batch, vocab).

    Logprobs are of the model's own distribution (log-softmax of raw logits, before temperature and
    top-p), as OpenAI reports them, so the scorer sees calibrated values whatever the sampling.
    """
    longest = max((len(s.tokens) for s in samples), default=0)
    decoded: dict[int, str] = {}

    def text_of(token_id: int) -> str:
        if token_id not in decoded:
            decoded[token_id] = tokenizer.decode([token_id], skip_special_tokens=False)
        return decoded[token_id]

    for step in range(min(longest, len(step_logits))):
        logp = torch.log_softmax(step_logits[step].float(), dim=-1)
        top_vals, top_ids = logp.topk(top, dim=-1) if top else (None, None)
        for row, sample in enumerate(samples):
            if step >= len(sample.tokens):
                continue
            token = sample.tokens[step]
            alternatives = []
            if top_vals is not None and top_ids is not None:
                alternatives = [
                    TopLogprob(token=text_of(int(t)), logprob=float(v))
                    for v, t in zip(top_vals[row].tolist(), top_ids[row].tolist(), strict=True)
                ]
            sample.logprobs.append(
                TokenLogprob(token=text_of(token), logprob=float(logp[row, token]), top=alternatives)
            )
