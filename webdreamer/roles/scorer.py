"""The scorer: how promising is an imagined future? (method.md §3.5)

Two modes:
- "sampled", as in the paper: `judge_samples` verdicts in one request, each success / on track /
  failure = 1 / 0.5 / 0, averaged. Verdict lines come first so truncation cannot lose them; a
  verdict that does not parse is asked for again, then recorded as missing, never counted as 0.
- "logprob": one short call whose single answer letter's token probabilities give the expected
  value directly (far fewer output tokens).
"""

from __future__ import annotations

import math
import re

from webdreamer.config import ScorerConfig
from webdreamer.models.types import ChatModel, Completion, Message, system, user
from webdreamer.prompting import render
from webdreamer.records import Verdict
from webdreamer.roles.context import StepContext

_STATUS = re.compile(
    r"^[\s*>#-]*status\s*\**\s*:\s*\**\s*[\"'`]?\s*(success|successful|failure|failed|fail)\b", re.I | re.M
)
_TRACK = re.compile(
    r"^[\s*>#-]*on\s+(?:the\s+)?(?:right\s+)?track(?:\s+to\s+success)?\s*\**\s*:\s*\**\s*[\"'`]?\s*(yes|no)\b",
    re.I | re.M,
)
LETTER_VALUE = {"A": 1.0, "B": 0.5, "C": 0.0}


def parse_verdict(text: str) -> Verdict:
    """Read `Status:` and `On track:` as whole words (never "success" inside "unsuccessful")."""
    status = _STATUS.search(text)
    if not status:
        return Verdict(value=None, output=text[-600:], error="no 'Status: success|failure' line")
    success = status.group(1).lower().startswith("success")
    if success:
        return Verdict(value=1.0, status="success", output=text[-600:])
    track = _TRACK.search(text)
    if not track:
        return Verdict(
            value=None,
            status="failure",
            output=text[-600:],
            error="status is failure but no 'On track: yes|no' line",
        )
    on = track.group(1).lower() == "yes"
    return Verdict(value=0.5 if on else 0.0, status="failure", on_track=on, output=text[-600:])


def verdict_from_logprobs(completion: Completion) -> Verdict:
    """Expected value over the letters A/B/C from the first answer token's probabilities."""
    text = completion.texts[0] if completion.texts else ""
    probs: dict[str, float] = {}
    if completion.logprobs and completion.logprobs[0]:
        first = completion.logprobs[0][0]
        alternatives = [(first.token, first.logprob)] + [(t.token, t.logprob) for t in first.top]
        for token, logprob in alternatives:
            key = token.strip().strip("*`\"'.:").upper()
            if key in LETTER_VALUE and key not in probs:
                probs[key] = math.exp(logprob)
    if not probs:
        letter = text.strip().strip("*`\"'.:")[:1].upper()
        if letter in LETTER_VALUE and (len(text.strip()) == 1 or not text.strip()[1:2].isalpha()):
            probs[letter] = 1.0  # a server without logprobs: fall back to the answer itself
    if not probs:
        return Verdict(
            value=None, output=text[-200:], error="no A/B/C answer among the first token's alternatives"
        )
    total = sum(probs.values())
    probs = {k: v / total for k, v in probs.items()}
    value = sum(LETTER_VALUE[k] * p for k, p in probs.items())
    return Verdict(value=value, probs=probs, output=text[-200:])


class Scorer:
    role = "scorer"

    def __init__(self, model: ChatModel, config: ScorerConfig, vision: bool = False) -> None:
        self.model = model
        self.config = config
        self.vision = vision

    def _body(self, ctx: StepContext, simulation: str, template_name: str) -> str:
        return render(
            template_name,
            intent=ctx.task.intent,
            history=ctx.history_text(),
            url=ctx.url,
            observation=ctx.observation_text,
            simulation=simulation,
        )

    def messages(self, ctx: StepContext, simulation: str) -> list[Message]:
        images = ctx.images(self.vision, som=False)
        if self.config.mode == "logprob":
            return [user(self._body(ctx, simulation, "scorer/logprob.md"), images=images, detail="high")]
        return [
            system(render("scorer/system.md")),
            user(self._body(ctx, simulation, "scorer/user.md"), images=images, detail="high"),
        ]

    async def score(self, ctx: StepContext, simulation: str, seed: int) -> list[Verdict]:
        return await self._judge(self.messages(ctx, simulation), seed)

    async def rerank(self, ctx: StepContext, action: str, seed: int) -> list[Verdict]:
        """The ablation without simulation: the same judge sees only the state and the proposed action."""
        images = ctx.images(self.vision, som=False)
        body = render(
            "scorer/rerank.md",
            intent=ctx.task.intent,
            history=ctx.history_text(),
            url=ctx.url,
            observation=ctx.observation_text,
            action=action,
        )
        if self.config.mode == "logprob":
            body = body.rsplit("\n", 1)[0] + (
                "\nWhich is true?\nA: taking it completes the task\nB: it is on the right track\n"
                "C: it leads away from the task\nReply with the single letter A, B or C."
            )
            return await self._judge([user(body, images=images)], seed)
        return await self._judge([system(render("scorer/system.md")), user(body, images=images)], seed)

    async def _judge(self, messages: list[Message], seed: int) -> list[Verdict]:
        cfg = self.config
        if cfg.mode == "logprob":
            verdict = Verdict(value=None, error="not asked")
            for _ in range(1 + cfg.max_retry):
                completion = await self.model.complete(
                    messages,
                    n=1,
                    temperature=0.0,
                    max_tokens=1,
                    logprobs=True,
                    top_logprobs=cfg.top_logprobs,
                    seed=seed,
                )
                verdict = verdict_from_logprobs(completion)
                if verdict.value is not None:
                    break
            return [verdict]
        verdicts: list[Verdict] = []
        wanted = cfg.judge_samples
        for ask in range(1 + cfg.max_retry):
            missing = wanted - sum(v.value is not None for v in verdicts)
            if missing <= 0:
                break
            completion = await self.model.complete(
                messages,
                n=missing,
                temperature=cfg.temperature,
                top_p=cfg.top_p,
                max_tokens=cfg.max_tokens,
                seed=seed + 1000 * ask,
            )
            for i, text in enumerate(completion.texts):
                v = parse_verdict(text)
                finish = completion.finish_reasons[i] if i < len(completion.finish_reasons) else ""
                if v.value is None and finish == "length":
                    v.error = f"{v.error} (reply truncated at max_tokens)"
                verdicts.append(v)
        # Keep the valid verdicts, then the failures that were never made up by a retry.
        valid = [v for v in verdicts if v.value is not None]
        invalid = [v for v in verdicts if v.value is None][: max(0, wanted - len(valid))]
        return valid + invalid


def mean_value(verdicts: list[Verdict]) -> float | None:
    values = [v.value for v in verdicts if v.value is not None]
    return sum(values) / len(values) if values else None
