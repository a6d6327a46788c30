"""Where episodes run: in this process (asyncio, default) or on Ray workers.

Both give each episode its own browser context and a "slot" (0..N-1) that the runner turns into a
data instance of the bundled sites, and both hand every result back to the driver, which writes it
into the run folder.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

from envs.env import BrowserHost, EnvConfig
from envs.tasks.model import Task
from eval.episode import EpisodeJob, new_result, run_episode
from eval.results import TaskResult
from webdreamer.models.ledger import Ledger

MakeJob = Callable[[Task, int, int], EpisodeJob]
OnResult = Callable[[TaskResult], None]


async def run_jobs(
    todo: list[tuple[Task, int]],
    make_job: MakeJob,
    on_result: OnResult,
    *,
    concurrency: int,
    executor: str,
    env_config: EnvConfig,
    ray_address: str | None = None,
) -> None:
    if executor == "ray":
        await _run_ray(todo, make_job, on_result, concurrency, env_config, ray_address)
    else:
        await _run_local(todo, make_job, on_result, concurrency, env_config)


async def _run_local(
    todo: list[tuple[Task, int]],
    make_job: MakeJob,
    on_result: OnResult,
    concurrency: int,
    env_config: EnvConfig,
) -> None:
    slots: asyncio.Queue[int] = asyncio.Queue()
    for i in range(concurrency):
        slots.put_nowait(i)
    ledgers: list[Ledger] = []  # one run ledger, made from the first job's prices and budget
    async with BrowserHost(
        env_config.browser_executable, env_config.headless, env_config.sites.host_map
    ) as host:

        async def one(task: Task, repeat: int) -> None:
            slot = await slots.get()
            try:
                job = make_job(task, repeat, slot)
                if not ledgers:
                    ledgers.append(Ledger(job.config.prices, job.config.budget))
                result = await run_episode(job, host, run_ledger=ledgers[0])
            finally:
                slots.put_nowait(slot)
            on_result(result)

        await asyncio.gather(*(one(t, r) for t, r in todo))


def _ray_episode(job_json: str) -> str:
    """Runs inside a Ray worker: its own browser, one episode, the result back as JSON."""
    job = EpisodeJob.model_validate_json(job_json)

    async def go() -> TaskResult:
        env = job.config.env
        async with BrowserHost(env.browser_executable, env.headless, env.sites.host_map) as host:
            return await run_episode(job, host)

    return asyncio.run(go()).model_dump_json()


async def _run_ray(
    todo: list[tuple[Task, int]],
    make_job: MakeJob,
    on_result: OnResult,
    concurrency: int,
    env_config: EnvConfig,
    address: str | None,
) -> None:
    try:
        import ray
    except ImportError as exc:
        raise RuntimeError("the Ray executor needs ray: pip install 'webdreamer[ray]'") from exc
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # no token file or warning for a local instance
    started_here = not ray.is_initialized()
    if started_here:
        kwargs: dict[str, Any] = {"logging_level": "warning", "log_to_driver": False}
        if address:
            kwargs["address"] = address
        else:
            kwargs["num_cpus"] = max(2, concurrency)
        ray.init(**kwargs)
    remote = ray.remote(num_cpus=1, max_retries=0)(_ray_episode)
    free = list(range(concurrency))
    pending: dict[object, tuple[int, EpisodeJob]] = {}
    queue = list(todo)
    try:
        while queue or pending:
            while queue and free:
                task, repeat = queue.pop(0)
                slot = free.pop(0)
                job = make_job(task, repeat, slot)
                pending[remote.remote(job.model_dump_json())] = (slot, job)
            done, _ = await asyncio.to_thread(ray.wait, list(pending), num_returns=1)
            for ref in done:
                slot, job = pending.pop(ref)
                free.append(slot)
                try:
                    result = TaskResult.model_validate_json(await asyncio.to_thread(ray.get, ref))
                except Exception as exc:  # the worker died: recorded as a crash, never lost
                    result = crashed_result(job, f"the Ray worker failed: {type(exc).__name__}: {exc}")
                on_result(result)
    finally:
        if started_here:
            ray.shutdown()


def crashed_result(job: EpisodeJob, error: str) -> TaskResult:
    return new_result(job, status="crashed", crashed=True, error=error)
