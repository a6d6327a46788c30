"""The scripted server's own contract: rule order, uses, sequences, the unmatched answer, records."""

from __future__ import annotations

import pytest
from llm_server import ChatRequest, ScriptedLLMServer, sequence

from webdreamer.models import ModelConfig, ModelError, OpenAIChatModel, system, user


def bare(server: ScriptedLLMServer) -> OpenAIChatModel:
    return OpenAIChatModel(ModelConfig(model="scripted", base_url=server.url, api_key="k"))


async def test_rules_order_times_first_and_sequence(llm_server: ScriptedLLMServer) -> None:
    m = bare(llm_server)
    once = llm_server.when(system="judge", times=1).reply("first")
    llm_server.when(system="judge").reply(sequence("second", "third"))
    llm_server.when(predicate=lambda r: r.n == 2, first=True, name="pairs").reply(["p", "q"])
    texts = [(await m.complete([system("You judge."), user("x")])).texts[0] for _ in range(4)]
    assert texts == ["first", "second", "third", "third"] and once.hits == 1
    assert (await m.complete([system("judge")], n=2)).texts == ["p", "q"]
    assert llm_server.chat_requests[-1].outcome == "pairs"


async def test_unmatched_request_is_a_clear_400(llm_server: ScriptedLLMServer) -> None:
    with pytest.raises(ModelError, match=r"HTTP 400.*no scripted rule matched.*hello there"):
        await bare(llm_server).complete([user("hello there")])


async def test_records_and_reset(llm_server: ScriptedLLMServer) -> None:
    seen: list[ChatRequest] = []
    llm_server.default = lambda req: seen.append(req) or "ok"  # type: ignore[func-returns-value]
    await bare(llm_server).complete([system("S"), user("U1"), user("U2")], temperature=0.2)
    rec = llm_server.chat_requests[0]
    assert rec.status == 200 and rec.finished is not None and rec.finished >= rec.received
    assert (seen[0].system, seen[0].user, seen[0].body["temperature"]) == ("S", "U2", 0.2)
    assert llm_server.peak_in_flight == 1 and llm_server.in_flight == 0
    llm_server.reset()
    assert llm_server.requests == [] and llm_server.rules == []
