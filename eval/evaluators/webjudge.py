"""Online-Mind2Web's WebJudge (mode ``WebJudge_Online_Mind2Web_eval``), three stages:

1. key points: the model lists the task's explicit requirements;
2. each screenshot is scored 1-5 for relevance, with a reason; those scoring at least
   ``score_threshold`` (default 3) are kept, at most 50 images and 50 reasons (capped separately);
3. outcome: task, key points, numbered action history and the kept screenshots with their reasons
   go to the model, which answers ``Thoughts: ...`` / ``Status: success|failure``.

The label is 1 iff "success" appears after the first ``status:`` (case-insensitive); anything
unreadable is 0. Replies are parsed exactly as `src/methods/webjudge_online_mind2web.py` does; the
prompts are our own wording (``prompts/judges/webjudge_*``), so results may shift slightly.
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Sequence
from pathlib import Path

from PIL import Image
from pydantic import BaseModel, Field

from eval.evaluators.om2w_results import read_om2w_result
from eval.evaluators.prompts import render_file
from eval.evaluators.results import JudgeRequiredError
from webdreamer.models.types import ChatModel, ImagePart, Message, TextPart, system

MAX_IMAGES = 50


class ImageJudgement(BaseModel):
    """Stage 2 for one screenshot."""

    index: int
    score: int
    reason: str
    response: str
    kept: bool = False


class WebJudgeResult(BaseModel):
    """The verdict and everything that led to it."""

    label: int
    response: str
    key_points: str
    images: list[ImageJudgement] = Field(default_factory=list)
    kept_images: int = 0
    prompt: str = ""


def jpeg_bytes(data: bytes) -> bytes:
    """Screenshots go to the judge as JPEG, as the original's ``encode_image`` sends them."""
    image: Image.Image = Image.open(io.BytesIO(data))
    if image.mode != "RGB":
        image = image.convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG")
    return buffer.getvalue()


def _with_images(text: str, images: Sequence[bytes]) -> Message:
    parts: list[TextPart | ImagePart] = [TextPart(text=text)]
    parts.extend(ImagePart(data=img, mime="image/jpeg", detail="high") for img in images)
    return Message(role="user", content=parts)


def parse_key_points(response: str) -> str:
    """Text after "**Key Points**:" (else after the last "Key Points:"), lines left-stripped."""
    text = response.replace("\n\n", "\n")
    pieces = text.split("**Key Points**:")
    text = pieces[1] if len(pieces) > 1 else text.split("Key Points:")[-1]
    return "\n".join(line.lstrip() for line in text.splitlines())


def parse_image_judgement(response: str) -> tuple[int, str] | None:
    """(score, reason) from a stage-2 reply: the first digit 1-5 after the first "Score", and
    the first paragraph after the last "**Reasoning**:". None when unreadable (scored 0)."""
    try:
        score_text = response.split("Score")[1]
        reason = response.split("**Reasoning**:")[-1].strip().lstrip("\n").split("\n\n")[0].replace("\n", " ")
        return int(re.findall(r"[1-5]", score_text)[0]), reason
    except (IndexError, AttributeError):
        return None


def webjudge_label(response: str) -> int:
    """1 iff "success" follows the first "status:" (case-insensitive), else 0."""
    pieces = response.lower().split("status:")
    return int(len(pieces) > 1 and "success" in pieces[1])


def success_rate(labels: Sequence[int], n_task_folders: int | None = None) -> float:
    """Σ labels / number of task folders × 100 (a folder that failed to judge counts as failed)."""
    total = n_task_folders if n_task_folders is not None else len(labels)
    return 100.0 * sum(labels) / total if total else 0.0


async def _text(model: ChatModel, messages: list[Message], max_tokens: int) -> str:
    completion = await model.complete(messages, temperature=0.0, max_tokens=max_tokens)
    return completion.texts[0] if completion.texts else ""


async def webjudge(
    task: str,
    action_history: Sequence[str],
    screenshots: Sequence[bytes],
    model: ChatModel | None,
    *,
    score_threshold: int = 3,
    max_images: int = MAX_IMAGES,
    prompts: Path | None = None,
) -> WebJudgeResult:
    """Judge one trajectory; ``action_history`` must not contain the final answer."""
    if model is None:
        raise JudgeRequiredError("WebJudge needs a judge model, but none was configured")
    key_reply = await _text(
        model,
        [
            system(render_file("webjudge_key_points.system.txt", prompts)),
            _with_images(render_file("webjudge_key_points.user.txt", prompts, task=task), []),
        ],
        2048,
    )
    key_points = parse_key_points(key_reply)

    jpegs = [jpeg_bytes(s) for s in screenshots]
    image_system = render_file("webjudge_image.system.txt", prompts)
    image_user = render_file("webjudge_image.user.txt", prompts, task=task, key_points=key_points)
    replies = await asyncio.gather(
        *[_text(model, [system(image_system), _with_images(image_user, [jpg])], 2048) for jpg in jpegs]
    )

    judgements: list[ImageJudgement] = []
    kept_images: list[bytes] = []
    reasons: list[str] = []
    reason = ""  # the original reuses the previous reason after an unreadable reply
    for index, (reply, jpg) in enumerate(zip(replies, jpegs, strict=True)):
        parsed = parse_image_judgement(reply)
        score = 0
        if parsed is not None:
            score, reason = parsed
        judgement = ImageJudgement(index=index, score=score, reason=reason if parsed else "", response=reply)
        if score >= score_threshold:
            judgement.kept = True
            kept_images.append(jpg)
            if reason != "":
                reasons.append(reason)
        judgements.append(judgement)
    kept_images = kept_images[:max_images]
    reasons = reasons[:max_images]

    actions = "\n".join(f"{i + 1}. {a}" for i, a in enumerate(action_history))
    numbered = "\n".join(f"{i + 1}. {r}" for i, r in enumerate(reasons))
    name = "webjudge_outcome.user.txt" if kept_images else "webjudge_outcome_no_images.user.txt"
    prompt = render_file(
        name, prompts, task=task, key_points=key_points, last_actions=actions, thoughts=numbered
    )
    response = await _text(
        model,
        [system(render_file("webjudge_outcome.system.txt", prompts)), _with_images(prompt, kept_images)],
        512,
    )
    return WebJudgeResult(
        label=webjudge_label(response),
        response=response,
        key_points=key_points,
        images=judgements,
        kept_images=len(kept_images),
        prompt=prompt,
    )


async def webjudge_folder(
    task_dir: Path,
    model: ChatModel | None,
    *,
    score_threshold: int = 3,
    max_images: int = MAX_IMAGES,
    prompts: Path | None = None,
) -> WebJudgeResult:
    """Judge a submission folder (``result.json`` + ``trajectory/``), v1 or v2."""
    submission = read_om2w_result(task_dir)
    shots = [p.read_bytes() for p in submission.screenshot_paths]
    return await webjudge(
        submission.task,
        submission.action_history,
        shots,
        model,
        score_threshold=score_threshold,
        max_images=max_images,
        prompts=prompts,
    )
