"""Pure-PyTorch reference of SageAttention2's quantised attention, and the accuracy metrics.

Why it exists: there is no CPU SageAttention kernel, yet the adapter, the thresholds and the choice
of kernel settings need checking on machines without a GPU. This module emulates, in float32 on any
device, what the kernels compute:

- optional K smoothing (subtract the per-channel token mean of K; exact, since it shifts each score
  row by a constant) and Q smoothing (subtract a per-block mean of Q and add back ``ΔS = q̄ Kᵀ`` in
  full precision);
- symmetric INT8 (/127) or INT4 (/7) quantisation of Q (pre-multiplied by ``sm_scale·log2 e`` for an
  exp2 softmax) and K, per token, per thread, per block or per tensor;
- an online (tiled) softmax over 64-key tiles, with P̃ quantised with a static scale (FP8 E4M3 ×448,
  E5M2, INT8 ×127 or FP16) and V per channel;
- two-level accumulation: each tile's P̃V partial (optionally rounded to FP16, the SA1 accumulator)
  is rescaled and added into an FP32 buffer.

Integer products are exact in float32 here (|Σ| ≤ 128·127² < 2²⁴), so the emulation differs from
the kernels only in summation order. Released kernels use INT8 QK without Q smoothing (SA2-8b);
INT4 and Q smoothing are here for the paper's ablations.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import torch
import torch.nn.functional as F

Granularity = Literal["per_token", "per_thread", "per_block", "per_tensor"]
QKFormat = Literal["int8", "int4", "fp16", "none"]
PVFormat = Literal["e4m3", "e5m2", "int8", "fp16", "none"]

LOG2E = 1.4426950408889634
_INT_MAX = {"int8": 127.0, "int4": 7.0}
_FP8 = {"e4m3": (torch.float8_e4m3fn, 448.0), "e5m2": (torch.float8_e5m2, 57344.0)}


@dataclass(frozen=True)
class QuantConfig:
    """One point of SageAttention's design space."""

    qk: QKFormat = "int8"
    granularity: Granularity = "per_thread"
    pv: PVFormat = "e4m3"
    smooth_k: bool = True
    smooth_q: bool = False
    smooth_v: bool = False
    pv_accum: Literal["fp32", "fp16"] = "fp32"  # precision of one tile's P̃V partial
    v_scale_divisor: float = 1.0  # SA2++ divides the FP8 V range by 2.25
    q_block: int = 128
    k_block: int = 64


SA1 = QuantConfig(qk="int8", granularity="per_block", pv="fp16", pv_accum="fp16")
"""SageAttention 1 (Triton, PyPI 1.0.6): per-block INT8 QK, FP16 P̃V with an FP16 accumulator."""
SA2_8B = QuantConfig(qk="int8", granularity="per_thread", pv="e4m3")
"""SageAttention2-8b as on Hopper: per-thread INT8 QK, FP8 E4M3 P̃V, FP32 accumulation."""
SA2_4B = QuantConfig(qk="int4", granularity="per_thread", pv="e4m3", smooth_q=True)
"""SageAttention2-4b (paper only): INT4 QK with Q and K smoothing."""


# ---------------------------------------------------------------------------------------------------
# Quantisers


def round_half_away(x: torch.Tensor) -> torch.Tensor:
    """Round to nearest, ties away from zero (§7a's reference rounding; torch.round ties to even)."""
    return torch.sign(x) * torch.floor(x.abs() + 0.5)


def group_ids(
    length: int,
    granularity: Granularity,
    role: Literal["q", "k"],
    *,
    q_block: int = 128,
    k_block: int = 64,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """Which scale group each token row belongs to.

    per_thread follows the MMA fragment layout: Q rows share a scale when equal modulo 8 inside a
    32-row warp tile; K rows share one when ``(row % 8) // 2`` agrees inside a 64-row block.
    """
    rows = torch.arange(length, device=device)
    if granularity == "per_token":
        return rows
    if granularity == "per_tensor":
        return torch.zeros_like(rows)
    if granularity == "per_block":
        return rows // (q_block if role == "q" else k_block)
    if role == "q":
        return (rows // 32) * 8 + rows % 8
    return (rows // 64) * 4 + (rows % 8) // 2


def quantize_int(
    x: torch.Tensor, bits: Literal["int8", "int4"], gid: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric integer quantisation of ``x`` (…, L, D) with one scale per row group.

    Returns the integer values (as float) and the per-row scale (…, L, 1): ``x ≈ values * scale``.
    """
    qmax = _INT_MAX[bits]
    row_max = x.abs().amax(dim=-1)  # (..., L)
    groups = int(gid.max().item()) + 1
    idx = gid.expand_as(row_max)
    gmax = torch.zeros((*row_max.shape[:-1], groups), dtype=row_max.dtype, device=x.device)
    gmax = gmax.scatter_reduce(-1, idx, row_max, reduce="amax", include_self=False)
    scale = (gmax / qmax).clamp_min(torch.finfo(torch.float32).tiny).gather(-1, idx).unsqueeze(-1)
    values = round_half_away(x / scale).clamp(-qmax, qmax)
    return values, scale


def fake_quant_qk(x: torch.Tensor, fmt: QKFormat, gid: torch.Tensor) -> torch.Tensor:
    """Quantise and dequantise Q or K."""
    if fmt == "none":
        return x
    if fmt == "fp16":
        return x.half().float()
    values, scale = quantize_int(x, fmt, gid)
    return values * scale


def quantize_p(p: torch.Tensor, fmt: PVFormat) -> torch.Tensor:
    """P̃ ∈ [0, 1] with a static scale (the kernels never compute a max of P̃)."""
    if fmt == "none":
        return p
    if fmt == "fp16":
        return p.half().float()
    if fmt == "int8":
        return round_half_away(p * 127.0) / 127.0
    dtype, fmax = _FP8[fmt]
    return (p * fmax).to(dtype).float() / fmax


def quantize_v(v: torch.Tensor, fmt: PVFormat, divisor: float = 1.0) -> torch.Tensor:
    """V per channel (scale over tokens), dequantised."""
    if fmt == "none":
        return v
    if fmt == "fp16":
        return v.half().float()
    colmax = v.abs().amax(dim=-2, keepdim=True).clamp_min(torch.finfo(torch.float32).tiny)
    if fmt == "int8":
        scale = colmax / 127.0
        return round_half_away(v / scale).clamp(-127, 127) * scale
    dtype, fmax = _FP8[fmt]
    scale = colmax / (fmax / divisor)
    return (v / scale).to(dtype).float() * scale


# ---------------------------------------------------------------------------------------------------
# Attention


def _expand_kv(x: torch.Tensor, heads: int) -> torch.Tensor:
    return x if x.shape[1] == heads else x.repeat_interleave(heads // x.shape[1], dim=1)


def causal_mask(
    q_len: int, kv_len: int, align: Literal["top_left", "bottom_right"], device: torch.device | str = "cpu"
) -> torch.Tensor:
    """Bool (q_len, kv_len), True = attend. Top-left is SDPA's ``is_causal`` and the kernels';
    bottom-right is what a query block at the end of a KV cache needs."""
    q = torch.arange(q_len, device=device)[:, None]
    k = torch.arange(kv_len, device=device)[None, :]
    offset = 0 if align == "top_left" else kv_len - q_len
    return k <= q + offset


def exact_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    *,
    is_causal: bool = False,
    sm_scale: float | None = None,
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Float64 SDPA in (B, H, L, D) with GQA expanded: the ground truth for the metrics."""
    heads = q.shape[1]
    return F.scaled_dot_product_attention(
        q.double(),
        _expand_kv(k, heads).double(),
        _expand_kv(v, heads).double(),
        attn_mask=mask,
        is_causal=is_causal,
        scale=sm_scale,
    )


def sage_reference(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    *,
    is_causal: bool = False,
    sm_scale: float | None = None,
    config: QuantConfig = SA2_8B,
) -> torch.Tensor:
    """Quantised attention in (B, H, L, D) layout (GQA allowed); float32 result.

    ``is_causal`` is top-left aligned, like SDPA and the kernels.
    """
    q, k, v = q.float(), k.float(), v.float()
    heads, head_dim = q.shape[1], q.shape[-1]
    lq, lk = q.shape[-2], k.shape[-2]
    scale = sm_scale if sm_scale is not None else 1.0 / math.sqrt(head_dim)
    dev = q.device

    if config.smooth_k:
        k = k - k.mean(dim=-2, keepdim=True)
    v_mean = v.mean(dim=-2, keepdim=True) if config.smooth_v else None
    if v_mean is not None:
        v = v - v_mean

    q = q * (scale * LOG2E)  # scores in log2 units: softmax with exp2
    delta_s = None
    if config.smooth_q:
        blocks = torch.arange(lq, device=dev) // config.q_block
        nb = int(blocks.max().item()) + 1
        sums = torch.zeros((*q.shape[:-2], nb, head_dim), device=dev).index_add(-2, blocks, q)
        counts = torch.bincount(blocks, minlength=nb).to(q.dtype).unsqueeze(-1)
        q_mean = (sums / counts).index_select(-2, blocks)  # (B, H, Lq, D)
        q = q - q_mean
        delta_s = q_mean @ _expand_kv(k, heads).transpose(-1, -2)  # full precision

    gq = group_ids(lq, config.granularity, "q", q_block=config.q_block, k_block=config.k_block, device=dev)
    gk = group_ids(lk, config.granularity, "k", q_block=config.q_block, k_block=config.k_block, device=dev)
    qd = fake_quant_qk(q, config.qk, gq)
    kd = _expand_kv(fake_quant_qk(k, config.qk, gk), heads)
    vd = _expand_kv(quantize_v(v, config.pv, config.v_scale_divisor), heads)

    s = qd @ kd.transpose(-1, -2)
    if delta_s is not None:
        s = s + delta_s
    if is_causal:
        s = s.masked_fill(~causal_mask(lq, lk, "top_left", dev), float("-inf"))

    shape = s.shape[:-1]
    m = torch.full(shape, float("-inf"), device=dev)
    denom = torch.zeros(shape, device=dev)
    acc = torch.zeros((*shape, v.shape[-1]), device=dev)
    for start in range(0, lk, config.k_block):
        tile = s[..., start : start + config.k_block]
        m_new = torch.maximum(m, tile.amax(dim=-1))
        m_safe = torch.where(torch.isinf(m_new), torch.zeros_like(m_new), m_new)
        p = torch.exp2(tile - m_safe.unsqueeze(-1))
        alpha = torch.exp2(m - m_safe)
        denom = denom * alpha + p.sum(dim=-1)
        partial = quantize_p(p, config.pv) @ vd[..., start : start + config.k_block, :]
        if config.pv_accum == "fp16":
            partial = partial.half().float()
        acc = acc * alpha.unsqueeze(-1) + partial
        m = m_new
    out = acc / denom.clamp_min(torch.finfo(torch.float32).tiny).unsqueeze(-1)
    if v_mean is not None:
        out = out + _expand_kv(v_mean, heads)
    return out


def make_reference_kernel(config: QuantConfig = SA2_8B) -> Callable[..., torch.Tensor]:
    """A CPU stand-in with ``sageattn``'s signature, for the adapter's tests and benchmarks."""

    def sageattn(
        q: torch.Tensor,
        k: torch.Tensor,
        v: torch.Tensor,
        tensor_layout: str = "HND",
        is_causal: bool = False,
        sm_scale: float | None = None,
        **_: Any,
    ) -> torch.Tensor:
        if tensor_layout == "NHD":
            q, k, v = (t.transpose(1, 2) for t in (q, k, v))
        out = sage_reference(q, k, v, is_causal=is_causal, sm_scale=sm_scale, config=config)
        if tensor_layout == "NHD":
            out = out.transpose(1, 2)
        return out.to(q.dtype)

    return sageattn


# ---------------------------------------------------------------------------------------------------
# Metrics (SageAttention papers, §5): O is the full-precision output, O′ the quantised one.


def cos_sim(out: torch.Tensor, ref: torch.Tensor) -> float:
    o, r = out.double().flatten(), ref.double().flatten()
    return float((o @ r) / (o.norm() * r.norm()).clamp_min(1e-300))


def rel_l1(out: torch.Tensor, ref: torch.Tensor) -> float:
    o, r = out.double(), ref.double()
    return float((o - r).abs().sum() / r.abs().sum().clamp_min(1e-300))


def rmse(out: torch.Tensor, ref: torch.Tensor) -> float:
    return float(((out.double() - ref.double()) ** 2).mean().sqrt())


def accuracy(out: torch.Tensor, ref: torch.Tensor) -> dict[str, float]:
    """CosSim, Rel-L1 and RMSE of ``out`` against ``ref``."""
    return {"cos_sim": cos_sim(out, ref), "rel_l1": rel_l1(out, ref), "rmse": rmse(out, ref)}


def random_qkv(
    *,
    batch: int = 1,
    heads: int = 4,
    kv_heads: int | None = None,
    q_len: int = 1024,
    kv_len: int | None = None,
    head_dim: int = 128,
    k_channel_bias: float = 0.0,
    seed: int = 0,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Gaussian fp16-rounded Q, K, V (float32) as in §7a; ``k_channel_bias`` adds a per-channel
    offset to K (the outliers K smoothing removes)."""
    gen = torch.Generator().manual_seed(seed)
    kv_heads = kv_heads or heads
    kv_len = kv_len or q_len
    q = torch.randn(batch, heads, q_len, head_dim, generator=gen)
    k = torch.randn(batch, kv_heads, kv_len, head_dim, generator=gen)
    v = torch.randn(batch, kv_heads, kv_len, head_dim, generator=gen)
    if k_channel_bias:
        k = k + k_channel_bias * torch.randn(1, kv_heads, 1, head_dim, generator=gen)
    return q.half().float(), k.half().float(), v.half().float()
