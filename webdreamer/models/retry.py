"""Retrying failed calls (transport level) and re-asking on unusable output (role level).

Transport retries (``RetryingModel``) cover what a second try can fix: 429 (waiting at least what
``Retry-After`` / ``retry-after-ms`` asks), 5xx, timeouts, dropped connections and garbled bodies.
Backends signal these with ``RetryableModelError``; any other ``ModelError`` (400, 401, 404, a
context overflow) is final, because repeating the same request cannot succeed. Waits grow
exponentially with jitter (so parallel rollouts do not retry in lock-step) up to a cap, for at most
``max_attempts`` tries; then a plain ``ModelError`` names the attempts and the last failure, so an
outer layer never retries again.

Output retries (``ask_until_parsed``) are for the roles: a reply that arrives fine but does not parse
(truncated, wrong format) is re-asked up to ``max_asks`` times and the failures come back with
their reasons, never silently scored as 0 (method.md §9.5).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from pydantic import BaseModel, Field
from tenacity import AsyncRetrying, RetryCallState, RetryError, retry_if_exception, stop_after_attempt

from webdreamer.models.types import ChatModel, Completion, Message, ModelError, RetryableModelError
from webdreamer.models.types import assistant as assistant_message
from webdreamer.models.types import user as user_message
from webdreamer.models.wrapper import CallParams, ModelWrapper

log = logging.getLogger(__name__)

T = TypeVar("T")


class RetryPolicy(BaseModel):
    """How transport failures are retried."""

    max_attempts: int = Field(default=5, ge=1, description="tries in all, the first included")
    initial_wait_s: float = Field(default=1.0, ge=0, description="backoff before the 2nd try")
    multiplier: float = Field(default=2.0, ge=1.0)
    max_wait_s: float = Field(default=30.0, ge=0, description="cap on one backoff wait")
    jitter: float = Field(default=0.5, ge=0, le=1, description="fraction of the wait drawn at random")
    max_retry_after_s: float = Field(
        default=120.0, ge=0, description="a server asking to wait longer than this is not retried"
    )


def retry_after_of(exc: BaseException) -> float | None:
    return exc.retry_after_s if isinstance(exc, RetryableModelError) else None


def is_retryable(exc: BaseException) -> bool:
    """Whether a second try could succeed: our transient errors, plus bare timeouts/connection errors."""
    if isinstance(exc, RetryableModelError):
        return True
    if isinstance(exc, ModelError):
        return False
    return isinstance(exc, TimeoutError | ConnectionError)


def backoff_s(policy: RetryPolicy, attempt: int, retry_after_s: float | None, rng: random.Random) -> float:
    """Wait before try ``attempt + 1``: jittered exponential, and never less than the server asked."""
    base = min(policy.max_wait_s, policy.initial_wait_s * policy.multiplier ** (attempt - 1))
    wait = base * (1.0 - policy.jitter * rng.random())
    if retry_after_s is not None and retry_after_s > 0:
        # A little extra on top of Retry-After spreads out the clients that all got the same header.
        wait = max(wait, retry_after_s * (1.0 + 0.1 * rng.random()))
    return wait


class RetryingModel(ModelWrapper):
    """Retries transient failures of the wrapped model (see the module docstring).

    Sets ``info["attempts"]`` on the completion so the ledger can count real requests.
    """

    def __init__(
        self, inner: ChatModel, policy: RetryPolicy | None = None, *, seed: int | None = None
    ) -> None:
        super().__init__(inner)
        self.policy = policy or RetryPolicy()
        self._rng = random.Random(seed)

    def _should_retry(self, exc: BaseException) -> bool:
        if not is_retryable(exc):
            return False
        ra = retry_after_of(exc)
        return ra is None or ra <= self.policy.max_retry_after_s

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        wait = backoff_s(self.policy, state.attempt_number, retry_after_of(exc) if exc else None, self._rng)
        log.info("%s: attempt %d failed (%s); retrying in %.2fs", self.name, state.attempt_number, exc, wait)
        return wait

    async def _call(self, messages: list[Message], params: CallParams) -> Completion:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.policy.max_attempts),
            wait=self._wait,
            retry=retry_if_exception(self._should_retry),
            sleep=asyncio.sleep,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    completion = await self.inner.complete(messages, **params.kwargs())
                    number = attempt.retry_state.attempt_number
                    if number > 1 or "attempts" not in completion.info:
                        completion.info["attempts"] = number
                    return completion
        except RetryError as err:
            last = err.last_attempt.exception()
            raise ModelError(
                f"{self.name}: gave up after {self.policy.max_attempts} attempts; last error: {last}"
            ) from last
        except RetryableModelError as err:
            # Only reached when the server asked for a wait above max_retry_after_s.
            raise ModelError(
                f"{self.name}: not retried, server asked to wait {err.retry_after_s:.0f}s "
                f"(> max_retry_after_s={self.policy.max_retry_after_s:.0f}): {err}"
            ) from err
        raise AssertionError("unreachable")  # pragma: no cover


# ----------------------------------------------------------------------------------------------
# Re-asking on unusable output.


class ParseFailure(BaseModel):
    """One reply that could not be used, and why."""

    text: str
    reason: str
    finish_reason: str = ""
    ask: int = 1


@dataclass
class Parsed(Generic[T]):
    """What ``ask_until_parsed`` got: the parsed values (in reply order), the failures, and every completion."""

    values: list[T] = field(default_factory=list)
    failures: list[ParseFailure] = field(default_factory=list)
    completions: list[Completion] = field(default_factory=list)
    asks: int = 0

    @property
    def ok(self) -> bool:
        return bool(self.values)


async def ask_until_parsed(
    model: ChatModel,
    messages: list[Message],
    parse: Callable[[str], T],
    *,
    n: int = 1,
    min_ok: int = 1,
    max_asks: int = 2,
    errors: tuple[type[Exception], ...] = (ValueError,),
    feedback: bool = False,
    **params: object,
) -> Parsed[T]:
    """Ask, parse every reply, and re-ask (up to ``max_asks`` requests in all) until ``min_ok`` replies parse.

    ``parse`` raises one of ``errors`` with a reason for an unusable reply. A reply cut off at
    ``max_tokens`` says so in its reason. Never raises for bad output: an empty ``values`` with the
    ``failures`` is the caller's explicit failure state. ``feedback`` (only with ``n == 1``) shows the
    model its bad reply and the reason before asking again; otherwise the same request is repeated
    (the cache keeps repeats of a sampled request apart, so a re-ask is a fresh sample).
    """
    if feedback and n != 1:
        raise ValueError("feedback re-asking needs n == 1")
    result: Parsed[T] = Parsed()
    convo = list(messages)
    for ask in range(1, max_asks + 1):
        completion = await model.complete(convo, n=n, **params)  # type: ignore[arg-type]
        result.completions.append(completion)
        result.asks = ask
        last_reason = ""
        for i, text in enumerate(completion.texts):
            finish = completion.finish_reasons[i] if i < len(completion.finish_reasons) else ""
            try:
                result.values.append(parse(text))
            except errors as exc:
                reason = str(exc) or type(exc).__name__
                if finish == "length":
                    reason += " (reply truncated at max_tokens)"
                result.failures.append(ParseFailure(text=text, reason=reason, finish_reason=finish, ask=ask))
                last_reason = reason
                if feedback:
                    convo = [
                        *messages,
                        assistant_message(text),
                        user_message(
                            f"That reply could not be used: {last_reason}. "
                            "Answer again, following the required output format exactly."
                        ),
                    ]
        if len(result.values) >= min_ok:
            break
    return result
