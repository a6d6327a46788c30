"""`webdreamer eval` and `webdreamer demo`, registered into the core CLI as plugins (entry point
group `webdreamer.commands`), so the agent layer never imports the harness."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from eval.agents import AGENT_NAMES
from eval.episode import BENCHMARKS
from eval.report import Summary, _pct, _rate_cell
from webdreamer.cli import add_agent_flags, load_config
from webdreamer.models.config import ModelConfig


def register(sub: Any, handlers: dict[str, Any]) -> None:
    p = sub.add_parser("eval", help="run an agent over benchmark tasks and score it as the benchmark does")
    p.add_argument("--benchmark", choices=BENCHMARKS, required=True)
    p.add_argument(
        "--tasks",
        nargs="+",
        default=[],
        metavar="FILE",
        help="task files (default for local: the bundled tasks)",
    )
    p.add_argument(
        "--site",
        action="append",
        default=[],
        metavar="NAME=URL",
        help="a site's URL, e.g. shopping=http://host:7770",
    )
    p.add_argument("--agent", choices=AGENT_NAMES, default="webdreamer")
    p.add_argument(
        "--concurrency", type=int, default=1, help="episodes at once (each its own browser context)"
    )
    p.add_argument("--executor", choices=["local", "ray"], default="local")
    p.add_argument("--address", help="Ray cluster address (default: start a local Ray instance)")
    p.add_argument("--repeats", type=int, default=1, help="run every task K times (seeds seed..seed+K-1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue a run folder, skipping finished tasks")
    p.add_argument("--out", required=True, help="the run folder")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds per episode")
    p.add_argument("--judge-model", help="model for judged checks (fuzzy match, semantic nodes, WebJudge)")
    p.add_argument("--judge-base-url")
    p.add_argument("--replay-from", help="with --agent replay: a run folder whose trajectories to re-execute")
    p.add_argument(
        "--task-id", action="append", default=[], help="run only this task (id or uid); repeatable"
    )
    p.add_argument("--limit", type=int, help="run only the first N tasks")
    p.add_argument("--no-progress", action="store_true")
    add_agent_flags(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("demo", help="run the agent on a bundled task, live, score it and write the report")
    p.add_argument("--task-id", help="a task of the bundled VWA-format suite (default: a short shop task)")
    p.add_argument("--out", default="runs/demo", help="folder for the trajectory and report")
    p.add_argument("--timeout", type=float, default=270.0, help="seconds before the episode is ended")
    add_agent_flags(p)
    p.set_defaults(func=cmd_demo)

    handlers["report"] = cmd_report_run


def _judge(args: argparse.Namespace) -> ModelConfig | None:
    if not args.judge_model:
        return None
    return ModelConfig(model=args.judge_model, base_url=args.judge_base_url)


def cmd_eval(args: argparse.Namespace) -> int:
    from eval.runner import RunError, RunOptions, run_eval

    sites = {}
    for item in args.site:
        name, sep, url = item.partition("=")
        if not sep:
            raise SystemExit(f"--site wants NAME=URL, got {item!r}")
        sites[name] = url
    options = RunOptions(
        benchmark=args.benchmark,
        agent=args.agent,
        task_files=args.tasks,
        out=args.out,
        concurrency=args.concurrency,
        repeats=args.repeats,
        seed=args.seed,
        timeout_s=args.timeout,
        executor=args.executor,
        ray_address=args.address,
        resume=args.resume,
        judge=_judge(args),
        sites=sites,
        replay_from=args.replay_from,
        task_ids=args.task_id,
        limit=args.limit,
        progress=not args.no_progress,
    )
    config = load_config(args)
    try:
        summary, _ = asyncio.run(run_eval(options, config))
    except RunError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print_summary(summary)
    print(f"\nrun folder: {args.out}  (report.md, report.html, results.jsonl)")
    return 0


def print_summary(s: Summary, console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title=f"{s.benchmark} / {s.agent}: {s.tasks} tasks x {s.repeats} repeats")
    table.add_column("group")
    table.add_column("tasks", justify="right")
    table.add_column("passed", justify="right")
    table.add_column("success (95% CI)")
    table.add_row("[bold]all", str(s.success.tasks), str(s.success.passed), f"[bold]{_rate_cell(s.success)}")
    for title, groups in (
        ("site", s.by_site),
        ("difficulty", s.by_difficulty),
        ("evaluator", s.by_evaluator),
    ):
        for name, rate in groups.items():
            table.add_row(f"{title}: {name}", str(rate.tasks), str(rate.passed), _rate_cell(rate))
    console.print(table)
    console.print(
        f"original harness rate (crashes left out): {_pct(s.original_harness_rate)}; crashed: {s.crashed}; "
        f"per task {s.mean_steps:.1f} steps, {s.mean_duration_s:.1f} s, ${s.mean_cost_usd:.4f}"
    )


def cmd_demo(args: argparse.Namespace) -> int:
    from eval.demo import run_demo

    return asyncio.run(run_demo(args, load_config(args)))


def cmd_report_run(args: argparse.Namespace) -> int:
    from eval.report import summarize, write_reports
    from eval.results import RunFolder

    folder = RunFolder(args.dir)
    results = folder.results()
    if not results:
        print(f"{folder.root} holds no run results", file=sys.stderr)
        return 1
    summary = summarize(results, folder.read_manifest())
    write_reports(folder, summary, results)
    print_summary(summary)
    print(Path(args.dir) / "report.html")
    return 0
