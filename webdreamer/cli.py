"""The `webdreamer` command.

    webdreamer run "INTENT" --start-url URL [--config FILE] [--model M] [--base-url U] ...
    webdreamer observe URL [--som] [--json]
    webdreamer sites serve
    webdreamer tasks validate FILE...
    webdreamer report DIR

`eval` and `demo` come from the evaluation harness, which registers them as plugins (entry point
group `webdreamer.commands`), so this layer never imports the one above it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from webdreamer.config import AgentConfig, deep_merge, embedded_profile, uses_embedded

Handler = Any  # argparse sub-command handler: (args) -> int


def _parse_value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def agent_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The flags every agent-running command shares, as a nested config override."""
    out: dict[str, Any] = {}
    model: dict[str, Any] = {}
    if getattr(args, "model", None):
        model["model"] = args.model
    if getattr(args, "base_url", None):
        model["base_url"] = args.base_url
    if getattr(args, "api_key", None):
        model["api_key"] = args.api_key
    if model:
        out["model"] = model
    if getattr(args, "mode", None):
        out["planner"] = {"mode": args.mode}
    if getattr(args, "max_steps", None):
        out["max_steps"] = args.max_steps
    if getattr(args, "vision", False):  # multimodal models see Set-of-Marks screenshots, as in VWA
        out["vision"] = True
        out.setdefault("env", {}).setdefault("observation", {})["som"] = True
    if getattr(args, "headed", False):
        out.setdefault("env", {})["headless"] = False
    if getattr(args, "cache", None):
        out["cache"] = {"path": args.cache}
    for item in getattr(args, "set", None) or []:
        key, sep, raw = item.partition("=")
        if not sep:
            raise SystemExit(f"--set wants KEY=VALUE (e.g. planner.mode=reactive), got {item!r}")
        node: dict[str, Any] = {}
        parts = key.split(".")
        cursor = node
        for part in parts[:-1]:
            cursor = cursor.setdefault(part, {})
        cursor[parts[-1]] = _parse_value(raw)
        deep_merge(out, node)
    return out


def add_agent_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="a TOML or YAML config file (see README)")
    p.add_argument("--model", help="model name for every role (e.g. gpt-4o)")
    p.add_argument("--base-url", help="OpenAI-compatible endpoint (vLLM, SGLang, Ollama, ...)")
    p.add_argument("--api-key", help="API key (else $OPENAI_API_KEY)")
    p.add_argument("--mode", choices=["webdreamer", "reactive", "rerank"], help="planner mode")
    p.add_argument("--max-steps", type=int)
    p.add_argument("--vision", action="store_true", help="the models read screenshots")
    p.add_argument("--headed", action="store_true", help="show the browser window (needs a display)")
    p.add_argument("--cache", help="SQLite response cache file")
    p.add_argument(
        "--set", action="append", metavar="KEY=VALUE", help="any config value, e.g. world_model.horizon=2"
    )


def load_config(args: argparse.Namespace) -> AgentConfig:
    return AgentConfig.load(getattr(args, "config", None), agent_overrides(args))


# ---- commands --------------------------------------------------------------------------------
def cmd_run(args: argparse.Namespace) -> int:
    from envs.tasks.model import Task
    from webdreamer.agent import Agent
    from webdreamer.live import LivePrinter

    config = load_config(args)
    if uses_embedded(config):  # a CPU stand-in: keep an episode to minutes
        config = embedded_profile(config)
    out = Path(args.out) if args.out else Path("runs") / "run-latest"
    agent = Agent(config, on_event=LivePrinter(verbose=args.verbose))
    task = Task.adhoc(args.intent, args.start_url)
    traj = agent.run(task, out_dir=out, timeout_s=args.timeout)
    print(f"\ntrajectory: {out / 'trajectory.json'}\nreport:     {out / 'report.html'}")
    return 0 if traj.status != "error" else 1


def cmd_observe(args: argparse.Namespace) -> int:
    from envs.env import BrowserEnv, EnvConfig
    from envs.observation import Observation
    from envs.tasks.model import Task

    async def go() -> Observation:
        cfg = EnvConfig()
        cfg.observation.som = args.som
        cfg.observation.screenshot = bool(args.screenshot)
        cfg.observation.text.max_chars = args.budget
        cfg.observation.text.include_urls = args.urls
        if args.host_map:
            cfg.sites.host_map = dict(item.split("=", 1) for item in args.host_map)
        async with BrowserEnv(cfg) as env:
            return await env.reset(Task.adhoc("observe", args.url))

    obs = asyncio.run(go())
    if args.screenshot and obs.screenshot:
        Path(args.screenshot).write_bytes(obs.som.image if (args.som and obs.som) else obs.screenshot)
    if args.json:
        data = obs.model_dump(mode="json", exclude={"screenshot"})
        if obs.som is not None:
            data["som"] = {"lines": obs.som.lines, "ids": obs.som.ids}
        print(json.dumps(data, indent=1))
    else:
        print(obs.text)
        if args.som and obs.som is not None:
            print("\n# Set-of-Marks elements\n" + obs.som.lines)
        if obs.error:
            print(f"\n# error: {obs.error}", file=sys.stderr)
    return 0


def cmd_sites_serve(args: argparse.Namespace) -> int:
    from envs.sites.__main__ import main as serve

    extra = ["--json"] if args.json else []
    for item in args.port or []:
        extra += ["--port", item]
    return serve(extra)


def cmd_tasks_validate(args: argparse.Namespace) -> int:
    from collections import Counter

    from envs.tasks import TaskFormatError, load_tasks

    sites = dict(item.split("=", 1) for item in args.site or []) or None
    mapping = None
    if sites is not None:
        from envs.sitemap import SiteMap

        mapping = SiteMap.from_env(sites)
    counts: Counter[str] = Counter()
    bad = 0
    for f in args.files:
        try:
            tasks = load_tasks(f, sites=mapping)
        except TaskFormatError as exc:
            print(f"error: {exc}", file=sys.stderr)
            bad += 1
            continue
        fmt = tasks[0].format
        counts[fmt] += len(tasks)
        unresolved = sorted({p for t in tasks for p in t.unresolved})
        note = (
            f" (unresolved placeholders: {', '.join(unresolved)}; set them with --site NAME=URL or env vars)"
            if unresolved
            else ""
        )
        with_solution = sum(1 for t in tasks if t.reference_solution)
        sol = f", {with_solution} with reference solutions" if with_solution else ""
        print(f"{f}: {len(tasks)} {fmt} tasks{sol}{note}")
    for name, n in sorted(counts.items()):
        print(f"total {name}: {n}")
    return 1 if bad else 0


def cmd_report(args: argparse.Namespace) -> int:
    from webdreamer.records import TRAJECTORY_FILE, Trajectory

    folder = Path(args.dir)
    if (folder / TRAJECTORY_FILE).exists():
        traj = Trajectory.load(folder)
        out = folder / "report.html"
        out.write_text(traj.to_html())
        print(out)
        return 0
    handler = _PLUGIN_HANDLERS.get("report")
    if handler is not None:
        return int(handler(args))
    print(f"{folder} holds no {TRAJECTORY_FILE} (and no run results)", file=sys.stderr)
    return 1


# ---- wiring ----------------------------------------------------------------------------------
_PLUGIN_HANDLERS: dict[str, Handler] = {}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="webdreamer", description="Web agents that think before they click."
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="run the agent on one task and print each step live")
    p.add_argument("intent")
    p.add_argument("--start-url", required=True)
    p.add_argument("--out", help="folder for the trajectory and report (default runs/run-latest)")
    p.add_argument("--timeout", type=float, help="seconds before the episode is ended")
    add_agent_flags(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("observe", help="print the observation of any page")
    p.add_argument("url")
    p.add_argument("--som", action="store_true", help="also the Set-of-Marks element list")
    p.add_argument("--json", action="store_true", help="the whole Observation as JSON")
    p.add_argument("--screenshot", help="write the screenshot (with marks if --som) to this PNG file")
    p.add_argument("--budget", type=int, help="text size budget in characters")
    p.add_argument("--urls", action="store_true", help="show link targets")
    p.add_argument(
        "--host-map", action="append", metavar="HOST=IP", help="resolve a host name, e.g. shop.test=127.0.0.1"
    )
    p.set_defaults(func=cmd_observe)

    sites = sub.add_parser("sites", help="the bundled websites").add_subparsers(
        dest="sites_command", required=True
    )
    p = sites.add_parser("serve", help="serve the bundled sites and print their URLs")
    p.add_argument("--port", action="append", metavar="SITE=PORT")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sites_serve)

    tasks = sub.add_parser("tasks", help="task files").add_subparsers(dest="tasks_command", required=True)
    p = tasks.add_parser("validate", help="load task files of any supported format and count them")
    p.add_argument("files", nargs="+")
    p.add_argument(
        "--site", action="append", metavar="NAME=URL", help="a site URL, e.g. shopping=http://host:7770"
    )
    p.set_defaults(func=cmd_tasks_validate)

    p = sub.add_parser("report", help="re-render the HTML report of a trajectory (or a run) folder")
    p.add_argument("dir")
    p.set_defaults(func=cmd_report)

    for ep in entry_points(group="webdreamer.commands"):
        try:
            register = ep.load()
        except Exception as exc:  # a broken plugin must not take the core commands down
            logging.getLogger("webdreamer").warning("command plugin %s failed to load: %s", ep.name, exc)
            continue
        register(sub, _PLUGIN_HANDLERS)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
