"""Per-endpoint concurrency, requests-per-minute and tokens-per-minute limits.

One ``EndpointLimits`` is shared by every model object that talks to the same endpoint (all roles on
one vLLM server, or one OpenAI model), because that is where the limits apply. The planner fans out
dozens of calls per step (method.md §6), so without this a burst of world-model and judge calls
would draw 429s or swamp a local server.

The rate limits are token buckets that wait (``asyncio.sleep``) for exactly the missing credit, with
a FIFO lock so early callers are served first; no busy loops. A request is admitted once the bucket
holds its cost (or is full, for a request bigger than the bucket) and may drive it negative: the
debt is paid by the next callers' waits. Token costs are estimated before the call and settled
with the real usage after it.

asyncio primitives belong to one event loop; the limiter makes fresh ones when it is first used from
another loop (``Agent.run`` starts a new loop per call), so a shared limiter never crosses loops.
"""

from __future__ import annotations

import asyncio
import logging
import time

from pydantic import BaseModel, Field

from webdreamer.models.tokens import estimate_input_tokens
from webdreamer.models.types import ChatModel, Completion, Message
from webdreamer.models.wrapper import CallParams, ModelWrapper

log = logging.getLogger(__name__)


class LimitsConfig(BaseModel):
    """Limits for one endpoint; ``None`` means unlimited."""

    max_concurrency: int | None = Field(default=16, ge=1, description="requests in flight at once")
    rpm: float | None = Field(default=None, gt=0, description="requests per minute")
    tpm: float | None = Field(default=None, gt=0, description="input + output tokens per minute")
    burst_s: float = Field(
        default=1.0, gt=0, description="bucket size in seconds of rate (at least one request's worth)"
    )
    output_tokens_guess: int = Field(
        default=256, ge=0, description="output tokens per completion assumed when max_tokens is unset"
    )


class TokenBucket:
    """An async token bucket: ``rate`` credits per second, at most ``capacity`` banked."""

    def __init__(self, rate_per_s: float, capacity: float) -> None:
        if rate_per_s <= 0 or capacity <= 0:
            raise ValueError("rate and capacity must be positive")
        self.rate = rate_per_s
        self.capacity = capacity
        self._level = capacity
        self._stamp = time.monotonic()
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _refill(self) -> None:
        now = time.monotonic()
        self._level = min(self.capacity, self._level + (now - self._stamp) * self.rate)
        self._stamp = now

    def _get_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            self._lock, self._loop = asyncio.Lock(), loop
        return self._lock

    async def acquire(self, amount: float = 1.0) -> float:
        """Take ``amount`` credits, waiting as needed; returns the seconds waited."""
        start = time.monotonic()
        async with self._get_lock():  # FIFO: waiters are served in arrival order
            need = min(amount, self.capacity)
            while True:
                self._refill()
                if self._level >= need:
                    break
                await asyncio.sleep((need - self._level) / self.rate)
            self._level -= amount
        return time.monotonic() - start

    def settle(self, delta: float) -> None:
        """Charge (``delta > 0``) or refund (``delta < 0``) credits after the fact, e.g. real vs estimated tokens."""
        self._refill()
        self._level = min(self.capacity, self._level - delta)


class EndpointLimits:
    """The concurrency slot and rate buckets of one endpoint."""

    def __init__(self, config: LimitsConfig | None = None) -> None:
        self.config = config or LimitsConfig()
        c = self.config
        self.requests = TokenBucket(c.rpm / 60.0, max(1.0, c.rpm / 60.0 * c.burst_s)) if c.rpm else None
        self.tokens = TokenBucket(c.tpm / 60.0, max(1.0, c.tpm / 60.0 * c.burst_s)) if c.tpm else None
        self._sem: asyncio.Semaphore | None = None
        self._sem_loop: asyncio.AbstractEventLoop | None = None
        self.in_flight = 0
        self.peak_in_flight = 0
        self.waited_s = 0.0

    def _semaphore(self) -> asyncio.Semaphore | None:
        if self.config.max_concurrency is None:
            return None
        loop = asyncio.get_running_loop()
        if self._sem is None or self._sem_loop is not loop:
            self._sem, self._sem_loop = asyncio.Semaphore(self.config.max_concurrency), loop
        return self._sem

    def estimate_tokens(self, messages: list[Message], params: CallParams) -> int:
        out = params.max_tokens if params.max_tokens is not None else self.config.output_tokens_guess
        return estimate_input_tokens(messages) + params.n * out

    async def run(self, inner: ChatModel, messages: list[Message], params: CallParams) -> Completion:
        """Make one call to ``inner`` inside the limits."""
        sem = self._semaphore()
        t0 = time.monotonic()
        if sem is not None:
            await sem.acquire()
        try:
            if self.requests is not None:
                await self.requests.acquire(1.0)
            estimate = 0
            if self.tokens is not None:
                estimate = self.estimate_tokens(messages, params)
                await self.tokens.acquire(estimate)
            self.waited_s += time.monotonic() - t0
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            try:
                completion = await inner.complete(messages, **params.kwargs())
            finally:
                self.in_flight -= 1
            if self.tokens is not None:
                used = completion.usage.input_tokens + completion.usage.output_tokens
                if used > 0:
                    self.tokens.settle(used - estimate)
            return completion
        finally:
            if sem is not None:
                sem.release()


_SHARED: dict[str, EndpointLimits] = {}


def shared_limits(endpoint_key: str, config: LimitsConfig | None = None) -> EndpointLimits:
    """The process-wide limits of one endpoint; the first configuration given for it wins."""
    limits = _SHARED.get(endpoint_key)
    if limits is None:
        limits = _SHARED[endpoint_key] = EndpointLimits(config)
    elif config is not None and config != limits.config:
        log.warning("limits for %s already set to %s; ignoring %s", endpoint_key, limits.config, config)
    return limits


class LimitedModel(ModelWrapper):
    """Runs every call of the wrapped model inside an endpoint's ``EndpointLimits``."""

    def __init__(self, inner: ChatModel, limits: EndpointLimits) -> None:
        super().__init__(inner)
        self.limits = limits

    async def _call(self, messages: list[Message], params: CallParams) -> Completion:
        return await self.limits.run(self.inner, messages, params)
