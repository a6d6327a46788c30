"""Task loaders for the real formats, on the shared example files and on broken files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from envs.sitemap import SiteMap
from envs.tasks import TaskFormatError, detect_format, load_tasks

EXAMPLES = Path("/work/shared/examples")
if not EXAMPLES.exists():  # a clean clone carries its own copy
    EXAMPLES = Path(__file__).parent / "assets" / "examples"

SITES = {
    "__SHOPPING__": "http://shop.test:7770",
    "__REDDIT__": "http://forum.test:9999/",
    "__CLASSIFIEDS__": "http://classifieds.test:9980",
}


def test_vwa_examples_load_with_placeholders_resolved() -> None:
    tasks = load_tasks(EXAMPLES / "vwa_style_tasks.json", sites=SITES)
    assert [t.format for t in tasks] == ["vwa"] * 3
    t0, t1, t2 = tasks
    assert t0.start_urls == ["http://shop.test:7770"] and t0.uid == "vwa_style_tasks/0"
    assert t1.evaluation["reference_url"] == "http://forum.test:9999/f/gardening/12"  # trailing slash dropped
    assert t1.evaluation["program_html"][1]["url"] == "http://forum.test:9999/f/gardening/12"
    assert t1.require_reset and t1.login_sites() == ["reddit"]
    assert t2.images == ["tests/assets/input_images/classifieds/task_2/input_0.png"]
    assert t2.viewport == {"width": 1280} and t2.difficulty == "medium"
    assert t2.metadata["intent_template_id"] == 2
    assert all(not t.unresolved for t in tasks)


def test_unresolved_placeholders_are_reported() -> None:
    tasks = load_tasks(EXAMPLES / "vwa_style_tasks.json", sites={"__SHOPPING__": "http://s"})
    assert tasks[0].unresolved == []
    assert tasks[1].unresolved == ["__REDDIT__"]


def test_placeholders_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPPING", "http://10.0.0.5:7770")
    monkeypatch.setenv("CLASSIFIEDS", "http://cl:9980")
    monkeypatch.setenv("CLASSIFIEDS_RESET_TOKEN", "tok")
    sites = SiteMap.from_env()
    assert sites.sites["classifieds"].reset_url == "http://cl:9980/index.php?page=reset"
    assert sites.sites["classifieds"].reset_data == {"token": "tok"}
    tasks = load_tasks(EXAMPLES / "vwa_style_tasks.json")
    assert tasks[0].start_urls == ["http://10.0.0.5:7770"]


def test_mind2web_live_and_online_mind2web() -> None:
    live = load_tasks(EXAMPLES / "mind2web_live_style_tasks.json")
    assert {t.format for t in live} == {"mind2web-live"}
    assert live[0].start_urls == ["about:blank"] and live[0].reference_length == 5
    assert live[0].evaluation[3]["match_function_name"] == "element_path_exactly_match"
    om = load_tasks(EXAMPLES / "online_mind2web_style_tasks.json")
    assert [t.difficulty for t in om] == ["easy", "medium", "hard"]
    assert om[0].start_urls == ["http://shop.test:7770/"] and om[0].evaluation is None


def test_multi_tab_start_urls(tmp_path: Path) -> None:
    task = json.loads((EXAMPLES / "vwa_style_tasks.json").read_text())[0]
    task["start_url"] = "__SHOPPING__ |AND| __REDDIT__/forums"
    f = tmp_path / "t.json"
    f.write_text(json.dumps([task]))
    (t,) = load_tasks(f, sites=SITES)
    assert t.start_urls == ["http://shop.test:7770", "http://forum.test:9999/forums"]
    assert detect_format([task]) == "vwa"
    wa = {
        k: v
        for k, v in task.items()
        if k not in ("image", "reasoning_difficulty", "visual_difficulty", "overall_difficulty")
    }
    assert detect_format([wa]) == "webarena"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda t: t.pop("intent"), "task 0, field 'intent': is missing"),
        (
            lambda t: t["eval"].update(eval_types=["magic"]),
            "task 0, field 'eval.eval_types': unknown evaluator 'magic'",
        ),
        (lambda t: t.update(start_url=5), "task 0, field 'start_url': should be str, got int"),
        (lambda t: t["eval"].update(reference_answers=None), "field 'eval.reference_answers'"),
        (lambda t: t.update(reference_solution="click [1]"), "field 'reference_solution'"),
    ],
)
def test_bad_wa_tasks_name_file_task_and_field(tmp_path: Path, mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    task = json.loads((EXAMPLES / "vwa_style_tasks.json").read_text())[0]
    mutate(task)
    f = tmp_path / "bad.json"
    f.write_text(json.dumps([task]))
    with pytest.raises(TaskFormatError) as err:
        load_tasks(f, sites=SITES)
    assert str(f) in str(err.value) and message in str(err.value)


def test_bad_files(tmp_path: Path) -> None:
    f = tmp_path / "x.json"
    f.write_text("[{")
    with pytest.raises(TaskFormatError, match="not valid JSON"):
        load_tasks(f)
    f.write_text("[]")
    with pytest.raises(TaskFormatError, match="no tasks"):
        load_tasks(f)
    f.write_text('[{"foo": 1}]')
    with pytest.raises(TaskFormatError, match="unknown task format"):
        load_tasks(f)
    with pytest.raises(TaskFormatError, match="cannot read"):
        load_tasks(tmp_path / "missing.json")
    node = {
        "index": 0,
        "task": "t",
        "reference_task_length": 3,
        "evaluation": [{"match_function_name": "url_magic", "content": {}}],
    }
    f.write_text(json.dumps([node]))
    with pytest.raises(TaskFormatError, match=r"evaluation\[0\].match_function_name"):
        load_tasks(f)
    f.write_text(json.dumps([{**node, "evaluation": []}, {**node, "evaluation": []}]))
    with pytest.raises(TaskFormatError, match="duplicate task ids"):
        load_tasks(f)


def test_url_mapper_round_trip() -> None:
    from envs.sitemap import SiteInfo
    from envs.urlmap import UrlMapper

    sites = SiteMap(
        sites={
            "shopping": SiteInfo(name="shopping", url="http://10.0.0.5:7770"),
            "shopping_admin": SiteInfo(name="shopping_admin", url="http://10.0.0.5:7780/admin"),
        }
    )
    m = UrlMapper.for_sites(sites)
    assert m.to_public("at http://10.0.0.5:7780/admin/sales and http://10.0.0.5:7770/p/1") == (
        "at http://luma.com/admin/sales and http://onestopmarket.com/p/1"
    )
    assert m.to_local("https://onestopmarket.com/p/1") == "http://10.0.0.5:7770/p/1"
    assert m.to_local(m.to_public("http://10.0.0.5:7770/x?q=1")) == "http://10.0.0.5:7770/x?q=1"
