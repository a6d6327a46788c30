"""The policy: sample many next actions in one request, keep the most frequent distinct ones.

Sampling follows the authors' search-agents setup (method.md §3.1): n=20 completions at
temperature 1.0 / top_p 0.95, unparseable samples recorded and dropped, identical actions counted,
the top k by frequency kept with a stable sort (ties keep the first seen).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from envs.actions import Action, ActionParseError, ActionSpace, Kind
from webdreamer.config import PolicyConfig
from webdreamer.models.retry import ask_until_parsed
from webdreamer.models.types import ChatModel, Message, assistant, system, user
from webdreamer.prompting import render, template
from webdreamer.records import Candidate, Failure
from webdreamer.roles.context import StepContext


@dataclass
class Proposal:
    candidates: list[Candidate]
    actions: list[Action]  # parallel to candidates
    failures: list[Failure]


class Policy:
    role = "policy"

    @staticmethod
    def _localize(action: Action, ctx: StepContext) -> Action:
        """A goto to a public-looking name (http://onestopmarket.com/...) goes to the local site."""
        if action.kind == Kind.GOTO and ctx.urls is not None:
            return action.model_copy(update={"text": ctx.urls.to_local(action.text)})
        return action

    def __init__(
        self, model: ChatModel, config: PolicyConfig, space: ActionSpace, vision: bool = False
    ) -> None:
        self.model = model
        self.config = config
        self.space = space
        self.vision = vision

    def messages(self, ctx: StepContext) -> list[Message]:
        sys = render("policy/system.md", action_space=self.space.prompt_text())
        if self.config.examples:
            sys += "\n\n" + template("policy/examples.md").strip()
        body = render(
            "policy/user.md",
            intent=ctx.task.intent,
            url=ctx.url,
            observation=ctx.observation_text,
            history=ctx.history_text(self.config.history),
            error=ctx.error_note(),
        )
        messages = [system(sys), user(body, images=ctx.images(self.vision), detail="high")]
        if self.config.answer_prefix:
            messages.append(assistant(self.config.answer_prefix))
        return messages

    async def propose(self, ctx: StepContext) -> Proposal:
        cfg = self.config
        parsed = await ask_until_parsed(
            self.model,
            self.messages(ctx),
            lambda text: self._localize(self.space.parse((self.config.answer_prefix or "") + text), ctx),
            n=cfg.samples,
            min_ok=1,
            max_asks=1 + cfg.max_retry,
            errors=(ActionParseError,),
            temperature=cfg.temperature,
            top_p=cfg.top_p,
            max_tokens=cfg.max_tokens,
            seed=ctx.seed,
        )
        failures = [Failure(role=self.role, reason=f.reason, output=f.text[-400:]) for f in parsed.failures]
        counts = Counter(a.canonical() for a in parsed.values)
        first: dict[str, Action] = {}
        for a in parsed.values:
            first.setdefault(a.canonical(), a)
        order = list(first)  # first-seen order
        ranked = sorted(order, key=lambda c: -counts[c])[: cfg.num_candidates]  # stable: ties keep first seen
        total = sum(counts[c] for c in ranked) or 1
        candidates = [
            Candidate(
                index=i,
                action=c,
                description=ctx.public(first[c].describe(ctx.obs)),
                count=counts[c],
                frequency=counts[c] / total,
            )
            for i, c in enumerate(ranked)
        ]
        return Proposal(candidates=candidates, actions=[first[c] for c in ranked], failures=failures)
