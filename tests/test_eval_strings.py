"""string_match under the WebArena and VisualWebArena profiles: a table per rule, quirks included."""

from __future__ import annotations

from typing import Any

import pytest
from test_eval_support import ScriptedChatModel

from eval.evaluators.results import Profile
from eval.evaluators.strings import clean_answer, compare_inequality, str_2_int, string_match


@pytest.mark.parametrize(
    ("raw", "profile", "cleaned"),
    [
        ("  'Yes'  ", "webarena", "yes"),  # WA strips first, then drops the quotes
        ("  'Yes'  ", "vwa", "  'yes'  "),  # VWA does not strip, so the quotes stay
        ("\"'Yes'\"", "webarena", "'yes'"),  # one layer per cleaning
        ("'", "webarena", ""),  # a lone quote starts and ends with a quote
        ("'", "vwa", ""),
        ('"abc', "vwa", '"abc'),  # unbalanced quotes stay
        ("'mixed\"", "webarena", "'mixed\""),
    ],
)
def test_clean_answer(raw: str, profile: Profile, cleaned: str) -> None:
    assert clean_answer(raw, profile) == cleaned


async def score(profile: Profile, refs: dict[str, Any] | None, answer: str, **kw: Any) -> float | None:
    result = await string_match(refs, answer, profile=profile, **kw)
    return result.score


STRING_CASES: list[tuple[str, Profile, dict[str, Any], str, float]] = [
    # exact_match, cleaned twice: two layers of quotes come off
    ("double clean", "webarena", {"exact_match": "yes"}, "\"'Yes'\"", 1.0),
    ("double clean vwa", "vwa", {"exact_match": "yes"}, "\"'Yes'\"", 1.0),
    ("wa strips", "webarena", {"exact_match": "yes"}, "  yes ", 1.0),
    ("vwa keeps spaces", "vwa", {"exact_match": "yes"}, " yes", 0.0),
    ("lone quote is empty", "webarena", {"exact_match": ""}, "'", 1.0),
    ("exact case-insensitive", "vwa", {"exact_match": "Pittsburgh"}, "PITTSBURGH", 1.0),
    # must_include: lowercasing before tokenising keeps "4." whole
    ("total 4. wa", "webarena", {"must_include": ["4"]}, "Total: 4. Thanks", 0.0),
    ("total 4. vwa", "vwa", {"must_include": ["4"]}, "Total: 4. Thanks", 0.0),
    ("4 as a token", "webarena", {"must_include": ["4"]}, "Total: 4 items", 1.0),
    ("wa single char in 14", "webarena", {"must_include": ["4"]}, "14 items", 0.0),
    ("wa two items: substring", "webarena", {"must_include": ["4", "x"]}, "14 x", 1.0),
    ("vwa 4 vs 14", "vwa", {"must_include": ["4"]}, "14 items", 0.0),
    ("vwa always tokenizes", "vwa", {"must_include": ["4", "x"]}, "14 x", 0.0),
    ("vwa whole number", "vwa", {"must_include": ["25000.00"]}, "price is 125000.00", 0.0),
    ("vwa whole number ok", "vwa", {"must_include": ["25000.00"]}, "price is 25000.00", 1.0),
    ("wa multi-char is substring", "webarena", {"must_include": ["25000.00"]}, "125000.00", 1.0),
    ("vwa |OR|", "vwa", {"must_include": ["7.49 |OR| 7.490"]}, "7.490", 1.0),
    ("wa has no |OR|", "webarena", {"must_include": ["7.49 |OR| 7.490"]}, "7.490", 0.0),
    ("wa literal |OR|", "webarena", {"must_include": ["a |OR| b"]}, "A |or| B", 1.0),
    ("vwa leading quote", "vwa", {"must_include": ["red"]}, "the 'red' one", 0.0),
    ("wa leading quote is substring", "webarena", {"must_include": ["red"]}, "the 'red' one", 1.0),
    ("vwa phrase", "vwa", {"must_include": ["blue car"]}, "A blue car.", 1.0),
    ("must_include is AND", "vwa", {"must_include": ["blue", "green"]}, "blue", 0.0),
    # must_exclude (VWA only; WA ignores it)
    ("exclude token", "vwa", {"must_exclude": ["4"]}, "14 apples", 1.0),
    ("exclude hit", "vwa", {"must_exclude": ["4"]}, "4 apples", 0.0),
    ("exclude no |OR| split", "vwa", {"must_exclude": ["a |OR| b"]}, "a", 1.0),
    ("exclude empty item", "vwa", {"must_exclude": [""]}, "anything", 0.0),
    ("wa ignores must_exclude", "webarena", {"must_include": ["x"], "must_exclude": ["x"]}, "x", 1.0),
    ("vwa applies must_exclude", "vwa", {"must_include": ["x"], "must_exclude": ["x"]}, "x", 0.0),
    # one_of
    ("one_of hit", "vwa", {"one_of": ["Red", "Blue"]}, "It is blue", 1.0),
    ("one_of miss", "vwa", {"one_of": ["x"]}, "y", 0.0),
    ("one_of empty list", "vwa", {"one_of": []}, "y", 0.0),
    ("one_of substring", "vwa", {"one_of": ["4"]}, "14", 1.0),
    ("wa ignores one_of", "webarena", {"one_of": []}, "y", 1.0),
    # required_values: < and > are lenient, "=>" reads as ">"
    (">= ok", "vwa", {"required_values": [">= 12"]}, "12", 1.0),
    ("commas dropped", "vwa", {"required_values": [">= 12"]}, " 1,200 ", 1.0),
    ("< acts as <=", "vwa", {"required_values": ["< 700"]}, "700", 1.0),
    ("> acts as >=", "vwa", {"required_values": ["> 5"]}, "5", 1.0),
    ("=> is >", "vwa", {"required_values": ["=> 5"]}, "5", 1.0),
    ("=> miss", "vwa", {"required_values": ["=> 5"]}, "4", 0.0),
    ("not an int", "vwa", {"required_values": ["== 10"]}, "10.0", 0.0),
    ("|OR| in values", "vwa", {"required_values": [">= 3 |OR| <= 1"]}, "0", 1.0),
    ("values are AND", "vwa", {"required_values": [">= 3", "<= 5"]}, "6", 0.0),
    ("then exact on the int", "vwa", {"required_values": [">= 1"], "exact_match": "12"}, "12", 1.0),
    ("wa ignores required_values", "webarena", {"required_values": [">= 100"]}, "1", 1.0),
    # unknown keys are ignored
    ("unknown key", "vwa", {"something_else": ["x"]}, "y", 1.0),
    # N/A without a judge call when the answer is N/A
    ("N/A exact", "webarena", {"fuzzy_match": "N/A"}, "N/A", 1.0),
    ("N/A quoted", "vwa", {"fuzzy_match": "N/A"}, "'n/a'", 1.0),
]


@pytest.mark.parametrize(
    ("name", "profile", "refs", "answer", "expected"), STRING_CASES, ids=[c[0] for c in STRING_CASES]
)
async def test_string_rules(
    name: str, profile: Profile, refs: dict[str, Any], answer: str, expected: float
) -> None:
    result = await string_match(refs, answer, profile=profile)
    assert result.error is None, result.error
    assert result.score == expected
    assert result.judge_calls == 0


ERROR_CASES: list[tuple[str, Profile, Any, str, str]] = [
    (
        "int answer then must_include",
        "vwa",
        {"required_values": [">= 1"], "must_include": ["1"]},
        "12",
        "must_include",
    ),
    ("int answer then one_of", "vwa", {"required_values": [">= 1"], "one_of": ["1"]}, "12", "one_of"),
    ("None answer then exact", "vwa", {"required_values": [">= 1"], "exact_match": "x"}, "x", "exact_match"),
    ("two operators", "vwa", {"required_values": ["<= 5 <= 6"]}, "5", "inequality"),
    ("no operator", "vwa", {"required_values": ["~5"]}, "5", "Invalid inequality"),
    ("must_include not a list", "webarena", {"must_include": "x"}, "x", "list"),
    ("no reference answers", "webarena", None, "x", "dict"),
    ("N/A without string_note", "vwa", {"fuzzy_match": "N/A"}, "gave up", "string_note"),
]


@pytest.mark.parametrize(
    ("name", "profile", "refs", "answer", "message"), ERROR_CASES, ids=[c[0] for c in ERROR_CASES]
)
async def test_string_errors_where_the_original_raises(
    name: str, profile: Profile, refs: Any, answer: str, message: str
) -> None:
    result = await string_match(refs, answer, profile=profile, judge=ScriptedChatModel(["same"]))
    assert result.score is None
    assert result.error is not None and message in result.error


@pytest.mark.parametrize(
    ("value", "inequality", "ok"),
    [
        (12, ">= 12", True),
        (11.99999999999, ">= 12", True),
        (11.9, ">= 12", False),
        (700, "< 700", True),
        (5, "=> 5", True),
        (5, "== 5.0", True),
        (5.0000001, "== 5", False),
        (3, "<= 2 ", False),
    ],
)
def test_compare_inequality(value: float, inequality: str, ok: bool) -> None:
    assert compare_inequality(value, inequality) is ok


@pytest.mark.parametrize(
    ("text", "value"),
    [("12", 12), (" 1,234 ", 1234), ("1_000", 1000), ("12.5", None), ("", None), ("-3", -3)],
)
def test_str_2_int(text: str, value: int | None) -> None:
    assert str_2_int(text) == value


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("correct", 1.0),
        ("Correct.", 1.0),
        ("incorrect", 0.0),
        ("Partially correct", 0.0),
        ("The answer is CORRECT", 1.0),
    ],
)
async def test_fuzzy_match_reads_the_verdict(reply: str, expected: float) -> None:
    judge = ScriptedChatModel([reply])
    result = await string_match(
        {"fuzzy_match": ["Two apples"]},
        "'2 Apples'",
        profile="webarena",
        intent="How many apples?",
        judge=judge,
    )
    assert result.score == expected
    messages, kwargs = judge.calls[0]
    text = messages[-1].text()
    # the judge sees the intent, the reference and the once-cleaned (lowercased) answer
    assert "How many apples?" in text and "Two apples" in text and "student answer: 2 apples" in text
    assert kwargs["temperature"] == 0 and kwargs["max_tokens"] == 768 and kwargs["top_p"] == 1.0


async def test_fuzzy_match_profiles_use_their_own_template() -> None:
    wa, vwa = ScriptedChatModel(["correct"]), ScriptedChatModel(["correct"])
    await string_match({"fuzzy_match": ["x"]}, "x", profile="webarena", judge=wa)
    await string_match({"fuzzy_match": ["x"]}, "x", profile="vwa", judge=vwa)
    assert "nothing else" not in wa.calls[0][0][-1].text()
    assert "nothing else" in vwa.calls[0][0][-1].text()


async def test_fuzzy_match_every_reference_must_pass() -> None:
    judge = ScriptedChatModel(["correct", "incorrect"])
    result = await string_match({"fuzzy_match": ["a", "b"]}, "a", profile="vwa", judge=judge)
    assert result.score == 0.0 and result.judge_calls == 2


async def test_unreadable_judge_reply_is_an_error() -> None:
    result = await string_match(
        {"fuzzy_match": ["x"]}, "x", profile="webarena", judge=ScriptedChatModel(["maybe"])
    )
    assert result.score is None and result.error is not None and "no verdict" in result.error


async def test_missing_judge_is_an_error_not_a_zero() -> None:
    result = await string_match({"fuzzy_match": ["x"]}, "x", profile="webarena", judge=None)
    assert result.score is None and result.error is not None and "needs a judge" in result.error
    na = await string_match(
        {"fuzzy_match": "N/A"}, "it cannot be done", profile="vwa", string_note="why", judge=None
    )
    assert na.score is None and na.error is not None and "needs a judge" in na.error


@pytest.mark.parametrize(("reply", "expected"), [("same", 1.0), ("Different.", 0.0), ("SAME reason", 1.0)])
async def test_na_uses_the_ua_judge(reply: str, expected: float) -> None:
    judge = ScriptedChatModel([reply])
    result = await string_match(
        {"fuzzy_match": "N/A"},
        "The Item Does Not Exist",
        profile="webarena",
        intent="Buy the item",
        string_note="no such item",
        judge=judge,
    )
    assert result.score == expected
    text = judge.calls[0][0][-1].text()
    assert "no such item" in text and "the item does not exist" in text and "Buy the item" in text


async def test_na_verdict_replaces_an_earlier_zero() -> None:
    # must_include fails (0), N/A matches (x1 = 0, not 1), so the UA verdict *replaces* the score.
    judge = ScriptedChatModel(["same"])
    result = await string_match(
        {"must_include": ["foo"], "fuzzy_match": "N/A"},
        "N/A",
        profile="vwa",
        string_note="reason",
        judge=judge,
    )
    assert result.score == 1.0 and result.judge_calls == 1


async def test_na_key_order_matters() -> None:
    # With N/A first the running score is 1, no judge is asked, and must_include then zeroes it.
    result = await string_match(
        {"fuzzy_match": "N/A", "must_include": ["foo"]},
        "N/A",
        profile="vwa",
        string_note="reason",
        judge=None,
    )
    assert result.score == 0.0 and result.judge_calls == 0


async def test_breakdown_names_the_failing_rule() -> None:
    result = await string_match({"must_include": ["alpha", "beta"]}, "alpha", profile="vwa")
    failing = [c for c in result.checks if c.score < 1]
    assert [c.expected for c in failing] == ["beta"]
    assert any("beta" in line for line in result.reasons())
    ignored = await string_match({"one_of": ["x"]}, "x", profile="webarena")
    assert ignored.checks[0].note.startswith("not a WebArena rule")
