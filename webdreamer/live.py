"""Printing an episode as it happens: candidates, imagined outcomes, scores, the choice, the result."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from webdreamer.agent import AgentEvent
from webdreamer.records import Step, Trajectory


def _short(text: str, n: int = 150) -> str:
    """Shortened and escaped: page and model text must never be read as rich markup."""
    text = " ".join(text.split())
    return escape(text if len(text) <= n else text[: n - 1] + "…")


class LivePrinter:
    """An `Agent(on_event=...)` hook that prints each step to a rich console."""

    def __init__(self, console: Console | None = None, verbose: bool = False) -> None:
        self.console = console or Console()
        self.verbose = verbose

    def __call__(self, event: AgentEvent) -> None:
        c = self.console
        if event.kind == "start":
            t = event.trajectory
            c.rule(f"[bold]{_short(t.task.intent, 100)}")
            c.print(f"mode: {t.mode}   start: {_short(', '.join(t.task.start_urls))}")
        elif event.kind == "step":
            obs = event.data["observation"]
            err = f"  [red]last error: {_short(obs.error)}[/red]" if obs.error else ""
            c.print(
                f"\n[bold cyan]Step {event.step + 1}[/bold cyan]  {_short(repr(obs.title))}  "
                f"[dim]{_short(obs.url)}[/dim]{err}"
            )
        elif event.kind == "decision":
            self._decision(event.data["step"])
        elif event.kind == "outcome":
            step: Step = event.data["step"]
            out = step.outcome
            if out is not None:
                err = f"  [red]error: {_short(out.error)}[/red]" if out.error else ""
                c.print(
                    f"  [green]→[/green] now at {_short(repr(out.title))} [dim]{_short(out.url)}[/dim]{err}  "
                    f"({step.act_s:.1f} s)"
                )
        elif event.kind == "end":
            self._end(event.trajectory)

    def _decision(self, step: Step) -> None:
        d = step.decision
        c = self.console
        if d.candidates:
            table = Table(show_header=True, header_style="bold", box=None, padding=(0, 1))
            table.add_column("#", justify="right")
            table.add_column("candidate")
            table.add_column("samples", justify="right")
            table.add_column("value", justify="right")
            table.add_column("imagined outcome")
            values = {v.candidate: v.value for v in d.values}
            for cand in d.candidates:
                first = next((r for r in d.rollouts if r.candidate == cand.index and r.steps), None)
                failed = next((r.error for r in d.rollouts if r.candidate == cand.index and r.error), None)
                imagined = (
                    _short(first.steps[-1].prediction)
                    if first
                    else (f"[red]{_short(failed)}[/red]" if failed else "")
                )
                value = values.get(cand.index)
                mark = (
                    "[bold green]▶[/bold green]"
                    if cand.index == d.chosen
                    else ("[dim]x[/dim]" if not cand.kept else "")
                )
                table.add_row(
                    f"{mark}{cand.index}",
                    _short(cand.description, 60),
                    f"{cand.count}",
                    "-" if cand.index not in values else ("unknown" if value is None else f"{value:.2f}"),
                    imagined,
                )
            c.print(table)
        if d.policy_failures and self.verbose:
            c.print(f"  [yellow]{len(d.policy_failures)} policy samples did not parse[/yellow]")
        if d.refiner and d.refiner.failure:
            c.print(f"  [yellow]refiner failed ({_short(d.refiner.failure)}); all candidates kept[/yellow]")
        c.print(
            f"  [bold]chose[/bold] [magenta]{_short(step.action, 200)}[/magenta]: {_short(step.description, 200)}  "
            f"[dim]({_short(d.reason)}; {step.plan_s:.1f} s)[/dim]"
        )

    def _end(self, t: Trajectory) -> None:
        c = self.console
        colour = "green" if t.status == "stopped" else "yellow"
        c.rule(f"[{colour}]{t.status}[/{colour}]")
        c.print(_short(t.reason, 400))
        if t.answer is not None:
            c.print(f"answer: [bold]{_short(t.answer, 400)}[/bold]")
        calls = t.usage.total.calls if t.usage else 0
        c.print(f"{len(t.steps)} steps, {t.duration_s:.1f} s, {calls} model calls, ${t.cost_usd:.4f}")
        if t.error and self.verbose:
            c.print(escape(t.error))
