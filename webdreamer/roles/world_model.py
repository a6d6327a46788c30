"""The world model and the imagined policy (method.md §3.3, §3.4).

The world model predicts, in words (or as a predicted page), what an action does to the page.
For a horizon H > 1 the imagined policy proposes the next action inside the imagined state, and a
stop there ends the rollout *before* another prediction is paid for.
"""

from __future__ import annotations

import re

from webdreamer.config import ImaginedPolicyConfig, WorldModelConfig
from webdreamer.models.retry import ask_until_parsed
from webdreamer.models.types import ChatModel, Message, ModelError, system, user
from webdreamer.prompting import render
from webdreamer.records import ImaginedStep
from webdreamer.roles.context import StepContext

_PREFIX = re.compile(r"^\s*(?:\**\s*)?(?:state changes|new webpage)\s*:?\**\s*", re.I)
_STOP = re.compile(r"^\W*stop\b", re.I)


def parse_prediction(text: str) -> str:
    """The prediction without its label; an empty reply is a failure (it would tell the scorer nothing)."""
    body = _PREFIX.sub("", text.strip(), count=1).strip()
    if not body:
        raise ValueError("the prediction is empty")
    return body


def parse_imagined_action(text: str) -> str:
    for line in text.strip().splitlines():
        line = line.strip().strip("`").strip()
        line = re.sub(r"^(?:next action|action)\s*:\s*", "", line, flags=re.I)
        if line:
            return line
    raise ValueError("no action in the reply")


def is_stop(action_text: str) -> bool:
    """A real stop action, not an action that mentions "stop" ("click 'Bus stops'")."""
    return bool(_STOP.match(action_text))


def steps_text(steps: list[ImaginedStep]) -> str:
    return "\n".join(
        f"ACTION {i}: {s.action}\nPREDICTED CHANGE {i}: {s.prediction}" for i, s in enumerate(steps, 1)
    )


class WorldModel:
    role = "world_model"

    def __init__(self, model: ChatModel, config: WorldModelConfig, vision: bool = False) -> None:
        self.model = model
        self.config = config
        inputs = config.inputs if config.inputs != "auto" else ("screenshot" if vision else "text")
        self.use_text = inputs in ("text", "both")
        self.use_image = inputs in ("screenshot", "both")

    def _context(self, ctx: StepContext) -> str:
        cfg = self.config
        lines = []
        if cfg.include_task:
            lines.append(f"TASK OF THE USER: {ctx.task.intent}")
        if cfg.include_url:
            lines.append(f"URL: {ctx.url}")
        if cfg.include_history:
            lines.append(f"ACTIONS SO FAR:\n{ctx.history_text()}")
        return "".join(line + "\n" for line in lines)

    def _page(self, ctx: StepContext) -> tuple[str, list[bytes]]:
        text = ctx.observation_text if self.use_text else "(see the screenshot)"
        images = [ctx.obs.screenshot] if self.use_image and ctx.obs.screenshot else []
        return text, images

    def messages(self, ctx: StepContext, action: str, earlier: list[ImaginedStep]) -> list[Message]:
        text, images = self._page(ctx)
        if self.config.prompt_mode == "dreamer":
            # Dreamer-7B's card: one user turn, the screenshot, one short question.
            question = render("world_model/dreamer.md", action=action)
            if earlier:
                question = steps_text(earlier) + "\n" + question
            return [user(question, images=images or None)]
        sys = render(f"world_model/system_{self.config.format}.md")
        if earlier:
            body = render(
                "world_model/followup.md",
                context=self._context(ctx),
                observation=text,
                steps=steps_text(earlier),
                action=action,
            )
        else:
            body = render("world_model/user.md", context=self._context(ctx), observation=text, action=action)
        return [system(sys), user(body, images=images or None, detail="high")]

    async def predict(self, ctx: StepContext, action: str, earlier: list[ImaginedStep], seed: int) -> str:
        cfg = self.config
        parsed = await ask_until_parsed(
            self.model,
            self.messages(ctx, action, earlier),
            parse_prediction,
            n=1,
            max_asks=1 + cfg.max_retry,
            temperature=cfg.temperature,
            top_p=cfg.top_p,
            max_tokens=cfg.max_tokens,
            seed=seed,
        )
        if not parsed.values:
            raise ModelError(f"world model: {parsed.failures[-1].reason if parsed.failures else 'no reply'}")
        return parsed.values[0]


class ImaginedPolicy:
    role = "imagined_policy"

    def __init__(self, model: ChatModel, config: ImaginedPolicyConfig, world: WorldModel) -> None:
        self.model = model
        self.config = config
        self.world = world

    async def next_action(self, ctx: StepContext, steps: list[ImaginedStep], seed: int) -> str:
        text, images = self.world._page(ctx)
        body = render(
            "imagined_policy/user.md", intent=ctx.task.intent, observation=text, steps=steps_text(steps)
        )
        messages = [system(render("imagined_policy/system.md")), user(body, images=images or None)]
        cfg = self.config
        parsed = await ask_until_parsed(
            self.model,
            messages,
            parse_imagined_action,
            n=1,
            max_asks=1 + cfg.max_retry,
            temperature=cfg.temperature,
            top_p=cfg.top_p,
            max_tokens=cfg.max_tokens,
            seed=seed,
        )
        if not parsed.values:
            raise ModelError(
                f"imagined policy: {parsed.failures[-1].reason if parsed.failures else 'no reply'}"
            )
        return parsed.values[0]
