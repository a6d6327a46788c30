"""The `webdreamer` command as a user runs it: real subprocesses, real browser, scripted LLM server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from llm_server import ScriptedLLMServer
from roles_script import script
from test_agent import SCORE_BY_FUTURE, WORLD_BY_ACTION, kitchen_or_garden
from webserver import ASSETS, serve_directory

from envs.bundled import LOCAL_M2W_LIVE_TASKS, LOCAL_VWA_TASKS

CLI = [sys.executable, "-m", "webdreamer.cli"]


@pytest.fixture(scope="module")
def pages() -> Iterator[str]:
    with serve_directory(ASSETS / "pages") as base:
        yield base


def run(*args: str, timeout: float = 120, **kw: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "160"}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout, env=env, **kw)  # type: ignore[call-overload]


def test_run_prints_each_step_and_writes_the_record(
    llm_server: ScriptedLLMServer, pages: str, tmp_path: Path
) -> None:
    script(llm_server, policy=kitchen_or_garden, world=WORLD_BY_ACTION, scorer=SCORE_BY_FUTURE)
    out = tmp_path / "run"
    res = run(
        "run",
        "Open the garden tools page, then stop.",
        "--start-url",
        f"{pages}/index.html",
        "--model",
        "scripted",
        "--base-url",
        llm_server.url,
        "--api-key",
        "secret-key-42",
        "--out",
        str(out),
        "--set",
        "max_steps=4",
    )
    assert res.returncode == 0, res.stderr
    text = res.stdout
    assert "Step 1" in text and "Step 2" in text
    assert (
        "click the link 'Garden tools'" in text and "garden tools page opens" in text
    )  # candidate + imagined outcome
    assert "1.00" in text and "0.00" in text  # the scores
    assert "chose" in text and "stopped" in text and "answer: found it" in text
    traj = json.loads((out / "trajectory.json").read_text())
    assert traj["status"] == "stopped" and traj["config"]["max_steps"] == 4
    assert "secret-key-42" not in (out / "trajectory.json").read_text()  # keys never reach the record
    assert (out / "report.html").exists()
    (out / "report.html").unlink()
    res = run("report", str(out))
    assert res.returncode == 0 and (out / "report.html").exists()


def test_observe_prints_the_observation(pages: str) -> None:
    res = run("observe", f"{pages}/index.html", "--som")
    assert res.returncode == 0, res.stderr
    assert "Tab 0 (current): Fixture home" in res.stdout and "link 'Kitchen'" in res.stdout
    assert "# Set-of-Marks elements" in res.stdout and "[A] [Kitchen]" in res.stdout
    res = run("observe", f"{pages}/index.html", "--json")
    data = json.loads(res.stdout)
    assert data["title"] == "Fixture home" and any(e["name"] == "Kitchen" for e in data["elements"])


def test_tasks_validate_counts_formats_and_fails_on_bad_files(tmp_path: Path) -> None:
    res = run("tasks", "validate", str(LOCAL_VWA_TASKS), str(LOCAL_M2W_LIVE_TASKS))
    assert res.returncode == 0
    assert "total vwa: 42" in res.stdout and "total mind2web-live: 13" in res.stdout
    bad = tmp_path / "bad.json"
    bad.write_text('[{"index": 0, "task": "x", "evaluation": "nope"}]')
    res = run("tasks", "validate", str(LOCAL_VWA_TASKS), str(bad))
    assert res.returncode == 1
    assert f"{bad}, task 0, field 'evaluation': should be list, got str" in res.stderr


def test_sites_serve_prints_urls_and_serves() -> None:
    import urllib.request

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            *CLI,
            "sites",
            "serve",
            "--json",
            "--port",
            "shop=0",
            "--port",
            "forum=0",
            "--port",
            "classifieds=0",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        assert set(info["urls"]) == {"shop", "forum", "classifieds"}
        with urllib.request.urlopen(info["internal_urls"]["shop"] + "/", timeout=10) as resp:
            assert "Corner Market" in resp.read().decode()
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 0  # Ctrl+C stops it cleanly
