"""Model-graded rules: WA/VWA fuzzy and unachievable-reason matching, VWA's VQA, WebCanvas's
semantic match. Every judge is any `ChatModel`; the prompts are files in ``prompts/judges/``.

Our prompt wording is our own (the originals' text is not copied), so judge-dependent results can
shift slightly against published numbers. How replies are *read* follows the originals exactly.
"""

from __future__ import annotations

import ast
import io
import math
import operator
import re
from collections.abc import Callable
from pathlib import Path

from PIL import Image
from pydantic import BaseModel

from eval.evaluators.prompts import render_file
from eval.evaluators.results import JudgeReplyError, JudgeRequiredError, Profile
from webdreamer.models.types import ChatModel, Message, system, user


class JudgeVerdict(BaseModel):
    """A judge's score and the raw reply it was read from (kept for reports)."""

    score: float
    reply: str


def require_judge(judge: ChatModel | None, what: str) -> ChatModel:
    """Fail loudly (never a silent 0) when a rule needs a model and none was configured."""
    if judge is None:
        raise JudgeRequiredError(f"{what} needs a judge model, but none was configured")
    return judge


async def _ask(judge: ChatModel, messages: list[Message], **kwargs: float | int | None) -> str:
    completion = await judge.complete(messages, **kwargs)  # type: ignore[arg-type]
    return completion.texts[0] if completion.texts else ""


# --- WebArena / VisualWebArena ------------------------------------------------------------------
# Both use gpt-4-1106-preview at temperature 0, top_p 1, max 768 tokens
# (`evaluation_harness/helper_functions.py: llm_fuzzy_match, llm_ua_match`).


def read_fuzzy_reply(reply: str) -> float:
    """0 if the reply says "partially correct" or "incorrect", 1 if it says "correct".

    Anything else fails the original's assert, so we raise.
    """
    text = reply.lower()
    if "partially correct" in text or "incorrect" in text:
        return 0.0
    if "correct" in text:
        return 1.0
    raise JudgeReplyError(f"fuzzy_match judge reply has no verdict: {reply[:200]!r}")


def read_ua_reply(reply: str) -> float:
    """0 if the reply says "different", 1 if it says "same"; anything else raises (an assert)."""
    text = reply.lower()
    if "different" in text:
        return 0.0
    if "same" in text:
        return 1.0
    raise JudgeReplyError(f"ua_match judge reply has neither 'same' nor 'different': {reply[:200]!r}")


async def llm_fuzzy_match(
    judge: ChatModel | None,
    *,
    pred: str,
    reference: str,
    question: str,
    profile: Profile,
    prompts: Path | None = None,
) -> JudgeVerdict:
    """Grade ``pred`` against ``reference`` for ``question`` (correct / partially / incorrect)."""
    model = require_judge(judge, "fuzzy_match")
    # WA and VWA end their instruction differently; VWA also asks for the bare verdict only.
    name = "wa_fuzzy_match.user.txt" if profile == "webarena" else "vwa_fuzzy_match.user.txt"
    messages = [
        system(render_file("wa_judge.system.txt", prompts)),
        user(render_file(name, prompts, question=question, reference=reference, pred=pred)),
    ]
    reply = await _ask(model, messages, temperature=0.0, top_p=1.0, max_tokens=768)
    return JudgeVerdict(score=read_fuzzy_reply(reply), reply=reply)


async def llm_ua_match(
    judge: ChatModel | None, *, pred: str, reference: str, question: str, prompts: Path | None = None
) -> JudgeVerdict:
    """Does the agent's stated reason for giving up match the task's known unachievable reason?"""
    model = require_judge(judge, "the N/A (unachievable) rule")
    messages = [
        system(render_file("wa_judge.system.txt", prompts)),
        user(render_file("wa_ua_match.user.txt", prompts, question=question, reference=reference, pred=pred)),
    ]
    reply = await _ask(model, messages, temperature=0.0, top_p=1.0, max_tokens=768)
    return JudgeVerdict(score=read_ua_reply(reply), reply=reply)


def png_bytes(image: Image.Image) -> bytes:
    """Encode a page image as PNG for a multimodal judge (`user()` takes PNG bytes)."""
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


async def vqa_answers(
    judge: ChatModel | None,
    images: list[Image.Image],
    question: str,
    *,
    max_tokens: int = 32,
    prompts: Path | None = None,
) -> list[str]:
    """Ask ``question`` about each image, "Q: ... A:" style, one call per image.

    Stands in for VWA's BLIP-2 captioner (`image_utils.py: get_captioning_fn`, 32 new tokens).
    """
    model = require_judge(judge, "page_image_query eval_vqa")
    prompt = render_file("vwa_vqa.user.txt", prompts, question=question).strip()
    answers = []
    for image in images:
        reply = await _ask(
            model, [user(prompt, images=[png_bytes(image)])], temperature=0.0, max_tokens=max_tokens
        )
        answers.append(reply)
    return answers


# --- WebCanvas (Mind2Web-Live) semantic match -------------------------------------------------
# `evaluate/step_score.py: MatchFunction.semantic_match`: up to 3 tries; the number between the first
# pair of triple backticks is evaluated, clamped to [0, 1]; failure scores 0; fractions are rounded
# to 2 dp. The original calls gpt-3.5-turbo at temperature 0.7 with 500 max tokens.

_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


def _number(node: ast.expr) -> float:
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, complex)
    ):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _number(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        return _BINARY[type(node.op)](_number(node.left), _number(node.right))
    raise ValueError("not a plain number")


def parse_semantic_score(reply: str) -> float | None:
    """The clamped score in the reply's first ```...``` block, or None if there is none.

    The original runs Python's ``eval`` on that text; we accept only what it would turn into a
    number (literals, signs and + - * / between them), never arbitrary code.
    """
    blocks = re.findall(r"```(.*?)```", reply, re.S)
    if not blocks:
        return None
    try:
        value = _number(ast.parse(blocks[0].strip(), mode="eval").body)
    except (SyntaxError, ValueError, ZeroDivisionError, TypeError):
        return None
    if math.isnan(value):
        return None
    return max(0.0, min(1.0, value))


async def semantic_match(
    judge: ChatModel | None,
    input_answer: str,
    rule: str,
    *,
    attempts: int = 3,
    temperature: float = 0.7,
    max_tokens: int = 500,
    prompts: Path | None = None,
) -> JudgeVerdict:
    """Score ``input_answer`` against a natural-language ``rule`` (1 same, 0 unrelated, between)."""
    model = require_judge(judge, "semantic match")
    messages = [
        system(render_file("m2wl_semantic_match.system.txt", prompts)),
        user(render_file("m2wl_semantic_match.user.txt", prompts, rule=rule, answer=input_answer)),
    ]
    score: float | None = None
    reply = ""
    for _ in range(attempts):
        try:
            reply = await _ask(model, messages, temperature=temperature, max_tokens=max_tokens)
        except Exception as exc:  # the original retries on any failure, model errors included
            reply = f"<judge error: {exc}>"
            continue
        score = parse_semantic_score(reply)
        if score is not None:
            break
    if score is None:
        return JudgeVerdict(score=0.0, reply=reply)
    if score not in (0.0, 1.0):
        score = round(score, 2)
    return JudgeVerdict(score=score, reply=reply)
