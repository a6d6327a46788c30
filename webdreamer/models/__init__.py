"""Model clients: one async chat interface, backends and the wrappers layered on them.

``build_model(config, role=..., ledger=..., cache=...)`` gives a role its model; ``stack.py`` says in
which order the layers wrap the backend and why.
"""

from webdreamer.models.cache import CachedModel, CacheMissError, CacheMode, ResponseCache, request_hash
from webdreamer.models.config import ModelConfig
from webdreamer.models.fanout import NSamplesFallback
from webdreamer.models.ledger import (
    Budget,
    Ledger,
    LedgeredModel,
    LedgerSnapshot,
    Price,
    PriceTable,
    RoleUsage,
)
from webdreamer.models.limits import EndpointLimits, LimitedModel, LimitsConfig, TokenBucket, shared_limits
from webdreamer.models.openai_client import OpenAIChatModel, aclose_clients
from webdreamer.models.retry import (
    Parsed,
    ParseFailure,
    RetryingModel,
    RetryPolicy,
    ask_until_parsed,
    is_retryable,
)
from webdreamer.models.stack import build_model, forget_endpoint_state, make_backend, register_backend
from webdreamer.models.types import (
    BudgetExceeded,
    ChatModel,
    Completion,
    ImagePart,
    Message,
    ModelError,
    RetryableModelError,
    TextPart,
    TokenLogprob,
    TopLogprob,
    Usage,
    assistant,
    system,
    user,
)
from webdreamer.models.wrapper import CallParams, ModelWrapper

__all__ = [
    "Budget",
    "BudgetExceeded",
    "CacheMissError",
    "CacheMode",
    "CachedModel",
    "CallParams",
    "ChatModel",
    "Completion",
    "EndpointLimits",
    "ImagePart",
    "Ledger",
    "LedgerSnapshot",
    "LedgeredModel",
    "LimitedModel",
    "LimitsConfig",
    "Message",
    "ModelConfig",
    "ModelError",
    "ModelWrapper",
    "NSamplesFallback",
    "OpenAIChatModel",
    "ParseFailure",
    "Parsed",
    "Price",
    "PriceTable",
    "ResponseCache",
    "RetryPolicy",
    "RetryableModelError",
    "RetryingModel",
    "RoleUsage",
    "TextPart",
    "TokenBucket",
    "TokenLogprob",
    "TopLogprob",
    "Usage",
    "aclose_clients",
    "ask_until_parsed",
    "assistant",
    "build_model",
    "forget_endpoint_state",
    "is_retryable",
    "make_backend",
    "register_backend",
    "request_hash",
    "shared_limits",
    "system",
    "user",
]
