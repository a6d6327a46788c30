"""`webdreamer demo`: the whole job on the embedded defaults.

Starts the bundled sites, runs the agent on a bundled task with the configured model (or the
embedded one), prints each step live, scores the episode with the task's own evaluator, writes the
HTML report and prints its path.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from envs.bundled import LOCAL_VWA_TASKS, bundled_site_map
from envs.env import BrowserHost
from envs.sites.launcher import start_sites
from envs.tasks import load_tasks
from eval.episode import EpisodeJob, run_episode
from eval.results import RunFolder
from webdreamer.agent import embedded_notice
from webdreamer.config import AgentConfig, embedded_profile, uses_embedded
from webdreamer.live import LivePrinter

DEFAULT_TASK = "8"  # "Search the shop for bluetooth speakers." (url_match, two actions)


async def run_demo(args: argparse.Namespace, config: AgentConfig) -> int:
    console = Console()
    started = time.perf_counter()
    if uses_embedded(config):
        notice = embedded_notice()
        if notice:
            console.print(escape(notice), style="yellow")
        config = embedded_profile(config)
    with start_sites() as sites:
        site_map = bundled_site_map(sites)
        tasks = {t.id: t for t in load_tasks(LOCAL_VWA_TASKS, sites=site_map)}
        task_id = args.task_id or DEFAULT_TASK
        if task_id not in tasks:
            console.print(f"[red]no bundled task {task_id!r}; choose from {', '.join(tasks)}[/red]")
            return 2
        task = tasks[task_id]
        config.env.sites = site_map
        folder = RunFolder(args.out)
        folder.prepare()
        job = EpisodeJob(
            task=task,
            benchmark="local",
            agent="webdreamer",
            config=config,
            run_dir=str(folder.root),
            timeout_s=args.timeout,
            nav_sleep_s=0.5,
        )
        console.print(f"sites: {', '.join(sites.urls.values())}")
        async with BrowserHost(config.env.browser_executable, config.env.headless, site_map.host_map) as host:
            result = await run_episode(job, host, on_event=LivePrinter(console))
    verdict = (
        "[green]PASS[/green]"
        if result.passed
        else ("[red]CRASH[/red]" if result.crashed else "[red]FAIL[/red]")
    )
    console.rule("evaluation")
    console.print(
        f"task {task.uid}: {verdict} (score {result.score:.2f}, evaluator: {', '.join(result.eval_types)})"
    )
    for reason in result.evaluation.get("reasons", [])[:5]:
        console.print(f"  - {reason}")
    if result.error:
        console.print(f"[red]{result.error.splitlines()[0]}[/red]")
    report = Path(folder.root) / result.trajectory / "report.html"
    folder.write_result(result)
    console.print(f"\nreport: {report.resolve()}")
    console.print(f"demo finished in {time.perf_counter() - started:.0f} s")
    return 0
