"""In-process local models (transformers), the SageAttention adapter and the embedded SmolLM2.

torch and transformers are optional (extra ``local``): this package imports them only when one of
the names below that needs them is first used, so ``import webdreamer.models.local`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from webdreamer.models.local.config import Attention, LocalModelConfig
from webdreamer.models.local.embedded import (
    EmbeddedModelUnavailable,
    embedded_available,
    embedded_model,
    embedded_model_path,
    load_embedded,
)

if TYPE_CHECKING:
    from webdreamer.models.local.chat import LocalChatModel, OptionScore, OptionScores
    from webdreamer.models.local.sage import (
        SageFallback,
        SageSettings,
        collect_sage_counts,
        configure_sage,
        override_sage,
        register_sage,
        reset_sage_counts,
        sage_counts,
        sage_kernel,
        sage_status,
    )

_LAZY = {
    "LocalChatModel": "chat",
    "OptionScore": "chat",
    "OptionScores": "chat",
    "SageFallback": "sage",
    "SageSettings": "sage",
    "collect_sage_counts": "sage",
    "configure_sage": "sage",
    "override_sage": "sage",
    "register_sage": "sage",
    "reset_sage_counts": "sage",
    "sage_counts": "sage",
    "sage_kernel": "sage",
    "sage_status": "sage",
}

__all__ = [
    "Attention",
    "EmbeddedModelUnavailable",
    "LocalChatModel",
    "LocalModelConfig",
    "OptionScore",
    "OptionScores",
    "SageFallback",
    "SageSettings",
    "collect_sage_counts",
    "configure_sage",
    "embedded_available",
    "embedded_model",
    "embedded_model_path",
    "load_embedded",
    "override_sage",
    "register_sage",
    "reset_sage_counts",
    "sage_counts",
    "sage_kernel",
    "sage_status",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
