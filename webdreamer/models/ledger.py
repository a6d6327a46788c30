"""Accounting and hard budgets: calls, tokens, latency and cost per role, in run / task / step scopes.

[P2] reports no tokens, calls or dollars (method.md §6, §9.10); every run of ours does. One ``Ledger``
per run, optionally with a ``child()`` ledger per task when tasks run concurrently in one process
(records roll up into the parent's run totals; budgets are checked against both).

Budgets are checked *before* a call, so a spent budget stops the episode before money is spent:
``BudgetExceeded`` names the budget, the limit and what was spent, and the agent ends cleanly. A
call is refused when its scope is already spent or its prompt alone (estimated) would overspend it;
calls already in flight may finish a little above a cost limit, since their cost is known only after.
The ledger is plain asyncio-side state (no locks): use it from one event loop.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from webdreamer.models.fanout import requests_of, retries_of
from webdreamer.models.tokens import estimate_input_tokens
from webdreamer.models.types import BudgetExceeded, ChatModel, Completion, Message, Usage
from webdreamer.models.wrapper import CallParams, ModelWrapper

Scope = Literal["run", "task", "step"]


class Price(BaseModel):
    """USD per million tokens. ``cached_input`` defaults to ``input`` (no discount known)."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cached_input: float | None = Field(default=None, ge=0)


class PriceTable(BaseModel):
    """Prices by model name; a name also matches the longest priced prefix (``gpt-4o-2024-08-06`` → ``gpt-4o``)."""

    prices: dict[str, Price] = Field(default_factory=dict)

    def lookup(self, model: str) -> Price | None:
        if model in self.prices:
            return self.prices[model]
        prefixes = [name for name in self.prices if model.startswith(name)]
        return self.prices[max(prefixes, key=len)] if prefixes else None

    def cost(self, model: str, usage: Usage) -> float | None:
        """Cost of ``usage`` in USD, or ``None`` for an unpriced model."""
        price = self.lookup(model)
        if price is None:
            return None
        cached = min(usage.cached_tokens, usage.input_tokens)
        cached_price = price.input if price.cached_input is None else price.cached_input
        return (
            (usage.input_tokens - cached) * price.input
            + cached * cached_price
            + usage.output_tokens * price.output
        ) / 1e6


class Budget(BaseModel):
    """Hard limits; ``None`` is unlimited."""

    max_cost_per_task: float | None = Field(default=None, ge=0)
    max_cost_per_run: float | None = Field(default=None, ge=0)
    max_calls_per_step: int | None = Field(default=None, ge=0)
    max_calls_per_task: int | None = Field(default=None, ge=0)


class RoleUsage(BaseModel):
    """What one role (or all roles together) used in one scope."""

    calls: int = 0  # calls started past the budget check (cache hits not included)
    requests: int = 0  # HTTP requests behind the successful calls: fan-out and retried attempts included
    retries: int = 0  # failed attempts that a retry recovered from
    completions: int = 0
    errors: int = 0
    cache_hits: int = 0
    refused: int = 0  # calls refused by a budget
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    latency_s: float = 0.0
    max_latency_s: float = 0.0
    cost_usd: float = 0.0
    saved_usd: float = 0.0  # what cache hits would have cost
    unpriced_models: list[str] = Field(default_factory=list)
    models: list[str] = Field(default_factory=list)

    def merged(self, other: RoleUsage) -> RoleUsage:
        data = {
            k: getattr(self, k) + getattr(other, k)
            for k in RoleUsage.model_fields
            if k not in ("max_latency_s", "unpriced_models", "models")
        }
        return RoleUsage(
            **data,
            max_latency_s=max(self.max_latency_s, other.max_latency_s),
            unpriced_models=sorted({*self.unpriced_models, *other.unpriced_models}),
            models=sorted({*self.models, *other.models}),
        )


class LedgerSnapshot(BaseModel):
    """A frozen copy of one scope, for trajectories and reports."""

    scope: Scope
    roles: dict[str, RoleUsage] = Field(default_factory=dict)
    total: RoleUsage = Field(default_factory=RoleUsage)
    budget: Budget = Field(default_factory=Budget)

    @property
    def cost_usd(self) -> float:
        return self.total.cost_usd

    @property
    def unpriced_models(self) -> list[str]:
        return self.total.unpriced_models


def _add_model(names: list[str], model: str) -> None:
    if model and model not in names:
        names.append(model)
        names.sort()


class Ledger:
    """Per-role accounting and budget checks (see the module docstring)."""

    def __init__(
        self,
        prices: PriceTable | dict[str, Price] | None = None,
        budget: Budget | None = None,
        *,
        parent: Ledger | None = None,
    ) -> None:
        if isinstance(prices, dict):
            prices = PriceTable(prices=prices)
        self.prices: PriceTable = prices or (parent.prices if parent else PriceTable())
        self.budget: Budget = budget or (parent.budget if parent else Budget())
        self.parent = parent
        self._scopes: dict[Scope, dict[str, RoleUsage]] = {"run": {}, "task": {}, "step": {}}

    # -- scopes ---------------------------------------------------------------------------------
    @property
    def root(self) -> Ledger:
        return self.parent.root if self.parent else self

    def child(self, budget: Budget | None = None) -> Ledger:
        """A ledger for one task that rolls up into this one's run totals (for concurrent tasks)."""
        return Ledger(self.prices, budget, parent=self)

    def start_task(self) -> None:
        """Reset the task and step scopes (for a ledger reused by sequential tasks)."""
        self._scopes["task"] = {}
        self._scopes["step"] = {}

    def start_step(self) -> None:
        self._scopes["step"] = {}

    def _roles(self, scope: Scope) -> dict[str, RoleUsage]:
        return self.root._scopes["run"] if scope == "run" else self._scopes[scope]

    def _targets(self, role: str) -> list[RoleUsage]:
        return [self._roles(scope).setdefault(role, RoleUsage()) for scope in ("run", "task", "step")]

    def total(self, scope: Scope = "task") -> RoleUsage:
        out = RoleUsage()
        for usage in self._roles(scope).values():
            out = out.merged(usage)
        return out

    def cost(self, scope: Scope = "task") -> float:
        return sum(u.cost_usd for u in self._roles(scope).values())

    def snapshot(self, scope: Scope = "task") -> LedgerSnapshot:
        roles = {name: usage.model_copy(deep=True) for name, usage in sorted(self._roles(scope).items())}
        return LedgerSnapshot(scope=scope, roles=roles, total=self.total(scope), budget=self.budget)

    # -- budgets --------------------------------------------------------------------------------
    def _refuse(self, role: str, message: str, budget: str, limit: float, spent: float) -> BudgetExceeded:
        for usage in self._targets(role):
            usage.refused += 1
        return BudgetExceeded(
            f"budget exceeded ({role} call refused): {message}", budget=budget, limit=limit, spent=spent
        )

    def check(self, role: str, model: str, messages: list[Message], params: CallParams | None = None) -> None:
        """Refuse (raise ``BudgetExceeded``) or admit the next call; an admitted call is counted at once."""
        b, root_b = self.budget, self.root.budget
        if b.max_calls_per_step is not None:
            calls = self.total("step").calls
            if calls + 1 > b.max_calls_per_step:
                raise self._refuse(
                    role,
                    f"{calls} model calls this step, max_calls_per_step={b.max_calls_per_step}",
                    "max_calls_per_step",
                    b.max_calls_per_step,
                    calls,
                )
        if b.max_calls_per_task is not None:
            calls = self.total("task").calls
            if calls + 1 > b.max_calls_per_task:
                raise self._refuse(
                    role,
                    f"{calls} model calls this task, max_calls_per_task={b.max_calls_per_task}",
                    "max_calls_per_task",
                    b.max_calls_per_task,
                    calls,
                )
        price = self.prices.lookup(model)
        estimate = estimate_input_tokens(messages) * price.input / 1e6 if price else 0.0
        cost_limits: list[tuple[str, float | None, Scope]] = [
            ("max_cost_per_task", b.max_cost_per_task, "task"),
            ("max_cost_per_run", root_b.max_cost_per_run, "run"),
        ]
        for name, limit, scope in cost_limits:
            if limit is None:
                continue
            spent = self.cost(scope)
            if spent + estimate > limit or (spent > 0 and spent >= limit):
                raise self._refuse(
                    role,
                    f"{scope} cost ${spent:.4f} + this prompt ≈${estimate:.4f} would pass "
                    f"{name}=${limit:.4f}",
                    name,
                    limit,
                    spent,
                )
        for usage in self._targets(role):
            usage.calls += 1
            _add_model(usage.models, model)

    # -- records --------------------------------------------------------------------------------
    def record(self, role: str, model: str, completion: Completion) -> float:
        """Account one completed real call (after ``check``); returns its cost."""
        cost = self.prices.cost(model, completion.usage)
        if cost is None:
            cost = self.prices.cost(completion.model, completion.usage) if completion.model else None
        requests, retries = requests_of(completion), retries_of(completion)
        for usage in self._targets(role):
            usage.requests += requests
            usage.retries += retries
            usage.completions += len(completion.texts)
            usage.input_tokens += completion.usage.input_tokens
            usage.output_tokens += completion.usage.output_tokens
            usage.cached_tokens += completion.usage.cached_tokens
            usage.latency_s += completion.latency_s
            usage.max_latency_s = max(usage.max_latency_s, completion.latency_s)
            if cost is None:
                _add_model(usage.unpriced_models, model)
            else:
                usage.cost_usd += cost
        return cost or 0.0

    def record_error(self, role: str, model: str, exc: BaseException) -> None:
        for usage in self._targets(role):
            usage.errors += 1

    def record_cache_hit(self, role: str, model: str, completion: Completion | None) -> None:
        """A reply served from the cache: counted, free; what it would have cost is kept as ``saved_usd``.
        ``None`` is a recorded failure replayed (``replay-strict``): a hit and an error."""
        saved = (self.prices.cost(model, completion.usage) or 0.0) if completion is not None else 0.0
        for usage in self._targets(role):
            usage.cache_hits += 1
            if completion is None:
                usage.errors += 1
            else:
                usage.completions += len(completion.texts)
            usage.saved_usd += saved
            _add_model(usage.models, model)


class LedgeredModel(ModelWrapper):
    """Checks the budget before, and records the outcome after, each call of the wrapped model."""

    def __init__(self, inner: ChatModel, ledger: Ledger, role: str) -> None:
        super().__init__(inner)
        self.ledger = ledger
        self.role = role

    async def _call(self, messages: list[Message], params: CallParams) -> Completion:
        self.ledger.check(self.role, self.name, messages, params)
        try:
            completion = await self.inner.complete(messages, **params.kwargs())
        except Exception as exc:
            self.ledger.record_error(self.role, self.name, exc)
            raise
        self.ledger.record(self.role, self.name, completion)
        return completion
