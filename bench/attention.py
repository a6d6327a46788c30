"""SageAttention vs SDPA: kernel time, TOPS and accuracy; model prefill with "sage" vs "sdpa".

On CUDA (with ``sageattention`` importable): head dim 128, 32 heads, 1k/4k/16k/32k tokens, causal
and not; accuracy against an fp32 SDPA reference on a slice; prefill latency of a small local
model. Target on Hopper: >= 2x SDPA kernel throughput at 16k with CosSim >= 0.999.
Everywhere: the pure-PyTorch reference accuracy table (sageattention.md §5/§7a) on CPU.
Ends with one JSON line. Usage: ``python bench/attention.py [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch
import torch.nn.functional as F

from webdreamer.models.local.sage_reference import (
    SA1,
    SA2_4B,
    SA2_8B,
    QuantConfig,
    accuracy,
    exact_attention,
    random_qkv,
    sage_reference,
)

SEQ_LENS = (1024, 4096, 16384, 32768)
HEADS, HEAD_DIM = 32, 128


def reference_table() -> list[dict[str, Any]]:
    """Accuracy of emulated kernel settings vs fp64 on Gaussian Q/K/V (B=1, H=4, L=1024, D=128)."""
    plain = random_qkv()
    biased = random_qkv(k_channel_bias=10.0)
    decode = random_qkv(q_len=1, kv_len=777)
    rows: list[tuple[str, QuantConfig, tuple[Any, ...]]] = [
        ("INT8 per-block + FP16 PV (SA1)", SA1, plain),
        ("INT8 per-thread + FP16 PV", replace(SA2_8B, pv="fp16"), plain),
        ("INT8 per-thread + FP8 E4M3 PV (SA2-8b)", SA2_8B, plain),
        ("INT8 per-thread + FP8 E5M2 PV", replace(SA2_8B, pv="e5m2"), plain),
        ("INT8 per-thread + INT8 PV", replace(SA2_8B, pv="int8"), plain),
        ("INT8 per-token, exact PV", replace(SA2_8B, granularity="per_token", pv="none"), plain),
        ("INT8 per-thread, exact PV", replace(SA2_8B, pv="none"), plain),
        ("INT8 per-block, exact PV", replace(SA2_8B, granularity="per_block", pv="none"), plain),
        ("INT8 per-tensor, exact PV", replace(SA2_8B, granularity="per_tensor", pv="none"), plain),
        ("INT4 per-thread + E4M3, smooth Q+K (SA2-4b)", SA2_4B, plain),
        ("INT4 per-block + E4M3, smooth Q+K", replace(SA2_4B, granularity="per_block"), plain),
        ("INT4 per-tensor + E4M3, smooth Q+K", replace(SA2_4B, granularity="per_tensor"), plain),
        ("K outliers: SA1, smooth K", SA1, biased),
        ("K outliers: SA1, no smoothing", replace(SA1, smooth_k=False), biased),
        ("K outliers: SA2-8b, smooth K", SA2_8B, biased),
        ("K outliers: SA2-8b, no smoothing", replace(SA2_8B, smooth_k=False), biased),
        ("K outliers: INT4, smooth Q+K", SA2_4B, biased),
        ("K outliers: INT4, smooth K only", replace(SA2_4B, smooth_q=False), biased),
        ("K outliers: INT4, no smoothing", replace(SA2_4B, smooth_q=False, smooth_k=False), biased),
        ("decode 1 x 777: SA2-8b", SA2_8B, decode),
    ]
    table = []
    for name, config, (q, k, v) in rows:
        metrics = accuracy(sage_reference(q, k, v, config=config), exact_attention(q, k, v))
        table.append({"setting": name, **{key: round(val, 6) for key, val in metrics.items()}})
    return table


def print_table(table: list[dict[str, Any]]) -> None:
    print(f"{'setting':46s} {'CosSim':>9s} {'Rel-L1':>8s} {'RMSE':>8s}")
    for row in table:
        print(f"{row['setting']:46s} {row['cos_sim']:9.5f} {row['rel_l1']:8.4f} {row['rmse']:8.5f}")


def cuda_time(fn: Any, reps: int) -> float:
    """Median seconds of ``fn()`` over ``reps`` timed runs after one warm-up."""
    fn()
    times = []
    for _ in range(reps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end) / 1000)
    return sorted(times)[len(times) // 2]


def kernel_bench(kernel: Any, quick: bool) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for n in SEQ_LENS[:2] if quick else SEQ_LENS:
        rows += _kernel_at(kernel, n)
        torch.cuda.empty_cache()
    return rows


def _kernel_at(kernel: Any, n: int) -> list[dict[str, Any]]:
    batch = max(1, 16384 // n)  # keep the work per call comparable
    gen = torch.Generator(device="cuda").manual_seed(n)
    shape = (batch, HEADS, n, HEAD_DIM)
    q, k, v = (torch.randn(shape, device="cuda", dtype=torch.float16, generator=gen) for _ in range(3))
    scale = HEAD_DIM**-0.5
    reps = 3 if n >= 16384 else 10
    rows = []
    for causal in (False, True):
        flops = 4 * batch * HEADS * n * n * HEAD_DIM * (0.5 if causal else 1.0)
        t_sdpa = cuda_time(
            lambda c=causal: F.scaled_dot_product_attention(q, k, v, is_causal=c, scale=scale), reps
        )
        t_sage = cuda_time(
            lambda c=causal: kernel(q, k, v, tensor_layout="HND", is_causal=c, sm_scale=scale), reps
        )
        # Accuracy on a slice (first item, 4 heads) against fp32 SDPA.
        qs, ks, vs = (t[:1, :4].contiguous() for t in (q, k, v))
        ref = F.scaled_dot_product_attention(
            qs.float(), ks.float(), vs.float(), is_causal=causal, scale=scale
        )
        out = kernel(qs, ks.clone(), vs, tensor_layout="HND", is_causal=causal, sm_scale=scale)
        row = {
            "seq": n,
            "batch": batch,
            "causal": causal,
            "sdpa_ms": round(t_sdpa * 1e3, 3),
            "sage_ms": round(t_sage * 1e3, 3),
            "sdpa_tops": round(flops / t_sdpa / 1e12, 1),
            "sage_tops": round(flops / t_sage / 1e12, 1),
            "speedup": round(t_sdpa / t_sage, 2),
            **{key: round(val, 6) for key, val in accuracy(out, ref).items()},
        }
        rows.append(row)
        print(
            f"{n:>6} causal={causal!s:5} SDPA {row['sdpa_tops']:7.1f} TOPS  Sage {row['sage_tops']:7.1f} TOPS"
            f"  x{row['speedup']:.2f}  CosSim {row['cos_sim']:.5f}  Rel-L1 {row['rel_l1']:.4f}"
        )
    return rows


@torch.inference_mode()
def prefill_bench(quick: bool) -> list[dict[str, Any]]:
    """A Llama-shaped random model (head dim 128, GQA) prefilled with "sdpa" and "sage"."""
    from webdreamer.models.local.sage import reset_sage_counts, sage_counts
    from webdreamer.models.local.tiny import tiny_llama

    shape: dict[str, Any] = {
        "hidden_size": 2048,
        "num_attention_heads": 16,
        "num_key_value_heads": 4,
        "head_dim": 128,
        "intermediate_size": 5632,
        "num_hidden_layers": 8,
        "max_position_embeddings": 32768,
        "vocab_size": 32000,
    }
    ref = tiny_llama(0, dtype=torch.bfloat16, **shape).cuda()
    sage = tiny_llama(0, attention="sage", dtype=torch.bfloat16, **shape).cuda()
    sage.load_state_dict(ref.state_dict())
    rows = []
    for n in (4096,) if quick else (4096, 16384):
        x = torch.randint(
            0, 32000, (1, n), device="cuda", generator=torch.Generator(device="cuda").manual_seed(0)
        )
        reset_sage_counts()
        a = ref(x, logits_to_keep=64).logits.float()
        b = sage(x, logits_to_keep=64).logits.float()
        counts = sage_counts()
        t_ref = cuda_time(lambda x=x: ref(x, logits_to_keep=1), 3)
        t_sage = cuda_time(lambda x=x: sage(x, logits_to_keep=1), 3)
        row = {
            "tokens": n,
            "sdpa_s": round(t_ref, 4),
            "sage_s": round(t_sage, 4),
            "speedup": round(t_ref / t_sage, 2),
            "logits_cos_sim": round(accuracy(b, a)["cos_sim"], 6),
            "top1_agree": round((a.argmax(-1) == b.argmax(-1)).float().mean().item(), 4),
            "paths": counts,
        }
        rows.append(row)
        print(
            f"prefill {n:>6}: sdpa {t_ref:.3f} s  sage {t_sage:.3f} s  x{row['speedup']:.2f}  "
            f"logits CosSim {row['logits_cos_sim']:.5f}  paths {counts}"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1k/4k only (smoke run)")
    args = parser.parse_args()
    started = time.perf_counter()
    result: dict[str, Any] = {
        "bench": "attention",
        "cuda": torch.cuda.is_available(),
        "torch": torch.__version__,
    }

    print("Reference math (pure PyTorch, CPU; Gaussian B=1 H=4 L=1024 D=128; K outliers: channel bias 10)")
    table = reference_table()
    print_table(table)
    result["reference"] = table

    if not torch.cuda.is_available():
        print("CUDA is not available: kernel timings and model prefill skipped.")
        result["skipped"] = "no CUDA"
    else:
        from webdreamer.models.local.sage import sage_kernel, sage_status

        status = sage_status()
        result["sage"] = status
        kernel, _ = sage_kernel()
        print(
            f"GPU {torch.cuda.get_device_name()} cc {torch.cuda.get_device_capability()}; sageattention: {status}"
        )
        if kernel is None:
            result["skipped"] = f"sageattention unavailable: {status.get('error')}"
            print(result["skipped"])
        else:
            result["kernel"] = kernel_bench(kernel, args.quick)
            result["prefill"] = prefill_bench(args.quick)
            at16k = [r for r in result["kernel"] if r["seq"] == 16384]
            if at16k:
                result["target_met"] = all(r["speedup"] >= 2.0 and r["cos_sim"] >= 0.999 for r in at16k)
    result["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
