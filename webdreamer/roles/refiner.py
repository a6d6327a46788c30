"""The refiner: one call that drops candidates very unlikely to help (method.md §3.2).

The official code crashed on replies like "id0" or " 2" and returned [] on a parse failure; here
indices are read tolerantly, and a failure or an empty selection keeps every candidate, recorded.
"""

from __future__ import annotations

import random
import re

from webdreamer.config import RefinerConfig
from webdreamer.models.retry import ask_until_parsed
from webdreamer.models.types import ChatModel, system, user
from webdreamer.prompting import render
from webdreamer.records import Candidate, RefinerRecord
from webdreamer.roles.context import StepContext

_SELECTED = re.compile(r"selected(?:\s+actions?)?\s*[:=]\s*(.*)", re.I)


def parse_selection(text: str, count: int) -> list[int]:
    """Indices (positions in the shown list) from the `Selected actions:` line; raises ValueError."""
    matches = _SELECTED.findall(text)
    if not matches:
        raise ValueError("no 'Selected actions:' line")
    line = matches[-1].strip().splitlines()[0] if matches[-1].strip() else ""
    picked: list[int] = []
    for token in re.findall(r"\d+", line):
        i = int(token)
        if 0 <= i < count and i not in picked:
            picked.append(i)
    if not picked:
        raise ValueError(f"no valid candidate number in {line!r} (expected numbers from 0 to {count - 1})")
    return picked


class Refiner:
    role = "refiner"

    def __init__(self, model: ChatModel, config: RefinerConfig, vision: bool = False) -> None:
        self.model = model
        self.config = config
        self.vision = vision

    async def filter(self, ctx: StepContext, candidates: list[Candidate], seed: int) -> RefinerRecord:
        order = [c.index for c in candidates]
        if self.config.shuffle:
            random.Random(seed).shuffle(order)
        by_index = {c.index: c for c in candidates}
        listing = "\n".join(f"{pos}: {by_index[i].description}" for pos, i in enumerate(order))
        body = render(
            "refiner/user.md",
            intent=ctx.task.intent,
            history=ctx.history_text(),
            url=ctx.url,
            observation=ctx.observation_text,
            candidates=listing,
        )
        messages = [
            system(render("refiner/system.md")),
            user(body, images=ctx.images(self.vision, som=False), detail="high"),
        ]
        parsed = await ask_until_parsed(
            self.model,
            messages,
            lambda text: parse_selection(text, len(order)),
            n=1,
            max_asks=1 + self.config.max_retry,
            feedback=True,
            temperature=self.config.temperature,
            top_p=self.config.top_p,
            max_tokens=self.config.max_tokens,
        )
        last = parsed.completions[-1].texts[0] if parsed.completions and parsed.completions[-1].texts else ""
        if not parsed.values:
            reason = parsed.failures[-1].reason if parsed.failures else "no reply"
            return RefinerRecord(shown_order=order, kept=sorted(order), output=last[-1000:], failure=reason)
        kept = sorted(order[pos] for pos in parsed.values[0])
        return RefinerRecord(shown_order=order, kept=kept, output=last[-1000:])
