"""Per-endpoint limits over real HTTP: the concurrency cap (server-side peak), RPM spacing, TPM, the bucket."""

from __future__ import annotations

import asyncio
import time

from llm_server import ScriptedLLMServer

from webdreamer.models import (
    EndpointLimits,
    LimitsConfig,
    ModelConfig,
    RetryPolicy,
    TokenBucket,
    build_model,
    user,
)
from webdreamer.models.limits import shared_limits


def config(server: ScriptedLLMServer, limits: LimitsConfig) -> ModelConfig:
    return ModelConfig(
        model="scripted",
        base_url=server.url,
        api_key="test",
        limits=limits,
        retry=RetryPolicy(max_attempts=1),
    )


async def test_concurrency_limit_shared_by_roles(llm_server: ScriptedLLMServer) -> None:
    llm_server.latency_s = 0.05
    llm_server.default = "ok"
    cfg = config(llm_server, LimitsConfig(max_concurrency=3))
    world, judge = build_model(cfg, role="world_model"), build_model(cfg, role="judge")
    calls = [m.complete([user(f"q{i}")]) for i in range(6) for m in (world, judge)]
    results = await asyncio.gather(*calls)
    assert len(results) == 12
    assert llm_server.peak_in_flight == 3  # the cap held across both roles, and was used
    assert shared_limits(cfg.endpoint_key()).peak_in_flight == 3


async def test_n_fallback_calls_each_take_a_slot(llm_server: ScriptedLLMServer) -> None:
    llm_server.ignore_n = True
    llm_server.latency_s = 0.05
    llm_server.default = "ok"
    m = build_model(config(llm_server, LimitsConfig(max_concurrency=2)), role="policy")
    c = await m.complete([user("x")], n=6)
    assert len(c.texts) == 6 and llm_server.peak_in_flight == 2


async def test_rpm_limit_spaces_requests(llm_server: ScriptedLLMServer) -> None:
    llm_server.default = "ok"
    # 1200 rpm = one request per 50 ms; a 50 ms burst holds just one request.
    limits = EndpointLimits(LimitsConfig(rpm=1200, burst_s=0.05))
    m = build_model(config(llm_server, limits.config), role="scorer", limits=limits)
    await asyncio.gather(*(m.complete([user(f"q{i}")]) for i in range(5)))
    assert len(llm_server.chat_requests) == 5
    # The k-th request waits about k x 50 ms for its credit (0 + 50 + ... + 200 = 500 ms in all);
    # measured on the limiter itself, so a loaded machine's network timing cannot blur it.
    assert limits.waited_s >= 0.35


async def test_tpm_limit_waits_for_token_credit(llm_server: ScriptedLLMServer) -> None:
    llm_server.default = "ok"
    # 60,000 tpm = 1000 tokens/s; bucket of 100 tokens; each call is estimated at ~ 8 + 200 tokens.
    limits = EndpointLimits(LimitsConfig(tpm=60_000, burst_s=0.1))
    m = build_model(config(llm_server, limits.config), role="scorer", limits=limits)
    t0 = time.monotonic()
    await asyncio.gather(*(m.complete([user("x" * 20)], max_tokens=200) for _ in range(3)))
    assert time.monotonic() - t0 >= 0.25  # the 2nd and 3rd call each wait for about 0.1-0.2 s of credit
    assert limits.waited_s > 0


async def test_token_bucket_is_fifo_and_does_not_spin() -> None:
    bucket = TokenBucket(rate_per_s=100.0, capacity=1.0)
    order: list[int] = []

    async def take(i: int) -> None:
        await bucket.acquire()
        order.append(i)

    t0 = time.monotonic()
    await asyncio.gather(*(take(i) for i in range(5)))
    assert order == [0, 1, 2, 3, 4]
    assert time.monotonic() - t0 >= 0.036  # 4 waits of 10 ms
    bucket.settle(+5)  # a debt after the fact: the next caller waits it off
    t1 = time.monotonic()
    await bucket.acquire()
    assert time.monotonic() - t1 >= 0.05
