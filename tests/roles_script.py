"""Scripting each planning role on the scripted LLM server, by what its prompt says.

Rules match the roles' system prompts (prompts/*/system.md), so the tests exercise the real
prompt rendering, the real HTTP client and the real parsing.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from llm_server import ChatRequest, ReplyFn, ReplyLike, ScriptedLLMServer

POLICY = "You control a web browser"
REFINER = "which of its candidate next actions are worth looking into"
WORLD = "You are a model of how web pages behave"
IMAGINED = "You imagine how a web agent would continue"
SCORER = "You judge how promising"
LOGPROB = "Reply with the single letter A, B or C"


def element_id(req: ChatRequest, role: str, name: str) -> int:
    """The id of `role 'name'` in the observation the request carries."""
    m = re.search(rf"\[(\d+)\] {re.escape(role)} '{re.escape(name)}'", req.user)
    if not m:
        raise AssertionError(f"no {role} {name!r} in the prompt")
    return int(m.group(1))


def candidates_in(req: ChatRequest) -> list[str]:
    """The refiner's numbered candidate descriptions, in the order shown."""
    block = req.user.split("CANDIDATE ACTIONS:", 1)[1].split("Which candidates", 1)[0]
    return [line.split(": ", 1)[1] for line in block.strip().splitlines()]


def script(
    server: ScriptedLLMServer,
    *,
    policy: ReplyLike | ReplyFn,
    world: ReplyLike | ReplyFn = "State changes: nothing visible changes.",
    scorer: ReplyLike | ReplyFn = "Status: failure\nOn track: no\nThoughts: unclear.",
    refiner: ReplyLike | ReplyFn | None = None,
    imagined: ReplyLike | ReplyFn = "stop [done]",
    logprob: ReplyLike | ReplyFn | None = None,
) -> None:
    server.when(system=POLICY).reply(policy)
    server.when(system=REFINER).reply(refiner if refiner is not None else keep_all)
    server.when(system=WORLD).reply(world)
    server.when(system=IMAGINED).reply(imagined)
    server.when(system=SCORER).reply(scorer)
    if logprob is not None:
        server.when(user=LOGPROB).reply(logprob)


def keep_all(req: ChatRequest) -> str:
    n = len(candidates_in(req))
    return "Thoughts: all could help.\nSelected actions: " + "; ".join(str(i) for i in range(n))


def by_content(mapping: dict[str, ReplyLike], default: ReplyLike) -> Callable[[ChatRequest], ReplyLike]:
    """Answer mapping[k] for the first key found in the request's last user message."""

    def fn(req: ChatRequest) -> ReplyLike:
        for key, value in mapping.items():
            if key in req.user:
                return value
        return default

    return fn
