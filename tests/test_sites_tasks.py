"""The task files over the bundled sites: well-formed, and every reference solution solves its task.

The replays drive real Chromium through `BrowserEnv` and score with the benchmark evaluators; the
tasks run concurrently, each in its own data instance of the same servers.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from envs.actions import ActionSpace, Kind
from envs.sites import PLACEHOLDERS
from envs.sites.tasks import LOCAL_MIND2WEB_LIVE, LOCAL_VWA
from envs.tasks.loaders import load_tasks

ROOT = Path(__file__).resolve().parents[1]
VWA: list[dict[str, Any]] = json.loads(LOCAL_VWA.read_text())
M2W: list[dict[str, Any]] = json.loads(LOCAL_MIND2WEB_LIVE.read_text())
SPACE = ActionSpace(allow_element_refs=True)
PLACEHOLDER_RE = re.compile(r"__[A-Z_]+__")


# --- shape ---------------------------------------------------------------------------------------
def test_vwa_tasks_cover_sites_and_evaluators() -> None:
    assert len(VWA) >= 30 and [t["task_id"] for t in VWA] == list(range(len(VWA)))
    sites = {s for t in VWA for s in t["sites"]}
    assert sites == {"shopping", "reddit", "classifieds"}
    evals = [t["eval"] for t in VWA]
    answers = [e["reference_answers"] for e in evals if "string_match" in e["eval_types"]]
    for key in ("must_include", "exact_match", "one_of", "required_values", "must_exclude"):
        assert any(key in a for a in answers), key
    assert any(a.get("fuzzy_match") == "N/A" for a in answers)
    assert all(e["string_note"] for e in evals if (e["reference_answers"] or {}).get("fuzzy_match") == "N/A")
    assert {e["url_note"] for e in evals if "url_match" in e["eval_types"]} == {"EXACT", "GOLD in PRED"}
    targets = [t for e in evals for t in e["program_html"]]
    assert any(t["url"] == "last" for t in targets) and any(t["url"].startswith("__") for t in targets)
    assert any(t["locator"].startswith("document.") for t in targets)
    assert any(t["locator"].startswith("lambda:") for t in targets)
    for key in ("exact_match", "must_include", "must_exclude"):
        assert any(key in t["required_contents"] for t in targets), key
    queries = [q for e in evals for q in e.get("page_image_query", [])]
    assert sum("task_2/input_0.png" in q["eval_fuzzy_image_match"] for q in queries) >= 3
    assert {t["overall_difficulty"] for t in VWA} == {"easy", "medium", "hard"}


def test_vwa_tasks_are_consistent() -> None:
    for t in VWA:
        text = json.dumps(t)
        assert set(PLACEHOLDER_RE.findall(text)) <= set(PLACEHOLDERS.values()), t["task_id"]
        for image in t["image"] or []:
            assert (LOCAL_VWA.parent / image).is_file(), (
                image
            )  # relative to the task file, so it ships with it
        for target in t["eval"]["program_html"]:
            if target["locator"].startswith("lambda:"):
                # VWA strips the prefix with str.lstrip("lambda:"): the body must not start with those letters
                assert target["locator"][len("lambda:")] not in "lambd:", t["task_id"]
        expected_state = {1: t["sites"][0]}.get(len(t["sites"]))
        if expected_state:
            assert t["storage_state"] == f"./.auth/{expected_state}_state.json"


def test_mind2web_live_tasks_cover_match_functions() -> None:
    assert len(M2W) >= 10 and [t["index"] for t in M2W] == list(range(len(M2W)))
    functions = {n["match_function_name"] for t in M2W for n in t["evaluation"]}
    assert {
        "url_included_match",
        "url_exactly_match",
        "element_path_exactly_match",
        "element_value_exactly_match",
        "element_value_included_match",
    } <= functions
    # The bundled suite must score offline without a judge model: no semantic key nodes.
    assert not any(f.endswith("semantic_match") for f in functions)
    for t in M2W:
        for node in t["evaluation"]:
            assert node["content"]["url"].split("/")[0] in PLACEHOLDERS.values()
            if "netloc" in node["content"]:
                assert node["content"]["netloc"] in ("shop", "forum", "classifieds")


@pytest.mark.parametrize(
    "task",
    VWA + M2W,
    ids=lambda t: f"{'vwa' if 'task_id' in t else 'm2w'}-{t.get('task_id', t.get('index'))}",
)
def test_reference_solutions_parse(task: dict[str, Any]) -> None:
    actions = [SPACE.parse_action(line) for line in task["reference_solution"]]
    assert actions[-1].kind == Kind.STOP and all(a.kind != Kind.STOP for a in actions[:-1])
    assert all(a.element_id is None for a in actions)  # element references, never run-time ids


def test_loader_resolves_every_placeholder() -> None:
    mapping = {p: f"http://{p.strip('_').lower()}.test:1" for p in PLACEHOLDERS.values()}
    for path in (LOCAL_VWA, LOCAL_MIND2WEB_LIVE):
        tasks = load_tasks(path, sites=mapping)
        assert tasks and all(not t.unresolved and t.reference_solution for t in tasks)


# Replaying every reference solution in real Chromium and scoring it with the task's own evaluator
# is the runner's acceptance test: tests/test_eval_runner.py::test_replay_scores_every_bundled_reference_solution.
