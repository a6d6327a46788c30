"""Run summaries: success by site, difficulty and evaluator; cost, steps and time per task; repeats
with 95% bootstrap confidence intervals (a few hundred tasks move by several points run to run);
and the rate the original harness would report (it left crashed episodes out).
"""

from __future__ import annotations

import html
import random
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel, Field

from eval.evaluators import LiveTaskOutcome, mind2web_live_metrics
from eval.results import RunFolder, RunManifest, TaskResult
from webdreamer.records import atomic_write

BOOTSTRAP_SAMPLES = 2000


class Rate(BaseModel):
    tasks: int
    episodes: int
    passed: int
    rate: float
    ci_low: float | None = None
    ci_high: float | None = None


class Summary(BaseModel):
    benchmark: str
    agent: str
    tasks: int
    repeats: int
    episodes: int
    success: Rate
    original_harness_rate: float | None  # crashed episodes left out, as run.py's average does
    scored_episodes: int
    crashed: int
    per_repeat: list[float] = Field(default_factory=list)
    by_site: dict[str, Rate] = Field(default_factory=dict)
    by_difficulty: dict[str, Rate] = Field(default_factory=dict)
    by_evaluator: dict[str, Rate] = Field(default_factory=dict)
    by_task_type: dict[str, Rate] = Field(default_factory=dict)
    by_status: dict[str, int] = Field(default_factory=dict)
    mean_steps: float = 0.0
    mean_duration_s: float = 0.0
    mean_cost_usd: float = 0.0
    total_cost_usd: float = 0.0
    total_calls: int = 0
    mind2web_live: dict[str, Any] | None = None


def bootstrap_ci(
    per_task: list[float], samples: int = BOOTSTRAP_SAMPLES, seed: int = 0
) -> tuple[float, float] | None:
    """95% percentile interval of the mean over tasks (each task: its mean over repeats)."""
    if len(per_task) < 2:
        return None
    rng = random.Random(seed)
    n = len(per_task)
    means = sorted(sum(rng.choice(per_task) for _ in range(n)) / n for _ in range(samples))
    return means[int(0.025 * samples)], means[min(samples - 1, int(0.975 * samples))]


def _rate(results: list[TaskResult], with_ci: bool = True) -> Rate:
    by_task: dict[str, list[float]] = defaultdict(list)
    for r in results:
        by_task[r.uid].append(1.0 if r.passed else 0.0)
    per_task = [sum(v) / len(v) for v in by_task.values()]
    rate = sum(per_task) / len(per_task) if per_task else 0.0
    ci = bootstrap_ci(per_task) if with_ci else None
    return Rate(
        tasks=len(by_task),
        episodes=len(results),
        passed=sum(r.passed for r in results),
        rate=rate,
        ci_low=ci[0] if ci else None,
        ci_high=ci[1] if ci else None,
    )


def _group(results: list[TaskResult], keys: Callable[[TaskResult], Iterable[str]]) -> dict[str, Rate]:
    groups: dict[str, list[TaskResult]] = defaultdict(list)
    for r in results:
        for k in keys(r):
            groups[k].append(r)
    return {k: _rate(v) for k, v in sorted(groups.items())}


def task_type(r: TaskResult) -> str:
    """VWA's breakdown (`scripts/calc_breakdown_sr.py`): string_match only = info seeking, url_match
    only = navigation, anything else = content/configuration."""
    if r.eval_types == ["string_match"]:
        return "info_seeking"
    if r.eval_types == ["url_match"]:
        return "site_nav"
    return "content_config" if r.eval_types else "other"


def summarize(results: list[TaskResult], manifest: RunManifest | None) -> Summary:
    scored = [r for r in results if not r.crashed]
    repeats = sorted({r.repeat for r in results})
    per_repeat = []
    for k in repeats:
        rs = [r for r in results if r.repeat == k]
        per_repeat.append(sum(r.passed for r in rs) / len(rs) if rs else 0.0)
    by_status: dict[str, int] = defaultdict(int)
    for r in results:
        by_status[r.status] += 1
    n = len(results) or 1
    live = None
    live_results = [r for r in results if r.evaluation.get("n_nodes")]
    if live_results:
        outcomes = [
            LiveTaskOutcome(
                status=r.evaluation["status"],
                steps=int(r.evaluation["steps"]),
                score=float(r.evaluation["score"]),
                n_nodes=int(r.evaluation["n_nodes"]),
            )
            for r in live_results
        ]
        live = mind2web_live_metrics(outcomes, sum(r.cost_usd for r in live_results)).model_dump()
    return Summary(
        benchmark=manifest.benchmark if manifest else (results[0].benchmark if results else ""),
        agent=manifest.agent if manifest else (results[0].agent if results else ""),
        tasks=len({r.uid for r in results}),
        repeats=len(repeats),
        episodes=len(results),
        success=_rate(results),
        original_harness_rate=(sum(r.passed for r in scored) / len(scored)) if scored else None,
        scored_episodes=len(scored),
        crashed=len(results) - len(scored),
        per_repeat=per_repeat,
        by_site=_group(results, lambda r: r.sites or ["(none)"]),
        by_difficulty=_group(results, lambda r: [r.difficulty or "(none)"]),
        by_evaluator=_group(results, lambda r: ["+".join(r.eval_types) or _live_or_judge(r)]),
        by_task_type=_group(results, lambda r: [task_type(r)]),
        by_status=dict(sorted(by_status.items())),
        mean_steps=sum(r.steps for r in results) / n,
        mean_duration_s=sum(r.duration_s for r in results) / n,
        mean_cost_usd=sum(r.cost_usd for r in results) / n,
        total_cost_usd=sum(r.cost_usd for r in results),
        total_calls=sum(r.calls for r in results),
        mind2web_live=live,
    )


def _live_or_judge(r: TaskResult) -> str:
    if r.evaluation.get("n_nodes"):
        return "mind2web_live_key_nodes"
    if "label" in r.evaluation:
        return "webjudge"
    return "(none)"


def _why(r: TaskResult, n: int) -> str:
    """Why an episode did not pass: the evaluator's first reasons, else the error's first line."""
    if r.passed:
        return ""
    reasons = r.evaluation.get("reasons") or []
    if reasons:
        return "; ".join(str(x) for x in reasons[:n])
    return (r.error or r.reason or "").split("\n", 1)[0]


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _rate_cell(rate: Rate) -> str:
    ci = f" [{_pct(rate.ci_low)}, {_pct(rate.ci_high)}]" if rate.ci_low is not None else ""
    return f"{_pct(rate.rate)}{ci}"


def _table(title: str, groups: dict[str, Rate]) -> list[str]:
    lines = [
        f"### {title}",
        "",
        "| group | tasks | episodes | passed | success (95% CI) |",
        "|---|---:|---:|---:|---|",
    ]
    lines += [f"| {k} | {v.tasks} | {v.episodes} | {v.passed} | {_rate_cell(v)} |" for k, v in groups.items()]
    return [*lines, ""]


def to_markdown(s: Summary, results: list[TaskResult]) -> str:
    lines = [
        f"# {s.benchmark} / {s.agent}",
        "",
        f"- tasks: {s.tasks}, repeats: {s.repeats}, episodes: {s.episodes}",
        f"- **success rate: {_rate_cell(s.success)}** (crashes count as failures)",
        f"- original harness rate: {_pct(s.original_harness_rate)} over {s.scored_episodes} scored episodes "
        f"({s.crashed} crashed episodes left out, as the original run.py does)",
    ]
    if len(s.per_repeat) > 1:
        lines.append(f"- per repeat: {', '.join(_pct(x) for x in s.per_repeat)}")
    lines += [
        f"- per task: {s.mean_steps:.1f} steps, {s.mean_duration_s:.1f} s, ${s.mean_cost_usd:.4f}; "
        f"total ${s.total_cost_usd:.4f}, {s.total_calls} model calls",
        f"- end states: {', '.join(f'{k} {v}' for k, v in s.by_status.items())}",
        "",
    ]
    if s.mind2web_live:
        lines += (
            ["### Mind2Web-Live metrics", ""] + [f"- {k}: {v}" for k, v in s.mind2web_live.items()] + [""]
        )
    lines += _table("By site", s.by_site) + _table("By difficulty", s.by_difficulty)
    lines += _table("By evaluator", s.by_evaluator) + _table("By task type", s.by_task_type)
    lines += [
        "### Tasks",
        "",
        "| task | rep | result | status | steps | time | cost | why |",
        "|---|---:|---|---|---:|---:|---:|---|",
    ]
    for r in sorted(results, key=lambda r: (r.uid, r.repeat)):
        mark = "PASS" if r.passed else ("CRASH" if r.crashed else "FAIL")
        why = _why(r, 2).replace("|", "/")[:160]
        lines.append(
            f"| [{r.uid}]({r.trajectory}/report.html) | {r.repeat} | {mark} | {r.status} | {r.steps} | "
            f"{r.duration_s:.1f} s | ${r.cost_usd:.4f} | {why} |"
        )
    return "\n".join(lines) + "\n"


def to_html(s: Summary, results: list[TaskResult]) -> str:
    e = html.escape

    def table(title: str, groups: dict[str, Rate]) -> str:
        rows = "".join(
            f"<tr><td>{e(k)}</td><td>{v.tasks}</td><td>{v.episodes}</td><td>{v.passed}</td>"
            f"<td>{e(_rate_cell(v))}</td></tr>"
            for k, v in groups.items()
        )
        return (
            f"<h3>{e(title)}</h3><table><tr><th>group</th><th>tasks</th><th>episodes</th><th>passed</th>"
            f"<th>success (95% CI)</th></tr>{rows}</table>"
        )

    task_rows = []
    for r in sorted(results, key=lambda r: (r.uid, r.repeat)):
        cls = "pass" if r.passed else ("crash" if r.crashed else "fail")
        why = _why(r, 3)[:300]
        task_rows.append(
            f"<tr class='{cls}'><td><a href='{e(r.trajectory)}/report.html'>{e(r.uid)}</a></td><td>{r.repeat}</td>"
            f"<td>{cls.upper()}</td><td>{e(r.status)}</td><td>{r.steps}</td><td>{r.duration_s:.1f} s</td>"
            f"<td>${r.cost_usd:.4f}</td><td>{e(why)}</td></tr>"
        )
    live = ""
    if s.mind2web_live:
        live = (
            "<h3>Mind2Web-Live metrics</h3><ul>"
            + "".join(f"<li>{e(k)}: {e(str(v))}</li>" for k, v in s.mind2web_live.items())
            + "</ul>"
        )
    css = (
        "body{font:14px system-ui,sans-serif;margin:24px;color:#1d2330}table{border-collapse:collapse;margin:8px 0 18px}"
        "td,th{border-bottom:1px solid #dde;padding:4px 8px;text-align:left}tr.pass td:nth-child(3){color:#067647}"
        "tr.fail td:nth-child(3){color:#b42318}tr.crash td:nth-child(3){color:#b54708}"
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{e(s.benchmark)} / {e(s.agent)}</title>"
        f"<style>{css}</style></head><body><h1>{e(s.benchmark)} / {e(s.agent)}</h1>"
        f"<p><b>success rate {e(_rate_cell(s.success))}</b> over {s.tasks} tasks x {s.repeats} repeats "
        f"(crashes count as failures); original harness rate {e(_pct(s.original_harness_rate))} "
        f"({s.crashed} crashed left out). Per task: {s.mean_steps:.1f} steps, {s.mean_duration_s:.1f} s, "
        f"${s.mean_cost_usd:.4f}; total ${s.total_cost_usd:.4f}.</p>{live}"
        + table("By site", s.by_site)
        + table("By difficulty", s.by_difficulty)
        + table("By evaluator", s.by_evaluator)
        + table("By task type", s.by_task_type)
        + "<h3>Tasks</h3><table><tr><th>task</th><th>rep</th><th>result</th><th>status</th><th>steps</th><th>time</th>"
        f"<th>cost</th><th>why</th></tr>{''.join(task_rows)}</table></body></html>"
    )


def write_reports(folder: RunFolder, summary: Summary, results: list[TaskResult]) -> None:
    folder.write_jsonl(results)
    atomic_write(folder.root / "summary.json", summary.model_dump_json(indent=1))
    atomic_write(folder.root / "report.md", to_markdown(summary, results))
    atomic_write(folder.root / "report.html", to_html(summary, results))
