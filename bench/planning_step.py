"""One planning step's wall time against its critical-path bound and against running the same calls
one after another, plus calls and tokens per step for the sampled vs the logprob scorer.

The models are the scripted OpenAI-compatible server from tests/ with a fixed latency per call, so
what is measured is our fan-out (client stack, concurrency, scheduling), not a model.

    python bench/planning_step.py [--latency 0.2]

Ends with one JSON line. Targets: wall <= 1.25x the bound, >= 5x faster than sequential, logprob
scorer output tokens <= 0.15x the sampled scorer's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from llm_server import ChatRequest, Reply, ScriptedLLMServer
from roles_script import script

from envs.actions import ActionSpace
from envs.observation import Element, Observation
from envs.tasks.model import Task
from webdreamer.config import AgentConfig
from webdreamer.models.config import ModelConfig
from webdreamer.models.ledger import Ledger
from webdreamer.models.limits import LimitsConfig
from webdreamer.models.stack import build_model, forget_endpoint_state
from webdreamer.planner import Planner, Roles
from webdreamer.roles import ImaginedPolicy, Policy, Refiner, Scorer, StepContext, WorldModel

N_ELEMENTS = 12


def observation() -> Observation:
    lines = [f"[{i}] link 'Item {i}'" for i in range(1, N_ELEMENTS + 1)]
    return Observation(
        url="http://shop.test:7770/",
        title="Shop",
        text="Tab 0 (current): Shop\n\n" + "\n".join(lines),
        elements=[
            Element(id=i, role="link", name=f"Item {i}", interactive=True) for i in range(1, N_ELEMENTS + 1)
        ],
    )


def policy_reply(k: int):
    """20 samples spread over k distinct actions, more for the first ones."""

    def fn(req: ChatRequest) -> Reply:
        texts = [
            f"In summary, the next action I will perform is ```click [{1 + (i % k)}]```" for i in range(req.n)
        ]
        return Reply(texts=texts)

    return fn


def letters(req: ChatRequest) -> Reply:
    top = [("B", -0.3), ("A", -1.8), ("C", -2.5)]
    return Reply(texts=["B"], logprobs=[[("B", -0.3, top)]])


async def one_step(
    server: Endpoint, k: int, sims: int, horizon: int, judges: int, mode: str, concurrency: int
) -> dict[str, float]:
    forget_endpoint_state()
    cfg = AgentConfig()
    cfg.policy.num_candidates = k
    cfg.world_model.num_simulations = sims
    cfg.world_model.horizon = horizon
    cfg.scorer.judge_samples = judges
    cfg.scorer.mode = mode  # type: ignore[assignment]
    cfg.planner.max_concurrency = concurrency
    mc = ModelConfig(
        model="scripted", base_url=server.url, api_key="k", limits=LimitsConfig(max_concurrency=256)
    )
    ledger = Ledger()
    ledger.start_task()
    m = {
        r: build_model(mc, role=r, ledger=ledger)
        for r in ("policy", "refiner", "world_model", "imagined_policy", "scorer")
    }
    world = WorldModel(m["world_model"], cfg.world_model)
    roles = Roles(
        policy=Policy(m["policy"], cfg.policy, ActionSpace()),
        refiner=Refiner(m["refiner"], cfg.refiner),
        world_model=world,
        imagined_policy=ImaginedPolicy(m["imagined_policy"], cfg.imagined_policy, world),
        scorer=Scorer(m["scorer"], cfg.scorer),
    )
    ctx = StepContext(Task.adhoc("Buy the cheapest item.", "http://shop.test:7770/"), observation())
    start = time.perf_counter()
    choice = await Planner(roles, cfg).choose(ctx)
    wall = time.perf_counter() - start
    assert len(choice.decision.candidates) == k and all(r.error is None for r in choice.decision.rollouts)
    snap = ledger.snapshot("task")
    scorer = snap.roles["scorer"]
    return {
        "wall_s": wall,
        "calls": snap.total.calls,
        "requests": snap.total.requests,
        "scorer_calls": scorer.calls,
        "scorer_output_tokens": scorer.output_tokens,
        "scorer_input_tokens": scorer.input_tokens,
    }


def serve(latency: float, conn: object) -> None:
    """The scripted server in its own process, as a real endpoint would be (no GIL shared with us)."""
    with ScriptedLLMServer(latency_s=latency) as server:
        script(
            server,
            policy=policy_reply(10),
            world="State changes: a product page opens with its price, reviews and an 'Add to cart' button.",
            imagined="click the 'Add to cart' button",
            scorer="Status: failure\nOn track: yes\nThoughts: the product page is a step towards buying it.",
            logprob=letters,
        )
        conn.send(server.url)  # type: ignore[attr-defined]
        conn.recv()  # type: ignore[attr-defined]  # wait until the parent is done


class Endpoint:
    def __init__(self, url: str) -> None:
        self.url = url


async def main(latency: float, repeats: int) -> dict[str, object]:
    settings = [(5, 3, 1, 10), (10, 3, 2, 10)]
    results: dict[str, object] = {}
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=serve, args=(latency, child), daemon=True)
    proc.start()
    server = Endpoint(parent.recv())
    try:
        await one_step(server, 5, 3, 1, 10, "sampled", concurrency=256)  # warm-up: clients, connections
        for k, sims, horizon, judges in settings:
            name = f"k{k}_s{sims}_h{horizon}_n{judges}"
            hops = 1 + 1 + (2 * horizon - 1) + 1  # policy, refiner, world model + imagined policy, scorer
            bound = hops * latency
            runs = [
                await one_step(server, k, sims, horizon, judges, "sampled", concurrency=256)
                for _ in range(repeats)
            ]
            wall = statistics.median(r["wall_s"] for r in runs)
            par = runs[0]
            seq = await one_step(server, k, sims, horizon, judges, "sampled", concurrency=1)
            lp = await one_step(server, k, sims, horizon, judges, "logprob", concurrency=256)
            row = {
                "hops": hops,
                "bound_s": round(bound, 3),
                "wall_s": round(wall, 3),
                "sequential_s": round(seq["wall_s"], 3),
                "wall_over_bound": round(wall / bound, 3),
                "speedup_vs_sequential": round(seq["wall_s"] / wall, 2),
                "calls": par["calls"],
                "requests": par["requests"],
                "scorer_output_tokens_sampled": par["scorer_output_tokens"],
                "scorer_output_tokens_logprob": lp["scorer_output_tokens"],
                "scorer_calls_sampled": par["scorer_calls"],
                "scorer_calls_logprob": lp["scorer_calls"],
                "logprob_output_ratio": round(
                    lp["scorer_output_tokens"] / max(1, par["scorer_output_tokens"]), 4
                ),
            }
            results[name] = row
            print(f"{name}: {json.dumps(row)}")
    finally:
        parent.send("stop")
        proc.join(5)
    worst_bound = max(r["wall_over_bound"] for r in results.values())  # type: ignore[index]
    worst_speedup = min(r["speedup_vs_sequential"] for r in results.values())  # type: ignore[index]
    worst_tokens = max(r["logprob_output_ratio"] for r in results.values())  # type: ignore[index]
    return {
        "bench": "planning_step",
        "latency_s": latency,
        "repeats": repeats,
        "settings": results,
        "max_wall_over_bound": worst_bound,
        "min_speedup_vs_sequential": worst_speedup,
        "max_logprob_output_token_ratio": worst_tokens,
        "targets_met": worst_bound <= 1.25 and worst_speedup >= 5 and worst_tokens <= 0.15,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per model call")
    parser.add_argument("--repeats", type=int, default=3, help="parallel steps measured (median)")
    args = parser.parse_args()
    summary = asyncio.run(main(args.latency, args.repeats))
    print(json.dumps(summary))
