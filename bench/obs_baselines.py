"""Baselines for bench/observation.py: the observation we compare ours with.

BrowserGym's (browsergym-core, in its own virtualenv `.venv-bench`, run by
bench/_browsergym_worker.py, with its own browser), or, when BrowserGym cannot run here,
Playwright's `page.aria_snapshot()` on our own page. Also the page description both sides open.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from playwright.async_api import Page

ROOT = Path(__file__).resolve().parents[1]
BENCH_VENV = Path(os.environ.get("WEBDREAMER_BENCH_VENV") or ROOT / ".venv-bench")
WORKER = ROOT / "bench" / "_browsergym_worker.py"
BROWSERGYM_PIN = "browsergym-core==0.14.3"


@dataclass
class PageSpec:
    name: str
    group: str  # sites | miniwob | saved
    url: str
    miniwob_seed: int | None = None


class Baseline:
    """The side we compare with: `open` a page (and warm up once), then `time` one observation."""

    label = "?"

    async def start(self) -> None: ...

    async def open(self, spec: PageSpec, page: Page) -> float:
        raise NotImplementedError

    async def time(self) -> tuple[float, int]:
        raise NotImplementedError

    async def dump(self, path: Path) -> None: ...

    async def close(self) -> None: ...


class AriaBaseline(Baseline):
    """Playwright's `page.aria_snapshot()`, on our own page, when BrowserGym cannot run."""

    def __init__(self) -> None:
        self.label = f"playwright {metadata.version('playwright')} page.aria_snapshot()"
        self.page: Page | None = None
        self.text = ""

    async def open(self, spec: PageSpec, page: Page) -> float:
        self.page = page
        return (await self.time())[0]

    async def time(self) -> tuple[float, int]:
        assert self.page is not None
        t0 = time.perf_counter()
        self.text = await self.page.aria_snapshot()
        return time.perf_counter() - t0, len(self.text)

    async def dump(self, path: Path) -> None:
        path.with_suffix(".aria.txt").write_text(self.text)


class BaselineError(RuntimeError):
    pass


class BrowserGymBaseline(Baseline):
    """bench/_browsergym_worker.py in .venv-bench, driven over JSON lines, its own browser."""

    def __init__(self, job: dict[str, Any]) -> None:
        self.job = job
        self.proc: asyncio.subprocess.Process | None = None
        self.log = tempfile.TemporaryFile()

    async def _ask(self, msg: dict[str, Any], wait_s: float = 120) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdin is not None and self.proc.stdout is not None
        if self.proc.returncode is not None:
            raise BaselineError(f"the BrowserGym worker exited {self.proc.returncode}")
        self.proc.stdin.write((json.dumps(msg) + "\n").encode())
        await self.proc.stdin.drain()
        try:
            line = await asyncio.wait_for(self.proc.stdout.readline(), wait_s)
        except TimeoutError:
            self.proc.kill()  # its late reply would answer the next question: stop it instead
            await self.proc.wait()
            raise BaselineError(f"the BrowserGym worker took over {wait_s:.0f} s and was stopped") from None
        if not line:
            await self.proc.wait()
            raise BaselineError(f"the BrowserGym worker exited {self.proc.returncode}: {self.log_tail()}")
        reply: dict[str, Any] = json.loads(line)
        if "error" in reply:
            raise BaselineError(reply["error"])
        return reply

    def log_tail(self, lines: int = 3) -> str:
        self.log.seek(0)
        tail = self.log.read().decode(errors="replace").strip().splitlines()[-lines:]
        return " | ".join(tail)

    async def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        self.proc = await asyncio.create_subprocess_exec(
            str(bench_python()),
            str(WORKER),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=self.log,
            env=env,
        )
        ready = await self._ask(self.job, wait_s=120)
        self.label = f"{ready['baseline']} (playwright {ready['playwright']})"

    async def open(self, spec: PageSpec, page: Page) -> float:
        msg = {"cmd": "open", "url": spec.url, "miniwob_seed": spec.miniwob_seed}
        return float((await self._ask(msg))["warm_s"])

    async def time(self) -> tuple[float, int]:
        reply = await self._ask({"cmd": "time"})
        return float(reply["t"]), int(reply["chars"])

    async def dump(self, path: Path) -> None:
        await self._ask({"cmd": "dump", "path": str(path.with_suffix(".browsergym.txt"))})

    async def close(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            assert self.proc.stdin is not None
            self.proc.stdin.write(b'{"cmd": "quit"}\n')
            try:
                await self.proc.stdin.drain()
                await asyncio.wait_for(self.proc.wait(), 30)
            except (TimeoutError, ConnectionError):
                self.proc.kill()
                await self.proc.wait()
        self.log.close()


# --- BrowserGym's side ---------------------------------------------------------------------------


def bench_python() -> Path:
    return BENCH_VENV / "bin" / "python"


def browsergym_ready() -> bool:
    py = bench_python()
    if not py.exists():
        return False
    probe = "import browsergym.core.observation, browsergym.utils.obs, playwright.sync_api"
    return subprocess.run([str(py), "-c", probe], capture_output=True, timeout=120).returncode == 0


def ensure_bench_venv() -> str | None:
    """Make `.venv-bench` with browsergym-core if needed; None when ready, else why not.

    browsergym-core 0.14.3 pins playwright==1.44; we then install our Playwright version over it
    (pip notes the conflict and goes on), so that both sides drive the browser with the same client.
    """
    if browsergym_ready():
        return None
    print(
        f"setting up {BENCH_VENV.name} ({BROWSERGYM_PIN}); this happens once …", file=sys.stderr, flush=True
    )
    ours = metadata.version("playwright")
    steps = [
        [sys.executable, "-m", "venv", str(BENCH_VENV)],
        [str(bench_python()), "-m", "pip", "install", "-q", BROWSERGYM_PIN],
        [str(bench_python()), "-m", "pip", "install", "-q", f"playwright=={ours}"],
    ]
    for cmd in steps:
        if cmd[1:3] == ["-m", "venv"] and bench_python().exists():
            continue
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"`{' '.join(cmd[1:])}` failed: {exc}"
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["(no output)"]
            return f"`{' '.join(cmd[1:])}` exited {done.returncode}: {tail[0]}"
    return None if browsergym_ready() else "browsergym does not import in .venv-bench"
