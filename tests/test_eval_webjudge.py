"""Online-Mind2Web: WebJudge's three stages and reply parsing, and the submission folder format."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from test_eval_support import ASSETS, ScriptedChatModel, png

from eval.evaluators.om2w_results import read_om2w_result, write_om2w_result
from eval.evaluators.prompts import load_template
from eval.evaluators.results import JudgeRequiredError
from eval.evaluators.webjudge import (
    jpeg_bytes,
    parse_image_judgement,
    parse_key_points,
    success_rate,
    webjudge,
    webjudge_folder,
    webjudge_label,
)
from webdreamer.models.types import Message


@pytest.mark.parametrize(
    ("reply", "points"),
    [
        ("**Key Points**:\n1. Kitchen\n\n2. Sort by price", "\n1. Kitchen\n2. Sort by price"),
        ("Intro\n**Key Points**:\n  1. A\n   2. B", "\n1. A\n2. B"),
        ("Key Points: a\n  b", "a\nb"),
        ("Key Points: x\nKey Points: y", "y"),
        ("   1. only a list", "1. only a list"),
    ],
)
def test_key_points_parsing(reply: str, points: str) -> None:
    assert parse_key_points(reply) == points


@pytest.mark.parametrize(
    ("reply", "parsed"),
    [
        ("1. **Reasoning**: Shows the cart.\n\nMore detail.\n2. **Score**: 4", (4, "Shows the cart.")),
        ("**Reasoning**: line one\nline two\n\n**Score**: 2", (2, "line one line two")),
        ("Score: 7 (out of 5)", (5, "Score: 7 (out of 5)")),  # the first digit 1-5 after "Score" wins
        ("**Reasoning**: no score here", None),
        ("**Score**: none", None),
    ],
)
def test_image_reply_parsing(reply: str, parsed: tuple[int, str] | None) -> None:
    assert parse_image_judgement(reply) == parsed


@pytest.mark.parametrize(
    ("reply", "label"),
    [
        ('Thoughts: all good\nStatus: "success"', 1),
        ("Thoughts: nope\nStatus: failure", 0),
        ("STATUS: Success", 1),
        ("status:success", 1),
        ("Thoughts: it was a success\nStatus: failure", 0),
        ("Status: failure. Earlier draft status: success", 0),  # only the text after the first status: counts
        ("no verdict at all", 0),
    ],
)
def test_label_rule(reply: str, label: int) -> None:
    assert webjudge_label(reply) == label


def scripted(
    image_scores: dict[str, str], outcome: str = 'Thoughts: ok\nStatus: "success"'
) -> ScriptedChatModel:
    def reply(messages: list[Message]) -> str:
        stage = messages[0].text()
        if stage == load_template("webjudge_key_points.system.txt"):
            return "**Key Points**:\n1. Kitchen category\n\n2. Sort by lowest price"
        if stage == load_template("webjudge_image.system.txt"):
            return image_scores[messages[-1].images()[0].digest()]
        assert stage == load_template("webjudge_outcome.system.txt")
        return outcome

    return ScriptedChatModel(reply)


def digest(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(jpeg_bytes(data)).hexdigest()


async def test_three_stages() -> None:
    shots = [png((10 * i, 40, 90)) for i in range(4)]
    scores = [
        "**Reasoning**: empty page\n**Score**: 1",
        "**Reasoning**: kitchen open\n**Score**: 3",
        "**Reasoning**: sorted by price\n**Score**: 5",
        "garbled",
    ]
    model = scripted({digest(s): r for s, r in zip(shots, scores, strict=True)})
    actions = ["click 'Kitchen'", "select 'Price: low to high'"]
    result = await webjudge("Find the cheapest mug in Kitchen", actions, shots, model)
    assert result.label == 1
    assert result.key_points == "\n1. Kitchen category\n2. Sort by lowest price"
    assert [j.score for j in result.images] == [1, 3, 5, 0]
    assert [j.kept for j in result.images] == [False, True, True, False]
    outcome = model.calls[-1][0]
    text = outcome[-1].text()
    assert (
        "Find the cheapest mug in Kitchen" in text
        and "1. click 'Kitchen'\n2. select 'Price: low to high'" in text
    )
    # the reason is the first paragraph after "**Reasoning**:", newlines turned into spaces (the score line too)
    assert (
        "1. kitchen open **Score**: 3\n2. sorted by price **Score**: 5" in text and "empty page" not in text
    )
    assert len(outcome[-1].images()) == 2 and outcome[-1].images()[0].mime == "image/jpeg"
    assert all(part.detail == "high" for part in outcome[-1].images())
    assert "Status" in outcome[0].text()  # the criteria and output format are in the system message
    assert model.calls[-1][1]["max_tokens"] == 512 and model.calls[0][1]["max_tokens"] == 2048


async def test_threshold_and_no_images_prompt() -> None:
    shots = [png((200, 0, 0)), png((0, 200, 0))]
    model = scripted(
        {
            digest(shots[0]): "**Reasoning**: a\n**Score**: 3",
            digest(shots[1]): "**Reasoning**: b\n**Score**: 4",
        },
        outcome="Status: failure",
    )
    result = await webjudge("t", ["a"], shots, model, score_threshold=5)
    assert result.kept_images == 0 and result.label == 0
    last = model.calls[-1][0][-1]
    assert last.images() == [] and "judged relevant" not in last.text()


async def test_at_most_fifty_images() -> None:
    shots = [png((i, i, i), size=(16, 16)) for i in range(60)]
    model = scripted({digest(s): "**Reasoning**: r\n**Score**: 5" for s in shots})
    result = await webjudge("t", [], shots, model)
    assert result.kept_images == 50
    assert len(model.calls[-1][0][-1].images()) == 50


async def test_webjudge_needs_a_model() -> None:
    with pytest.raises(JudgeRequiredError):
        await webjudge("t", [], [], None)


def test_success_rate() -> None:
    assert success_rate([1, 0, 1], n_task_folders=4) == 50.0
    assert success_rate([1, 1]) == 100.0


def test_write_and_read_v1(tmp_path: Path) -> None:
    shots = [png((i * 20, 0, 0), size=(8, 8)) for i in range(12)]
    folder = write_om2w_result(
        tmp_path,
        task_id="abc",
        task="Do it",
        action_history=["click A", "type B"],
        screenshots=shots,
        final_result_response="Done: B",
        thoughts=["t1", "t2"],
    )
    data = json.loads((folder / "result.json").read_text())
    assert data == {
        "task_id": "abc",
        "task": "Do it",
        "final_result_response": "Done: B",
        "action_history": ["click A", "type B"],
        "thoughts": ["t1", "t2"],
    }
    assert sorted(p.name for p in (folder / "trajectory").iterdir()) == sorted(f"{i}.png" for i in range(12))
    read = read_om2w_result(folder)
    assert read.task == "Do it" and read.action_history == ["click A", "type B"]
    assert read.final_result_response == "Done: B" and "Done: B" not in read.action_history
    assert [p.name for p in read.screenshot_paths] == [f"{i}.png" for i in range(12)]  # 10 after 9


def test_read_v1_example_and_folder_name_wins(tmp_path: Path) -> None:
    folder = tmp_path / "renamed-task"
    (folder / "trajectory").mkdir(parents=True)
    shutil.copy(ASSETS / "online_mind2web_result_example.json", folder / "result.json")
    for name in ("step_2_after.png", "step_10.png", "step_1.png"):
        (folder / "trajectory" / name).write_bytes(png((1, 2, 3), size=(8, 8)))
    read = read_om2w_result(folder)
    assert read.task_id == "renamed-task"
    assert read.task.startswith("Find the cheapest ceramic mug")
    assert [p.name for p in read.screenshot_paths] == ["step_1.png", "step_2_after.png", "step_10.png"]
    (folder / "trajectory" / "final.png").write_bytes(b"x")
    with pytest.raises(ValueError, match="no number"):
        read_om2w_result(folder)


def test_read_v2(tmp_path: Path) -> None:
    folder = tmp_path / "t2"
    (folder / "trajectory").mkdir(parents=True)
    steps = [
        {"action": "click A", "thought": "first", "screenshot": "s0.png"},
        {"action": "type B", "thought": "second", "screenshot": "s1.png"},
        {"action": "ANSWER: 42", "thought": "done", "screenshot": "s2.png"},
    ]
    (folder / "result.json").write_text(
        json.dumps(
            {
                "schema_version": "online-mind2web-v2",
                "task_id": "x",
                "task": "T",
                "action_history": steps,
                "agent_final_answer": "42",
            }
        )
    )
    read = read_om2w_result(folder)
    assert read.action_history == ["click A", "type B"]  # the final step's action is dropped
    assert read.thoughts == ["first", "second", "done"]
    assert [p.name for p in read.screenshot_paths] == ["s0.png", "s1.png", "s2.png"]
    assert read.final_result_response == "42" and read.task_id == "t2"


async def test_webjudge_folder(tmp_path: Path) -> None:
    shots = [png((200, 0, 0)), png((0, 0, 200))]
    folder = write_om2w_result(
        tmp_path,
        task_id="t",
        task="Buy a mug",
        action_history=["click Buy"],
        screenshots=shots,
        final_result_response="Bought",
    )
    model = scripted(
        {
            digest(shots[0]): "**Reasoning**: a\n**Score**: 4",
            digest(shots[1]): "**Reasoning**: b\n**Score**: 2",
        }
    )
    result = await webjudge_folder(folder, model)
    assert result.label == 1 and result.kept_images == 1
    assert "Bought" not in model.calls[-1][0][-1].text()  # the final answer is not shown to the judge
