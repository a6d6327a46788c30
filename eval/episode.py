"""One episode: run an agent on a task in its own browser context, then score it as the task's
benchmark does. Everything a worker needs travels in an `EpisodeJob`, so the same function runs in
the local executor and in a Ray worker.
"""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from envs.actions import Action, Kind
from envs.env import BrowserEnv, BrowserHost
from envs.observation import Observation
from envs.tasks.model import Task
from eval.agents import make_agent
from eval.evaluators import (
    JudgeRequiredError,
    Mind2WebLiveTracker,
    WAEvalOptions,
    evaluate_wa_task,
    read_live_step,
    webjudge,
    write_om2w_result,
)
from eval.results import RunFolder, TaskResult
from webdreamer.agent import EMBEDDED, EventHook
from webdreamer.config import AgentConfig
from webdreamer.models.config import ModelConfig
from webdreamer.models.ledger import Ledger
from webdreamer.models.stack import build_model
from webdreamer.models.types import ChatModel, Completion, Message
from webdreamer.records import Trajectory

BENCHMARKS = ("local", "webarena", "vwa", "mind2web-live", "online-mind2web")
# WebArena/VWA run.py: an episode ended by a rule is scored with this forced stop answer [quirk].
EARLY_STOP_STATUSES = {"max_steps", "repeated_action", "parse_failures", "budget", "timeout", "vetoed"}


class EpisodeJob(BaseModel):
    task: Task
    repeat: int = 0
    seed: int = 0
    benchmark: str
    agent: str
    config: AgentConfig
    run_dir: str
    timeout_s: float | None = None
    judge: ModelConfig | None = None  # None: the agent's model, else the embedded one
    replay_from: str | None = None  # a run folder whose trajectories replay re-executes
    nav_sleep_s: float = 3.0  # program_html's hard sleep after goto (WebArena's value)


def scored_answer(traj: Trajectory) -> str:
    """The answer the original harness would score (`run.py`: early stop becomes a stop action)."""
    if traj.status == "stopped":
        return traj.answer or ""
    if traj.status in EARLY_STOP_STATUSES:
        return f"Early stop: {traj.reason}"
    if traj.status == "error":
        return f"ERROR: {traj.reason}"
    return traj.answer or ""


def profile_of(job: EpisodeJob) -> str:
    if job.benchmark in ("webarena", "vwa", "mind2web-live", "online-mind2web"):
        return job.benchmark
    return job.task.format  # local suite: each task keeps its own format


class LazyJudge:
    """A judge model built on its first call: most tasks never need one, and the embedded fallback
    takes seconds to load."""

    def __init__(self, job: EpisodeJob, ledger: Ledger) -> None:
        self.config = job.judge or job.config.model or EMBEDDED
        self.name = self.config.model
        self.ledger = ledger
        self._model: ChatModel | None = None

    async def complete(self, messages: list[Message], **params: Any) -> Completion:
        if self._model is None:
            self._model = build_model(self.config, role="judge", ledger=self.ledger)
        return await self._model.complete(messages, **params)


class LiveHook:
    """Feeds the Mind2Web-Live tracker before every action, as WebCanvas evaluates (§2.3)."""

    def __init__(self, tracker: Mind2WebLiveTracker) -> None:
        self.tracker = tracker
        self.pending = False

    async def __call__(self, env: BrowserEnv, obs: Observation, action: Action) -> str | None:
        if self.pending:
            self.tracker.record_action(env.page.url)
            self.pending = False
        if self.tracker.finished:
            return "every Mind2Web-Live key node matched"
        if not self.tracker.can_step():
            return "the Mind2Web-Live step budget is spent"
        target = await env.element(action.element_id) if action.element_id is not None else None
        typed = action.text if action.kind in (Kind.TYPE, Kind.SELECT) else None
        await self.tracker.evaluate(await read_live_step(env.page, target, typed_value=typed))
        self.pending = True
        return None

    def close(self, final_url: str) -> None:
        if self.pending:
            self.tracker.record_action(final_url)
            self.pending = False


async def run_episode(
    job: EpisodeJob, host: BrowserHost, on_event: EventHook | None = None, run_ledger: Ledger | None = None
) -> TaskResult:
    """Run and score one (task, repeat); never raises for a failing agent, site or evaluator."""
    task = job.task
    folder = RunFolder(job.run_dir)
    traj_dir = folder.trajectory_dir(task.uid, job.repeat)
    cfg = job.config.model_copy(deep=True)
    cfg.planner.seed = job.seed
    # The episode's own ledger (judge calls land in its task scope; the agent keeps a child of it),
    # rolled up into the run's, so max_cost_per_run holds across the episodes of one process.
    ledger = run_ledger.child(cfg.budget) if run_ledger is not None else Ledger(cfg.prices, cfg.budget)
    judge = LazyJudge(job, ledger)
    traj: Trajectory | None = None
    profile = profile_of(job)
    ev = task.evaluation if isinstance(task.evaluation, dict) else {}
    result = new_result(job, status="crashed", eval_types=list(ev.get("eval_types", [])))
    env = BrowserEnv(cfg.env, host=host)
    hook: LiveHook | None = None
    try:
        if profile == "mind2web-live":
            hook = LiveHook(
                Mind2WebLiveTracker(_live_task(task), judge=judge if _has_semantic(task) else None)
            )
        agent = make_agent(
            job.agent,
            cfg,
            task,
            host=host,
            ledger=ledger,
            before_action=hook,
            on_event=on_event,
            trajectories=Path(job.replay_from) / "trajectories" if job.replay_from else None,
        )
        traj = await agent.arun(task, env=env, out_dir=traj_dir, timeout_s=job.timeout_s)
        _fill_from_trajectory(result, traj)
        if traj.status == "error":
            result.crashed, result.error = True, traj.reason
        if profile in ("webarena", "vwa"):
            await _score_wa(result, job, profile, env, traj, judge)
        elif profile == "mind2web-live" and hook is not None:
            hook.close(traj.final_url)
            live = hook.tracker.result(early_stop=traj.status in EARLY_STOP_STATUSES)
            result.score = live.score / live.n_nodes if live.n_nodes else 0.0
            result.passed = live.status == "finished"
            result.evaluation = live.model_dump(mode="json")
            result.evaluation["reasons"] = _live_reasons(live)
        elif profile == "online-mind2web":
            await _score_om2w(result, job, traj, traj_dir, judge)
    except JudgeRequiredError as exc:
        result.crashed, result.error = True, f"a judge model is needed: {exc}"
    except Exception as exc:  # recorded, never lost
        result.crashed = True
        result.error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=8)}"
    finally:
        await env.close()
    usage = ledger.snapshot("task").total  # the judge's calls
    if traj is not None and traj.usage is not None:
        usage = usage.merged(traj.usage.total)  # the agent's calls
    result.cost_usd, result.calls = usage.cost_usd, usage.calls
    result.input_tokens, result.output_tokens = usage.input_tokens, usage.output_tokens
    if result.crashed:
        result.score, result.passed = 0.0, False
    return result


def new_result(job: EpisodeJob, **fields: Any) -> TaskResult:
    """A result for a job, before anything is known of its episode."""
    task = job.task
    folder = RunFolder(job.run_dir)
    base: dict[str, Any] = {
        "uid": task.uid,
        "task_id": task.id,
        "repeat": job.repeat,
        "seed": job.seed,
        "benchmark": job.benchmark,
        "agent": job.agent,
        "intent": task.intent,
        "sites": task.sites,
        "difficulty": task.difficulty,
        "trajectory": str(folder.trajectory_dir(task.uid, job.repeat).relative_to(folder.root)),
    }
    return TaskResult(**{**base, **fields})


def _fill_from_trajectory(result: TaskResult, traj: Trajectory) -> None:
    result.status, result.reason, result.answer = traj.status, traj.reason, traj.answer
    result.scored_answer = scored_answer(traj)
    result.steps = sum(1 for s in traj.steps if s.executed)
    result.duration_s = traj.duration_s


async def _score_wa(
    result: TaskResult, job: EpisodeJob, profile: str, env: BrowserEnv, traj: Trajectory, judge: ChatModel
) -> None:
    spec = job.task.evaluation if isinstance(job.task.evaluation, dict) else {}
    options = WAEvalOptions(nav_sleep_s=job.nav_sleep_s, assets_dir=_assets_dir(job.task, spec))
    page = env.page if env.session is not None else None
    outcome = await evaluate_wa_task(
        spec,
        profile="webarena" if profile == "webarena" else "vwa",
        page=page,
        answer=result.scored_answer,
        intent=job.task.intent,
        judge=judge,
        options=options,
    )
    result.evaluation = outcome.model_dump(mode="json")
    result.evaluation["reasons"] = outcome.reasons()
    if outcome.score is None:  # the original would have raised: no score, left out of its average
        result.crashed, result.error = True, outcome.error or "the evaluator produced no score"
        return
    result.score, result.passed = outcome.score, outcome.passed


async def _score_om2w(
    result: TaskResult, job: EpisodeJob, traj: Trajectory, traj_dir: Path, judge: ChatModel
) -> None:
    """Write the submission folder (v1) and judge it with WebJudge."""
    shots = [traj.image(s.screenshot) for s in traj.steps if s.screenshot]
    final = traj.image(traj.final_screenshot) if traj.final_screenshot else None
    images = [img for img in [*shots, final] if img]
    actions = [
        s.description
        for s in traj.steps
        if s.executed and s.action != "stop []" and not s.action.startswith("stop ")
    ]
    root = Path(job.run_dir) / "online_mind2web"
    write_om2w_result(
        root,
        task_id=job.task.id if job.repeat == 0 else f"{job.task.id}_r{job.repeat}",
        task=job.task.intent,
        action_history=actions,
        screenshots=images,
        final_result_response=traj.answer or "",
        thoughts=[s.decision.reason for s in traj.steps if s.executed],
    )
    verdict = await webjudge(job.task.intent, actions, images, judge)
    result.score = float(verdict.label)
    result.passed = verdict.label == 1
    result.evaluation = verdict.model_dump(mode="json", exclude={"prompt"})


def _assets_dir(task: Task, spec: dict[str, Any]) -> Path | None:
    """Reference images are relative to the working directory in the original; ours may also be
    relative to the task file, which lets the bundled tasks work from any directory."""
    refs = [
        str(q.get("eval_fuzzy_image_match", "")).split(" |OR| ")[0]
        for q in spec.get("page_image_query") or []
    ]
    refs = [r for r in refs if r and not r.startswith(("http://", "https://"))]
    if not refs or Path(refs[0]).exists() or not task.source:
        return None
    return Path(task.source).parent


def _live_reasons(live: Any) -> list[str]:
    """Which key nodes never matched, and any step whose evaluation raised."""
    reasons = [f"key node {i} never matched" for i, score in enumerate(live.node_scores) if score < 1]
    reasons += [f"step {r.step_index}: {r.error}" for r in live.step_records if r.error]
    reasons += [
        f"step {r.step_index}: {reply}"
        for r in live.step_records
        for reply in r.judge_replies
        if reply.startswith("<judge error")
    ]
    return reasons


def _has_semantic(task: Task) -> bool:
    nodes = task.evaluation if isinstance(task.evaluation, list) else []
    return any(str(n.get("match_function_name", "")).endswith("semantic_match") for n in nodes)


def _live_task(task: Task) -> dict[str, Any]:
    return {
        "index": task.id,
        "task": task.intent,
        "reference_task_length": task.reference_length or 10,
        "evaluation": task.evaluation or [],
    }
