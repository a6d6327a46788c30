"""Model-predictive planning for one step: propose, refine, simulate, score, choose.

All fan-out happens here: every (candidate x simulation) chain of world-model, imagined-policy and
scorer calls runs concurrently under one limit, so a step costs about (2H + 2) model latencies on
its critical path instead of the sum of all calls. A chain that fails leaves its candidate's value
"unknown" (recorded with the reason); it is never counted as 0 and never silently dropped.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from dataclasses import dataclass

from envs.actions import NONE_ACTION, Action
from webdreamer.config import AgentConfig
from webdreamer.models.types import BudgetExceeded, ModelError
from webdreamer.records import CandidateValue, Decision, ImaginedStep, Rollout, Verdict
from webdreamer.roles.context import StepContext
from webdreamer.roles.policy import Policy
from webdreamer.roles.refiner import Refiner
from webdreamer.roles.scorer import Scorer, mean_value
from webdreamer.roles.world_model import ImaginedPolicy, WorldModel, is_stop


@dataclass
class Roles:
    policy: Policy
    refiner: Refiner | None
    world_model: WorldModel
    imagined_policy: ImaginedPolicy
    scorer: Scorer


@dataclass
class Choice:
    decision: Decision
    action: Action


class Planner:
    def __init__(self, roles: Roles, config: AgentConfig) -> None:
        self.roles = roles
        self.config = config
        self._limit = asyncio.Semaphore(config.planner.max_concurrency)

    async def choose(self, ctx: StepContext) -> Choice:
        mode = self.config.planner.mode
        decision = Decision(mode=mode)
        t0 = time.perf_counter()
        proposal = await self.roles.policy.propose(ctx)
        decision.timings["policy_s"] = time.perf_counter() - t0
        decision.candidates = proposal.candidates
        decision.policy_failures = proposal.failures
        if not proposal.candidates:
            decision.reason = "no sample of the policy parsed as an action"
            decision.timings["total_s"] = time.perf_counter() - t0
            return Choice(decision, NONE_ACTION)
        by_index = dict(zip([c.index for c in proposal.candidates], proposal.actions, strict=True))
        if mode == "reactive" or len(proposal.candidates) == 1:
            why = (
                "reactive: the policy's most frequent action"
                if mode == "reactive"
                else "the policy proposed one action"
            )
            return self._pick(decision, proposal.candidates[0].index, why, by_index, t0)
        kept = [c.index for c in proposal.candidates]
        if self.roles.refiner is not None:
            t1 = time.perf_counter()
            record = await self.roles.refiner.filter(
                ctx, proposal.candidates, seed=self.config.planner.seed + ctx.step
            )
            decision.timings["refine_s"] = time.perf_counter() - t1
            decision.refiner = record
            kept = record.kept
            for c in decision.candidates:
                c.kept = c.index in kept
            if len(kept) == 1 and self.config.refiner.skip_sim_if_single:
                return self._pick(decision, kept[0], "the refiner kept one candidate", by_index, t0)
        t2 = time.perf_counter()
        if mode == "rerank":
            decision.rollouts = await asyncio.gather(*(self._rerank(ctx, i, decision) for i in kept))
        else:
            sims = self.config.world_model.num_simulations
            decision.rollouts = await asyncio.gather(
                *(self._rollout(ctx, i, j, decision) for i in kept for j in range(sims))
            )
        decision.timings["simulate_s"] = time.perf_counter() - t2
        return self._argmax(decision, kept, by_index, t0)

    # ---- one chain ---------------------------------------------------------------------------
    async def _rollout(self, ctx: StepContext, index: int, sim: int, decision: Decision) -> Rollout:
        """One chain: predict H transitions (the imagined policy proposing steps 2..H), then score."""
        cand = next(c for c in decision.candidates if c.index == index)
        roll = Rollout(candidate=index, simulation=sim)
        seed = self.config.planner.seed + 7919 * ctx.step + 101 * index + sim

        async def chain() -> list[Verdict]:
            async with self._limit:
                first = await self.roles.world_model.predict(ctx, cand.description, [], seed)
            roll.steps.append(ImaginedStep(action=cand.description, prediction=first))
            for h in range(1, self.config.world_model.horizon):
                async with self._limit:
                    nxt = await self.roles.imagined_policy.next_action(ctx, roll.steps, seed + h)
                if is_stop(nxt):  # checked before paying for another prediction
                    roll.stopped_early = True
                    break
                async with self._limit:
                    pred = await self.roles.world_model.predict(ctx, nxt, roll.steps, seed + h)
                roll.steps.append(ImaginedStep(action=nxt, prediction=pred))
            simulation = "\n".join(
                f"Step {k}: {s.action}\nPredicted change: {s.prediction}" for k, s in enumerate(roll.steps, 1)
            )
            async with self._limit:
                return await self.roles.scorer.score(ctx, simulation, seed)

        return await self._scored(roll, chain())

    async def _rerank(self, ctx: StepContext, index: int, decision: Decision) -> Rollout:
        """The ablation: the scorer judges the proposed action itself, with nothing imagined."""
        cand = next(c for c in decision.candidates if c.index == index)

        async def judge() -> list[Verdict]:
            async with self._limit:
                return await self.roles.scorer.rerank(ctx, cand.description, self.config.planner.seed + index)

        return await self._scored(Rollout(candidate=index, simulation=0), judge())

    @staticmethod
    async def _scored(roll: Rollout, verdicts: Awaitable[list[Verdict]]) -> Rollout:
        """Run a chain to its verdicts; a model failure leaves the value unknown, with the reason."""
        start = time.perf_counter()
        try:
            roll.verdicts = await verdicts
            roll.value = mean_value(roll.verdicts)
            if roll.value is None:
                roll.error = "no verdict of the scorer could be read"
        except BudgetExceeded:
            raise
        except ModelError as exc:
            roll.error = str(exc)
        roll.seconds = time.perf_counter() - start
        return roll

    # ---- choosing ----------------------------------------------------------------------------
    def _argmax(self, decision: Decision, kept: list[int], by_index: dict[int, Action], t0: float) -> Choice:
        values: list[CandidateValue] = []
        for i in kept:
            rolls = [r for r in decision.rollouts if r.candidate == i]
            scored = [r.value for r in rolls if r.value is not None]
            values.append(
                CandidateValue(
                    candidate=i,
                    value=sum(scored) / len(scored) if scored else None,
                    scored=len(scored),
                    rollouts=len(rolls),
                )
            )
        decision.values = values
        known = [v for v in values if v.value is not None]
        if not known:
            best = min(kept)  # the policy's most frequent kept candidate
            return self._pick(
                decision,
                best,
                "no candidate could be scored; fell back to the policy's top choice",
                by_index,
                t0,
            )
        top = max(v.value for v in known if v.value is not None)
        tied = [v.candidate for v in known if v.value is not None and abs(v.value - top) < 1e-9]
        freq = {c.index: c.frequency for c in decision.candidates}
        # Tie-break: higher policy frequency, then proposal order (method.md §3.6).
        best = sorted(tied, key=lambda i: (-freq[i], i))[0]
        reason = f"highest value {top:.3f}"
        if len(tied) > 1:
            decision.ties = tied
            reason += f", tied with {[i for i in tied if i != best]}: broken by policy frequency, then order"
        return self._pick(decision, best, reason, by_index, t0)

    def _pick(
        self, decision: Decision, index: int, reason: str, by_index: dict[int, Action], t0: float
    ) -> Choice:
        cand = next(c for c in decision.candidates if c.index == index)
        decision.chosen = index
        decision.action = cand.action
        decision.description = cand.description
        decision.reason = reason
        decision.timings["total_s"] = time.perf_counter() - t0
        return Choice(decision, by_index[index])
