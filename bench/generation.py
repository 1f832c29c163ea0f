#!/usr/bin/env python3
"""Tokens per second of the runtime's generate path: batch 1 vs 8, KV cache vs recomputing.

    /usr/bin/python3 bench/generation.py      # ~1-2 min on 2 cores; writes bench/results/generation.md

What is timed: ``sailfin_runtime.generation.generate`` (the loop the ``generate`` recipe runs per
batch) on a model loaded with ``models.loading.load_model``, greedy, no eos, so every row makes
exactly BENCH_NEW_TOKENS tokens. The same BENCH_PROMPTS prompts (lengths spread over
[BENCH_PROMPT_LEN / 2, BENCH_PROMPT_LEN], so batches are left-padded) are generated one at a time
(batch 1) and BENCH_BATCH at a time, with the KV cache and without it (every step recomputes the
whole sequence, as the cache-equality test's reference does). tokens/s = generated tokens / wall
time, median of BENCH_REPEATS runs after one warm-up run. Also timed with the cache: the same model
quantized to int8 and int4 by the ``quantize`` recipe (weights dequantized on every call).

Models (random weights, written to a temporary folder with ``runtime/tests/helpers.py``):

- CPU: a tiny Llama (hidden 128, 4 layers, intermediate 256, 4 heads / 2 KV, vocab 1000), fp32,
  threads chosen by ``_compat`` as the runtime does.
- CUDA (when available; BENCH_CUDA=0 skips): a Qwen2-0.5B-shaped model (hidden 896, 24 layers,
  14 heads / 2 KV, intermediate 4864, vocab 151936, tied embeddings), bf16.

Knobs (environment): BENCH_PROMPTS (8), BENCH_PROMPT_LEN (64), BENCH_NEW_TOKENS (64), BENCH_BATCH
(8), BENCH_REPEATS (3), BENCH_CUDA (1), BENCH_QUANT (1).
"""

from __future__ import annotations

from common import cpu_model, utc_now, write_results  # bench/common.py (the script's folder is on sys.path)

import json
import os
import shutil
import statistics
import sys
import tempfile
import time


PROMPTS = int(os.environ.get("BENCH_PROMPTS", "8"))
PROMPT_LEN = int(os.environ.get("BENCH_PROMPT_LEN", "64"))
NEW_TOKENS = int(os.environ.get("BENCH_NEW_TOKENS", "64"))
BATCH = int(os.environ.get("BENCH_BATCH", "8"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
CUDA = os.environ.get("BENCH_CUDA", "1") != "0"
QUANT = os.environ.get("BENCH_QUANT", "1") != "0"

TINY = {"hidden_size": 128, "num_hidden_layers": 4, "intermediate_size": 256, "num_attention_heads": 4,
        "num_key_value_heads": 2, "vocab_size": 1000, "max_position_embeddings": 2048}
QWEN2_05B = {"hidden_size": 896, "num_hidden_layers": 24, "intermediate_size": 4864, "num_attention_heads": 14,
             "num_key_value_heads": 2, "vocab_size": 151936, "max_position_embeddings": 32768}

from sailfin_runtime import _compat  # noqa: E402

_compat.configure_blas_env("fp32")  # before torch loads OpenBLAS, as the runtime's __main__ does
import numpy as np  # noqa: E402
import torch  # noqa: E402

from helpers import make_model_dir  # noqa: E402
from sailfin_runtime.generation import Settings, generate  # noqa: E402
from sailfin_runtime.models.loading import load_model  # noqa: E402
from sailfin_runtime.protocol import EventSink, StopFlag  # noqa: E402
from sailfin_runtime.spec import QuantizeSpec  # noqa: E402


def quantized_copy(src: str, bits: int) -> str:
    from sailfin_runtime.recipes import quantize

    out = f"{src}-int{bits}"
    spec = QuantizeSpec(modelDir=src, outputDir=out, bits=bits, groupSize=128,
                        scheme="W8A16C16" if bits == 8 else "W4A16C16", device="cpu")
    quantize.run(spec, EventSink(stream=open(os.devnull, "w")), StopFlag())
    return out


def prompts_for(vocab: int):
    rng = np.random.default_rng(0)
    lengths = np.linspace(PROMPT_LEN // 2, PROMPT_LEN, PROMPTS).astype(int)
    return [rng.integers(3, vocab, size=int(n)).tolist() for n in lengths]


def timed(model, prompts, batch: int, use_cache: bool, device) -> float:
    """Generated tokens per second over all prompts, ``batch`` at a time (longest first, as the recipe)."""
    settings = Settings(max_new_tokens=NEW_TOKENS)
    order = sorted(prompts, key=len, reverse=True)
    if device.type == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    tokens = 0
    for i in range(0, len(order), batch):
        chunk = order[i:i + batch]
        out = generate(model, chunk, settings, [None] * len(chunk), use_cache=use_cache)
        tokens += sum(len(g.ids) for g in out)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return tokens / (time.perf_counter() - started)


def bench_model(label: str, folder: str, device, dtype, rows: list, with_nocache: bool = True) -> None:
    model = load_model(folder, device, dtype)
    prompts = prompts_for(model.config.vocab_size)
    for batch in (1, BATCH):
        for use_cache in ((True, False) if with_nocache else (True,)):
            timed(model, prompts[:batch], batch, use_cache, device)  # warm-up (allocator, kernels)
            runs = [timed(model, prompts, batch, use_cache, device) for _ in range(REPEATS)]
            median = statistics.median(runs)
            rows.append({"model": label, "batch": batch, "cache": use_cache, "tps": median,
                         "spread": max(runs) / min(runs)})
            print(f"{label:34s} batch {batch:2d} {'cache   ' if use_cache else 'no cache'} "
                  f"{median:10,.1f} tok/s (spread {max(runs) / min(runs):.2f})", flush=True)
    del model


def main() -> None:
    rows: list = []
    notes = []
    work = tempfile.mkdtemp(prefix="sailfin-bench-gen-")
    try:
        cpu = torch.device("cpu")
        threads = _compat.configure_torch_threads("fp32", cpu)
        tiny = make_model_dir(os.path.join(work, "tiny"), "llama", **TINY)
        bench_model("tiny Llama, fp32, CPU", tiny, cpu, torch.float32, rows)
        if QUANT:
            for bits in (8, 4):
                bench_model(f"tiny Llama, int{bits} weights, CPU", quantized_copy(tiny, bits), cpu, torch.float32, rows,
                            with_nocache=False)
        notes.append(f"CPU: torch threads {threads}, OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}")
        if CUDA and torch.cuda.is_available():
            gpu = torch.device("cuda")
            big = make_model_dir(os.path.join(work, "qwen2-0.5b"), "qwen2", tied=True, dtype=torch.bfloat16,
                                 initializer_range=0.02, **QWEN2_05B)
            bench_model("Qwen2-0.5B shape, bf16, CUDA", big, gpu, torch.bfloat16, rows)
            if QUANT:
                for bits in (8, 4):
                    bench_model(f"Qwen2-0.5B shape, int{bits} weights, CUDA", quantized_copy(big, bits), gpu,
                                torch.bfloat16, rows, with_nocache=False)
            notes.append(f"CUDA: {torch.cuda.get_device_name(0)}")
        else:
            notes.append("CUDA: not available on this machine (the Qwen2-0.5B-shaped rows were not run)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(rows, notes)




def report(rows: list, notes: list) -> None:
    now = utc_now()
    cpus = _compat.cpu_count()
    lines = [
        "# Generation: tokens/s of the generate path, KV cache vs recompute",
        "",
        f"`/usr/bin/python3 bench/generation.py` — {now}; {cpus} CPU(s) ({cpu_model()}); "
        f"torch {torch.__version__} ({sys.executable}); " + "; ".join(notes) + ".",
        "",
        f"{PROMPTS} prompts of {PROMPT_LEN // 2}..{PROMPT_LEN} random tokens, {NEW_TOKENS} new tokens each (greedy, "
        f"no eos), longest first; median of {REPEATS} runs after a warm-up; spread = max/min over the runs.",
        "",
        "Tiny Llama: hidden 128, 4 layers, intermediate 256, 4 heads / 2 KV, vocab 1000 (random weights); at this "
        "size a decoding step is mostly Python and kernel-launch overhead, which is why batching pays almost "
        "linearly. int8/int4 rows: the same weights quantized by the `quantize` recipe, dequantized in every call. "
        "Qwen2-0.5B shape (CUDA only): hidden 896, 24 layers, 14 heads / 2 KV, intermediate 4864, vocab 151936, tied.",
        "",
        "| model | batch | KV cache | tokens/s | spread |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['model']} | {r['batch']} | {'yes' if r['cache'] else 'no (recompute)'} | "
                     f"{r['tps']:,.1f} | {r['spread']:.2f} |")
    by = {(r["model"], r["batch"], r["cache"]): r["tps"] for r in rows}
    lines.append("")
    for (model, batch, cache), tps in by.items():
        if cache and (model, batch, False) in by:
            lines.append(f"- {model}, batch {batch}: cache / recompute = {tps / by[(model, batch, False)]:.2f}x")
    for (model, batch, cache), tps in by.items():
        if cache and batch == BATCH and (model, 1, True) in by:
            lines.append(f"- {model}: batch {BATCH} / batch 1 (cached) = {tps / by[(model, 1, True)]:.2f}x")
    write_results("generation.md", lines)


if __name__ == "__main__":
    main()
