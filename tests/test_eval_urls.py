"""url_match: WebArena's GOLD-in-PRED rule and VisualWebArena's EXACT / GOLD-in-PRED rules."""

from __future__ import annotations

from typing import Any

import pytest

from eval.evaluators.results import Profile
from eval.evaluators.urls import url_match

S = "http://127.0.0.1:7770"

WA_CASES = [
    ("same url", f"{S}/a/b", f"{S}/a/b", 1.0),
    ("trailing slashes all stripped", f"{S}/a/b//", f"{S}/a/b", 1.0),
    ("gold base is a substring", f"{S}/a", f"{S}/a/b/c", 1.0),
    ("different base", f"{S}/x", f"{S}/a/b", 0.0),
    ("scheme ignored", "https://127.0.0.1:7770/a", f"{S}/a", 1.0),
    ("query value needed", f"{S}/s?q=mug", f"{S}/s?q=cup", 0.0),
    ("extra pred query is fine", f"{S}/s?q=mug", f"{S}/s?q=mug&sort=asc", 1.0),
    ("query order free", f"{S}/s?a=1&b=2", f"{S}/s?b=2&a=1", 1.0),
    ("plus decodes to space", f"{S}/s?q=a+b", f"{S}/s?q=a%20b", 1.0),
    # a "/" right before "?" is not stripped (only the URL's end is): real WA tasks 45, 46, 102-106
    ("slash before query kept", f"{S}/a/?q=1", f"{S}/a?q=1", 0.0),
    ("slash before query both", f"{S}/a/?q=1", f"{S}/a/?q=1", 1.0),
    ("empty reference matches anything", "", f"{S}/whatever?x=1", 1.0),
    # query keys are pooled over |OR| alternatives: matching one alternative exactly is not enough
    ("pooled keys fail", f"{S}/s?q=mug |OR| {S}/s?cat=3", f"{S}/s?q=mug", 0.0),
    ("pooled values any", f"{S}/s?q=mug |OR| {S}/s?q=cup", f"{S}/s?q=cup", 1.0),
    ("localhost not mapped in WA", "http://localhost:7770/a", f"{S}/a", 0.0),
    ("blank query value ignored", f"{S}/s?q=", f"{S}/s", 1.0),
]


@pytest.mark.parametrize(("name", "ref", "pred", "expected"), WA_CASES, ids=[c[0] for c in WA_CASES])
def test_webarena_gold_in_pred(name: str, ref: str, pred: str, expected: float) -> None:
    result = url_match({"reference_url": ref}, pred, "webarena")  # url_note absent: GOLD in PRED
    assert result.error is None
    assert result.score == expected


VWA_CASES: list[tuple[str, dict[str, Any], str, float]] = [
    ("exact default", {"reference_url": f"{S}/a?id=3"}, f"{S}/a?id=3", 1.0),
    ("exact default no substring", {"reference_url": f"{S}/a"}, f"{S}/a/b", 0.0),
    ("exact one trailing slash", {"reference_url": f"{S}/a/"}, f"{S}/a", 1.0),
    ("exact only one slash stripped", {"reference_url": f"{S}/a//"}, f"{S}/a", 0.0),
    ("exact query order matters", {"reference_url": f"{S}/s?a=1&b=2"}, f"{S}/s?b=2&a=1", 0.0),
    ("exact |OR|", {"reference_url": f"{S}/i?id=31 |OR| {S}/i?id=58"}, f"{S}/i?id=58", 1.0),
    ("localhost mapped", {"reference_url": "http://localhost:7770/a"}, f"{S}/a", 1.0),
    ("localhost mapped everywhere", {"reference_url": f"{S}/r?to=localhost"}, f"{S}/r?to=127.0.0.1", 1.0),
    (
        "gold in pred raw substring",
        {"reference_url": f"{S}/s?q=mug", "url_note": "GOLD in PRED"},
        f"{S}/s?q=mug&x=1",
        1.0,
    ),
    (
        "gold in pred no query parsing",
        {"reference_url": f"{S}/s?a=1&b=2", "url_note": "GOLD in PRED"},
        f"{S}/s?b=2&a=1",
        0.0,
    ),
    ("explicit exact", {"reference_url": f"{S}/a", "url_note": "EXACT"}, f"{S}/a", 1.0),
]


@pytest.mark.parametrize(("name", "spec", "pred", "expected"), VWA_CASES, ids=[c[0] for c in VWA_CASES])
def test_vwa_rules(name: str, spec: dict[str, Any], pred: str, expected: float) -> None:
    result = url_match(spec, pred, "vwa")
    assert result.error is None
    assert result.score == expected


@pytest.mark.parametrize(
    ("profile", "spec", "message"),
    [
        ("webarena", {"reference_url": f"{S}/a", "url_note": "EXACT"}, "Unknown matching rule"),
        ("vwa", {"reference_url": f"{S}/a", "url_note": "fuzzy"}, "Unknown matching rule"),
        ("vwa", {}, "reference_url"),
        ("webarena", {"reference_url": None}, "string"),
    ],
)
def test_url_errors(profile: Profile, spec: dict[str, Any], message: str) -> None:
    result = url_match(spec, f"{S}/a", profile)
    assert result.score is None and result.error is not None and message in result.error


def test_url_breakdown_shows_the_failing_query_key() -> None:
    result = url_match({"reference_url": f"{S}/s?q=mug |OR| {S}/s?cat=3"}, f"{S}/s?q=mug", "webarena")
    failing = [c for c in result.checks if c.score < 1]
    assert [c.rule for c in failing] == ["url query 'cat'"]
    assert "pooled" in failing[0].note
