"""The SQLite response cache over real HTTP: hits, zero cost, modes, exact replay, sharing across objects and
processes."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from llm_server import ScriptedLLMServer, ServerError

from webdreamer.models import (
    CacheMissError,
    CacheMode,
    ChatModel,
    Ledger,
    ModelConfig,
    ModelError,
    Price,
    ResponseCache,
    RetryPolicy,
    build_model,
    system,
    user,
)
from webdreamer.models.wrapper import CallParams

ROOT = Path(__file__).resolve().parents[1]
PRICES = {"scripted": Price(input=1.0, output=1.0)}
PNG = b"\x89PNG fake"


def config(server: ScriptedLLMServer) -> ModelConfig:
    return ModelConfig(
        model="scripted",
        base_url=server.url,
        api_key="test",
        retry=RetryPolicy(max_attempts=2, initial_wait_s=0.001, max_wait_s=0.005),
    )


def model(server: ScriptedLLMServer, cache: ResponseCache, ledger: Ledger, role: str = "policy") -> ChatModel:
    return build_model(config(server), role=role, ledger=ledger, cache=cache)


async def test_hit_is_identical_cached_and_free(llm_server: ScriptedLLMServer, tmp_path: Path) -> None:
    llm_server.default = lambda req: [f"reply {req.index}a", f"reply {req.index}b"]
    cache, ledger = ResponseCache(tmp_path / "c.sqlite"), Ledger(PRICES)
    m = model(llm_server, cache, ledger)
    messages = [system("sys"), user("look", images=[PNG])]
    first = await m.complete(messages, n=2, temperature=0, logprobs=True, top_logprobs=2)
    cost_after_first = ledger.cost()
    again = await m.complete(messages, n=2, temperature=0, logprobs=True, top_logprobs=2)
    assert not first.cached and again.cached
    for field in ("texts", "finish_reasons", "logprobs", "usage", "model"):
        assert getattr(again, field) == getattr(first, field)
    assert len(llm_server.chat_requests) == 1
    usage = ledger.snapshot().roles["policy"]
    assert (usage.calls, usage.cache_hits) == (1, 1)
    assert ledger.cost() == cost_after_first > 0 and usage.saved_usd == pytest.approx(cost_after_first)

    # Any change to the request is a different key: another image, n, or sampling parameter.
    await m.complete(
        [system("sys"), user("look", images=[PNG + b"!"])], n=2, temperature=0, logprobs=True, top_logprobs=2
    )
    await m.complete(messages, n=1, temperature=0, logprobs=True, top_logprobs=2)
    assert len(llm_server.chat_requests) == 3


async def test_repeated_sampled_requests_get_their_own_replies(
    llm_server: ScriptedLLMServer, tmp_path: Path
) -> None:
    """Three rollouts with identical prompts must stay three samples, recorded and replayed in order."""
    llm_server.default = lambda req: f"rollout {req.index}"
    path = tmp_path / "c.sqlite"
    m = model(llm_server, ResponseCache(path), Ledger(PRICES), role="world_model")
    recorded = [(await m.complete([user("same")], temperature=1.0)).texts[0] for _ in range(3)]
    assert recorded == ["rollout 0", "rollout 1", "rollout 2"]

    replay = model(
        llm_server, ResponseCache(path, CacheMode.REPLAY_STRICT), Ledger(PRICES), role="world_model"
    )
    replayed = [(await replay.complete([user("same")], temperature=1.0)).texts[0] for _ in range(3)]
    assert replayed == recorded and len(llm_server.chat_requests) == 3


async def test_replay_strict_miss_raises(llm_server: ScriptedLLMServer, tmp_path: Path) -> None:
    llm_server.default = "ok"
    m = model(llm_server, ResponseCache(tmp_path / "c.sqlite", "replay-strict"), Ledger(PRICES))
    with pytest.raises(CacheMissError, match="not recorded"):
        await m.complete([user("never recorded")])
    assert llm_server.chat_requests == []


async def test_read_only_does_not_record_and_off_bypasses(
    llm_server: ScriptedLLMServer, tmp_path: Path
) -> None:
    llm_server.default = lambda req: f"r{req.index}"
    path = tmp_path / "c.sqlite"
    ro = model(llm_server, ResponseCache(path, "read-only"), Ledger(PRICES))
    await ro.complete([user("x")], temperature=0)
    await ro.complete([user("x")], temperature=0)
    assert len(ResponseCache(path)) == 0 and len(llm_server.chat_requests) == 2
    off = model(llm_server, ResponseCache(path, "off"), Ledger(PRICES))
    await off.complete([user("x")], temperature=0)
    assert len(ResponseCache(path)) == 0 and len(llm_server.chat_requests) == 3


async def test_recorded_episode_replays_exactly_and_free(
    llm_server: ScriptedLLMServer, tmp_path: Path
) -> None:
    """An 'episode' with a sampled policy call, parallel identical rollouts, a judge and a failing call."""
    llm_server.when(system="policy").reply(lambda req: [f"click [{req.index}]", f"click [{req.index + 1}]"])
    llm_server.when(system="world").reply(lambda req: f"State changes: {req.index}")
    llm_server.when(system="judge").reply(lambda req: f'Status: "success" #{req.index}')
    llm_server.when(system="broken").fault(ServerError())
    path = tmp_path / "episode.sqlite"

    async def episode(cache: ResponseCache) -> tuple[list[list[str]], Ledger]:
        ledger = Ledger(PRICES)
        cache.new_session()
        policy, world, judge, broken = (
            model(llm_server, cache, ledger, role) for role in ("policy", "world_model", "judge", "scorer")
        )
        out = [(await policy.complete([system("policy"), user("task")], n=2, temperature=1.0)).texts]
        rollouts = await asyncio.gather(*(world.complete([system("world"), user("click")]) for _ in range(3)))
        out += [r.texts for r in rollouts]
        out.append((await judge.complete([system("judge"), user("rollout")], n=1)).texts)
        try:
            await broken.complete([system("broken"), user("x")])
        except ModelError as exc:
            out.append([f"failed: {type(exc).__name__}"])
        return out, ledger

    recorded, rec_ledger = await episode(ResponseCache(path))
    seen = len(llm_server.chat_requests)
    replayed, rep_ledger = await episode(ResponseCache(path, CacheMode.REPLAY_STRICT))
    assert sorted(map(tuple, replayed[1:4])) == sorted(map(tuple, recorded[1:4]))  # rollouts: order may vary
    assert replayed[0] == recorded[0] and replayed[4:] == recorded[4:]
    assert recorded[-1] == ["failed: ModelError"]
    assert len(llm_server.chat_requests) == seen  # not one request
    assert rec_ledger.cost() > 0 and rep_ledger.cost() == 0
    assert rep_ledger.snapshot().total.cache_hits == 6 and rep_ledger.snapshot().total.calls == 0


async def test_two_model_objects_share_one_cache_file(llm_server: ScriptedLLMServer, tmp_path: Path) -> None:
    llm_server.default = lambda req: f"r{req.index}"
    path = tmp_path / "c.sqlite"
    a = model(llm_server, ResponseCache(path), Ledger(PRICES))
    b = model(llm_server, ResponseCache(path), Ledger(PRICES), role="refiner")
    ca = await a.complete([user("q")], temperature=0.5)
    cb = await b.complete([user("q")], temperature=0.5)
    assert cb.cached and cb.texts == ca.texts and len(llm_server.chat_requests) == 1


def test_cache_is_shared_across_processes(llm_server: ScriptedLLMServer, tmp_path: Path) -> None:
    """This process records one request; another process replays it and records a second one for us."""
    llm_server.default = lambda req: [f"r{req.index}"]
    path = tmp_path / "shared.sqlite"

    async def record() -> list[str]:
        m = model(llm_server, ResponseCache(path), Ledger(PRICES))
        return (await m.complete([user("from parent")], temperature=1.0)).texts

    parent_texts = asyncio.run(record())
    script = textwrap.dedent("""
        import asyncio, json, sys
        from webdreamer.models import Ledger, ModelConfig, ResponseCache, build_model, user

        async def main():
            cfg = ModelConfig(model="scripted", base_url=sys.argv[2], api_key="test")
            replay = build_model(cfg, role="policy", cache=ResponseCache(sys.argv[1], "replay-strict"))
            got = await replay.complete([user("from parent")], temperature=1.0)
            writer = build_model(cfg, role="policy", cache=ResponseCache(sys.argv[1]), ledger=Ledger())
            new = await writer.complete([user("from child")], temperature=1.0)
            print(json.dumps({"replayed": got.texts, "cached": got.cached, "new": new.texts}))

        asyncio.run(main())
    """)
    proc = subprocess.run(
        [sys.executable, "-c", script, str(path), llm_server.url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    child = json.loads(proc.stdout.strip().splitlines()[-1])
    assert child["replayed"] == parent_texts and child["cached"] is True
    assert len(llm_server.chat_requests) == 2  # the parent's call and the child's new one

    async def replay_child() -> list[str]:
        m = model(llm_server, ResponseCache(path, "replay-strict"), Ledger(PRICES))
        return (await m.complete([user("from child")], temperature=1.0)).texts

    assert asyncio.run(replay_child()) == child["new"]


def test_request_key_is_canonical(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "c.sqlite")
    msgs = [user("a", images=[PNG])]
    k1 = cache.key_for("m", msgs, CallParams(temperature=1, stop=("x",)))
    cache.new_session()
    k2 = cache.key_for("m", [user("a", images=[PNG])], CallParams(temperature=1.0, stop=("x",)))
    assert k1 == k2 and k1.endswith("/0")
    assert cache.key_for("m", msgs, CallParams(temperature=1.0, stop=("x",))).endswith("/1")
    assert cache.key_for("m", msgs, CallParams(temperature=0)).endswith("/0")
    assert cache.key_for("m", msgs, CallParams(temperature=0)).endswith("/0")  # greedy: always the same


def test_cache_mode_aliases() -> None:
    assert CacheMode("read_write") is CacheMode.READ_WRITE
    assert CacheMode("replay") is CacheMode.REPLAY_STRICT
    with pytest.raises(ValueError):
        CacheMode("sometimes")
