"""The one typed record of an episode: per step the candidates, imagined futures, scores, the
choice, the real outcome, timings, tokens and cost. Reports and replays read only this.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, PrivateAttr

from envs.tasks.model import Task
from webdreamer.models.ledger import LedgerSnapshot

Status = Literal[
    "running",
    "stopped",  # the agent issued stop
    "finished",  # the harness ended the episode (e.g. every Mind2Web-Live key node matched)
    "max_steps",
    "repeated_action",
    "parse_failures",
    "budget",
    "vetoed",
    "error",
    "timeout",
]
Mode = Literal["webdreamer", "reactive", "rerank", "replay"]
TRAJECTORY_FILE = "trajectory.json"


class Failure(BaseModel):
    """A model output we could not use, kept with the reason instead of silently dropped."""

    role: str
    reason: str
    output: str = ""


class Candidate(BaseModel):
    index: int  # proposal order (first seen)
    action: str  # canonical action string
    description: str  # the action in words, as the world model and scorer read it
    count: int  # how many policy samples proposed it
    frequency: float  # count / sum of counts of the kept candidates
    kept: bool = True  # survived refinement


class RefinerRecord(BaseModel):
    shown_order: list[int]  # candidate indices in the (shuffled) order the refiner saw
    kept: list[int]
    output: str = ""
    failure: str | None = None  # why all candidates were kept despite the refiner


class Verdict(BaseModel):
    """One scorer sample (sampled mode) or one expected value (logprob mode)."""

    value: float | None  # 1 success, 0.5 on track, 0 failure; None if unparseable
    status: str | None = None
    on_track: bool | None = None
    probs: dict[str, float] | None = None  # logprob mode: normalised verdict probabilities
    output: str = ""
    error: str | None = None


class ImaginedStep(BaseModel):
    action: str  # in words
    prediction: str  # what the world model says happens


class Rollout(BaseModel):
    """One simulation of one candidate: H imagined transitions, then the scorer's verdicts."""

    candidate: int
    simulation: int
    steps: list[ImaginedStep] = Field(default_factory=list)
    stopped_early: bool = False  # the imagined policy said stop before H transitions
    error: str | None = None  # the rollout failed: its value is unknown, never 0
    verdicts: list[Verdict] = Field(default_factory=list)
    value: float | None = None  # mean of the valid verdicts
    seconds: float = 0.0


class CandidateValue(BaseModel):
    candidate: int
    value: float | None  # mean over scored rollouts; None = unknown
    scored: int  # rollouts that produced a value
    rollouts: int


class Decision(BaseModel):
    mode: Mode
    candidates: list[Candidate] = Field(default_factory=list)
    policy_failures: list[Failure] = Field(default_factory=list)
    refiner: RefinerRecord | None = None
    rollouts: list[Rollout] = Field(default_factory=list)
    values: list[CandidateValue] = Field(default_factory=list)
    chosen: int | None = None  # candidate index
    action: str = "none"  # canonical action chosen
    description: str = ""
    reason: str = ""  # why this one (argmax, tie-break, single candidate, fallback ...)
    ties: list[int] = Field(default_factory=list)
    timings: dict[str, float] = Field(default_factory=dict)


class Outcome(BaseModel):
    """What really happened when the chosen action ran."""

    url: str = ""
    title: str = ""
    error: str | None = None
    tabs: int = 1


class Step(BaseModel):
    index: int
    url: str
    title: str
    observation: str = ""  # the text observation the roles saw
    screenshot: str | None = None  # file name inside the trajectory folder
    error_before: str | None = None  # the error shown in that observation
    decision: Decision
    action: str
    description: str
    executed: bool = False
    vetoed: str | None = None
    outcome: Outcome | None = None
    plan_s: float = 0.0
    act_s: float = 0.0
    usage: LedgerSnapshot | None = None


class Trajectory(BaseModel):
    version: int = 1
    task: Task
    config: dict[str, Any] = Field(default_factory=dict)
    mode: Mode = "webdreamer"
    steps: list[Step] = Field(default_factory=list)
    status: Status = "running"
    reason: str = ""
    answer: str | None = None  # the stop action's answer, if the agent stopped
    final_url: str = ""
    final_title: str = ""
    final_screenshot: str | None = None
    started_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    ended_at: str | None = None
    duration_s: float = 0.0
    usage: LedgerSnapshot | None = None
    error: str | None = None  # traceback of an unexpected failure
    _images: dict[str, bytes] = PrivateAttr(default_factory=dict)

    # ---- images -----------------------------------------------------------------------------
    def add_image(self, name: str, data: bytes | None) -> str | None:
        if not data:
            return None
        self._images[name] = data
        return name

    def image(self, name: str) -> bytes | None:
        return self._images.get(name)

    # ---- persistence ------------------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        """Write trajectory.json and the screenshots; the JSON is written atomically."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        for name, data in self._images.items():
            path = out / name
            if not path.exists():
                path.write_bytes(data)
        atomic_write(out / TRAJECTORY_FILE, self.model_dump_json(indent=1))
        return out

    @classmethod
    def load(cls, folder: str | Path) -> Trajectory:
        path = Path(folder)
        traj = cls.model_validate_json((path / TRAJECTORY_FILE).read_text())
        for name in [s.screenshot for s in traj.steps] + [traj.final_screenshot]:
            if name and (path / name).exists():
                traj._images[name] = (path / name).read_bytes()
        return traj

    def to_html(self) -> str:
        from webdreamer.report_html import render_trajectory

        return render_trajectory(self)

    # ---- summaries --------------------------------------------------------------------------
    @property
    def cost_usd(self) -> float:
        return self.usage.total.cost_usd if self.usage else 0.0


def atomic_write(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a reader never sees half a file (even after kill -9)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
