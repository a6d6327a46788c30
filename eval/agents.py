"""The agents the harness can run: WebDreamer's planner, its two baselines, and replay.

Replay executes a task's reference solution (or a recorded trajectory) with no model at all: it is
how the bundled tasks are shown solvable, and how a recorded run is re-executed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from envs.actions import Action, ActionParseError, ActionSpace, Kind
from envs.env import BrowserEnv, BrowserHost
from envs.tasks.model import Task
from webdreamer.agent import Agent, BeforeAction, EventHook
from webdreamer.config import AgentConfig
from webdreamer.models.cache import ResponseCache
from webdreamer.models.ledger import Ledger
from webdreamer.planner import Choice
from webdreamer.records import Candidate, Decision, Trajectory
from webdreamer.roles.context import StepContext

AGENT_NAMES = ("webdreamer", "reactive", "rerank", "replay")
_REFS = ActionSpace(allow_element_refs=True)


class ReplayError(ValueError):
    """A task has nothing to replay."""


class ReplayPlanner:
    """Plays back a list of action strings; `role 'name'` element references resolve on the live page."""

    def __init__(self, actions: list[str], source: str) -> None:
        self.actions = actions
        self.source = source
        self.position = 0

    async def choose(self, ctx: StepContext) -> Choice:
        decision = Decision(mode="replay")
        if self.position >= len(self.actions):
            action = Action(kind=Kind.STOP)
            why = f"the {self.source} is exhausted"
        else:
            text = self.actions[self.position]
            self.position += 1
            why = f"step {self.position} of {len(self.actions)} of the {self.source}"
            try:
                action = _REFS.parse_action(text)
            except ActionParseError as exc:
                decision.reason = f"{why}: {exc}"
                return Choice(decision, Action(kind=Kind.NONE))
            if action.target is not None:
                el = ctx.obs.find(action.target.role, action.target.name)
                if el is not None:  # record the id it resolved to; unresolved refs fail when executed
                    action = action.model_copy(update={"element_id": el.id, "target": None})
        description = action.describe(ctx.obs)
        decision.candidates = [
            Candidate(index=0, action=action.canonical(), description=description, count=1, frequency=1.0)
        ]
        decision.chosen, decision.action, decision.description, decision.reason = (
            0,
            action.canonical(),
            description,
            why,
        )
        return Choice(decision, action)


def replay_actions(task: Task, trajectories: Path | None = None) -> tuple[list[str], str]:
    """What replay plays for a task: its recorded trajectory (if a folder is given) or its reference solution."""
    if trajectories is not None:
        folder = trajectories / safe_name(task.uid)
        if (folder / "trajectory.json").exists():
            traj = Trajectory.load(folder)
            actions = [s.action for s in traj.steps if s.executed]
            return actions, "recorded trajectory"
    if task.reference_solution:
        return list(task.reference_solution), "reference solution"
    raise ReplayError(f"task {task.uid} has no reference solution (and no recorded trajectory) to replay")


def safe_name(uid: str) -> str:
    """A task uid as a file name (uids contain '/')."""
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in uid)


def make_agent(
    name: str,
    config: AgentConfig,
    task: Task,
    *,
    host: BrowserHost | None = None,
    ledger: Ledger | None = None,
    before_action: BeforeAction | None = None,
    on_event: EventHook | None = None,
    trajectories: Path | None = None,
) -> Agent:
    """An agent for one episode of `task`."""
    if name not in AGENT_NAMES:
        raise ValueError(f"unknown agent {name!r}; choose from {', '.join(AGENT_NAMES)}")
    cfg = config.model_copy(deep=True)
    factory: Callable[[Task, BrowserEnv, Ledger, ResponseCache | None], ReplayPlanner] | None = None
    if name == "replay":
        actions, source = replay_actions(task, trajectories)
        cfg.max_steps = len(actions) + 1
        cfg.max_repeats = 0  # a reference solution may legitimately repeat an action

        def factory(
            task: Task, env: BrowserEnv, ledger: Ledger, cache: ResponseCache | None
        ) -> ReplayPlanner:
            return ReplayPlanner(actions, source)

    elif name in ("reactive", "rerank"):
        cfg.planner.mode = name  # type: ignore[assignment]
    return Agent(
        cfg, host=host, ledger=ledger, before_action=before_action, on_event=on_event, planner_factory=factory
    )
