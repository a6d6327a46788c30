"""``build_model``: a backend with its layers, for one role.

Order, outermost first, and why::

    CachedModel        a hit returns at once: no budget check, no limits, no cost (counted as a hit)
    LedgeredModel      budget check before anything is sent; records the call's tokens, cost, latency
    NSamplesFallback   one logical call may become several requests when a server ignores n
    RetryingModel      retries each request on its own (429 / 5xx / timeout / dropped connection)
    LimitedModel       every attempt takes a concurrency slot and rate credit; backoff holds neither
    backend            one request (OpenAI-compatible HTTP, or the local transformers backend)

So the ledger sees one call per ``complete`` (what the planner's per-step budget counts) with the
real request and retry counts in ``Completion.info``; a budget refusal sends nothing; a retry waits
outside the concurrency slot, so a rate-limited request does not block the others.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from webdreamer.models.cache import CachedModel, ResponseCache
from webdreamer.models.config import ModelConfig
from webdreamer.models.fanout import NSamplesFallback
from webdreamer.models.ledger import Ledger, LedgeredModel
from webdreamer.models.limits import EndpointLimits, LimitedModel, shared_limits
from webdreamer.models.retry import RetryingModel
from webdreamer.models.types import ChatModel, ModelError

BackendFactory = Callable[[ModelConfig], ChatModel]

_BACKENDS: dict[str, BackendFactory] = {}


def register_backend(kind: str, factory: BackendFactory) -> None:
    """Make ``ModelConfig.backend == kind`` build its backend with ``factory`` (e.g. the local backend)."""
    _BACKENDS[kind] = factory


def make_backend(config: ModelConfig) -> ChatModel:
    """The bare backend for a config. ``openai`` is built in; another kind is looked up in the registry,
    after importing ``webdreamer.models.<kind>`` once so that such a module can register itself."""
    if config.backend == "openai":
        from webdreamer.models.openai_client import OpenAIChatModel

        return OpenAIChatModel(config)
    if config.backend in ("local", "embedded") and config.backend not in _BACKENDS:
        from webdreamer.models.local_backend import embedded_backend, local_backend

        return (local_backend if config.backend == "local" else embedded_backend)(config)
    if config.backend not in _BACKENDS:
        try:
            importlib.import_module(f"webdreamer.models.{config.backend}")
        except ImportError as exc:
            raise ModelError(f"unknown model backend {config.backend!r}: {exc}") from exc
    if config.backend not in _BACKENDS:
        raise ModelError(f"model backend {config.backend!r} did not register itself (register_backend)")
    return _BACKENDS[config.backend](config)


def forget_endpoint_state() -> None:
    """Forget what was learnt about endpoints (servers that ignore n, shared limits); for tests whose
    servers may reuse a port."""
    from webdreamer.models import fanout, limits

    fanout._IGNORES_N.clear()
    limits._SHARED.clear()


def build_model(
    config: ModelConfig,
    *,
    role: str,
    ledger: Ledger | None = None,
    cache: ResponseCache | None = None,
    limits: EndpointLimits | None = None,
    backend: ChatModel | None = None,
) -> ChatModel:
    """The model a role calls: ``backend`` (else ``make_backend(config)``) wrapped as the module docstring says.

    ``limits`` defaults to the process-wide limits of the config's endpoint, shared by all roles that
    use it. Without ``ledger`` nothing is accounted or budgeted; without ``cache`` nothing is cached.
    """
    model: ChatModel = backend if backend is not None else make_backend(config)
    endpoint_key = str(getattr(model, "endpoint_key", config.endpoint_key()))
    model = LimitedModel(model, limits or shared_limits(endpoint_key, config.limits))
    model = RetryingModel(model, config.retry)
    model = NSamplesFallback(model, mode=config.n_mode, endpoint_key=endpoint_key)
    if ledger is not None:
        model = LedgeredModel(model, ledger, role)
    if cache is not None:
        model = CachedModel(model, cache, ledger=ledger, role=role)
    return model
