"""The episode runner: tasks x an agent -> a run folder of scored results.

N episodes run at once, each in its own browser context (and, on the bundled sites, its own data
instance); each result is written atomically as soon as it is scored. `resume` skips what is
already there, so a run killed at any moment (even `kill -9`) and resumed scores every task
exactly once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Literal

from pydantic import BaseModel, Field

from envs.bundled import LOCAL_M2W_LIVE_TASKS, LOCAL_VWA_TASKS, bundled_site_map
from envs.sitemap import SiteMap
from envs.sites.launcher import RunningSites, start_sites
from envs.tasks import load_tasks
from envs.tasks.model import Task
from envs.urlmap import UrlMapper
from eval.episode import BENCHMARKS, EpisodeJob
from eval.executors import run_jobs
from eval.progress import Progress
from eval.report import Summary, summarize, write_reports
from eval.results import RunFolder, RunManifest, TaskResult
from webdreamer.config import AgentConfig
from webdreamer.models.config import ModelConfig


class RunOptions(BaseModel):
    benchmark: Literal["local", "webarena", "vwa", "mind2web-live", "online-mind2web"] = "local"
    agent: str = "webdreamer"
    task_files: list[str] = Field(default_factory=list)  # empty with `local`: the bundled task files
    out: str = "runs/eval"
    concurrency: int = Field(default=1, ge=1)
    repeats: int = Field(default=1, ge=1)
    seed: int = 0
    timeout_s: float | None = 600.0
    executor: Literal["local", "ray"] = "local"
    ray_address: str | None = None
    resume: bool = False
    judge: ModelConfig | None = None
    sites: dict[str, str] = Field(default_factory=dict)  # site name -> URL (real benchmarks)
    replay_from: str | None = None
    task_ids: list[str] = Field(default_factory=list)  # run only these (task id or uid)
    limit: int | None = None
    nav_sleep_s: float = 3.0
    url_mapping: bool = True  # show WebArena's public-looking site names in prompts (webarena/vwa)
    progress: bool = True


class RunError(RuntimeError):
    """The run cannot start (bad task file, unreachable site, a folder holding another run)."""


@contextlib.contextmanager
def benchmark_sites(options: RunOptions) -> Iterator[tuple[SiteMap, RunningSites | None]]:
    """The bundled sites for `local` (started here); the configured URLs for the real benchmarks."""
    if options.benchmark == "local":
        with start_sites() as sites:
            yield bundled_site_map(sites), sites
    else:
        yield SiteMap.from_env(options.sites, prefix="WA_" if options.benchmark == "webarena" else ""), None


def load_run_tasks(options: RunOptions, site_map: SiteMap) -> list[Task]:
    files = options.task_files or (
        [str(LOCAL_VWA_TASKS), str(LOCAL_M2W_LIVE_TASKS)] if options.benchmark == "local" else []
    )
    if not files:
        raise RunError(f"--tasks is required for the {options.benchmark} benchmark")
    fmt = {
        "webarena": "webarena",
        "vwa": "vwa",
        "mind2web-live": "mind2web-live",
        "online-mind2web": "online-mind2web",
    }
    tasks: list[Task] = []
    for f in files:
        try:
            tasks += load_tasks(f, sites=site_map, format=fmt.get(options.benchmark))  # type: ignore[arg-type]
        except Exception as exc:
            raise RunError(str(exc)) from exc
    if options.task_ids:
        wanted = set(options.task_ids)
        tasks = [t for t in tasks if t.id in wanted or t.uid in wanted]
    if options.limit is not None:
        tasks = tasks[: options.limit]
    uids = [t.uid for t in tasks]
    if len(set(uids)) != len(uids):
        raise RunError("two task files give the same task uid; rename one of the files")
    missing = sorted({p for t in tasks for p in t.unresolved})
    if missing:
        raise RunError(
            f"no URL for {', '.join(missing)}: pass --site NAME=URL (e.g. shopping=http://host:7770) "
            "or set the environment variables the original harness uses (SHOPPING=..., REDDIT=...)"
        )
    return tasks


def check_sites(site_map: SiteMap, tasks: list[Task]) -> None:
    """Fail before the first episode if a configured site the tasks need does not answer."""
    import urllib.error
    import urllib.request

    for name in sorted({s for t in tasks for s in t.sites}):
        site = site_map.sites.get(name)
        if site is None:
            continue
        try:
            with urllib.request.urlopen(site.url, timeout=10) as resp:
                resp.read(64)
        except urllib.error.HTTPError:
            continue  # it answered, even if with an error page
        except OSError as exc:
            raise RunError(
                f"site {name} at {site.url} is unreachable ({exc}); start it or fix --site {name}=URL"
            ) from exc


def _manifest(options: RunOptions, config: AgentConfig, tasks: list[Task], files: list[str]) -> RunManifest:
    return RunManifest(
        benchmark=options.benchmark,
        agent=options.agent,
        task_files=files,
        tasks=[t.uid for t in tasks],
        repeats=options.repeats,
        seed=options.seed,
        concurrency=options.concurrency,
        executor=options.executor,
        timeout_s=options.timeout_s,
        config=config.dump(),
    )


async def run_eval(options: RunOptions, config: AgentConfig) -> tuple[Summary, list[TaskResult]]:
    """Run (or resume) an evaluation and write its reports; returns the summary and all results."""
    folder = RunFolder(options.out)
    with benchmark_sites(options) as (site_map, _sites):
        tasks = load_run_tasks(options, site_map)
        if _sites is None:  # the bundled sites were just started here
            check_sites(site_map, tasks)
        existing = folder.read_manifest()
        if existing is not None and not options.resume and any(folder.results_dir.glob("*.json")):
            raise RunError(
                f"{folder.root} already holds results of a run; pass --resume to continue it or use another --out"
            )
        folder.prepare()
        if existing is None or not options.resume:
            folder.write_manifest(_manifest(options, config, tasks, options.task_files))
        todo = [(t, r) for r in range(options.repeats) for t in tasks if not folder.has_result(t.uid, r)]
        base_env = config.env.model_copy(deep=True)
        base_env.sites = site_map
        if options.benchmark in ("webarena", "vwa") and options.url_mapping and not config.url_map:
            config = config.model_copy(update={"url_map": UrlMapper.for_sites(site_map).pairs})

        def make_job(task: Task, repeat: int, slot: int) -> EpisodeJob:
            cfg = config.model_copy(deep=True)
            cfg.env = base_env.model_copy(deep=True)
            if options.benchmark == "local" and _sites is not None:
                cfg.env.sites = bundled_site_map(_sites, instance=str(slot))
            return EpisodeJob(
                task=task,
                repeat=repeat,
                seed=options.seed + repeat,
                benchmark=options.benchmark,
                agent=options.agent,
                config=cfg,
                run_dir=str(folder.root),
                timeout_s=options.timeout_s,
                judge=options.judge,
                replay_from=options.replay_from,
                nav_sleep_s=options.nav_sleep_s,
            )

        done = len(tasks) * options.repeats - len(todo)
        progress = Progress(total=len(tasks) * options.repeats, already=done, enabled=options.progress)
        prior = folder.results()
        progress.seed(prior)

        def on_result(result: TaskResult) -> None:
            folder.write_result(result)
            progress.update(result)

        with progress:
            await run_jobs(
                todo,
                make_job,
                on_result,
                concurrency=options.concurrency,
                executor=options.executor,
                ray_address=options.ray_address,
                env_config=base_env,
            )
    results = [r for r in folder.results() if r.uid in {t.uid for t in tasks}]
    manifest = folder.read_manifest()
    summary = summarize(results, manifest)
    write_reports(folder, summary, results)
    return summary, results


__all__ = ["BENCHMARKS", "RunError", "RunOptions", "run_eval"]
