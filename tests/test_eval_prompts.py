"""Judge prompt templates: loading, notes, single-pass filling, and that every file the code uses exists."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.evaluators.prompts import PROMPTS_ENV, _read, load_template, prompts_dir, render

TEMPLATES = {
    "wa_judge.system.txt": [],
    "wa_fuzzy_match.user.txt": ["question", "reference", "pred"],
    "vwa_fuzzy_match.user.txt": ["question", "reference", "pred"],
    "wa_ua_match.user.txt": ["question", "reference", "pred"],
    "vwa_vqa.user.txt": ["question"],
    "m2wl_semantic_match.system.txt": [],
    "m2wl_semantic_match.user.txt": ["rule", "answer"],
    "webjudge_key_points.system.txt": [],
    "webjudge_key_points.user.txt": ["task"],
    "webjudge_image.system.txt": [],
    "webjudge_image.user.txt": ["task", "key_points"],
    "webjudge_outcome.system.txt": [],
    "webjudge_outcome.user.txt": ["task", "key_points", "last_actions", "thoughts"],
    "webjudge_outcome_no_images.user.txt": ["task", "key_points", "last_actions"],
}


@pytest.mark.parametrize(("name", "placeholders"), TEMPLATES.items())
def test_every_template_exists_and_uses_its_placeholders(name: str, placeholders: list[str]) -> None:
    text = load_template(name)
    assert text.strip() and not text.startswith("#:")
    for key in placeholders:
        assert "{" + key + "}" in text
    filled = render(text, **{k: f"<{k}>" for k in placeholders})
    for key in placeholders:
        assert "{" + key + "}" not in filled and f"<{key}>" in filled


def test_render_is_single_pass_and_leaves_other_braces() -> None:
    assert render("{a} {b} {json: 1}", a="{b}", b="B") == "{b} B {json: 1}"
    assert render("{missing}") == "{missing}"


def test_notes_are_dropped_only_at_the_top(tmp_path: Path) -> None:
    (tmp_path / "t.txt").write_text("#: note\n#: more\nbody\n#: kept\n", encoding="utf-8")
    assert load_template("t.txt", tmp_path) == "body\n#: kept\n"


def test_prompts_dir_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "judges").mkdir()
    (tmp_path / "judges" / "vwa_vqa.user.txt").write_text("Question: {question}", encoding="utf-8")
    monkeypatch.setenv(PROMPTS_ENV, str(tmp_path))
    _read.cache_clear()
    assert prompts_dir() == tmp_path
    assert render(load_template("vwa_vqa.user.txt"), question="q?") == "Question: q?"


def test_fuzzy_templates_keep_the_verdict_words() -> None:
    for name in ("wa_fuzzy_match.user.txt", "vwa_fuzzy_match.user.txt"):
        text = load_template(name)
        assert "correct" in text and "incorrect" in text and "partially correct" in text
    assert "'same'" in load_template("wa_ua_match.user.txt") and "'different'" in load_template(
        "wa_ua_match.user.txt"
    )
    assert load_template("vwa_vqa.user.txt").strip() == "Q: {question} A:"
