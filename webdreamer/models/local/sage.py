"""SageAttention as a per-call, exact-or-decline accelerator behind transformers' attention registry.

Why this shape: ``sageattn`` silently drops masks, dropout and SDPA's ``scale``, aligns causal masks
top-left (wrong for a KV cache with ``1 < q_len < kv_len``), supports only some head dims, dtypes and
GPUs, and the PyPI 1.0.6 kernel smooths K in place (which would corrupt HF's KV cache). So
``"sage"`` is registered in both ``AttentionInterface`` and ``AttentionMaskInterface`` (mask function =
SDPA's, or HF would drop padding and cache masks), and every call either runs the kernel where it
computes the same attention as SDPA (up to quantisation), or delegates to ``sdpa_attention_forward``
with identical arguments. Each decision is counted by reason code, process-wide and per thread, so
``LocalChatModel`` reports per call which path ran.

Reason codes: ``sage`` (kernel ran), ``not_cuda``, ``hip``, ``unavailable`` (import failed or not
installed), ``capability``, ``dtype``, ``head_dim``, ``gqa``, ``dropout``, ``output_attentions``,
``softcap``, ``sinks``, ``position_bias``, ``sliding_window``, ``mask``, ``decode_threshold``
(``q_len`` below the threshold, decode included), ``cached_continuation`` (causal, ``q_len < kv_len``
outside the empty-static-cache case), ``kernel_error``.

Test / custom-kernel hook: :func:`override_sage` injects a function with ``sageattn``'s signature and
forces the capability probe (so a CPU stand-in can run), then restores the previous settings.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

SAGE_KEY = "sage"
V2_CAPABILITIES = frozenset({(8, 0), (8, 6), (8, 9), (9, 0), (12, 0), (12, 1)})
V1_HEAD_DIMS = frozenset({64, 96, 128})
# Declines that are a policy, not a failure: ``strict`` lets these through.
POLICY_REASONS = frozenset({"decode_threshold"})

Kernel = Callable[..., "torch.Tensor"]


class SageFallback(RuntimeError):
    """Raised in strict mode where the adapter would have fallen back to SDPA."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"sage attention fell back: {reason}{': ' + detail if detail else ''}")
        self.reason = reason


@dataclass
class SageSettings:
    """Process-wide defaults. A model's config may override ``min_q_len`` / ``strict`` through the
    attributes ``sage_min_q_len`` / ``sage_strict`` (set by ``LocalChatModel``)."""

    min_q_len: int = 512  # below this q_len (decode included) SDPA is as fast or faster (#48)
    strict: bool = False
    kernel: Kernel | None = None  # injected kernel; None = import ``sageattention`` lazily
    kernel_version: str = "2"  # "1": PyPI 1.0.6 semantics (head dims 64/96/128, any cc >= 8.0)
    capability: tuple[int, int] | None = None  # forced probe result; skips the CUDA device check
    clone_key: bool = True  # never hand the cache's own K tensor to a kernel that may smooth in place


@dataclass
class _Loaded:
    kernel: Kernel | None
    version: str
    error: str | None


@dataclass
class _State:
    settings: SageSettings = field(default_factory=SageSettings)
    loaded: _Loaded | None = None
    capabilities: dict[int, tuple[int, int]] = field(default_factory=dict)
    broken: set[tuple[str, str, int]] = field(default_factory=set)
    counts: Counter[str] = field(default_factory=Counter)
    logged: set[str] = field(default_factory=set)


_state = _State()
_lock = threading.Lock()
_local = threading.local()


# ---------------------------------------------------------------------------------------------------
# Settings, hooks and counters


def sage_settings() -> SageSettings:
    """A copy of the current process-wide settings."""
    return replace(_state.settings)


def configure_sage(**changes: Any) -> SageSettings:
    """Change process-wide settings (fields of :class:`SageSettings`); returns the previous ones."""
    previous = _state.settings
    _state.settings = replace(previous, **changes)
    return previous


@contextlib.contextmanager
def override_sage(**changes: Any) -> Iterator[SageSettings]:
    """Temporarily change settings, e.g. ``override_sage(kernel=fn, capability=(9, 0), min_q_len=1)``
    to run a CPU stand-in kernel through the adapter in tests. Restores settings and caches after."""
    previous = configure_sage(**changes)
    _state.broken.clear()
    try:
        yield _state.settings
    finally:
        _state.settings = previous
        _state.broken.clear()


def reset_sage_import() -> None:
    """Forget the cached import result (tests that make the import fail call this)."""
    _state.loaded = None


def sage_counts() -> dict[str, int]:
    """Process-wide count of attention calls per reason code since the last reset."""
    with _lock:
        return dict(_state.counts)


def reset_sage_counts() -> None:
    with _lock:
        _state.counts.clear()


@contextlib.contextmanager
def collect_sage_counts() -> Iterator[Counter[str]]:
    """Count the decisions made on this thread inside the block (generation runs on one thread)."""
    counter: Counter[str] = Counter()
    stack: list[Counter[str]] = getattr(_local, "stack", None) or []
    _local.stack = [*stack, counter]
    try:
        yield counter
    finally:
        _local.stack = stack


def _count(reason: str) -> None:
    with _lock:
        _state.counts[reason] += 1
    for counter in getattr(_local, "stack", ()):
        counter[reason] += 1


# ---------------------------------------------------------------------------------------------------
# Kernel import and capability probe


def _load_kernel() -> _Loaded:
    """Import ``sageattention`` once. Broken builds raise ImportError (undefined symbols) or OSError
    (DLLs), so any Exception means "unavailable"."""
    if _state.loaded is not None:
        return _state.loaded
    try:
        module = importlib.import_module("sageattention")
        kernel = module.sageattn
        try:
            ver = importlib.metadata.version("sageattention")
        except Exception:
            ver = "2" if hasattr(module, "sageattn_qk_int8_pv_fp8_cuda") else "1"
        loaded = _Loaded(kernel, "1" if ver.startswith("1") else "2", None)
    except Exception as exc:
        loaded = _Loaded(None, "", f"{type(exc).__name__}: {exc}")
        log.info("sageattention unavailable (%s); attention 'sage' falls back to SDPA", loaded.error)
    _state.loaded = loaded
    return loaded


def sage_kernel() -> tuple[Kernel | None, str]:
    """The kernel the adapter would call (injected or imported) and its API version ("1"/"2")."""
    return _kernel()


def _kernel() -> tuple[Kernel | None, str]:
    settings = _state.settings
    if settings.kernel is not None:
        return settings.kernel, settings.kernel_version
    loaded = _load_kernel()
    return loaded.kernel, loaded.version


def _capability(device: torch.device) -> tuple[int, int]:
    import torch

    index = device.index if device.index is not None else torch.cuda.current_device()
    if index not in _state.capabilities:
        major, minor = torch.cuda.get_device_capability(index)
        _state.capabilities[index] = (major, minor)
    return _state.capabilities[index]


def sage_status() -> dict[str, object]:
    """What the adapter would do on this machine: kernel importable, its version, the error."""
    import torch

    kernel, version = _kernel()
    loaded = _state.loaded
    status: dict[str, object] = {
        "kernel": kernel is not None,
        "version": version or None,
        "injected": _state.settings.kernel is not None,
        "error": loaded.error if loaded else None,
        "cuda": torch.cuda.is_available(),
    }
    if torch.cuda.is_available():
        status["capability"] = _capability(torch.device("cuda"))
    return status


# ---------------------------------------------------------------------------------------------------
# The attention function


def _decide(
    module: Any,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    dropout: float,
    is_causal: bool | None,
    kwargs: dict[str, Any],
) -> tuple[str, bool, Kernel | None, str]:
    """(reason, causal flag for the kernel, kernel, version); reason "sage" means run it."""
    import torch

    settings = _state.settings
    if settings.capability is None:
        if not query.is_cuda:
            return "not_cuda", False, None, ""
        if torch.version.hip is not None:
            return "hip", False, None, ""
    kernel, version = _kernel()
    if kernel is None:
        return "unavailable", False, None, ""
    cap = settings.capability or _capability(query.device)
    if (version == "1" and cap < (8, 0)) or (version != "1" and cap not in V2_CAPABILITIES):
        return "capability", False, None, ""
    if query.dtype not in (torch.float16, torch.bfloat16) or not (query.dtype == key.dtype == value.dtype):
        return "dtype", False, None, ""
    head_dim = query.shape[-1]
    if key.shape[-1] != head_dim or value.shape[-1] != head_dim:
        return "head_dim", False, None, ""
    if (version == "1" and head_dim not in V1_HEAD_DIMS) or head_dim > 128:
        return "head_dim", False, None, ""
    if key.shape[1] == 0 or query.shape[1] % key.shape[1] or key.shape[1] != value.shape[1]:
        return "gqa", False, None, ""
    if (query.device.type, str(query.dtype), head_dim) in _state.broken:
        return "kernel_error", False, None, ""
    if dropout:
        return "dropout", False, None, ""
    if kwargs.get("output_attentions"):
        return "output_attentions", False, None, ""
    if kwargs.get("softcap") is not None:
        return "softcap", False, None, ""
    if kwargs.get("s_aux") is not None:
        return "sinks", False, None, ""
    if kwargs.get("position_bias") is not None:
        return "position_bias", False, None, ""
    q_len, kv_len = query.shape[2], key.shape[2]
    window = kwargs.get("sliding_window")
    if window is not None and kv_len > window:
        return "sliding_window", False, None, ""
    if attention_mask is not None:
        return "mask", False, None, ""
    config = getattr(module, "config", None)
    min_q_len = getattr(config, "sage_min_q_len", None)
    if q_len < (settings.min_q_len if min_q_len is None else min_q_len):
        return "decode_threshold", False, None, ""
    causal = is_causal if is_causal is not None else getattr(module, "is_causal", True)
    if not causal:
        return "sage", False, kernel, version
    if q_len == kv_len:
        return "sage", q_len > 1, kernel, version
    if q_len == 1:
        return "sage", False, kernel, version  # decode: the one query sees every cached key
    if q_len < kv_len and _empty_static_prefill(kwargs.get("position_ids")):
        return "sage", True, kernel, version  # caller slices K/V to q_len
    return "cached_continuation", False, None, ""


def _empty_static_prefill(position_ids: torch.Tensor | None) -> bool:
    """A mask-free ``q_len < kv_len`` call is a prefill into an empty static cache (HF's own sdpa
    skip rule); confirm it from the positions, since the cache itself is not passed here."""
    if position_ids is None:
        return False
    return bool((position_ids[..., 0] == 0).all())


def sage_attention_forward(
    module: Any,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    dropout: float = 0.0,
    scaling: float | None = None,
    is_causal: bool | None = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, None]:
    """transformers attention function for ``attn_implementation="sage"``; the SDPA contract."""
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    reason, causal, kernel, version = _decide(
        module, query, key, value, attention_mask, dropout, is_causal, kwargs
    )
    if reason == "sage" and kernel is not None:
        try:
            out = _run_kernel(kernel, version, query, key, value, scaling, causal)
            _count("sage")
            return out, None
        except Exception as exc:
            _state.broken.add((query.device.type, str(query.dtype), query.shape[-1]))
            _log_once("kernel_error", f"sageattn failed ({type(exc).__name__}: {exc}); using SDPA")
            reason = "kernel_error"
            if _strict(module):
                _count(reason)
                raise SageFallback(reason, str(exc)) from exc
    _count(reason)
    if _strict(module) and reason not in POLICY_REASONS:
        raise SageFallback(reason)
    return sdpa_attention_forward(
        module,
        query,
        key,
        value,
        attention_mask,
        dropout=dropout,
        scaling=scaling,
        is_causal=is_causal,
        **kwargs,
    )


def _strict(module: Any) -> bool:
    strict = getattr(getattr(module, "config", None), "sage_strict", None)
    return _state.settings.strict if strict is None else bool(strict)


def _run_kernel(
    kernel: Kernel,
    version: str,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    scaling: float | None,
    causal: bool,
) -> torch.Tensor:
    import torch

    q_len = query.shape[2]
    if causal and key.shape[2] > q_len:  # empty static cache: the tail slots are unwritten
        key, value = key[:, :, :q_len], value[:, :, :q_len]
    if _state.settings.clone_key:
        key = key.clone()  # 1.0.6 (and SA3) subtract the K mean in place; HF's cache hands us its own tensor
    sm_scale = scaling if scaling is not None else query.shape[-1] ** -0.5
    extra: dict[str, Any] = {"smooth_k": True} if version == "1" else {}
    device_ctx = torch.cuda.device(query.device) if query.is_cuda else contextlib.nullcontext()
    with device_ctx:  # sageattn calls torch.cuda.set_device; keep the caller's current device
        out = kernel(query, key, value, tensor_layout="HND", is_causal=causal, sm_scale=sm_scale, **extra)
    if isinstance(out, tuple):
        out = out[0]
    if tuple(out.shape) != tuple(query.shape):
        raise ValueError(f"kernel returned shape {tuple(out.shape)}, expected {tuple(query.shape)}")
    return out.to(query.dtype).transpose(1, 2).contiguous()


def _log_once(key: str, message: str) -> None:
    if key not in _state.logged:
        _state.logged.add(key)
        log.warning(message)


def register_sage() -> str:
    """Register ``"sage"`` with transformers' attention and mask registries (idempotent); returns the
    key to pass as ``attn_implementation``. Nothing is imported from ``sageattention`` here."""
    from transformers import AttentionInterface
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, AttentionMaskInterface, sdpa_mask
    from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS

    if ALL_ATTENTION_FUNCTIONS.get(SAGE_KEY) is not sage_attention_forward:
        AttentionInterface.register(SAGE_KEY, sage_attention_forward)
    if ALL_MASK_ATTENTION_FUNCTIONS.get(SAGE_KEY) is not sdpa_mask:
        AttentionMaskInterface.register(SAGE_KEY, sdpa_mask)
    return SAGE_KEY
