"""A self-contained HTML report of one trajectory: each step's screenshot, the candidates, what was
imagined for each, the scores, and what was done. Everything is escaped and inlined (no network)."""

from __future__ import annotations

import base64
import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from webdreamer.records import Decision, Step, Trajectory

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:0;background:#f5f6f8;color:#1d2330}
header{background:#1d2330;color:#fff;padding:16px 24px}header h1{margin:0 0 6px;font-size:18px}
.meta{display:flex;flex-wrap:wrap;gap:18px;font-size:13px;opacity:.9}
main{padding:16px 24px;max-width:1400px}
.step{background:#fff;border-radius:8px;box-shadow:0 1px 3px #0002;margin:0 0 18px;padding:14px 16px}
.step h2{font-size:16px;margin:0 0 8px}.grid{display:grid;grid-template-columns:minmax(280px,40%) 1fr;gap:16px}
img.shot{width:100%;border:1px solid #ccd;border-radius:4px}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{border-bottom:1px solid #e3e6eb;padding:4px 6px;text-align:left;vertical-align:top}
tr.chosen{background:#e7f6ea}tr.dropped{color:#8a8f99}code{background:#eef0f4;padding:0 3px;border-radius:3px}
.bad{color:#b42318}.ok{color:#067647}details{margin:4px 0}summary{cursor:pointer;color:#344}
.pred{white-space:pre-wrap;background:#fafbfc;border-left:3px solid #c9d3e3;padding:4px 8px;margin:4px 0}
.status{display:inline-block;padding:1px 8px;border-radius:10px;background:#fff3;font-weight:600}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _img(traj: Trajectory, name: str | None) -> str:
    data = traj.image(name) if name else None
    if not data:
        return "<p><em>no screenshot</em></p>"
    return (
        f'<img class="shot" alt="screenshot" src="data:image/png;base64,{base64.b64encode(data).decode()}">'
    )


def _fmt(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.3f}"


def _candidates(d: Decision) -> str:
    values = {v.candidate: v for v in d.values}
    rows = []
    for c in d.candidates:
        cls = "chosen" if c.index == d.chosen else ("dropped" if not c.kept else "")
        v = values.get(c.index)
        value = _fmt(v.value) + (f" ({v.scored}/{v.rollouts} scored)" if v else "") if v else "-"
        rollouts = [r for r in d.rollouts if r.candidate == c.index]
        futures = []
        for r in rollouts:
            body = "".join(
                f"<div><b>{_e(s.action)}</b><div class='pred'>{_e(s.prediction)}</div></div>" for s in r.steps
            )
            verdicts = ", ".join(_fmt(x.value) for x in r.verdicts)
            err = f"<div class='bad'>failed: {_e(r.error)}</div>" if r.error else ""
            futures.append(
                f"<details><summary>simulation {r.simulation + 1}: value {_fmt(r.value)}"
                f"{' (imagined stop)' if r.stopped_early else ''}</summary>{body}"
                f"<div>verdicts: {_e(verdicts) or '-'}</div>{err}</details>"
            )
        rows.append(
            f"<tr class='{cls}'><td>{c.index}</td><td><code>{_e(c.action)}</code><br>{_e(c.description)}</td>"
            f"<td>{c.count} ({c.frequency:.0%})</td><td>{'kept' if c.kept else 'dropped'}</td>"
            f"<td>{_e(value)}</td><td>{''.join(futures) or '-'}</td></tr>"
        )
    head = "<tr><th>#</th><th>candidate</th><th>samples</th><th>refiner</th><th>value</th><th>imagined futures</th></tr>"
    return f"<table>{head}{''.join(rows)}</table>"


def _step(traj: Trajectory, s: Step) -> str:
    d = s.decision
    failures = "".join(f"<li>{_e(f.role)}: {_e(f.reason)}</li>" for f in d.policy_failures[:10])
    extra = (
        f"<details><summary>{len(d.policy_failures)} unparseable policy samples</summary><ul>{failures}</ul></details>"
        if d.policy_failures
        else ""
    )
    if d.refiner and d.refiner.failure:
        extra += f"<div class='bad'>refiner failed, all candidates kept: {_e(d.refiner.failure)}</div>"
    outcome = ""
    if s.vetoed:
        outcome = f"<p class='bad'>vetoed: {_e(s.vetoed)}</p>"
    elif s.outcome:
        err = f" <span class='bad'>error: {_e(s.outcome.error)}</span>" if s.outcome.error else ""
        outcome = f"<p>result: <b>{_e(s.outcome.title)}</b> <code>{_e(s.outcome.url)}</code>{err}</p>"
    cost = f"${s.usage.total.cost_usd:.4f}, {s.usage.total.calls} calls" if s.usage else ""
    return (
        f"<section class='step'><h2>Step {s.index + 1}: <code>{_e(s.action)}</code> — {_e(s.description)}</h2>"
        f"<div class='grid'><div>{_img(traj, s.screenshot)}<p><code>{_e(s.url)}</code></p>"
        f"<details><summary>text observation</summary><pre class='pred'>{_e(s.observation)}</pre></details></div>"
        f"<div><p>why: {_e(d.reason)}</p>{_candidates(d)}{extra}{outcome}"
        f"<p style='opacity:.7'>planning {s.plan_s:.1f} s, acting {s.act_s:.1f} s {_e(cost)}</p></div></div></section>"
    )


def render_trajectory(traj: Trajectory) -> str:
    usage = ""
    if traj.usage:
        rows = "".join(
            f"<tr><td>{_e(role)}</td><td>{u.calls}</td><td>{u.cache_hits}</td><td>{u.input_tokens}</td>"
            f"<td>{u.output_tokens}</td><td>${u.cost_usd:.4f}</td><td>{u.latency_s:.1f} s</td></tr>"
            for role, u in traj.usage.roles.items()
        )
        usage = (
            "<section class='step'><h2>Model usage</h2><table><tr><th>role</th><th>calls</th><th>cache hits</th>"
            f"<th>input tokens</th><th>output tokens</th><th>cost</th><th>latency</th></tr>{rows}</table></section>"
        )
    answer = f"<span>answer: <b>{_e(traj.answer)}</b></span>" if traj.answer is not None else ""
    final = (
        f"<section class='step'><h2>Final page: {_e(traj.final_title)}</h2><code>{_e(traj.final_url)}</code>"
        f"<div style='max-width:640px'>{_img(traj, traj.final_screenshot)}</div></section>"
    )
    err = (
        f"<section class='step'><h2 class='bad'>Error</h2><pre>{_e(traj.error)}</pre></section>"
        if traj.error
        else ""
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>webdreamer: {_e(traj.task.intent[:80])}</title>"
        f"<style>{_CSS}</style></head><body><header><h1>{_e(traj.task.intent)}</h1><div class='meta'>"
        f"<span class='status'>{_e(traj.status)}</span><span>{_e(traj.reason)}</span>{answer}"
        f"<span>mode: {_e(traj.mode)}</span><span>{len(traj.steps)} steps</span>"
        f"<span>{traj.duration_s:.1f} s</span><span>${traj.cost_usd:.4f}</span><span>task {_e(traj.task.uid)}</span>"
        f"</div></header><main>{''.join(_step(traj, s) for s in traj.steps)}{final}{usage}{err}</main></body></html>"
    )
