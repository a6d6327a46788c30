"""The ledger over real HTTP: per-role totals and costs, unpriced models, scopes, snapshots, and budgets
that refuse a call before anything is sent."""

from __future__ import annotations

import asyncio

import pytest
from llm_server import Reply, ScriptedLLMServer, ServerError

from webdreamer.models import (
    Budget,
    BudgetExceeded,
    Ledger,
    LedgerSnapshot,
    ModelConfig,
    ModelError,
    Price,
    RetryPolicy,
    build_model,
    system,
    user,
)

PRICES = {"scripted": Price(input=2.0, cached_input=1.0, output=10.0)}


def config(server: ScriptedLLMServer, model: str = "scripted", attempts: int = 3) -> ModelConfig:
    return ModelConfig(
        model=model,
        base_url=server.url,
        api_key="test",
        retry=RetryPolicy(max_attempts=attempts, initial_wait_s=0.005, max_wait_s=0.01),
    )


async def test_totals_and_costs_per_role(llm_server: ScriptedLLMServer) -> None:
    llm_server.when(system="policy").reply(Reply(texts=["click [1]", "click [2]"], cached_tokens=4))
    llm_server.when(system="judge", times=1).fault(ServerError())
    llm_server.when(system="judge").reply('Status: "success"')
    ledger = Ledger(PRICES)
    policy = build_model(config(llm_server), role="policy", ledger=ledger)
    judge = build_model(config(llm_server), role="judge", ledger=ledger)

    p = await policy.complete([system("policy"), user("act")], n=2)
    j1, j2 = await asyncio.gather(
        *(judge.complete([system("judge"), user(f"rollout {i}")]) for i in range(2))
    )

    snap = ledger.snapshot("task")
    pol, jud = snap.roles["policy"], snap.roles["judge"]
    assert (pol.calls, pol.requests, pol.completions, pol.retries) == (1, 1, 2, 0)
    assert (pol.input_tokens, pol.output_tokens, pol.cached_tokens) == (
        p.usage.input_tokens,
        p.usage.output_tokens,
        4,
    )
    expected = ((p.usage.input_tokens - 4) * 2.0 + 4 * 1.0 + p.usage.output_tokens * 10.0) / 1e6
    assert pol.cost_usd == pytest.approx(expected)
    assert (jud.calls, jud.requests, jud.retries, jud.errors) == (2, 3, 1, 0)
    assert jud.output_tokens == j1.usage.output_tokens + j2.usage.output_tokens
    assert jud.latency_s > 0 and jud.max_latency_s <= jud.latency_s
    assert snap.total.calls == 3 and snap.cost_usd == pytest.approx(pol.cost_usd + jud.cost_usd)
    assert snap.unpriced_models == []
    # A snapshot is a pydantic record: it survives a JSON round trip for trajectories.
    assert LedgerSnapshot.model_validate_json(snap.model_dump_json()) == snap


async def test_unknown_model_costs_nothing_and_is_flagged(llm_server: ScriptedLLMServer) -> None:
    llm_server.default = "ok"
    ledger = Ledger(PRICES)
    m = build_model(config(llm_server, model="mystery-7b"), role="world_model", ledger=ledger)
    await m.complete([user("x")])
    snap = ledger.snapshot()
    assert snap.cost_usd == 0.0 and snap.total.input_tokens > 0
    assert snap.unpriced_models == ["mystery-7b"]
    assert snap.roles["world_model"].unpriced_models == ["mystery-7b"]


def test_prefix_prices() -> None:
    ledger = Ledger({"gpt-4o": Price(input=1, output=1), "gpt-4o-mini": Price(input=0.1, output=0.1)})
    assert ledger.prices.lookup("gpt-4o-2024-08-06") == Price(input=1, output=1)
    assert ledger.prices.lookup("gpt-4o-mini-2024-07-18") == Price(input=0.1, output=0.1)
    assert ledger.prices.lookup("o3") is None


async def test_calls_per_step_budget_refuses_before_sending(llm_server: ScriptedLLMServer) -> None:
    llm_server.default = "ok"
    ledger = Ledger(PRICES, Budget(max_calls_per_step=2))
    m = build_model(config(llm_server), role="world_model", ledger=ledger)
    await m.complete([user("a")])
    await m.complete([user("b")])
    with pytest.raises(BudgetExceeded, match="max_calls_per_step=2") as info:
        await m.complete([user("c")])
    assert info.value.budget == "max_calls_per_step" and info.value.limit == 2
    assert len(llm_server.chat_requests) == 2  # the refused call never reached the server
    assert ledger.snapshot("step").roles["world_model"].refused == 1

    ledger.start_step()  # a new step has a fresh allowance; task totals carry on
    await m.complete([user("d")])
    assert ledger.snapshot("task").total.calls == 3 and ledger.snapshot("step").total.calls == 1


async def test_cost_budgets_refuse_before_sending(llm_server: ScriptedLLMServer) -> None:
    llm_server.default = "x" * 400  # 100 output tokens = $0.001 at $10/M
    ledger = Ledger(PRICES, Budget(max_cost_per_task=0.001, max_cost_per_run=0.0015))
    m = build_model(config(llm_server), role="judge", ledger=ledger)
    await m.complete([user("first")])
    with pytest.raises(BudgetExceeded, match="max_cost_per_task") as info:
        await m.complete([user("second")])
    assert info.value.spent is not None and info.value.spent >= 0.001
    assert len(llm_server.chat_requests) == 1

    ledger.start_task()  # the next task starts from zero; the run budget still counts everything
    await m.complete([user("third")])
    ledger.start_task()
    with pytest.raises(BudgetExceeded, match="max_cost_per_run"):
        await m.complete([user("fourth")])  # the run has spent ~$0.002 of its $0.0015
    assert len(llm_server.chat_requests) == 2
    assert ledger.snapshot("run").total.calls == len(llm_server.chat_requests)


async def test_child_ledgers_roll_up_into_the_run(llm_server: ScriptedLLMServer) -> None:
    llm_server.default = "x" * 40
    run = Ledger(PRICES, Budget(max_cost_per_run=1.0, max_calls_per_task=1))
    task_a, task_b = run.child(), run.child()
    ma = build_model(config(llm_server), role="policy", ledger=task_a)
    mb = build_model(config(llm_server), role="policy", ledger=task_b)
    await asyncio.gather(ma.complete([user("a")]), mb.complete([user("b")]))
    with pytest.raises(BudgetExceeded, match="max_calls_per_task"):
        await ma.complete([user("a2")])
    assert task_a.snapshot("task").total.calls == 1
    assert run.snapshot("run").total.calls == 2
    assert run.cost("run") == pytest.approx(task_a.cost() + task_b.cost())


async def test_failed_calls_are_counted_as_errors(llm_server: ScriptedLLMServer) -> None:
    llm_server.default = ServerError()
    ledger = Ledger(PRICES)
    m = build_model(config(llm_server, attempts=2), role="refiner", ledger=ledger)
    with pytest.raises(ModelError):
        await m.complete([user("x")])
    usage = ledger.snapshot().roles["refiner"]
    assert (usage.calls, usage.errors, usage.cost_usd) == (1, 1, 0.0)


async def test_fallback_requests_and_retries_are_counted(llm_server: ScriptedLLMServer) -> None:
    llm_server.ignore_n = True
    llm_server.when(times=1).fault(ServerError())
    llm_server.default = "ok"
    ledger = Ledger(PRICES)
    m = build_model(config(llm_server), role="policy", ledger=ledger)
    c = await m.complete([user("x")], n=3)
    assert len(c.texts) == 3
    usage = ledger.snapshot().roles["policy"]
    assert (usage.calls, usage.requests, usage.retries, usage.completions) == (1, 4, 1, 3)  # 3 + the 500
