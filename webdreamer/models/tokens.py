"""Cheap token estimates for rate limiting and budget checks made *before* a call.

Exact counts come back in ``Usage`` after the call; these only need to be the right order of
magnitude, and must not pull in a tokenizer.
"""

from __future__ import annotations

import math

from webdreamer.models.types import Message

CHARS_PER_TOKEN = 4.0
TOKENS_PER_MESSAGE = 4
# OpenAI's accounting: a low-detail image costs 85 tokens; a high-detail 1280x720 screenshot about 1100.
IMAGE_TOKENS = {"low": 85, "high": 1105, "auto": 1105}


def estimate_text_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def estimate_input_tokens(messages: list[Message]) -> int:
    """Prompt tokens, roughly: text length / 4 plus a fixed price per image and per message."""
    total = 0
    for m in messages:
        total += TOKENS_PER_MESSAGE + estimate_text_tokens(m.text())
        total += sum(IMAGE_TOKENS.get(img.detail, IMAGE_TOKENS["auto"]) for img in m.images())
    return total
