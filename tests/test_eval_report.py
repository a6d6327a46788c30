"""Run summaries: rates with crashes counted and left out, breakdowns, repeats and bootstrap CIs."""

from __future__ import annotations

from pathlib import Path

from eval.report import bootstrap_ci, summarize, to_html, to_markdown, write_reports
from eval.results import RunFolder, RunManifest, TaskResult


def result(
    uid: str,
    passed: bool,
    *,
    repeat: int = 0,
    crashed: bool = False,
    sites: list[str] | None = None,
    difficulty: str = "easy",
    eval_types: list[str] | None = None,
    cost: float = 0.01,
) -> TaskResult:
    return TaskResult(
        uid=uid,
        task_id=uid.split("/")[-1],
        repeat=repeat,
        benchmark="vwa",
        agent="webdreamer",
        status="crashed" if crashed else "stopped",
        passed=passed,
        score=1.0 if passed else 0.0,
        crashed=crashed,
        sites=sites or ["shopping"],
        difficulty=difficulty,
        eval_types=eval_types or ["string_match"],
        cost_usd=cost,
        steps=3,
        duration_s=10.0,
        trajectory=f"trajectories/{uid}",
        evaluation={} if passed else {"reasons": [f"{uid} failed its check"]},
    )


def test_rates_breakdowns_and_the_original_harness_rate() -> None:
    results = [
        result("f/1", True, sites=["shopping", "reddit"], eval_types=["url_match"]),
        result("f/2", False, difficulty="hard", eval_types=["program_html"]),
        result("f/3", False, crashed=True, sites=["reddit"]),
        result("f/4", True, eval_types=["string_match", "url_match"]),
    ]
    s = summarize(results, RunManifest(benchmark="vwa", agent="webdreamer", task_files=[], tasks=[]))
    assert s.success.rate == 0.5 and s.success.passed == 2 and s.crashed == 1
    assert s.original_harness_rate == 2 / 3 and s.scored_episodes == 3  # crashes left out, as run.py did
    assert s.by_site["reddit"].tasks == 2 and s.by_site["shopping"].tasks == 3  # a task counts for every site
    assert s.by_difficulty["hard"].rate == 0.0
    assert set(s.by_task_type) == {"site_nav", "content_config", "info_seeking"}
    assert s.by_evaluator["string_match+url_match"].passed == 1
    assert abs(s.total_cost_usd - 0.04) < 1e-9 and s.mean_steps == 3
    md = to_markdown(s, results)
    assert (
        "original harness rate: 66.7%" in md
        and "f/2 failed its check" in md
        and "| [f/3](trajectories/f/3/report.html)" in md
    )
    assert "CRASH" in to_html(s, results)


def test_repeats_and_bootstrap_interval() -> None:
    results = [result(f"t/{i}", passed=(i + k) % 3 != 0, repeat=k) for i in range(30) for k in range(3)]
    s = summarize(results, None)
    assert s.tasks == 30 and s.repeats == 3 and s.episodes == 90
    assert len(s.per_repeat) == 3 and abs(sum(s.per_repeat) / 3 - s.success.rate) < 1e-9
    assert s.success.ci_low is not None and s.success.ci_high is not None
    assert (
        s.success.ci_low <= s.success.rate <= s.success.ci_high and s.success.ci_high - s.success.ci_low < 0.3
    )
    assert bootstrap_ci([1.0]) is None  # one task: no interval
    assert bootstrap_ci([1.0, 1.0, 1.0]) == (1.0, 1.0)
    wide = bootstrap_ci([0.0, 1.0] * 5)
    assert wide is not None and wide[0] < 0.5 < wide[1]


def test_reports_are_written_from_the_run_folder(tmp_path: Path) -> None:
    folder = RunFolder(tmp_path)
    folder.prepare()
    for r in [result("f/1", True), result("f/2", False)]:
        folder.write_result(r)
    results = folder.results()
    write_reports(folder, summarize(results, None), results)
    assert len((tmp_path / "results.jsonl").read_text().splitlines()) == 2
    for name in ("report.md", "report.html", "summary.json"):
        assert (tmp_path / name).stat().st_size > 0
