"""A tiny randomly initialised Llama with a byte-level tokenizer, built in code (no download).

For tests of anything that runs a local model: the backend, the SageAttention adapter, roles that
need a real ``LocalChatModel``. Output is gibberish but deterministic for a given seed.
"""

from __future__ import annotations

from typing import Any

CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
EOS = "</s>"
VOCAB_SIZE = 257  # the 256 Latin-1 characters + EOS


def byte_tokenizer() -> Any:
    """One token per Latin-1 character (others map to "?"), EOS = 256, which is also padding.

    Every ordinary token is one character, so decoding and re-encoding round-trip exactly."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {chr(i): i for i in range(256)}
    vocab[EOS] = 256
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="?"))
    core.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), behavior="isolated")
    core.decoder = decoders.Fuse()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, eos_token=EOS, pad_token=EOS)
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def tiny_llama_config(**overrides: Any) -> Any:
    """platform.md's recipe (2 layers, 4 heads, 2 KV heads: GQA) with overridable fields."""
    from transformers import LlamaConfig

    fields: dict[str, Any] = {
        "vocab_size": VOCAB_SIZE,
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "max_position_embeddings": 512,
        "bos_token_id": None,
        "eos_token_id": 256,
        "pad_token_id": 256,
    }
    fields.update(overrides)
    return LlamaConfig(**fields)


def tiny_llama(seed: int = 0, *, attention: str = "sdpa", dtype: Any = None, **overrides: Any) -> Any:
    """A ``LlamaForCausalLM`` with seeded random weights, in eval mode."""
    import torch
    from transformers import LlamaForCausalLM

    from webdreamer.models.local.sage import register_sage

    if attention == "sage":
        register_sage()
    torch.manual_seed(seed)
    model = LlamaForCausalLM._from_config(tiny_llama_config(**overrides), attn_implementation=attention)
    if dtype is not None:
        model = model.to(dtype)
    return model.eval()


def tiny_chat_model(seed: int = 0, **config: Any) -> Any:
    """A ``LocalChatModel`` over :func:`tiny_llama`; keyword arguments are ``LocalModelConfig`` fields."""
    from webdreamer.models.local.chat import LocalChatModel
    from webdreamer.models.local.config import LocalModelConfig

    cfg = LocalModelConfig(name="tiny-llama", **config)
    return LocalChatModel(tiny_llama(seed), byte_tokenizer(), cfg)
