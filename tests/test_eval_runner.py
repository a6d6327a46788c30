"""The episode runner end to end on the bundled sites: replay scores every reference solution,
wrong solutions fail, a killed run resumes without losing or repeating anything, bad input is
reported clearly, and the Ray executor agrees with the local one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from envs.bundled import LOCAL_M2W_LIVE_TASKS, LOCAL_VWA_TASKS
from eval.results import RunFolder
from eval.runner import RunError, RunOptions, run_eval
from webdreamer.config import AgentConfig

WEBDREAMER = [sys.executable, "-m", "webdreamer.cli"]


def options(tmp_path: Path, **kw: object) -> RunOptions:
    base: dict[str, object] = {
        "benchmark": "local",
        "agent": "replay",
        "out": str(tmp_path / "run"),
        "progress": False,
        "nav_sleep_s": 0.0,
        "concurrency": 3,
        "timeout_s": 120,
    }
    base.update(kw)
    return RunOptions.model_validate(base)


@pytest.mark.slow
async def test_replay_scores_every_bundled_reference_solution(tmp_path: Path) -> None:
    summary, results = await run_eval(options(tmp_path), AgentConfig())
    failed = {r.uid: (r.status, r.error, r.evaluation.get("reasons")) for r in results if not r.passed}
    assert failed == {}
    n_tasks = len(json.loads(LOCAL_VWA_TASKS.read_text())) + len(json.loads(LOCAL_M2W_LIVE_TASKS.read_text()))
    assert summary.tasks == n_tasks == len(results) and summary.success.rate == 1.0
    assert summary.mind2web_live is not None and summary.mind2web_live["task_success_rate"] == 1.0
    folder = tmp_path / "run"
    for name in ("results.jsonl", "report.md", "report.html", "summary.json", "run.json"):
        assert (folder / name).exists(), name
    assert len((folder / "results.jsonl").read_text().splitlines()) == n_tasks
    # Every result links to a trajectory with its own report.
    first = results[0]
    assert (folder / first.trajectory / "report.html").exists()


def _wrong(tasks: list[dict], index: int, solution: list[str]) -> dict:
    t = json.loads(json.dumps(tasks[index]))
    t["reference_solution"] = solution
    # The copy lives elsewhere: point its images (relative to the bundled task file) at the originals.
    if "eval" not in t:
        return t
    t["image"] = [str(LOCAL_VWA_TASKS.parent / i) for i in t.get("image") or []]
    for q in t["eval"].get("page_image_query") or []:
        if not q["eval_fuzzy_image_match"].startswith(("http", "__")):
            q["eval_fuzzy_image_match"] = str(LOCAL_VWA_TASKS.parent / q["eval_fuzzy_image_match"])
    return t


async def test_wrong_solutions_fail_for_each_evaluator_type(tmp_path: Path) -> None:
    vwa = json.loads(LOCAL_VWA_TASKS.read_text())
    by_id = {str(t["task_id"]): t for t in vwa}
    cases = {
        "0": ["stop [12.99]"],  # string_match: a wrong answer
        "8": ["stop []"],  # url_match: never reaches the search page
        "23": ["stop []"],  # program_html: never subscribes
        "29": [
            "goto [__CLASSIFIEDS__/index.php?page=item&id=1]",
            "stop []",
        ],  # url + image: the wrong listing
    }
    wrong = [_wrong([by_id[i]], 0, sol) for i, sol in cases.items()]
    types = {tuple(t["eval"]["eval_types"]) for t in wrong}
    assert {("string_match",), ("url_match",), ("program_html",)} <= types and any(
        "page_image_query" in t for t in types
    )
    m2w = json.loads(LOCAL_M2W_LIVE_TASKS.read_text())
    wrong_live = [_wrong(m2w, 0, ["stop []"])]
    (tmp_path / "wrong_vwa.json").write_text(json.dumps(wrong))
    (tmp_path / "wrong_live.json").write_text(json.dumps(wrong_live))
    opts = options(tmp_path, task_files=[str(tmp_path / "wrong_vwa.json"), str(tmp_path / "wrong_live.json")])
    summary, results = await run_eval(opts, AgentConfig())
    assert len(results) == 5 and not any(r.passed for r in results)
    assert not any(r.crashed for r in results)  # failing is not crashing
    for r in results:
        assert r.evaluation.get("reasons"), r.uid  # each failure says why
    assert summary.success.rate == 0.0


def _results(folder: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((folder / "results").glob("*.json"))]


def test_kill_and_resume_scores_every_task_exactly_once(tmp_path: Path) -> None:
    out = tmp_path / "run"
    cmd = [
        *WEBDREAMER,
        "eval",
        "--benchmark",
        "local",
        "--agent",
        "replay",
        "--out",
        str(out),
        "--concurrency",
        "2",
        "--limit",
        "10",
        "--no-progress",
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list((out / "results").glob("*.json"))) < 3:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)  # kill -9, browser included, mid-run
    proc.wait()
    before = {r["uid"]: r["finished_at"] for r in _results(out)}
    assert 3 <= len(before) < 10
    assert not list((out / "results").glob(".*.tmp"))  # atomic writes leave no half files behind
    done = subprocess.run([*cmd, "--resume"], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    after = _results(out)
    uids = [r["uid"] for r in after]
    assert len(uids) == len(set(uids)) == 10
    for r in after:  # finished work was kept, not redone
        if r["uid"] in before:
            assert r["finished_at"] == before[r["uid"]]
    assert len((out / "results.jsonl").read_text().splitlines()) == 10


def test_bad_task_file_and_unreachable_site_fail_clearly(tmp_path: Path) -> None:
    out = tmp_path / "run"
    ok = subprocess.run(
        [
            *WEBDREAMER,
            "eval",
            "--benchmark",
            "local",
            "--agent",
            "replay",
            "--out",
            str(out),
            "--limit",
            "2",
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ok.returncode == 0, ok.stderr
    kept = sorted(p.name for p in (out / "results").glob("*.json"))
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps([{"task_id": 1, "start_url": "__SHOPPING__", "eval": {"eval_types": ["string_match"]}}])
    )
    res = subprocess.run(
        [
            *WEBDREAMER,
            "eval",
            "--benchmark",
            "vwa",
            "--tasks",
            str(bad),
            "--site",
            "shopping=http://127.0.0.1:9",
            "--out",
            str(out),
            "--resume",
        ],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 2
    assert f"{bad}, task 1, field 'intent': is missing" in res.stderr
    good = tmp_path / "good.json"
    task = json.loads(LOCAL_VWA_TASKS.read_text())[0]
    good.write_text(json.dumps([task]))
    res = subprocess.run(
        [
            *WEBDREAMER,
            "eval",
            "--benchmark",
            "vwa",
            "--tasks",
            str(good),
            "--site",
            "shopping=http://127.0.0.1:9",
            "--out",
            str(tmp_path / "other"),
        ],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 2 and "site shopping at http://127.0.0.1:9 is unreachable" in res.stderr
    res = subprocess.run(
        [*WEBDREAMER, "eval", "--benchmark", "local", "--agent", "replay", "--out", str(out), "--limit", "2"],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 2 and "--resume" in res.stderr  # an existing run is never overwritten
    assert sorted(p.name for p in (out / "results").glob("*.json")) == kept


async def test_missing_placeholders_are_refused(tmp_path: Path) -> None:
    with pytest.raises(RunError, match="no URL for __SHOPPING__"):
        await run_eval(
            options(tmp_path, benchmark="vwa", task_files=[str(LOCAL_VWA_TASKS)], limit=1), AgentConfig()
        )


@pytest.mark.slow
async def test_ray_executor_matches_local(tmp_path: Path) -> None:
    ids = [
        "local_vwa/0",
        "local_vwa/9",
        "local_vwa/16",
        "local_vwa/29",
        "local_mind2web_live/0",
        "local_mind2web_live/3",
    ]
    _, local = await run_eval(options(tmp_path / "local", task_ids=ids, concurrency=2), AgentConfig())
    _, ray = await run_eval(
        options(tmp_path / "ray", task_ids=ids, concurrency=2, executor="ray"), AgentConfig()
    )

    def essence(results: list) -> dict[str, tuple[bool, float, int]]:  # type: ignore[type-arg]
        return {r.uid: (r.passed, r.score, r.steps) for r in results}

    assert essence(ray) == essence(local) and len(local) == len(ids)
    assert all(r.passed for r in ray)
    assert all((Path(tmp_path / "ray" / "run") / r.trajectory / "trajectory.json").exists() for r in ray)


def test_run_folder_is_the_source_of_truth(tmp_path: Path) -> None:
    folder = RunFolder(tmp_path)
    folder.prepare()
    assert folder.results() == [] and not folder.has_result("a/b", 0)
    assert folder.result_path("local_vwa/3", 1).name == "local_vwa_3__r1.json"


async def test_online_mind2web_writes_the_submission_folder_and_judges_it(tmp_path: Path) -> None:
    from llm_server import ChatRequest, ScriptedLLMServer

    from envs.sites.launcher import start_sites
    from webdreamer.models.config import ModelConfig

    def judge(req: ChatRequest) -> str:
        if "key points" in req.system.lower() and not req.images:
            return "Key points:\n1. Search for ceramic mugs"
        if req.images and "score" in req.system.lower() and "status" not in req.system.lower():
            return "Reasoning: the search results show ceramic mugs.\nScore: 4"
        return "Thoughts: the mugs were searched for.\nStatus: success"

    with start_sites(["shop"], ports={"shop": 0}) as sites, ScriptedLLMServer() as server:
        server.default = judge
        shop = sites.internal_urls["shop"]
        task = {
            "task_id": "abc123",
            "confirmed_task": "Search for ceramic mugs.",
            "website": f"{shop}/",
            "reference_length": 2,
            "level": "easy",
            "reference_solution": ["type [searchbox 'Search products'] [ceramic mug] [1]", "stop [done]"],
        }
        (tmp_path / "om2w.json").write_text(json.dumps([task]))
        opts = options(
            tmp_path,
            benchmark="online-mind2web",
            task_files=[str(tmp_path / "om2w.json")],
            judge=ModelConfig(model="judge", base_url=server.url, api_key="k"),
        )
        summary, results = await run_eval(opts, AgentConfig())
        asked = len(server.chat_requests)
    (result,) = results
    assert result.passed and result.score == 1.0 and result.evaluation["label"] == 1
    folder = tmp_path / "run" / "online_mind2web" / "abc123"
    submission = json.loads((folder / "result.json").read_text())
    assert submission["task"] == "Search for ceramic mugs." and submission["final_result_response"] == "done"
    assert submission["action_history"] == [
        "type 'ceramic mug' into the searchbox 'Search products' and press Enter"
    ]
    shots = sorted((folder / "trajectory").glob("*.png"))
    assert len(shots) >= 2 and shots[0].read_bytes()[:4] == b"\x89PNG"
    assert asked == 1 + len(shots) + 1  # key points, one relevance score per screenshot, the outcome
    assert summary.by_evaluator == {"webjudge": summary.success}


async def test_run_budget_holds_across_episodes(tmp_path: Path) -> None:
    from llm_server import ScriptedLLMServer
    from roles_script import script

    from webdreamer.models.config import ModelConfig
    from webdreamer.models.ledger import Budget, Price

    with ScriptedLLMServer() as server:
        script(server, policy="```scroll [down]```")
        cfg = AgentConfig(
            model=ModelConfig(model="priced", base_url=server.url, api_key="k"),
            prices={"priced": Price(input=1000.0, output=1000.0)},
            budget=Budget(max_cost_per_run=3.0),
        )
        _, results = await run_eval(options(tmp_path, agent="reactive", limit=3, concurrency=1), cfg)
    statuses = [r.status for r in sorted(results, key=lambda r: r.finished_at)]
    assert statuses.count("budget") >= 2 and statuses[-1] == "budget"
    assert all("max_cost_per_run" in r.reason for r in results if r.status == "budget")
    spent = sum(r.cost_usd for r in results)
    assert 1.0 < spent <= 3.0  # a call whose prompt alone would pass the limit is refused before it is sent
