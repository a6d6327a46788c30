"""The OpenAI-compatible client against the scripted server over real HTTP: samples, images, logprobs, usage."""

from __future__ import annotations

import base64

import pytest
from llm_server import Garbage, Reply, ScriptedLLMServer, sequence

from webdreamer.models import (
    ChatModel,
    ModelConfig,
    ModelError,
    OpenAIChatModel,
    RetryPolicy,
    build_model,
    system,
    user,
)
from webdreamer.models.fanout import endpoint_ignores_n

FAST_RETRY = RetryPolicy(max_attempts=3, initial_wait_s=0.005, max_wait_s=0.02)


def config(server: ScriptedLLMServer, **kw: object) -> ModelConfig:
    return ModelConfig(
        model="scripted", base_url=server.url, api_key="test", timeout_s=5, retry=FAST_RETRY, **kw
    )  # type: ignore[arg-type]


def model(server: ScriptedLLMServer, **kw: object) -> ChatModel:
    return build_model(config(server, **kw), role="policy")


async def test_models_endpoint_and_plain_reply(llm_server: ScriptedLLMServer) -> None:
    import openai

    client = openai.AsyncOpenAI(base_url=llm_server.url, api_key="x", max_retries=0)
    listed = await client.models.list()
    assert [m.id for m in listed.data] == ["scripted"]
    await client.close()

    llm_server.when(system="world model").reply("State changes: a cart opens")
    c = await model(llm_server).complete([system("You are a world model."), user("click [3]")])
    assert c.texts == ["State changes: a cart opens"]
    assert c.finish_reasons == ["stop"]
    assert c.model == "scripted" and not c.cached and c.latency_s > 0
    assert c.usage.input_tokens > 0 and c.usage.output_tokens == 7  # ceil(27 / 4)


async def test_sampling_parameters_reach_server(llm_server: ScriptedLLMServer) -> None:
    llm_server.default = "ok"
    await model(llm_server).complete(
        [user("hi")], temperature=0.7, top_p=0.9, max_tokens=50, stop=["\n"], seed=3
    )
    body = llm_server.chat_requests[0].body
    assert body is not None
    assert (body["temperature"], body["top_p"], body["max_tokens"], body["stop"], body["seed"]) == (
        0.7,
        0.9,
        50,
        ["\n"],
        3,
    )
    assert "n" not in body and "logprobs" not in body
    await model(llm_server, max_tokens_param="max_completion_tokens").complete([user("hi")], max_tokens=9)
    assert llm_server.chat_requests[1].body["max_completion_tokens"] == 9  # type: ignore[index]


async def test_n_samples_native(llm_server: ScriptedLLMServer) -> None:
    llm_server.when(user="propose").reply(["click [1]", "click [2]", "type [3] [x]"])
    c = await model(llm_server).complete([user("propose an action")], n=5, temperature=1.0)
    assert c.texts == ["click [1]", "click [2]", "type [3] [x]", "click [1]", "click [2]"]
    assert len(llm_server.chat_requests) == 1
    assert llm_server.chat_requests[0].body["n"] == 5  # type: ignore[index]


async def test_n_fallback_when_server_ignores_n(llm_server: ScriptedLLMServer) -> None:
    llm_server.ignore_n = True
    llm_server.when(user="propose").reply(lambda req: f"sample {req.index}")
    m = model(llm_server)
    c = await m.complete([user("propose")], n=4, temperature=1.0)
    assert len(c.texts) == 4 and len(set(c.texts)) == 4
    assert c.info["requests"] == 4 and c.info["n_fallback"] is True
    assert c.usage.output_tokens == sum(r for r in [2, 2, 2, 2])  # "sample k" = 8 chars each
    bodies = [r.body for r in llm_server.chat_requests]
    assert bodies[0]["n"] == 4 and all("n" not in b for b in bodies[1:])  # type: ignore[index,operator]
    assert endpoint_ignores_n(config(llm_server).endpoint_key())

    # Remembered per endpoint: another role's model goes straight to parallel single calls.
    before = len(llm_server.chat_requests)
    c2 = await build_model(config(llm_server), role="scorer").complete([user("propose")], n=3)
    assert len(c2.texts) == 3
    new = llm_server.chat_requests[before:]
    assert len(new) == 3 and all("n" not in r.body for r in new)  # type: ignore[operator]


async def test_images_arrive_as_data_urls(llm_server: ScriptedLLMServer) -> None:
    png = b"\x89PNG\r\n\x1a\n fake screenshot"
    llm_server.when(has_images=True).reply("I see a page")
    c = await model(llm_server).complete([user("what changes?", images=[png, b"second"], detail="high")])
    assert c.texts == ["I see a page"]
    req = llm_server.chat_requests[0].chat
    assert req.user == "what changes?"
    assert [i["detail"] for i in req.images] == ["high", "high"]
    assert req.images[0]["url"] == "data:image/png;base64," + base64.b64encode(png).decode()
    assert c.usage.input_tokens >= 170  # two images at 85 each in the server's estimate


async def test_logprobs_scripted_and_generated(llm_server: ScriptedLLMServer) -> None:
    llm_server.when(user="verdict").reply(
        Reply(texts="success", logprobs=[[("success", -0.05, [("success", -0.05), ("failure", -3.0)])]])
    )
    llm_server.when(user="words").reply("a b c")
    m = model(llm_server)
    c = await m.complete([user("verdict?")], logprobs=True, top_logprobs=2)
    assert c.logprobs is not None
    tok = c.logprobs[0][0]
    assert (tok.token, tok.logprob) == ("success", -0.05)
    assert [(t.token, t.logprob) for t in tok.top] == [("success", -0.05), ("failure", -3.0)]
    body = llm_server.chat_requests[0].body
    assert body["logprobs"] is True and body["top_logprobs"] == 2  # type: ignore[index]

    c = await m.complete([user("words")], n=2, logprobs=True, top_logprobs=3)
    assert c.logprobs is not None and len(c.logprobs) == 2
    assert "".join(t.token for t in c.logprobs[1]) == "a b c"
    assert len(c.logprobs[0][0].top) == 3
    c = await m.complete([user("words")])
    assert c.logprobs is None


async def test_usage_cached_tokens_and_truncation(llm_server: ScriptedLLMServer) -> None:
    llm_server.when(user="long").reply(Reply(texts="x" * 400, cached_tokens=5))
    c = await model(llm_server).complete([user("long please")], max_tokens=10)
    assert c.finish_reasons == ["length"] and c.texts == ["x" * 40]
    assert c.usage.cached_tokens == 5 and c.usage.output_tokens == 10


async def test_garbage_body_is_retried(llm_server: ScriptedLLMServer) -> None:
    llm_server.default = sequence(Garbage(), Garbage(b"{not json", "application/json"), "fine")
    c = await model(llm_server).complete([user("x")])
    assert c.texts == ["fine"] and c.info["attempts"] == 3
    assert [r.status for r in llm_server.chat_requests] == [200, 200, 200]


async def test_bare_client_reports_short_n_and_bad_body(llm_server: ScriptedLLMServer) -> None:
    llm_server.ignore_n = True
    llm_server.default = Garbage()
    bare = OpenAIChatModel(config(llm_server))
    with pytest.raises(ModelError, match=r"unreadable|not a JSON"):
        await bare.complete([user("x")])
    llm_server.default = "one"
    c = await bare.complete([user("x")], n=3)
    assert c.texts == ["one"] and c.info["n_short"] == 2


async def test_missing_key_for_openai_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(ModelError, match="no API key"):
        await OpenAIChatModel(ModelConfig(model="gpt-4o")).complete([user("x")])


async def test_env_fallbacks_and_keyless_local_server(
    llm_server: ScriptedLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", llm_server.url)
    llm_server.default = "local"
    cfg = ModelConfig(model="scripted", headers={"X-Test": "yes"})
    assert cfg.resolved_base_url() == llm_server.url
    c = await OpenAIChatModel(cfg).complete([user("x")])
    assert c.texts == ["local"]
    headers = {k.lower(): v for k, v in llm_server.chat_requests[0].headers.items()}
    assert headers["x-test"] == "yes" and headers["authorization"] == "Bearer EMPTY"
    secret = ModelConfig(model="m", api_key="sk-secret")
    assert "sk-secret" not in secret.model_dump_json() + repr(secret)
