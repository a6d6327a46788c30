"""The "sage" attention adapter on CPU (sageattention.md §7b): fallback, stand-in kernels, contract."""

from __future__ import annotations

import sys
from typing import Any, cast

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

import torch.nn.functional as F  # noqa: E402
from transformers import DynamicCache  # noqa: E402
from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, sdpa_mask  # noqa: E402
from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS  # noqa: E402

from webdreamer.models.local.sage import (  # noqa: E402
    SAGE_KEY,
    SageFallback,
    override_sage,
    register_sage,
    reset_sage_counts,
    reset_sage_import,
    sage_attention_forward,
    sage_counts,
)
from webdreamer.models.local.sage_reference import cos_sim, make_reference_kernel  # noqa: E402
from webdreamer.models.local.tiny import tiny_llama  # noqa: E402

# §7b: hidden 256, 4 heads x 64, 2 KV heads (GQA), 2 layers.
SHAPE: dict[str, Any] = {
    "hidden_size": 256,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "intermediate_size": 512,
}
FORCE = {"capability": (9, 0), "min_q_len": 1}


class Spy:
    """A CPU kernel with ``sageattn``'s signature that records its calls; exact SDPA inside."""

    def __init__(self, smooth_in_place: bool = False) -> None:
        self.calls: list[dict[str, Any]] = []
        self.smooth_in_place = smooth_in_place

    def __call__(
        self,
        q: Any,
        k: Any,
        v: Any,
        tensor_layout: str = "HND",
        is_causal: bool = False,
        sm_scale: float | None = None,
        **kwargs: Any,
    ) -> Any:
        self.calls.append(
            {
                "q": tuple(q.shape),
                "k": tuple(k.shape),
                "v": tuple(v.shape),
                "is_causal": is_causal,
                "layout": tensor_layout,
                "kwargs": kwargs,
            }
        )
        out = F.scaled_dot_product_attention(q, k, v, is_causal=is_causal, scale=sm_scale, enable_gqa=True)
        if self.smooth_in_place:  # what sageattention 1.0.6 does to K (after the exact output here)
            k.sub_(k.mean(dim=-2, keepdim=True))
        return out


def pair(dtype: Any = torch.bfloat16, **overrides: Any) -> tuple[Any, Any]:
    """Two tiny Llamas sharing one state dict: SDPA and "sage"."""
    ref = tiny_llama(0, dtype=dtype, **SHAPE, **overrides)
    sage = tiny_llama(1, attention="sage", dtype=dtype, **SHAPE, **overrides)
    sage.load_state_dict(ref.state_dict())
    return ref, sage


@pytest.fixture(scope="module")
def models() -> tuple[Any, Any]:
    return pair()


@pytest.fixture(autouse=True)
def _clean() -> Any:
    reset_sage_counts()
    yield
    reset_sage_counts()


def tokens(batch: int = 2, length: int = 40, seed: int = 0) -> Any:
    return torch.randint(0, 256, (batch, length), generator=torch.Generator().manual_seed(seed))


def test_registration_is_idempotent() -> None:
    assert register_sage() == SAGE_KEY
    assert register_sage() == SAGE_KEY
    assert ALL_ATTENTION_FUNCTIONS[SAGE_KEY] is sage_attention_forward
    assert ALL_MASK_ATTENTION_FUNCTIONS[SAGE_KEY] is sdpa_mask
    model = tiny_llama(0, attention="sage")
    assert model.config._attn_implementation == SAGE_KEY


@torch.inference_mode()
def test_without_kernel_equals_sdpa(models: tuple[Any, Any]) -> None:
    ref, sage = models
    x = tokens()
    mask = torch.ones_like(x)
    mask[1, :7] = 0  # left padding
    assert torch.equal(ref(x).logits, sage(x).logits)
    assert torch.equal(ref(x, attention_mask=mask).logits, sage(x, attention_mask=mask).logits)
    assert torch.equal(
        ref.generate(x[:1], max_new_tokens=6, do_sample=False),
        sage.generate(x[:1], max_new_tokens=6, do_sample=False),
    )
    assert set(sage_counts()) == {"not_cuda"}


@torch.inference_mode()
def test_failed_import_equals_sdpa(models: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    ref, sage = models
    monkeypatch.setitem(sys.modules, "sageattention", None)  # import raises ImportError
    reset_sage_import()
    try:
        x = tokens()
        assert torch.equal(ref(x).logits, sage(x).logits)
        assert set(sage_counts()) == {"not_cuda"}
        reset_sage_counts()
        with override_sage(capability=(9, 0), min_q_len=1):  # past the device check: import is next
            assert torch.equal(ref(x).logits, sage(x).logits)
        assert set(sage_counts()) == {"unavailable"}
    finally:
        reset_sage_import()


@torch.inference_mode()
def test_exact_stand_in_matches_sdpa_and_sees_right_causality(models: tuple[Any, Any]) -> None:
    ref, sage = models
    spy = Spy()
    x = tokens(1)
    with override_sage(kernel=spy, **FORCE):
        diff = (sage(x).logits.float() - ref(x).logits.float()).abs().max().item()
        assert diff <= 1e-6
        prefill = list(spy.calls)
        spy.calls.clear()
        out = sage.generate(x, max_new_tokens=4, do_sample=False)
    assert torch.equal(out, ref.generate(x, max_new_tokens=4, do_sample=False))
    assert prefill and all(c["is_causal"] and c["layout"] == "HND" for c in prefill)
    decode = [c for c in spy.calls if c["q"][2] == 1]
    assert decode and all(not c["is_causal"] for c in decode)
    assert all(c["q"][2] in (1, c["k"][2]) for c in spy.calls)  # never 1 < q_len < kv_len
    assert all(c["k"][1] == 2 and c["v"][1] == 2 and c["q"][1] == 4 for c in spy.calls)  # GQA un-repeated
    assert all("attn_mask" not in c["kwargs"] for c in spy.calls)


@torch.inference_mode()
def test_quantised_reference_inside_is_close(models: tuple[Any, Any]) -> None:
    ref, sage = models
    x = tokens(2, 96)
    with override_sage(kernel=make_reference_kernel(), **FORCE):
        got = sage(x).logits
    assert sage_counts() == {"sage": 2}
    assert cos_sim(got, ref(x).logits) >= 0.999


@torch.inference_mode()
def test_never_called_with_mask_or_cached_continuation(models: tuple[Any, Any]) -> None:
    ref, sage = models
    spy = Spy()
    x = tokens()
    mask = torch.ones_like(x)
    mask[0, :5] = 0
    with override_sage(kernel=spy, **FORCE):
        assert torch.equal(sage(x, attention_mask=mask).logits, ref(x, attention_mask=mask).logits)
        assert not spy.calls and sage_counts() == {"mask": 2}
        cache = DynamicCache(config=sage.config)
        sage(x[:1, :30], cache=cache)
        spy.calls.clear()
        reset_sage_counts()
        sage(x[:1, 30:], cache=cache)  # 10 new tokens after 30 cached: HF materialises a mask
    assert not spy.calls and sage_counts() == {"mask": 2}


@torch.inference_mode()
def test_static_cache_prefill_is_sliced() -> None:
    ref, sage = pair()
    spy = Spy()
    x = tokens(1, 24)
    with override_sage(kernel=spy, **FORCE):
        out = sage.generate(x, max_new_tokens=3, do_sample=False, cache_implementation="static")
    assert torch.equal(out, ref.generate(x, max_new_tokens=3, do_sample=False, cache_implementation="static"))
    assert spy.calls and all(c["q"][2] == c["k"][2] == 24 and c["is_causal"] for c in spy.calls)
    assert sage_counts()["mask"] > 0  # static-cache decode always carries a mask


def direct_call(
    q_len: int, kv_len: int, *, dtype: Any = torch.bfloat16, head_dim: int = 64, **kwargs: Any
) -> tuple[Any, Any]:
    class Module:
        is_causal = True
        num_key_value_groups = 2

    gen = torch.Generator().manual_seed(0)
    q = torch.randn(2, 4, q_len, head_dim, generator=gen).to(dtype)
    k = torch.randn(2, 2, kv_len, head_dim, generator=gen).to(dtype)
    v = torch.randn(2, 2, kv_len, head_dim, generator=gen).to(dtype)
    return sage_attention_forward(Module(), q, k, v, None, dropout=0.0, scaling=head_dim**-0.5, **kwargs)


def test_cached_continuation_without_mask_declines() -> None:
    spy = Spy()
    with override_sage(kernel=spy, **FORCE):
        direct_call(5, 12, position_ids=torch.arange(7, 12).expand(2, -1))
        direct_call(5, 12)  # no positions: cannot prove the cache was empty
        assert not spy.calls and sage_counts() == {"cached_continuation": 2}
        direct_call(5, 12, position_ids=torch.arange(5).expand(2, -1))  # empty static cache
    assert spy.calls[0]["k"][2] == 5 and spy.calls[0]["is_causal"]


def test_output_contract() -> None:
    with override_sage(kernel=Spy(), **FORCE):
        result = direct_call(16, 16)
    assert isinstance(result, tuple) and len(result) == 2 and result[1] is None
    out = result[0]
    assert out.shape == (2, 16, 4, 64) and out.is_contiguous() and out.dtype == torch.bfloat16
    assert sage_counts() == {"sage": 1}


def test_declines_head_dim_dtype_threshold() -> None:
    spy = Spy()
    with override_sage(kernel=spy, **FORCE):
        direct_call(8, 8, head_dim=256)
        direct_call(8, 8, dtype=torch.float32)
        with pytest.raises(ValueError, match="softcap"):  # SDPA's own answer, unchanged
            direct_call(8, 8, softcap=30.0)
        direct_call(8, 8, s_aux=torch.zeros(4))
    with override_sage(kernel=spy, capability=(9, 0), min_q_len=512):
        direct_call(8, 8)
        direct_call(1, 8)
    with override_sage(kernel=spy, capability=(9, 0), min_q_len=1, kernel_version="1"):
        direct_call(8, 8, head_dim=80)  # 1.0.6 takes 64, 96, 128 only
    with override_sage(kernel=spy, capability=(7, 5), min_q_len=1):
        direct_call(8, 8)
    assert not spy.calls
    assert sage_counts() == {
        "head_dim": 2,
        "dtype": 1,
        "softcap": 1,
        "sinks": 1,
        "decode_threshold": 2,
        "capability": 1,
    }


@torch.inference_mode()
def test_declines_fp32_model_and_head_dim_256() -> None:
    spy = Spy()
    _, sage32 = pair(dtype=torch.float32)
    _, wide = pair(head_dim=256)
    with override_sage(kernel=spy, **FORCE):
        sage32(tokens())
        assert sage_counts() == {"dtype": 2}
        reset_sage_counts()
        wide(tokens())
        assert sage_counts() == {"head_dim": 2}
    assert not spy.calls


def test_declines_dropout_in_training() -> None:
    _, sage = pair(attention_dropout=0.1)
    spy = Spy()
    sage.train()
    with override_sage(kernel=spy, **FORCE):
        sage(tokens())
    assert not spy.calls and sage_counts() == {"dropout": 2}


@torch.inference_mode()
def test_in_place_smoothing_kernel_leaves_cache_alone(models: tuple[Any, Any]) -> None:
    ref, sage = models
    x = tokens(1, 32)
    caches = DynamicCache(config=ref.config), DynamicCache(config=sage.config)
    ref(x, cache=caches[0])
    with override_sage(kernel=Spy(smooth_in_place=True), **FORCE):
        sage(x, cache=caches[1])
    assert sage_counts() == {"sage": 2}
    layers: list[Any] = [*caches[0].layers, *caches[1].layers]
    for a, b in zip(layers[:2], layers[2:], strict=True):
        assert torch.equal(a.keys, b.keys) and torch.equal(a.values, b.values)
    # The check has teeth: without the clone the same kernel corrupts the cache.
    unsafe = DynamicCache(config=sage.config)
    with override_sage(kernel=Spy(smooth_in_place=True), clone_key=False, **FORCE):
        sage(x, cache=unsafe)
    assert not torch.equal(layers[0].keys, cast(Any, unsafe.layers[0]).keys)


@torch.inference_mode()
def test_kernel_error_falls_back_or_raises_when_strict(models: tuple[Any, Any]) -> None:
    ref, sage = models

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("no CUDA here")

    x = tokens(1)
    with override_sage(kernel=broken, **FORCE):
        assert torch.equal(sage(x).logits, ref(x).logits)
    assert sage_counts() == {"kernel_error": 2}
    with override_sage(kernel=broken, strict=True, **FORCE), pytest.raises(SageFallback) as err:
        sage(x)
    assert err.value.reason == "kernel_error"
