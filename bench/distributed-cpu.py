#!/usr/bin/env python3
"""Training tokens/s of 1 process against 2 data-parallel ranks on CPU (gloo).

    /usr/bin/python3 bench/distributed-cpu.py   # ~1-2 min on 2 cores; writes bench/results/distributed-cpu.md

Each run is the real thing: ``python3 -m sailfin_runtime finetune --spec spec.json`` for one
process (its default threads: OpenBLAS takes every core) and ``python3 -m sailfin_runtime launch
--nproc 2 finetune --spec spec.json`` for two ranks (the launcher gives each rank cores / 2
threads). Same spec, same global batch (batchSize 8 x gradientAccumulationSteps 2), SFT, full
fine-tuning, fp32, no validation split, one checkpoint at the end. A third run is one process
held to one thread (OPENBLAS_NUM_THREADS=OMP_NUM_THREADS=1): what one rank's core does alone,
so "scaling" = 2 ranks / (2 x that) says what the all-reduce and the launcher cost. Reported:
trained tokens per second from the ``metrics`` events, between step 3 (after warm-up) and the
last step, best of BENCH_REPEAT (2) runs taken in turn (the machine is shared), and the load
average before and after.

Models (random weights, ``runtime/tests/helpers.py``): the tests' tiny Llama (hidden 32, 2
layers, vocab 300, rows of 32 tokens) and a small one (hidden 256, 4 layers, vocab 8000, rows of
128 tokens), where compute outweighs the per-step all-reduce.

With BENCH_TORCH2=<python of scripts/setup-torch2-venv.sh> two more runs per model use that
torch 2.x: one process, and 2 ranks, which there shard full fine-tuning with FSDP2 (each step
all-gathers every layer's weights in forward and backward and reduce-scatters its gradients,
against one all-reduce of the gradients on the replicated path).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile

from common import RUNTIME, cpu_model, utc_now, write_results  # bench/common.py (the script's folder is on sys.path)


from helpers import make_data, make_model_dir, make_spec, subprocess_env  # noqa: E402

MODELS = [
    # label, model shape, rows, seq_len, steps (epochs of rows / 16 steps)
    ("tiny (hidden 32, 2 layers, 38K params)", {}, 256, 32, 16),
    ("small (hidden 256, 4 layers, 7M params)",
     {"hidden_size": 256, "num_hidden_layers": 4, "intermediate_size": 688, "num_attention_heads": 4,
      "num_key_value_heads": 2, "vocab_size": 8000, "max_position_embeddings": 256}, 256, 128, 16),
]


def tokens_per_second(stdout: str) -> float:
    metrics = [e for e in map(json.loads, stdout.splitlines()) if e["event"] == "metrics"]
    first, last = next(m for m in metrics if m["step"] == 3), metrics[-1]
    return (last["trainedTokens"] - first["trainedTokens"]) / (last["time"] - first["time"])


REPEAT = int(os.environ.get("BENCH_REPEAT", "2"))
TORCH2 = os.environ.get("BENCH_TORCH2") or None
RUNS = ("1 process", "1 process, 1 thread", "2 ranks") + (("torch 2: 1 process", "torch 2: 2 ranks FSDP2") if TORCH2 else ())


def run(args: list, one_thread: bool, python: str = sys.executable) -> float:
    env = subprocess_env()
    if one_thread:
        env.update({"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"})
    else:  # the runtime's (and the launcher's) own choice, not the test suite's pin
        env.pop("OPENBLAS_NUM_THREADS", None)
        env.pop("OMP_NUM_THREADS", None)
    proc = subprocess.run([python, "-m", "sailfin_runtime", *args], capture_output=True, text=True,
                          env=env, cwd=RUNTIME)
    if proc.returncode != 0:
        raise SystemExit(f"{args} failed ({proc.returncode}):\n{proc.stderr}")
    return tokens_per_second(proc.stdout)


def main() -> None:
    rows = []
    load_before = os.getloadavg()[0]
    work = tempfile.mkdtemp(prefix="sailfin-bench-ddp-")
    try:
        for label, shape, n_rows, seq_len, steps in MODELS:
            folder = os.path.join(work, str(len(rows)))
            model = make_model_dir(os.path.join(folder, "model"), **shape)
            data = make_data(os.path.join(folder, "data"), "SFT", rows=n_rows, seq_len=seq_len, validation=False)
            epochs = max(1, steps * 16 // n_rows)
            result = {"model": label, **{name: 0.0 for name in RUNS}}
            out = os.path.join(folder, "out")
            spec = make_spec(os.path.join(folder, "spec.json"), model, data, out, batchSize=8,
                             gradientAccumulationSteps=2, epoch=epochs, loggingSteps=1, saveStep=100000)
            recipe = ["finetune", "--spec", spec]
            for _ in range(REPEAT):
                for name in RUNS:
                    args = ["launch", "--nproc", "2", *recipe] if "2 ranks" in name else recipe
                    python = TORCH2 if name.startswith("torch 2") else sys.executable
                    result[name] = max(result[name], run(args, name.endswith("1 thread"), python))
                    shutil.rmtree(out, ignore_errors=True)
            rows.append(result)
            print(f"{label}: " + ", ".join(f"{name} {result[name]:,.0f} tokens/s" for name in RUNS), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(rows, load_before, os.getloadavg()[0])


def report(rows: list, load_before: float, load_after: float) -> None:
    now = utc_now()
    lines = [f"# Data-parallel training on CPU: 1 process vs 2 ranks ({now})", "",
             f"{os.cpu_count()} cores ({cpu_model()}), Python {sys.version.split()[0]}, "
             f"SFT full fine-tuning, fp32, batchSize 8 x gradientAccumulationSteps 2, best of {REPEAT}; "
             f"1-minute load average {load_before:.1f} before, {load_after:.1f} after.", "",
             "| model | 1 process tokens/s | 1 process, 1 thread | 2 ranks tokens/s | 2 ranks / 1 process "
             "| scaling (2 ranks / 2 x 1 thread) |", "|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        one, single, two = r["1 process"], r["1 process, 1 thread"], r["2 ranks"]
        lines.append(f"| {r['model']} | {one:,.0f} | {single:,.0f} | {two:,.0f} | {two / one:.2f}x "
                     f"| {two / (2 * single):.0%} |")
    if TORCH2:
        version = subprocess.run([TORCH2, "-c", "import torch; print(torch.__version__)"], capture_output=True,
                                 text=True).stdout.strip()
        lines += ["", f"torch {version} ({TORCH2}), same specs: 2 ranks shard full fine-tuning with FSDP2.", "",
                  "| model | 1 process tokens/s | 2 ranks FSDP2 tokens/s | FSDP2 / 1 process |", "|---|---:|---:|---:|"]
        for r in rows:
            one, two = r["torch 2: 1 process"], r["torch 2: 2 ranks FSDP2"]
            lines.append(f"| {r['model']} | {one:,.0f} | {two:,.0f} | {two / one:.2f}x |")
    write_results("distributed-cpu.md", lines)


if __name__ == "__main__":
    main()
