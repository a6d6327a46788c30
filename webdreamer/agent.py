"""The agent loop: reset, plan, act, record, until a termination rule fires.

`Agent.arun(task)` returns a `Trajectory` whatever happens: a crash, a budget running out or a
timeout ends the episode with that status and reason, and the record keeps everything up to it.
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from envs.actions import Action, Kind
from envs.env import BrowserEnv, BrowserHost
from envs.observation import Observation
from envs.tasks.model import Task
from envs.urlmap import UrlMapper
from webdreamer.config import AgentConfig
from webdreamer.models.cache import ResponseCache
from webdreamer.models.config import ModelConfig
from webdreamer.models.ledger import Ledger
from webdreamer.models.openai_client import aclose_clients
from webdreamer.models.stack import build_model
from webdreamer.models.types import BudgetExceeded, ChatModel
from webdreamer.planner import Choice, Planner, Roles
from webdreamer.records import Outcome, Step, Trajectory
from webdreamer.roles.context import PastAction, StepContext, load_task_images
from webdreamer.roles.policy import Policy
from webdreamer.roles.refiner import Refiner
from webdreamer.roles.scorer import Scorer
from webdreamer.roles.world_model import ImaginedPolicy, WorldModel

log = logging.getLogger("webdreamer")

ROLES = ("policy", "refiner", "world_model", "imagined_policy", "scorer")
EMBEDDED = ModelConfig(model="SmolLM2-135M-Instruct", backend="embedded")
EMBEDDED_NOTICE = (
    "No model is configured, so every role runs on the embedded SmolLM2-135M-Instruct: a tiny offline "
    "stand-in that shows the machinery working, not a capable agent. Point webdreamer at a real model "
    "with --model/--base-url, OPENAI_BASE_URL/OPENAI_API_KEY, or a [model] section in a config file."
)

# confirm(action, observation) -> True to run it, or a reason (str) / False to veto it.
ConfirmHook = Callable[[Action, Observation], Awaitable[bool | str]]
# before_action(env, observation, action): runs right before an action executes (step-wise evaluators);
# returning a reason ends the episode there with status "finished".
BeforeAction = Callable[[BrowserEnv, Observation, Action], Awaitable[str | None]]


class PlannerLike(Protocol):
    async def choose(self, ctx: StepContext) -> Choice: ...


# Builds the planner for one episode; the default builds WebDreamer's from the config's roles.
PlannerFactory = Callable[[Task, BrowserEnv, Ledger, ResponseCache | None], PlannerLike]


@dataclass
class AgentEvent:
    kind: str  # "start", "step", "decision", "outcome", "end"
    step: int
    trajectory: Trajectory
    data: dict[str, Any] = field(default_factory=dict)


EventHook = Callable[[AgentEvent], None]
_notice_shown = False


def embedded_notice() -> str | None:
    """The embedded-model notice, the first time it is asked for in this process; then None."""
    global _notice_shown
    if _notice_shown:
        return None
    _notice_shown = True
    return EMBEDDED_NOTICE


class Agent:
    """WebDreamer's planner (or a baseline) in a real browser. Reusable across tasks."""

    def __init__(
        self,
        config: AgentConfig | None = None,
        *,
        models: dict[str, ChatModel] | None = None,
        ledger: Ledger | None = None,
        host: BrowserHost | None = None,
        on_event: EventHook | None = None,
        confirm: ConfirmHook | None = None,
        before_action: BeforeAction | None = None,
        planner_factory: PlannerFactory | None = None,
    ) -> None:
        self.config = config or AgentConfig()
        self.backends = models or {}
        self.ledger = ledger or Ledger(self.config.prices, self.config.budget)
        self.host = host
        self.on_event = on_event
        self.confirm = confirm
        self.before_action = before_action
        self.planner_factory = planner_factory or self._webdreamer_planner

    # ---- public API --------------------------------------------------------------------------
    def run(
        self,
        task: Task | str,
        *,
        start_url: str | None = None,
        out_dir: str | Path | None = None,
        timeout_s: float | None = None,
    ) -> Trajectory:
        """Synchronous convenience wrapper around `arun`."""

        async def main() -> Trajectory:
            try:
                return await self.arun(task, start_url=start_url, out_dir=out_dir, timeout_s=timeout_s)
            finally:
                await aclose_clients()  # the SDK keeps one HTTP client per event loop

        return asyncio.run(main())

    async def arun(
        self,
        task: Task | str,
        *,
        start_url: str | None = None,
        out_dir: str | Path | None = None,
        env: BrowserEnv | None = None,
        timeout_s: float | None = None,
    ) -> Trajectory:
        """Run one episode. A given `env` is left open (the caller evaluates its final page)."""
        if isinstance(task, str):
            task = Task.adhoc(task, start_url or "about:blank")
        cfg = self.config
        traj = Trajectory(task=task, config=cfg.dump(), mode=cfg.planner.mode)
        ledger = self.ledger.child(cfg.budget)
        cache = (
            ResponseCache(cfg.cache.path, cfg.cache.mode)
            if cfg.cache.path and cfg.cache.mode != "off"
            else None
        )
        own_env = env is None
        env = env or BrowserEnv(cfg.env, host=self.host)
        started = time.perf_counter()
        self._emit("start", 0, traj)
        obs: Observation | None = None
        try:
            planner = self.planner_factory(task, env, ledger, cache)
            async with asyncio.timeout(timeout_s):
                obs = await self._loop(task, env, planner, ledger, traj, out_dir)
        except TimeoutError:
            traj.status, traj.reason = "timeout", f"the episode took longer than {timeout_s} s"
        except BudgetExceeded as exc:
            traj.status, traj.reason = "budget", str(exc)
        except Exception as exc:  # recorded, never lost: the runner scores it as a failure
            traj.status, traj.reason = "error", f"{type(exc).__name__}: {exc}"
            traj.error = traceback.format_exc()
            log.exception("episode %s crashed", task.uid)
        finally:
            if obs is None and env.session is not None:
                try:
                    obs = await env.observe()
                except Exception:
                    obs = None
            if obs is not None:
                traj.final_url, traj.final_title = obs.url, obs.title
                traj.final_screenshot = traj.add_image("final.png", obs.screenshot)
            traj.usage = ledger.snapshot("task")
            traj.ended_at = datetime.now(UTC).isoformat(timespec="seconds")
            traj.duration_s = time.perf_counter() - started
            if cache is not None:
                cache.close()
            if out_dir is not None:
                self._save(traj, out_dir, report=True)
            if own_env:
                await env.close()
            self._emit("end", len(traj.steps), traj)
        return traj

    # ---- the loop ----------------------------------------------------------------------------
    async def _loop(
        self,
        task: Task,
        env: BrowserEnv,
        planner: PlannerLike,
        ledger: Ledger,
        traj: Trajectory,
        out_dir: str | Path | None,
    ) -> Observation:
        cfg = self.config
        obs = await env.reset(task)
        images, problems = await asyncio.to_thread(load_task_images, task)
        if problems:
            log.warning("; ".join(problems))
        history: list[PastAction] = []
        done: list[Action] = []
        urls = UrlMapper(pairs=cfg.url_map) if cfg.url_map else None
        failures = 0
        for t in range(cfg.max_steps):
            ledger.start_step()
            ctx = StepContext(
                task,
                obs,
                list(history),
                cfg.planner.observation_chars,
                images,
                step=t,
                seed=cfg.planner.seed * 100_003 + t,
                urls=urls,
            )
            shot = traj.add_image(f"step_{t:03d}.png", obs.screenshot)
            self._emit("step", t, traj, {"observation": obs})
            t0 = time.perf_counter()
            choice = await planner.choose(ctx)
            action = choice.action
            step = Step(
                index=t,
                url=obs.url,
                title=obs.title,
                observation=obs.text,
                screenshot=shot,
                error_before=obs.error,
                decision=choice.decision,
                action=action.canonical(),
                description=choice.decision.description or action.describe(obs),
                plan_s=time.perf_counter() - t0,
            )
            traj.steps.append(step)
            self._emit("decision", t, traj, {"step": step})
            stop_reason = self._check_rules(action, done)
            if action.kind == Kind.NONE:
                failures += 1
                step.usage = ledger.snapshot("step")
                if failures >= cfg.max_parse_failures:
                    traj.status, traj.reason = (
                        "parse_failures",
                        f"{failures} steps in a row without a valid action",
                    )
                    break
                continue
            failures = 0
            if stop_reason:
                step.usage = ledger.snapshot("step")
                traj.status, traj.reason = "repeated_action", stop_reason
                break
            if self.confirm is not None:
                verdict = await self.confirm(action, obs)
                if verdict is not True:
                    step.vetoed = verdict if isinstance(verdict, str) and verdict else "vetoed by the caller"
                    step.usage = ledger.snapshot("step")
                    traj.status, traj.reason = "vetoed", step.vetoed
                    break
            if self.before_action is not None:  # step-wise evaluators look before every action, stop included
                done_reason = await self.before_action(env, obs, action)
                if done_reason:
                    step.usage = ledger.snapshot("step")
                    traj.status, traj.reason = "finished", done_reason
                    break
            if action.kind == Kind.STOP:
                step.executed = True
                step.usage = ledger.snapshot("step")
                traj.status, traj.reason, traj.answer = "stopped", "the agent issued stop", action.text
                break
            t1 = time.perf_counter()
            obs = await env.step(action)
            step.act_s = time.perf_counter() - t1
            step.executed = True
            step.outcome = Outcome(url=obs.url, title=obs.title, error=obs.error, tabs=len(obs.tabs))
            step.usage = ledger.snapshot("step")
            history.append(PastAction(action.canonical(), step.description, obs.error))
            done.append(action)
            self._emit("outcome", t, traj, {"step": step, "observation": obs})
            if out_dir is not None:
                self._save(traj, out_dir)
        else:
            traj.status, traj.reason = "max_steps", f"reached the limit of {cfg.max_steps} steps"
        return obs

    def _check_rules(self, action: Action, done: list[Action]) -> str | None:
        """WebArena's repeat rule (run.py early_stop): k equivalent actions in a row, or k equivalent
        `type` actions anywhere, with k = max_repeats; returns why the episode must stop."""
        k = self.config.max_repeats
        if action.kind in (Kind.NONE, Kind.STOP) or k <= 0:
            return None
        if action.kind == Kind.TYPE:
            same = sum(1 for a in done if a.equivalent(action))
        else:
            same = 0
            for a in reversed(done):
                if not a.equivalent(action):
                    break
                same += 1
        if same >= k:
            return f"the action {action.canonical()} would run more than {k} times in a row"
        return None

    # ---- models ------------------------------------------------------------------------------
    def _model(self, role: str, ledger: Ledger, cache: ResponseCache | None) -> ChatModel:
        config = self.config.role_model(role)
        if config is None and role not in self.backends:
            config = EMBEDDED
            notice = embedded_notice()
            if notice:
                log.warning(notice)
        config = config or ModelConfig(model=f"scripted-{role}")
        return build_model(config, role=role, ledger=ledger, cache=cache, backend=self.backends.get(role))

    def _webdreamer_planner(
        self, task: Task, env: BrowserEnv, ledger: Ledger, cache: ResponseCache | None
    ) -> Planner:
        return Planner(self._roles(env, ledger, cache), self.config)

    def _roles(self, env: BrowserEnv, ledger: Ledger, cache: ResponseCache | None) -> Roles:
        cfg = self.config
        m = {role: self._model(role, ledger, cache) for role in ROLES}
        world = WorldModel(m["world_model"], cfg.world_model, cfg.role_vision(cfg.world_model))
        return Roles(
            policy=Policy(m["policy"], cfg.policy, env.action_space, cfg.role_vision(cfg.policy)),
            refiner=Refiner(m["refiner"], cfg.refiner, cfg.role_vision(cfg.refiner))
            if cfg.refiner.enabled
            else None,
            world_model=world,
            imagined_policy=ImaginedPolicy(m["imagined_policy"], cfg.imagined_policy, world),
            scorer=Scorer(m["scorer"], cfg.scorer, cfg.role_vision(cfg.scorer)),
        )

    # ---- helpers -----------------------------------------------------------------------------
    def _emit(self, kind: str, step: int, traj: Trajectory, data: dict[str, Any] | None = None) -> None:
        if self.on_event is not None:
            try:
                self.on_event(AgentEvent(kind, step, traj, data or {}))
            except Exception:  # a broken printer must not end the episode
                log.exception("event hook failed")

    @staticmethod
    def _save(traj: Trajectory, out_dir: str | Path, report: bool = False) -> None:
        """Saved after every step (so a killed run keeps its steps); the HTML report at the end."""
        folder = traj.save(out_dir)
        if report:
            (folder / "report.html").write_text(traj.to_html())
