"""Retries over real HTTP: 429 with Retry-After, 5xx, timeouts, dropped connections, give-up, no retry on 4xx;
and re-asking on unparseable output."""

from __future__ import annotations

import pytest
from llm_server import Drop, Hang, HTTPStatus, RateLimit, Reply, ScriptedLLMServer, ServerError

from webdreamer.models import (
    ChatModel,
    ModelConfig,
    ModelError,
    RetryableModelError,
    RetryPolicy,
    ask_until_parsed,
    build_model,
    user,
)


def model(
    server: ScriptedLLMServer, *, attempts: int = 3, timeout_s: float = 5.0, **policy: float
) -> ChatModel:
    retry = RetryPolicy(max_attempts=attempts, initial_wait_s=0.005, max_wait_s=0.02, **policy)
    cfg = ModelConfig(model="scripted", base_url=server.url, api_key="test", timeout_s=timeout_s, retry=retry)
    return build_model(cfg, role="judge")


def gap_s(server: ScriptedLLMServer, i: int) -> float:
    """Time from the end of request i to the arrival of request i + 1, as the server saw it."""
    reqs = server.chat_requests
    finished = reqs[i].finished
    assert finished is not None
    return reqs[i + 1].received - finished


@pytest.mark.parametrize("header", ["retry-after", "retry-after-ms"])
async def test_429_waits_at_least_retry_after(llm_server: ScriptedLLMServer, header: str) -> None:
    fault = (
        RateLimit(retry_after=0.2)
        if header == "retry-after"
        else RateLimit(retry_after=None, retry_after_ms=150)
    )
    llm_server.when(times=1).fault(fault)
    llm_server.default = "ok"
    c = await model(llm_server).complete([user("x")])
    assert c.texts == ["ok"] and c.info["attempts"] == 2
    assert [r.status for r in llm_server.chat_requests] == [429, 200]
    assert gap_s(llm_server, 0) >= (0.2 if header == "retry-after" else 0.15)


async def test_500_then_success(llm_server: ScriptedLLMServer) -> None:
    llm_server.when(times=2).fault(ServerError())
    llm_server.default = "ok"
    c = await model(llm_server).complete([user("x")])
    assert c.texts == ["ok"] and c.info["attempts"] == 3
    assert [r.status for r in llm_server.chat_requests] == [500, 500, 200]


async def test_timeout_then_success(llm_server: ScriptedLLMServer) -> None:
    llm_server.when(times=1).fault(Hang(seconds=3))
    llm_server.default = "ok"
    c = await model(llm_server, timeout_s=0.3).complete([user("x")])
    assert c.texts == ["ok"] and c.info["attempts"] == 2
    assert len(llm_server.chat_requests) == 2


async def test_dropped_connection_then_success(llm_server: ScriptedLLMServer) -> None:
    llm_server.when(times=1).fault(Drop())
    llm_server.default = "ok"
    c = await model(llm_server).complete([user("x")])
    assert c.texts == ["ok"] and c.info["attempts"] == 2


async def test_gives_up_after_max_attempts(llm_server: ScriptedLLMServer) -> None:
    llm_server.default = ServerError(status=503)
    with pytest.raises(ModelError, match=r"gave up after 3 attempts.*HTTP 503") as info:
        await model(llm_server, attempts=3).complete([user("x")])
    assert not isinstance(info.value, RetryableModelError)  # an outer layer must not retry again
    assert len(llm_server.chat_requests) == 3


@pytest.mark.parametrize("status", [400, 401, 404])
async def test_no_retry_on_client_errors(llm_server: ScriptedLLMServer, status: int) -> None:
    llm_server.default = HTTPStatus(status, "nope")
    with pytest.raises(ModelError, match=f"HTTP {status}") as info:
        await model(llm_server).complete([user("x")])
    assert not isinstance(info.value, RetryableModelError)
    assert len(llm_server.chat_requests) == 1


async def test_no_retry_when_quota_spent_or_wait_too_long(llm_server: ScriptedLLMServer) -> None:
    llm_server.when(user="quota").fault(RateLimit(retry_after=0.01, code="insufficient_quota"))
    llm_server.when(user="long").fault(RateLimit(retry_after=600))
    with pytest.raises(ModelError, match="quota"):
        await model(llm_server).complete([user("quota")])
    with pytest.raises(ModelError, match="asked to wait 600s"):
        await model(llm_server, max_retry_after_s=5).complete([user("long")])
    assert len(llm_server.chat_requests) == 2


def parse_action(text: str) -> str:
    if not text.startswith("```") or not text.endswith("```"):
        raise ValueError("no action in triple backticks")
    return text.strip("`").strip()


async def test_ask_until_parsed_reasks_and_reports_failures(llm_server: ScriptedLLMServer) -> None:
    llm_server.when(times=1).reply(["I think I should click", "```click [4]```"])
    llm_server.when(times=1).reply(Reply(texts="```click [5", finish_reason="length"))
    llm_server.default = "```stop [done]```"
    m = model(llm_server)

    got = await ask_until_parsed(m, [user("act")], parse_action, n=2, min_ok=2, max_asks=3)
    assert got.values == ["click [4]", "stop [done]", "stop [done]"]
    assert got.asks == 3 and len(got.completions) == 3
    assert [(f.ask, f.reason) for f in got.failures] == [
        (1, "no action in triple backticks"),
        (2, "no action in triple backticks (reply truncated at max_tokens)"),
        (2, "no action in triple backticks (reply truncated at max_tokens)"),
    ]


async def test_ask_until_parsed_gives_up_without_raising(llm_server: ScriptedLLMServer) -> None:
    llm_server.default = "no format"
    got = await ask_until_parsed(model(llm_server), [user("act")], parse_action, max_asks=2, feedback=True)
    assert not got.ok and got.asks == 2 and len(got.failures) == 2
    second = llm_server.chat_requests[1].chat
    assert "could not be used: no action in triple backticks" in second.user
    assert second.messages[-2] == {"role": "assistant", "content": "no format"}
