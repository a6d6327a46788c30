"""Reference math of SageAttention2's quantised attention (sageattention.md §7a)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from webdreamer.models.local.sage_reference import (  # noqa: E402
    SA1,
    SA2_4B,
    SA2_8B,
    QuantConfig,
    accuracy,
    causal_mask,
    cos_sim,
    exact_attention,
    group_ids,
    quantize_int,
    random_qkv,
    rel_l1,
    rmse,
    round_half_away,
    sage_reference,
)

EXACT = QuantConfig(qk="none", pv="none", smooth_k=False)


@pytest.fixture(scope="module")
def gaussian() -> tuple:
    q, k, v = random_qkv()  # B=1, H=4, L=1024, D=128, fp16-rounded
    return q, k, v, exact_attention(q, k, v)


def err(config: QuantConfig, data: tuple, causal: bool = False) -> dict[str, float]:
    q, k, v, ref = data
    return accuracy(sage_reference(q, k, v, config=config, is_causal=causal), ref)


# --- identities --------------------------------------------------------------------------------


@pytest.mark.parametrize("kv_heads", [4, 2])
def test_k_smoothing_is_exact(kv_heads: int) -> None:
    q, k, v = (t.double() for t in random_qkv(q_len=96, kv_heads=kv_heads, k_channel_bias=3.0))
    smoothed = k - k.mean(dim=-2, keepdim=True)
    assert (exact_attention(q, smoothed, v) - exact_attention(q, k, v)).abs().max() < 1e-10


def test_q_smoothing_decomposition() -> None:
    q, k, _ = (t.double() for t in random_qkv(q_len=256, head_dim=64))
    q_mean = q.mean(dim=-2, keepdim=True)  # one Q block
    k_mean = k.mean(dim=-2, keepdim=True)
    ks = k - k_mean
    rebuilt = (q - q_mean) @ ks.transpose(-1, -2) + q_mean @ ks.transpose(-1, -2)  # γ(Q)γ(K)ᵀ + ΔS
    diff = q @ k.transpose(-1, -2) - rebuilt
    assert (diff - diff[..., :1]).abs().max() < 1e-9  # equal up to a per-row constant (Q k̄ᵀ)
    assert (diff[..., 0] - (q @ k_mean.transpose(-1, -2))[..., 0]).abs().max() < 1e-9


def test_v_smoothing_with_mean_added_back_is_exact() -> None:
    q, k, v = (t.double() for t in random_qkv(q_len=128))
    v_mean = v.mean(dim=-2, keepdim=True)
    assert (exact_attention(q, k, v - v_mean) + v_mean - exact_attention(q, k, v)).abs().max() < 1e-10


def test_unquantised_reference_is_exact(gaussian: tuple) -> None:
    assert err(EXACT, gaussian)["rel_l1"] < 1e-5
    assert err(replace(EXACT, smooth_k=True, smooth_q=True, smooth_v=True), gaussian)["rel_l1"] < 1e-5
    q, k, v, _ = gaussian
    assert (
        accuracy(
            sage_reference(q, k, v, config=EXACT, is_causal=True), exact_attention(q, k, v, is_causal=True)
        )["rel_l1"]
        < 1e-5
    )


def test_metrics() -> None:
    a = torch.tensor([1.0, -2.0, 3.0])
    assert cos_sim(a, a) == pytest.approx(1.0) and rel_l1(a, a) == 0.0 and rmse(a, a) == 0.0
    assert rel_l1(a * 1.1, a) == pytest.approx(0.1) and rmse(a + 1, a) == pytest.approx(1.0)
    assert cos_sim(-a, a) == pytest.approx(-1.0)


# --- quantisers ---------------------------------------------------------------------------------


def test_round_half_away_from_zero() -> None:
    x = torch.tensor([0.5, 1.5, 2.5, -0.5, -1.5, 0.49, -2.51])
    assert round_half_away(x).tolist() == [1.0, 2.0, 3.0, -1.0, -2.0, 0.0, -3.0]


def test_group_layouts() -> None:
    q_thread = group_ids(64, "per_thread", "q")
    assert q_thread[:10].tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 0, 1] and q_thread[32].item() == 8
    assert (q_thread == 0).sum().item() == 4  # 4 rows of a 32-row warp tile share a scale
    k_thread = group_ids(128, "per_thread", "k")
    assert k_thread[:8].tolist() == [0, 0, 1, 1, 2, 2, 3, 3] and k_thread[64].item() == 4
    assert (k_thread == 0).sum().item() == 16
    assert group_ids(300, "per_block", "q").max().item() == 2  # 128-token Q blocks
    assert group_ids(300, "per_block", "k").max().item() == 4  # 64-token K blocks
    assert group_ids(10, "per_tensor", "q").unique().tolist() == [0]


@pytest.mark.parametrize("bits,qmax", [("int8", 127), ("int4", 7)])
def test_symmetric_int_quantisation(bits: str, qmax: int) -> None:
    x = torch.randn(1, 2, 256, 64, generator=torch.Generator().manual_seed(1))
    values, scale = quantize_int(x, bits, group_ids(256, "per_block", "k"))  # type: ignore[arg-type]
    assert values.abs().max().item() == qmax and torch.equal(values, values.round())
    assert ((values * scale - x).abs() <= scale / 2 + 1e-6).all()


# --- thresholds -----------------------------------------------------------------------------------


def test_int8_fp16_pv_meets_threshold(gaussian: tuple) -> None:
    e = err(SA1, gaussian)
    assert e["cos_sim"] >= 0.999 and e["rel_l1"] <= 0.05


def test_int8_fp8_pv_meets_threshold(gaussian: tuple) -> None:
    e = err(SA2_8B, gaussian)
    assert e["cos_sim"] >= 0.998 and e["rel_l1"] <= 0.08
    causal = err(SA2_8B, (*gaussian[:3], exact_attention(*gaussian[:3], is_causal=True)), causal=True)
    assert causal["cos_sim"] >= 0.998 and causal["rel_l1"] <= 0.08


def test_decode_shape_meets_threshold() -> None:
    q, k, v = random_qkv(q_len=1, kv_len=777)
    e = accuracy(sage_reference(q, k, v, config=SA2_8B), exact_attention(q, k, v))
    assert e["cos_sim"] >= 0.999


@pytest.mark.parametrize("config,bias", [(replace(SA1, pv="fp16"), 10.0), (SA2_8B, 20.0)])
def test_k_smoothing_repairs_channel_outliers(config: QuantConfig, bias: float) -> None:
    q, k, v = random_qkv(k_channel_bias=bias)
    data = (q, k, v, exact_attention(q, k, v))
    smoothed, raw = err(config, data)["rel_l1"], err(replace(config, smooth_k=False), data)["rel_l1"]
    assert raw >= 3 * smoothed


@pytest.mark.parametrize("qk", ["int8", "int4"])
def test_granularity_order(gaussian: tuple, qk: Any) -> None:
    base = replace(SA2_8B, qk=qk, pv="none")
    e = {
        g: err(replace(base, granularity=g), gaussian)["rel_l1"]
        for g in ("per_token", "per_thread", "per_block", "per_tensor")
    }
    assert e["per_token"] <= e["per_thread"] <= e["per_block"] <= e["per_tensor"]


@pytest.mark.parametrize("qk", ["none", "int8", "int4"])
def test_pv_dtype_order(gaussian: tuple, qk: Any) -> None:
    base = replace(SA2_4B if qk == "int4" else SA2_8B, qk=qk)
    e = {pv: err(replace(base, pv=pv), gaussian)["rel_l1"] for pv in ("fp16", "e4m3", "e5m2")}
    assert e["fp16"] <= e["e4m3"] <= e["e5m2"]


def test_int4_needs_smoothing(gaussian: tuple) -> None:
    """INT4: orderings only. Q+K smoothing beats K only, which beats none (with K outliers)."""
    q, k, v = random_qkv(k_channel_bias=5.0)
    data = (q, k, v, exact_attention(q, k, v))
    none = err(replace(SA2_4B, smooth_q=False, smooth_k=False), data)["rel_l1"]
    k_only = err(replace(SA2_4B, smooth_q=False), data)["rel_l1"]
    both = err(SA2_4B, data)["rel_l1"]
    assert both <= k_only < none
    assert err(SA2_8B, gaussian)["rel_l1"] < err(SA2_4B, gaussian)["rel_l1"]


# --- causal alignment semantics ------------------------------------------------------------------


def test_top_left_and_bottom_right_differ_when_q_shorter() -> None:
    top, bottom = causal_mask(4, 10, "top_left"), causal_mask(4, 10, "bottom_right")
    last_key = lambda m: [int(row.nonzero().max()) + 1 for row in m]  # noqa: E731 (1-based)
    assert last_key(top) == [1, 2, 3, 4] and last_key(bottom) == [7, 8, 9, 10]
    assert torch.equal(causal_mask(6, 6, "top_left"), causal_mask(6, 6, "bottom_right"))


def test_decode_non_causal_equals_bottom_right() -> None:
    q, k, v = random_qkv(q_len=1, kv_len=33, head_dim=64)
    bottom = exact_attention(q, k, v, mask=causal_mask(1, 33, "bottom_right"))
    assert torch.allclose(exact_attention(q, k, v), bottom)
    top = exact_attention(q, k, v, is_causal=True)  # what a causal kernel would do: key 0 only
    assert not torch.allclose(top, bottom)
