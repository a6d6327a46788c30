"""Online-Mind2Web submission folders: one ``<task_id>/`` per task with ``result.json`` and
``trajectory/`` screenshots (`src/run.py`).

We write v1: ``{task_id, task, final_result_response, action_history: [str], thoughts: [str],
[input_image_paths]}`` and ``trajectory/0.png, 1.png, ...``. The final answer goes only into
``final_result_response``: the benchmark's rules keep ``action_history`` to factual actions, and a
stated answer there can fool the judge. We read v1 (screenshots ordered by the first integer in
their file name) and v2 (``schema_version: "online-mind2web-v2"``: step objects whose last action
is dropped before judging). The stored ``task_id`` is always replaced by the folder name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

V2_SCHEMA = "online-mind2web-v2"


class OM2WSubmission(BaseModel):
    """What the judge reads from one task folder."""

    task_id: str
    task: str
    action_history: list[str] = Field(default_factory=list)
    thoughts: list[Any] = Field(default_factory=list)
    final_result_response: str | None = None
    screenshot_paths: list[Path] = Field(default_factory=list)
    input_image_paths: list[str] | None = None
    schema_version: str = "v1"


def write_om2w_result(
    root: Path,
    *,
    task_id: str,
    task: str,
    action_history: Sequence[str],
    screenshots: Sequence[bytes],
    final_result_response: str | None = None,
    thoughts: Sequence[str] | None = None,
    input_image_paths: Sequence[str] | None = None,
) -> Path:
    """Write ``root/<task_id>/result.json`` and ``trajectory/<i>.png`` (v1); returns the folder."""
    folder = root / task_id
    trajectory = folder / "trajectory"
    trajectory.mkdir(parents=True, exist_ok=True)
    for old in trajectory.glob("*.png"):
        old.unlink()
    for index, png in enumerate(screenshots):
        (trajectory / f"{index}.png").write_bytes(png)
    payload: dict[str, Any] = {
        "task_id": task_id,
        "task": task,
        "final_result_response": final_result_response if final_result_response is not None else "",
        "action_history": list(action_history),
        "thoughts": list(thoughts) if thoughts is not None else [],
    }
    if input_image_paths is not None:
        payload["input_image_paths"] = list(input_image_paths)
    tmp = folder / "result.json.tmp"
    tmp.write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
    tmp.replace(folder / "result.json")
    return folder


def _first_int(name: str) -> int:
    digits = re.findall(r"\d+", name)
    if not digits:
        raise ValueError(f"screenshot {name!r} has no number to order it by")
    return int(digits[0])


def read_om2w_result(folder: Path) -> OM2WSubmission:
    """Read a task folder in either schema, as the judge script does."""
    result = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    if "task" not in result:
        raise ValueError(f"{folder}/result.json has no 'task'")
    trajectory = folder / "trajectory"
    if result.get("schema_version") == V2_SCHEMA:
        steps = result["action_history"]
        return OM2WSubmission(
            task_id=folder.name,
            task=result["task"],
            action_history=[step["action"] for step in steps[:-1]],
            thoughts=[step.get("thought") for step in steps],
            final_result_response=result.get("agent_final_answer"),
            screenshot_paths=[trajectory / step["screenshot"] for step in steps],
            input_image_paths=result.get("input_image_paths"),
            schema_version=V2_SCHEMA,
        )
    shots = (
        sorted((p for p in trajectory.iterdir()), key=lambda p: _first_int(p.name))
        if trajectory.is_dir()
        else []
    )
    return OM2WSubmission(
        task_id=folder.name,
        task=result["task"],
        action_history=list(result.get("action_history") or []),
        thoughts=list(result.get("thoughts") or []),
        final_result_response=result.get("final_result_response"),
        screenshot_paths=shots,
        input_image_paths=result.get("input_image_paths"),
    )
