"""The run folder, which is the source of truth of a run.

    <out>/run.json                         what was run (benchmark, agent, config, task list, repeats)
    <out>/results/<task>__r<k>.json        one result per (task, repeat), written atomically
    <out>/trajectories/<task>__r<k>/       trajectory.json, screenshots, report.html
    <out>/results.jsonl, report.md, report.html    regenerated from results/ at the end

A result file exists only once its episode was scored (or recorded as crashed), so `--resume`
skips exactly the finished work and a run killed at any moment loses nothing finished.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from eval.agents import safe_name
from webdreamer.records import atomic_write


class TaskResult(BaseModel):
    uid: str
    task_id: str
    repeat: int = 0
    seed: int = 0
    benchmark: str
    agent: str
    intent: str = ""
    sites: list[str] = Field(default_factory=list)
    difficulty: str | None = None
    eval_types: list[str] = Field(default_factory=list)
    status: str  # the episode's end (trajectory status), or "crashed"
    reason: str = ""
    answer: str | None = None  # what the agent answered
    scored_answer: str = ""  # what the evaluator scored (WebArena's early-stop text included)
    score: float = 0.0
    passed: bool = False
    # The episode or its evaluation failed: scored 0 here; the original harnesses left such tasks out.
    crashed: bool = False
    error: str | None = None
    evaluation: dict[str, Any] = Field(default_factory=dict)  # the evaluator's breakdown, with reasons
    steps: int = 0
    duration_s: float = 0.0
    cost_usd: float = 0.0
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    trajectory: str = ""  # folder, relative to the run folder
    finished_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @property
    def key(self) -> str:
        return result_key(self.uid, self.repeat)


class RunManifest(BaseModel):
    benchmark: str
    agent: str
    task_files: list[str]
    tasks: list[str]  # uids, in order
    repeats: int = 1
    seed: int = 0
    concurrency: int = 1
    executor: str = "local"
    timeout_s: float | None = None
    config: dict[str, Any] = Field(default_factory=dict)
    created_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))


def result_key(uid: str, repeat: int) -> str:
    return f"{safe_name(uid)}__r{repeat}"


class RunFolder:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.results_dir = self.root / "results"
        self.trajectories_dir = self.root / "trajectories"

    def prepare(self) -> None:
        self.results_dir.mkdir(parents=True, exist_ok=True)
        self.trajectories_dir.mkdir(parents=True, exist_ok=True)

    @property
    def manifest_path(self) -> Path:
        return self.root / "run.json"

    def write_manifest(self, manifest: RunManifest) -> None:
        atomic_write(self.manifest_path, manifest.model_dump_json(indent=1))

    def read_manifest(self) -> RunManifest | None:
        if not self.manifest_path.exists():
            return None
        return RunManifest.model_validate_json(self.manifest_path.read_text())

    def trajectory_dir(self, uid: str, repeat: int) -> Path:
        return self.trajectories_dir / result_key(uid, repeat)

    def result_path(self, uid: str, repeat: int) -> Path:
        return self.results_dir / f"{result_key(uid, repeat)}.json"

    def has_result(self, uid: str, repeat: int) -> bool:
        return self.result_path(uid, repeat).exists()

    def write_result(self, result: TaskResult) -> None:
        atomic_write(self.result_path(result.uid, result.repeat), result.model_dump_json(indent=1))

    def results(self) -> list[TaskResult]:
        out = []
        for path in sorted(self.results_dir.glob("*.json")):
            out.append(TaskResult.model_validate_json(path.read_text()))
        return out

    def write_jsonl(self, results: list[TaskResult]) -> Path:
        path = self.root / "results.jsonl"
        atomic_write(path, "".join(json.dumps(r.model_dump(mode="json")) + "\n" for r in results))
        return path
