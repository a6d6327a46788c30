"""The action vocabulary: parsing model output, canonical forms, descriptions, the prompt text."""

from __future__ import annotations

import pytest

from envs import Action, ActionParseError, ActionSpace, Element, Kind, Observation, Tab

SPACE = ActionSpace()

PARSES = [
    ("Let me think.\nIn summary, the next action I will perform is ```click [1234]```", "click [1234]"),
    ("```\ntype [12] [ceramic mug] [1]\n```", "type [12] [ceramic mug] [1]"),
    ("```type [12] [ceramic mug]```", "type [12] [ceramic mug] [1]"),  # WebArena appends Enter
    ("```type [12] [a [nested] text] [0]```", "type [12] [a [nested] text] [0]"),
    ("```Click[ 7 ]```", "click [7]"),
    ("```CLICK [7]```", "click [7]"),
    ("the next action is: hover [3].", "hover [3]"),
    ("```press [Meta+a]```", "press [Control+a]"),
    ("```scroll [Down]```", "scroll [down]"),
    ("```scroll up```", "scroll [up]"),
    ("```select [5] [Price: low to high]```", "select [5] [Price: low to high]"),
    ("```new_tab```", "new_tab"),
    ("```tab_focus [2]```", "tab_focus [2]"),
    ("```close_tab```", "close_tab"),
    ("```goto [http://shop.test:7770/search?q=mug]```", "goto [http://shop.test:7770/search?q=mug]"),
    ("```go_back```", "go_back"),
    ("```go_forward```", "go_forward"),
    ("```stop [The answer is [7.49]]```", "stop [The answer is [7.49]]"),
    ("```stop []```", "stop []"),
    ("```stop```", "stop []"),
    ("I will do this:\nclick [9]\nthat's it", "click [9]"),
    ("```python\nclick [9]\n```", "click [9]"),
]


@pytest.mark.parametrize(("output", "canonical"), PARSES)
def test_parse_model_output(output: str, canonical: str) -> None:
    action = SPACE.parse(output)
    assert action.canonical() == canonical
    assert SPACE.parse_action(action.canonical()) == action  # canonical form round-trips


BAD = [
    ("I am not sure what to do.", "no action found"),
    ("```click [abc]```", "numeric element id"),
    ("```click [1] [2]```", "one element id"),
    ("```scroll [left]```", "[up] or [down]"),
    ("```tab_focus [x]```", "tab index"),
    ("```goto []```", "needs an argument"),
    ("```dance [1]```", "unknown action 'dance'"),
    ("```type [12]```", "type takes"),
    ("```go_back [1]```", "takes no arguments"),
    ("```none```", "no action"),
    ("```click [1```", "unclosed bracket"),
]


@pytest.mark.parametrize(("output", "message"), BAD)
def test_parse_errors_say_what_was_wrong(output: str, message: str) -> None:
    with pytest.raises(ActionParseError, match=message.replace("[", r"\[").replace("]", r"\]")):
        SPACE.parse(output)


def test_restricted_spaces_refuse_actions() -> None:
    space = ActionSpace(allow_tabs=False, allow_goto=False)
    with pytest.raises(ActionParseError, match="not allowed"):
        space.parse_action("new_tab")
    with pytest.raises(ActionParseError, match="not allowed"):
        space.parse_action("goto [http://x]")
    assert "tab_focus" not in space.prompt_text() and "goto" not in space.prompt_text()
    assert "tab_focus [tab_index]" in SPACE.prompt_text() and "select [id] [option]" in SPACE.prompt_text()


def test_element_refs_only_when_enabled() -> None:
    with pytest.raises(ActionParseError):
        SPACE.parse_action("click [link 'Kitchen']")
    refs = ActionSpace(allow_element_refs=True)
    action = refs.parse_action('type [searchbox "Search products"] [mug] [1]')
    assert (
        action.target is not None
        and action.target.role == "searchbox"
        and action.target.name == "Search products"
    )
    assert action.canonical() == "type [searchbox 'Search products'] [mug] [1]"


def test_describe_uses_element_semantics() -> None:
    obs = Observation(
        elements=[
            Element(id=3, role="link", name="Garden tools"),
            Element(id=4, role="searchbox", name="Search products"),
            Element(id=5, role="combobox", name="Sort by"),
        ],
        tabs=[Tab(index=0, url="u", title="Shop"), Tab(index=1, url="v", title="Forum")],
    )
    cases = {
        "click [3]": "click the link 'Garden tools'",
        "type [4] [mug] [1]": "type 'mug' into the searchbox 'Search products' and press Enter",
        "type [4] [mug] [0]": "type 'mug' into the searchbox 'Search products'",
        "select [5] [Newest]": "select the option 'Newest' in the combobox 'Sort by'",
        "click [99]": "click the element [99]",
        "tab_focus [1]": "switch to tab 1 ('Forum')",
        "scroll [down]": "scroll down one screen",
        "stop [7.49]": "stop and answer '7.49'",
        "stop []": "stop (the task is done)",
        "goto [http://x.test/]": "go to the URL http://x.test/",
    }
    for text, words in cases.items():
        assert SPACE.parse_action(text).describe(obs) == words


def test_equivalence_follows_webarena() -> None:
    a = SPACE.parse_action("type [4] [red] [1]")
    b = SPACE.parse_action("type [4] [blue] [0]")
    assert a.equivalent(b) and a != b  # type is compared by element only
    assert not SPACE.parse_action("click [4]").equivalent(SPACE.parse_action("click [5]"))
    assert Action(kind=Kind.STOP, text="x").equivalent(SPACE.parse_action("stop [x]"))
    # Actions are hashable, so candidates can be counted.
    assert len({SPACE.parse_action("click [4]"), SPACE.parse_action("click  [4]")}) == 1
