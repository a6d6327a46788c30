"""LocalChatModel on a tiny random Llama with a byte-level tokenizer (no download)."""

from __future__ import annotations

import asyncio
import math
from typing import Any, cast

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from webdreamer.models.local.chat import LocalChatModel  # noqa: E402
from webdreamer.models.local.sage import override_sage  # noqa: E402
from webdreamer.models.local.tiny import tiny_chat_model  # noqa: E402
from webdreamer.models.types import ChatModel, ModelError, system, user  # noqa: E402

MESSAGES = [system("You are terse."), user("Say something.")]


@pytest.fixture(scope="module")
def model() -> LocalChatModel:
    return tiny_chat_model(0)


def test_is_a_chat_model(model: LocalChatModel) -> None:
    assert isinstance(model, ChatModel)
    assert model.name == "tiny-llama" and model.attention == "sdpa"


async def test_greedy_generation_is_deterministic(model: LocalChatModel) -> None:
    a = await model.complete(MESSAGES, temperature=0, max_tokens=12)
    b = await model.complete(MESSAGES, temperature=0, max_tokens=12)
    assert a.texts == b.texts and len(a.texts) == 1
    assert a.finish_reasons[0] in ("stop", "length")
    assert a.usage.input_tokens == len(model._prompt(MESSAGES)[0]) and 0 < a.usage.output_tokens <= 12
    assert a.model == "tiny-llama" and a.latency_s > 0
    assert a.info["attention"] == {"impl": "sdpa"} and a.info["device"] == "cpu"


async def test_n_samples_batched_and_seeded(model: LocalChatModel) -> None:
    a = await model.complete(MESSAGES, n=4, temperature=1.0, max_tokens=10, seed=7)
    b = await model.complete(MESSAGES, n=4, temperature=1.0, max_tokens=10, seed=7)
    assert len(a.texts) == 4 and len(a.finish_reasons) == 4
    assert a.texts == b.texts  # same seed, same samples
    assert len(set(a.texts)) > 1  # random samples differ
    assert a.info["batch"] == 4
    scored = await model.complete(
        MESSAGES, n=3, temperature=1.0, max_tokens=6, seed=2, logprobs=True, top_logprobs=2
    )
    assert scored.logprobs is not None and len(scored.logprobs) == 3
    for text, tokens in zip(scored.texts, scored.logprobs, strict=True):
        assert "".join(t.token for t in tokens) == text and all(len(t.top) == 2 for t in tokens)
    greedy = await model.complete(MESSAGES, n=3, temperature=0, max_tokens=6)
    assert len(set(greedy.texts)) == 1 and len(greedy.texts) == 3 and greedy.info["batch"] == 1


async def test_shared_prefill_matches_plain_generation(model: LocalChatModel) -> None:
    """n rows sampled over one repeated prompt cache == HF sampling n full prefills, same seed."""
    many = await model.complete(MESSAGES, n=3, temperature=0.8, max_tokens=8, seed=3, stop=["\x00"])
    prompt = torch.tensor([model._prompt(MESSAGES)[0]])
    torch.manual_seed(3)
    with torch.inference_mode():
        plain = model.model.generate(
            prompt.expand(3, -1),
            do_sample=True,
            temperature=0.8,
            top_k=0,
            top_p=1.0,
            max_new_tokens=8,
            pad_token_id=256,
            eos_token_id=256,
        )
    texts = [model.tokenizer.decode(row[prompt.shape[1] :], skip_special_tokens=True) for row in plain]
    assert many.texts == [t.split("\x00")[0] for t in texts]


async def test_stop_strings(model: LocalChatModel) -> None:
    full = await model.complete(MESSAGES, temperature=0, max_tokens=24)
    text = full.texts[0]
    assert len(text) >= 6, text
    stop = text[3:5]
    cut = await model.complete(MESSAGES, temperature=0, max_tokens=24, stop=[stop], logprobs=True)
    assert cut.texts[0] == text[: text.index(stop)]
    assert cut.finish_reasons == ["stop"]
    assert cut.logprobs is not None and "".join(t.token for t in cut.logprobs[0]) == cut.texts[0]


async def test_logprobs_shape_and_consistency(model: LocalChatModel) -> None:
    c = await model.complete(MESSAGES, temperature=0, max_tokens=10, logprobs=True, top_logprobs=3)
    assert c.logprobs is not None
    tokens = c.logprobs[0]
    assert "".join(t.token for t in tokens) == c.texts[0]
    for t in tokens:
        assert len(t.top) == 3 and t.logprob <= 0
        assert t.top[0].logprob >= t.top[1].logprob >= t.top[2].logprob
        assert t.top[0].token == t.token  # greedy picks the argmax
        assert math.isclose(t.logprob, t.top[0].logprob, abs_tol=1e-6)
    score = await model.score_options(MESSAGES, [c.texts[0]])
    assert score.options[0].tokens == len(tokens)
    assert math.isclose(score.options[0].logprob, sum(t.logprob for t in tokens), abs_tol=1e-3)


async def test_score_options(model: LocalChatModel) -> None:
    options = ["success", "on track", "failure", "x"]
    scores = await model.score_options(MESSAGES, options)
    assert [s.option for s in scores.options] == options
    assert math.isclose(sum(s.prob for s in scores.options), 1.0, abs_tol=1e-9)
    assert scores.best == max(scores.options, key=lambda s: s.logprob).option
    for s in scores.options:
        assert s.tokens == len(s.option) and s.logprob < 0
        assert math.isclose(s.mean_logprob, s.logprob / s.tokens)
    # Each option scored alone gives the same number as in the batch (padding is harmless).
    alone = await model.score_options(MESSAGES, ["on track"])
    assert math.isclose(alone.options[0].logprob, scores.options[1].logprob, abs_tol=1e-4)
    # A prefix shifts the options' context.
    prefixed = await model.score_options(MESSAGES, options, prefix="Status: ")
    assert prefixed.options[0].logprob != scores.options[0].logprob
    with pytest.raises(ValueError):
        await model.score_options(MESSAGES, [])


async def test_images_dropped_or_rejected(model: LocalChatModel) -> None:
    msgs = [user("Describe.", images=[b"\x89PNG fake", b"\x89PNG other"])]
    c = await model.complete(msgs, temperature=0, max_tokens=3)
    assert c.info["images_dropped"] == 2
    strict = tiny_chat_model(0, images="error")
    with pytest.raises(ModelError, match="text-only"):
        await strict.complete(msgs, max_tokens=3)


async def test_context_overflow_is_an_error(model: LocalChatModel) -> None:
    with pytest.raises(ModelError, match="context"):
        await model.complete([user("x" * 600)], max_tokens=4)
    c = await model.complete([user("x" * 480)], temperature=0, max_tokens=100)
    assert c.usage.input_tokens + len(c.texts[0]) <= 512


async def test_concurrent_callers_queue(model: LocalChatModel) -> None:
    results = await asyncio.gather(*(model.complete(MESSAGES, temperature=0, max_tokens=4) for _ in range(3)))
    assert len({r.texts[0] for r in results}) == 1
    assert max(float(r.info["queue_s"]) for r in results) > 0  # type: ignore[arg-type]


async def test_attention_implementations_agree() -> None:
    chat = tiny_chat_model(0)
    sdpa = await chat.complete(MESSAGES, temperature=0, max_tokens=8, logprobs=True)
    chat.set_attention("eager")
    assert chat.model.config._attn_implementation == "eager"
    eager = await chat.complete(MESSAGES, temperature=0, max_tokens=8, logprobs=True)
    assert eager.texts == sdpa.texts and eager.info["attention"] == {"impl": "eager"}
    assert eager.logprobs is not None and sdpa.logprobs is not None
    assert all(
        math.isclose(a.logprob, b.logprob, abs_tol=1e-4)
        for a, b in zip(eager.logprobs[0], sdpa.logprobs[0], strict=True)
    )


async def test_sage_counts_reach_the_usage_record() -> None:
    chat = tiny_chat_model(0, attention="sage", sage_min_q_len=1)
    plain = await chat.complete(MESSAGES, temperature=0, max_tokens=3)
    assert plain.info["attention"] == {"impl": "sage", "calls": {"not_cuda": 6}}  # 2 layers x 3 steps

    def kernel(
        q: Any,
        k: Any,
        v: Any,
        tensor_layout: str = "HND",
        is_causal: bool = False,
        sm_scale: float | None = None,
        **_: Any,
    ) -> Any:
        return torch.nn.functional.scaled_dot_product_attention(
            q, k, v, is_causal=is_causal, scale=sm_scale, enable_gqa=True
        )

    assert {"kernel", "version", "error", "cuda"} <= set(cast(dict, chat.load_info["sage"]))
    bf16 = LocalChatModel(chat.model.to(torch.bfloat16), chat.tokenizer, chat.config)
    with override_sage(kernel=kernel, capability=(9, 0)):
        c = await bf16.complete(MESSAGES, temperature=0, max_tokens=3)
    assert c.info["attention"] == {"impl": "sage", "calls": {"sage": 6}}
    bf16.set_attention("sdpa")
    assert bf16.model.config._attn_implementation == "sdpa"


async def test_vision_language_model_runs_text_only(tmp_path: Any) -> None:
    """A Qwen2-VL (Dreamer-7B's architecture) loads through the image-text fallback and runs text-only."""
    from transformers import Qwen2VLConfig, Qwen2VLForConditionalGeneration

    from webdreamer.models.local.config import LocalModelConfig
    from webdreamer.models.local.tiny import byte_tokenizer

    text = {
        "vocab_size": 257,
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "max_position_embeddings": 512,
        "rope_scaling": {"type": "mrope", "mrope_section": [2, 3, 3]},
        "eos_token_id": 256,
        "pad_token_id": 256,
        "bos_token_id": None,
    }
    vision = {"depth": 1, "embed_dim": 32, "hidden_size": 64, "num_heads": 2, "mlp_ratio": 2}
    config = Qwen2VLConfig(
        text_config=text,
        vision_config=vision,
        image_token_id=250,
        video_token_id=251,
        vision_start_token_id=252,
        vision_end_token_id=253,
    )
    torch.manual_seed(0)
    Qwen2VLForConditionalGeneration(config).save_pretrained(tmp_path)
    byte_tokenizer().save_pretrained(tmp_path)
    chat = LocalChatModel.load(LocalModelConfig(path=str(tmp_path), dtype="float32"))
    assert chat.vision_language and chat.context_length == 512
    msgs = [user("Describe the page.", images=[b"\x89PNG"])]
    one = await chat.complete(msgs, temperature=0, max_tokens=8, logprobs=True)
    assert one.info["images_dropped"] == 1 and one.logprobs is not None
    many = await chat.complete(msgs, n=3, temperature=1.0, max_tokens=8, seed=1)
    assert len(many.texts) == 3
    again = await chat.complete(msgs, temperature=0, max_tokens=8)  # no stale M-RoPE state between calls
    assert again.texts == one.texts
    score = await chat.score_options(msgs, [one.texts[0]])
    assert math.isclose(score.options[0].logprob, sum(t.logprob for t in one.logprobs[0]), abs_tol=1e-3)
