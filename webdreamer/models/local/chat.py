"""``LocalChatModel``: a Hugging Face causal LM run in-process behind the ``ChatModel`` protocol.

Design choices, and why:
- Generation blocks a CPU for seconds, so it runs in a worker thread (``asyncio.to_thread``) behind
  an asyncio lock (waiters queue without holding threads) and a thread lock (the model may be shared
  across event loops). Two cores serve one generation at a time best.
- ``n`` samples are one batched ``generate``: the prompt is prefilled once and its KV cache is
  repeated ``n`` times, so a long observation costs one prefill, not ``n``. Greedy (temperature 0)
  runs one row and repeats the text ``n`` times.
- Text-only models drop image parts by default (counted in ``info["images_dropped"]``); config
  ``images="error"`` raises ``ModelError`` instead.
- Vision-language checkpoints (Qwen2-VL, the architecture of Dreamer-7B) load through
  ``AutoModelForImageTextToText`` and run text-only, with image parts handled as above.
- Nothing is downloaded: loading uses ``local_files_only=True``.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import torch
from pydantic import BaseModel, Field

from webdreamer.models.local.config import Attention, LocalModelConfig
from webdreamer.models.local.decoding import StopWatch, finish_row, token_logprobs
from webdreamer.models.local.device import resolve_device, resolve_dtype
from webdreamer.models.local.sage import collect_sage_counts, register_sage, sage_status
from webdreamer.models.types import Completion, Message, ModelError, Usage

T = TypeVar("T")


class OptionScore(BaseModel):
    option: str
    logprob: float = Field(description="sum of the option's token logprobs after the prompt")
    tokens: int
    mean_logprob: float
    prob: float = Field(description="softmax of the logprob sums over the given options")


class OptionScores(BaseModel):
    """Log-probabilities of fixed continuations (e.g. "success" / "on track" / "failure")."""

    options: list[OptionScore]
    best: str
    usage: Usage = Field(default_factory=Usage)
    model: str = ""
    latency_s: float = 0.0
    info: dict[str, object] = Field(default_factory=dict)


class LocalChatModel:
    """A transformers causal LM as a ``ChatModel`` (plus :meth:`score_options`)."""

    def __init__(
        self, model: Any, tokenizer: Any, config: LocalModelConfig | None = None, *, name: str | None = None
    ) -> None:
        self.config = config or LocalModelConfig()
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.name = (
            name or self.config.name or self.config.path or str(getattr(model, "name_or_path", "") or "local")
        )
        param = next(model.parameters())
        self.device: torch.device = param.device
        self.dtype: torch.dtype = param.dtype
        text_config = model.config.get_text_config()
        self.context_length = int(getattr(text_config, "max_position_embeddings", 0) or 0) or None
        # Vision-language models (e.g. Qwen2-VL, which Dreamer-7B is) run text-only here; their
        # generate keeps M-RoPE state between calls, so each call prefills inside generate.
        self.vision_language = getattr(model.config, "vision_config", None) is not None
        eos = model.generation_config.eos_token_id
        eos_list = eos if isinstance(eos, list) else [eos]
        if tokenizer.eos_token_id is not None:
            eos_list.append(tokenizer.eos_token_id)
        self.eos_ids: set[int] = {int(e) for e in eos_list if e is not None}
        if not self.eos_ids:
            raise ModelError("the model has no EOS token; generation could not stop")
        self._pad_id = min(self.eos_ids) if tokenizer.eos_token_id is None else int(tokenizer.eos_token_id)
        self.load_info: dict[str, object] = {}  # how it was loaded (source, seconds), for reports
        self._thread_lock = threading.Lock()
        self._loop_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self.attention: Attention = "sdpa"
        self.set_attention(self.config.attention)

    # ------------------------------------------------------------------------------------------------
    # Construction

    @classmethod
    def load(cls, config: LocalModelConfig, **model_kwargs: Any) -> LocalChatModel:
        """Load ``config.path`` (a folder, a cached hub id or a GGUF file in a folder) without network."""
        from transformers import AutoModelForCausalLM, AutoTokenizer

        started = time.perf_counter()
        if config.threads:
            torch.set_num_threads(config.threads)
        device = resolve_device(config.device)
        dtype = resolve_dtype(device, config.dtype)
        common: dict[str, Any] = {"local_files_only": True}
        if config.gguf_file:
            from transformers import GgufConfig

            common["gguf_file"] = config.gguf_file
            # Dense weights: the packed-GGUF path fetches a matmul kernel from the hub.
            model_kwargs.setdefault("quantization_config", GgufConfig(dequantize=True))
        attn = register_sage() if config.attention == "sage" else config.attention
        tokenizer = AutoTokenizer.from_pretrained(config.path, **common)
        kwargs = {"dtype": dtype, "attn_implementation": attn, **common, **model_kwargs}
        if device.type != "cpu":
            kwargs.setdefault("device_map", str(device))  # load straight onto the accelerator
        model: Any
        try:
            model = AutoModelForCausalLM.from_pretrained(config.path, **kwargs)
        except ValueError as exc:  # e.g. Qwen2-VL (Dreamer-7B): a vision-language model, used text-only
            if "Unrecognized configuration class" not in str(exc):
                raise
            from transformers import AutoModelForImageTextToText

            model = AutoModelForImageTextToText.from_pretrained(config.path, **kwargs)
        chat = cls(model, tokenizer, config)
        chat.load_info["load_s"] = round(time.perf_counter() - started, 3)
        return chat

    def set_attention(self, attention: Attention) -> None:
        """Switch the attention implementation ("sage" falls back per call to SDPA where inexact)."""
        key = register_sage() if attention == "sage" else attention
        if self.model.config._attn_implementation != key:
            self.model.set_attn_implementation(key)
        for module in self.model.modules():  # every (sub)config the attention layers read
            cfg = getattr(module, "config", None)
            if cfg is not None:
                cfg.sage_min_q_len = self.config.sage_min_q_len
                cfg.sage_strict = self.config.sage_strict
        self.attention = attention
        if attention == "sage":
            self.load_info["sage"] = sage_status()  # kernel importable? version, error, capability

    # ------------------------------------------------------------------------------------------------
    # ChatModel

    async def complete(
        self,
        messages: list[Message],
        *,
        n: int = 1,
        temperature: float | None = None,
        top_p: float | None = None,
        max_tokens: int | None = None,
        logprobs: bool = False,
        top_logprobs: int = 0,
        stop: list[str] | None = None,
        seed: int | None = None,
    ) -> Completion:
        if n < 1:
            raise ValueError("n must be >= 1")
        prompt, info = self._prompt(messages)
        return await self._run(
            lambda: self._complete_sync(
                prompt,
                info,
                n=n,
                temperature=self.config.temperature if temperature is None else temperature,
                top_p=self.config.top_p if top_p is None else top_p,
                max_tokens=max_tokens or self.config.max_tokens,
                logprobs=logprobs,
                top_logprobs=min(top_logprobs, self.config.max_top_logprobs),
                stop=list(stop or []),
                seed=seed,
            )
        )

    async def score_options(
        self, messages: list[Message], options: Sequence[str], *, prefix: str = ""
    ) -> OptionScores:
        """Log-probability of each option as the assistant's reply (after ``prefix``, e.g. ``"Status: "``).

        One prefill of the prompt; the options then run as one batch over the repeated KV cache.
        """
        if not options:
            raise ValueError("options must not be empty")
        prompt, info = self._prompt(messages)
        if prefix:
            prompt = prompt + self._encode(prefix)
        return await self._run(lambda: self._score_sync(prompt, list(options), info))

    # ------------------------------------------------------------------------------------------------
    # Plumbing

    async def _run(self, fn: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        lock = self._loop_locks.get(loop)
        if lock is None:
            lock = self._loop_locks[loop] = asyncio.Lock()
        queued = time.perf_counter()
        async with lock:
            wait = time.perf_counter() - queued
            result = await asyncio.to_thread(self._locked, fn)
        if isinstance(result, (Completion, OptionScores)):
            result.info["queue_s"] = round(wait, 4)
            result.latency_s += wait
        return result

    def _locked(self, fn: Callable[[], T]) -> T:
        with self._thread_lock, torch.inference_mode():
            return fn()

    def _encode(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def _prompt(self, messages: list[Message]) -> tuple[list[int], dict[str, object]]:
        """Token ids of the chat prompt (with the assistant generation prompt) and info facts."""
        dropped = sum(len(m.images()) for m in messages)
        if dropped and self.config.images == "error":
            raise ModelError(f"{self.name} is a text-only model; {dropped} image part(s) given")
        chat = [{"role": m.role, "content": m.text()} for m in messages]
        # A final assistant message is a prefix to continue (an answer already begun), not a turn.
        prefill = bool(chat) and chat[-1]["role"] == "assistant"
        if getattr(self.tokenizer, "chat_template", None):
            enc = self.tokenizer.apply_chat_template(
                chat,
                add_generation_prompt=not prefill,
                continue_final_message=prefill,
                tokenize=True,
                return_dict=True,
            )
            ids = list(enc["input_ids"])
        else:  # no template: a plain transcript the model can continue
            text = "".join(f"{m['role']}: {m['content']}\n" for m in chat)
            text = text.removesuffix("\n") if prefill else text + "assistant:"
            ids = self._encode(text)
        info: dict[str, object] = {
            "backend": "transformers",
            "device": str(self.device),
            "dtype": str(self.dtype).removeprefix("torch."),
        }
        if dropped:
            info["images_dropped"] = dropped
        if self.context_length and len(ids) >= self.context_length:
            raise ModelError(
                f"prompt of {len(ids)} tokens does not fit {self.name}'s context of {self.context_length}"
            )
        return ids, info

    def _attention_info(self, counts: dict[str, int]) -> dict[str, object]:
        info: dict[str, object] = {"impl": self.attention}
        if self.attention == "sage":
            info["calls"] = dict(counts)
        return info

    def _forward(self, ids: torch.Tensor, cache: Any, start: int, keep: int = 0) -> torch.Tensor:
        """Logits of ``ids`` (batch, length) appended to ``cache`` at position ``start``.

        Positions are explicit so that models with their own position logic (M-RoPE) agree."""
        positions = torch.arange(start, start + ids.shape[1], device=self.device).expand(ids.shape[0], -1)
        out = self.model(
            input_ids=ids, position_ids=positions, cache=cache, use_cache=True, logits_to_keep=keep
        )
        return out.logits

    def _reset_model_state(self) -> None:
        inner = getattr(self.model, "model", None)
        if inner is not None and hasattr(inner, "rope_deltas"):
            inner.rope_deltas = None  # Qwen2-VL family: stale M-RoPE offsets from the previous call

    def _prefill_shared(self, ids: torch.Tensor, batch: int) -> Any:
        """KV cache of all prompt tokens but the last, repeated ``batch`` times (None if not worth it)."""
        from transformers import DynamicCache

        if batch == 1 or ids.shape[1] < 2 or self.vision_language:
            return None
        cache = DynamicCache(config=self.model.config)
        self._forward(ids[:, :-1], cache, 0, keep=1)
        cache.batch_repeat_interleave(batch)
        return cache

    def _complete_sync(
        self,
        prompt: list[int],
        info: dict[str, object],
        *,
        n: int,
        temperature: float,
        top_p: float,
        max_tokens: int,
        logprobs: bool,
        top_logprobs: int,
        stop: list[str],
        seed: int | None,
    ) -> Completion:
        from transformers import GenerationConfig, StoppingCriteriaList

        started = time.perf_counter()
        self._reset_model_state()
        if seed is not None:
            torch.manual_seed(seed)  # the process-wide RNG: calls are serialised by the lock
        greedy = temperature <= 0.0
        batch = 1 if greedy else n
        room = (self.context_length - len(prompt)) if self.context_length else max_tokens
        max_new = max(1, min(max_tokens, room))
        ids = torch.tensor([prompt], device=self.device)
        watch = StopWatch(self.tokenizer, len(prompt), stop)
        # Every sampling knob explicit: HF fills unset ones from the checkpoint's generation_config
        # (e.g. top_k=20, repetition_penalty=1.05), which would break OpenAI-like semantics.
        gen_config = GenerationConfig(
            max_new_tokens=max_new,
            min_new_tokens=0,
            do_sample=not greedy,
            temperature=1.0 if greedy else temperature,
            top_p=1.0 if greedy else top_p,
            top_k=50 if greedy else 0,
            repetition_penalty=1.0,
            no_repeat_ngram_size=0,
            typical_p=1.0,
            num_beams=1,
            num_return_sequences=1,
            pad_token_id=self._pad_id,
            eos_token_id=sorted(self.eos_ids),
            return_dict_in_generate=True,
            output_logits=logprobs,
        )
        with collect_sage_counts() as counts:
            cache = self._prefill_shared(ids, batch)
            prefill_s = time.perf_counter() - started
            out = self.model.generate(
                input_ids=ids.expand(batch, -1),
                attention_mask=torch.ones((batch, len(prompt)), dtype=torch.long, device=self.device),
                cache=cache,
                generation_config=gen_config,
                stopping_criteria=StoppingCriteriaList([watch]),
            )
        samples = [
            finish_row(self.tokenizer, row[len(prompt) :].tolist(), self.eos_ids, stop)
            for row in out.sequences
        ]
        if logprobs:
            token_logprobs(self.tokenizer, out.logits, samples, top_logprobs)
        if greedy and n > 1:
            samples = samples * n
        elapsed = time.perf_counter() - started
        info.update(
            {
                "attention": self._attention_info(counts),
                "prompt_tokens": len(prompt),
                "batch": batch,
                "shared_prefill_s": round(prefill_s, 4) if cache is not None else None,
                "first_token_s": round((watch.first_token_at or time.perf_counter()) - started, 4),
                "generate_s": round(elapsed, 4),
                "seed": seed,
            }
        )
        return Completion(
            texts=[s.text for s in samples],
            finish_reasons=[s.finish_reason for s in samples],
            logprobs=[s.logprobs for s in samples] if logprobs else None,
            usage=Usage(input_tokens=len(prompt), output_tokens=sum(s.generated for s in samples)),
            model=self.name,
            latency_s=elapsed,
            info=info,
        )

    def _score_sync(self, prompt: list[int], options: list[str], info: dict[str, object]) -> OptionScores:
        from transformers import DynamicCache

        started = time.perf_counter()
        self._reset_model_state()
        encoded = [self._encode(o) for o in options]
        if any(not e for e in encoded):
            raise ValueError("every option must encode to at least one token")
        k, longest = len(options), max(len(e) for e in encoded)
        with collect_sage_counts() as counts:
            cache = DynamicCache(config=self.model.config)
            ids = torch.tensor([prompt], device=self.device)
            first = self._forward(ids, cache, 0, keep=1)[:, -1].float().log_softmax(-1)
            rows = [first[0, e[0]].item() for e in encoded]
            per_option: list[list[float]] = [[r] for r in rows]
            if longest > 1:
                cache.batch_repeat_interleave(k)
                width = longest - 1
                cont = torch.full((k, width), self._pad_id, dtype=torch.long, device=self.device)
                for i, e in enumerate(encoded):
                    cont[i, : len(e) - 1] = torch.tensor(e[:-1], device=self.device)
                # Right padding needs no mask: a causal row never sees the pads that follow it.
                logits = self._forward(cont, cache, len(prompt))
                logp = logits.float().log_softmax(-1)
                for i, e in enumerate(encoded):
                    per_option[i] += [logp[i, j - 1, e[j]].item() for j in range(1, len(e))]
        sums = torch.tensor([sum(p) for p in per_option], dtype=torch.float64)
        probs = torch.softmax(sums, dim=0).tolist()
        scores = [
            OptionScore(option=o, logprob=float(s), tokens=len(e), mean_logprob=float(s) / len(e), prob=p)
            for o, e, s, p in zip(options, encoded, sums.tolist(), probs, strict=True)
        ]
        elapsed = time.perf_counter() - started
        info.update(
            {
                "attention": self._attention_info(counts),
                "prompt_tokens": len(prompt),
                "score_s": round(elapsed, 4),
            }
        )
        return OptionScores(
            options=scores,
            best=max(scores, key=lambda s: s.logprob).option,
            usage=Usage(input_tokens=len(prompt) + sum(len(e) for e in encoded)),
            model=self.name,
            latency_s=elapsed,
            info=info,
        )
