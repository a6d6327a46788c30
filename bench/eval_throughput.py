"""Episodes per minute on the bundled `local` suite with the replay agent at concurrency 1, 2 and 4,
and memory per concurrent episode (proportional set size of this process and its browsers).

    python bench/eval_throughput.py [--tasks 24]

Ends with one JSON line. Target: >= 1.5x the episodes per minute at concurrency 4 vs 1 (2 cores).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import threading
import time
from pathlib import Path

from eval.runner import RunOptions, run_eval
from webdreamer.config import AgentConfig


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid:
            out.append(int(entry.name))
    return out


def tree_pss_mb(root: int) -> float:
    """PSS of a process and all its descendants, in MB (shared pages counted proportionally)."""
    total_kb = 0
    stack = [root]
    while stack:
        pid = stack.pop()
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total_kb += int(line.split()[1])
                    break
        except OSError:
            continue
        stack.extend(_children(pid))
    return total_kb / 1024


class PeakSampler:
    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_pss_mb(os.getpid()))
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def one(concurrency: int, tasks: int, root: Path) -> dict[str, float]:
    opts = RunOptions(
        benchmark="local",
        agent="replay",
        out=str(root / f"c{concurrency}"),
        concurrency=concurrency,
        limit=tasks,
        progress=False,
        nav_sleep_s=0.0,
        timeout_s=120,
    )
    before = tree_pss_mb(os.getpid())
    start = time.perf_counter()
    with PeakSampler() as sampler:
        summary, results = await run_eval(opts, AgentConfig())
    wall = time.perf_counter() - start
    return {
        "concurrency": concurrency,
        "episodes": len(results),
        "passed": summary.success.passed,
        "wall_s": round(wall, 2),
        "episodes_per_min": round(60 * len(results) / wall, 2),
        "baseline_pss_mb": round(before, 1),
        "peak_pss_mb": round(sampler.peak, 1),
    }


async def main(tasks: int) -> dict[str, object]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for c in (1, 2, 4):
            row = await one(c, tasks, Path(tmp))
            rows.append(row)
            print(json.dumps(row), flush=True)
    base = rows[0]
    # Memory per concurrent episode: the extra peak over the single-episode run, per extra episode.
    per_episode = (rows[-1]["peak_pss_mb"] - base["peak_pss_mb"]) / (rows[-1]["concurrency"] - 1)
    speedup = rows[-1]["episodes_per_min"] / base["episodes_per_min"]
    return {
        "bench": "eval_throughput",
        "tasks": tasks,
        "cpus": os.cpu_count(),
        "runs": rows,
        "speedup_c4_vs_c1": round(speedup, 2),
        "speedup_c2_vs_c1": round(rows[1]["episodes_per_min"] / base["episodes_per_min"], 2),
        "memory_per_concurrent_episode_mb": round(per_episode, 1),
        "single_episode_peak_pss_mb": base["peak_pss_mb"],
        "target_met": speedup >= 1.5,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=24, help="first N tasks of the local suite")
    summary = asyncio.run(main(parser.parse_args().tasks))
    print(json.dumps(summary))
