"""Live progress of a run: done/total, success rate so far, cost so far, ETA."""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress

from eval.results import TaskResult


class Progress:
    def __init__(
        self, total: int, already: int = 0, enabled: bool = True, console: Console | None = None
    ) -> None:
        self.total = total
        self.done = already
        self.passed = 0
        self.scored = 0
        self.crashed = 0
        self.cost = 0.0
        self.started = time.monotonic()
        self.enabled = enabled
        self._bar: RichProgress | None = None
        self._task: TaskID | None = None
        self.console = console or Console(stderr=True)

    def seed(self, prior: list[TaskResult]) -> None:
        """Count what a resumed run already has."""
        for r in prior:
            self._count(r)

    def _count(self, r: TaskResult) -> None:
        self.scored += 1
        self.passed += int(r.passed)
        self.crashed += int(r.crashed)
        self.cost += r.cost_usd

    def line(self) -> str:
        rate = self.passed / self.scored if self.scored else 0.0
        crash = f", {self.crashed} crashed" if self.crashed else ""
        return f"success {rate:.1%} ({self.passed}/{self.scored}){crash}, cost ${self.cost:.4f}"

    def update(self, r: TaskResult) -> None:
        self.done += 1
        self._count(r)
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=self.done, stats=self.line())
        elif self.enabled:
            mark = "PASS" if r.passed else ("CRASH" if r.crashed else "FAIL")
            self.console.print(f"[{self.done}/{self.total}] {mark} {r.uid} ({r.status}) {self.line()}")

    def __enter__(self) -> Progress:
        if self.enabled and self.console.is_terminal:
            self._bar = RichProgress(
                TextColumn("[bold]eval"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[stats]}"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=self.console,
            )
            self._bar.__enter__()
            self._task = self._bar.add_task("eval", total=self.total, completed=self.done, stats=self.line())
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.__exit__(t, e, tb)
