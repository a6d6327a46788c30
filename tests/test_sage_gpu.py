"""SageAttention kernels on a real GPU (sageattention.md §7c). Skip without CUDA cc >= 8.0 + import."""

from __future__ import annotations

import time
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from webdreamer.models.local.sage import (  # noqa: E402
    override_sage,
    reset_sage_counts,
    sage_attention_forward,
    sage_counts,
    sage_kernel,
)
from webdreamer.models.local.sage_reference import accuracy  # noqa: E402

pytestmark = pytest.mark.gpu


def _kernel() -> tuple[Any, str]:
    if not torch.cuda.is_available() or torch.version.hip is not None:
        pytest.skip("needs a CUDA GPU")
    if torch.cuda.get_device_capability() < (8, 0):
        pytest.skip("needs compute capability >= 8.0")
    kernel, version = sage_kernel()
    if kernel is None:
        pytest.skip("sageattention does not import here")
    return kernel, version


def qkv(
    b: int, hq: int, hkv: int, lq: int, lk: int, d: int, dtype: Any, seed: int = 0
) -> tuple[Any, Any, Any]:
    gen = torch.Generator(device="cuda").manual_seed(seed)
    make = lambda h, n: torch.randn(b, h, n, d, device="cuda", dtype=dtype, generator=gen)  # noqa: E731
    return make(hq, lq), make(hkv, lk), make(hkv, lk)


def exact(q: Any, k: Any, v: Any, causal: bool) -> Any:
    return torch.nn.functional.scaled_dot_product_attention(
        q.float(), k.float(), v.float(), is_causal=causal, enable_gqa=q.shape[1] != k.shape[1]
    )


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("layout", ["HND", "NHD"])
@pytest.mark.parametrize("head_dim", [64, 128, 80])
@pytest.mark.parametrize("causal", [True, False])
def test_kernel_matches_sdpa(dtype: str, layout: str, head_dim: int, causal: bool) -> None:
    kernel, version = _kernel()
    if version == "1" and head_dim == 80:
        pytest.skip("sageattention 1.0.6 takes head dims 64/96/128 only")
    q, k, v = qkv(1, 8, 2, 1024, 1024, head_dim, getattr(torch, dtype))
    ref = exact(q, k, v, causal)
    args = (
        (q, k.clone(), v)
        if layout == "HND"
        else tuple(t.transpose(1, 2).contiguous() for t in (q, k.clone(), v))
    )
    out = kernel(*args, tensor_layout=layout, is_causal=causal, sm_scale=head_dim**-0.5)
    if layout == "NHD":
        out = out.transpose(1, 2)
    m = accuracy(out, ref)
    assert m["cos_sim"] >= 0.998 and m["rel_l1"] <= 0.08, m


def test_non_causal_decode_matches_sdpa() -> None:
    kernel, _ = _kernel()
    q, k, v = qkv(2, 8, 2, 1, 777, 128, torch.bfloat16)
    out = kernel(q, k.clone(), v, tensor_layout="HND", is_causal=False, sm_scale=128**-0.5)
    assert accuracy(out, exact(q, k, v, False))["cos_sim"] >= 0.998


def test_adapter_declines_q_shorter_than_kv() -> None:
    _kernel()

    class Module:
        is_causal = True
        num_key_value_groups = 4

    q, k, v = qkv(1, 8, 2, 600, 1000, 128, torch.bfloat16)
    reset_sage_counts()
    with override_sage(min_q_len=1):
        out, _ = sage_attention_forward(
            Module(),
            q,
            k,
            v,
            None,
            scaling=128**-0.5,
            position_ids=torch.arange(400, 1000, device="cuda")[None],
        )
        sage_attention_forward(Module(), q, k[:, :, :600], v[:, :, :600], None, scaling=128**-0.5)
    assert sage_counts() == {"cached_continuation": 1, "sage": 1}
    assert out.shape == (1, 600, 8, 128)


@torch.inference_mode()
def test_small_model_logits_and_prefill_timing() -> None:
    _kernel()
    from webdreamer.models.local.tiny import tiny_llama

    shape: dict[str, Any] = {
        "hidden_size": 1024,
        "num_attention_heads": 8,
        "num_key_value_heads": 2,
        "head_dim": 128,
        "intermediate_size": 2048,
        "num_hidden_layers": 4,
        "max_position_embeddings": 16384,
        "vocab_size": 257,
    }
    ref = tiny_llama(0, dtype=torch.bfloat16, **shape).cuda()
    sage = tiny_llama(0, attention="sage", dtype=torch.bfloat16, **shape).cuda()
    sage.load_state_dict(ref.state_dict())
    x = torch.randint(0, 256, (1, 2048), device="cuda")
    reset_sage_counts()
    a, b = ref(x).logits.float(), sage(x).logits.float()
    assert sage_counts() == {"sage": 4}
    assert accuracy(b, a)["cos_sim"] >= 0.999
    assert (a.argmax(-1) == b.argmax(-1)).float().mean().item() >= 0.99
    for n in (1024, 4096, 16384):
        x = torch.randint(0, 256, (1, n), device="cuda")
        for name, model in (("sdpa", ref), ("sage", sage)):
            model(x, logits_to_keep=1)
            torch.cuda.synchronize()
            start = time.perf_counter()
            model(x, logits_to_keep=1)
            torch.cuda.synchronize()
            print(f"prefill {n:>6} tokens {name}: {1000 * (time.perf_counter() - start):.1f} ms")
