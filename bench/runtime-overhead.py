#!/usr/bin/env python3
"""Training throughput of the Sailfin runtime against a bare PyTorch loop, same machine, same run.

    /usr/bin/python3 bench/runtime-overhead.py      # ~3-5 min on 2 cores; writes bench/results/runtime-overhead.md

(a) runtime: ``python3 -m sailfin_runtime finetune --spec spec.json`` (PYTHONPATH=runtime), fp32 on
    CPU; throughput from its ``metrics`` events after the warm-up steps: the mean of the per-step
    ``tokensPerSecond`` weighted by tokens, and the wall-clock rate between the ``metrics`` event of
    the last warm-up step and that of the last step (event ``time`` fields), and the median step.
(b) bare: a loop in a subprocess of this file over the same model class
    (``sailfin_runtime.models.decoder.CausalLM``, same weights file), the same shard rows, batch size,
    sequence length and AdamW; fp32, no checkpointing, no logging, no scheduler, no gradient
    clipping, plain ``F.cross_entropy`` over full logits with non-targets ignored.

Both processes get the same environment and choose threads through the same
``sailfin_runtime._compat`` functions (``configure_blas_env`` before ``import torch``, then
``configure_torch_threads``), so OPENBLAS_NUM_THREADS / OMP_NUM_THREADS set by the caller apply to
both. Runs alternate runtime, bare, runtime, bare ... ``BENCH_REPEATS`` times per variant.

Knobs (environment): BENCH_HIDDEN (128), BENCH_LAYERS (4), BENCH_VOCAB (1000), BENCH_SEQ (128),
BENCH_BATCH (16), BENCH_STEPS (60 timed steps), BENCH_WARMUP (5 steps), BENCH_REPEATS (3),
BENCH_VARIANTS ("full,lora").
"""

from __future__ import annotations

from common import cpu_model  # bench/common.py (the script's folder is on sys.path)

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RUNTIME = os.path.join(ROOT, "runtime")
RESULTS = os.path.join(HERE, "results", "runtime-overhead.md")
sys.path.insert(0, RUNTIME)

HIDDEN = int(os.environ.get("BENCH_HIDDEN", "128"))
LAYERS = int(os.environ.get("BENCH_LAYERS", "4"))
VOCAB = int(os.environ.get("BENCH_VOCAB", "1000"))
SEQ = int(os.environ.get("BENCH_SEQ", "128"))
BATCH = int(os.environ.get("BENCH_BATCH", "16"))
STEPS = int(os.environ.get("BENCH_STEPS", "60"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "5"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
VARIANTS = [v for v in os.environ.get("BENCH_VARIANTS", "full,lora").split(",") if v]
LR = 1e-3
WEIGHT_DECAY = 0.01
LORA = {"r": 8, "alpha": 16, "targets": ["q_proj", "v_proj"]}


# ---------------------------------------------------------------------------- bare loop (child process)
def bare_main(model_dir: str, train_dir: str, variant: str) -> None:
    from sailfin_runtime import _compat

    _compat.configure_blas_env("fp32")  # before torch loads OpenBLAS, as the runtime's __main__ does
    import numpy as np
    import torch
    import torch.nn.functional as F

    from sailfin_runtime.io import safetensors
    from sailfin_runtime.io.shards import trained_targets
    from sailfin_runtime.models import lora
    from sailfin_runtime.models.decoder import CausalLM, ModelConfig

    device = torch.device("cpu")
    threads = _compat.configure_torch_threads("fp32", device)
    with open(os.path.join(train_dir, "manifest.json")) as f:
        manifest = json.load(f)
    ids = np.concatenate([np.fromfile(os.path.join(train_dir, s["name"] + ".ids.u32"), dtype="<u4")
                          for s in manifest["shards"]]).reshape(-1, SEQ).astype(np.int64)
    mask = np.concatenate([np.fromfile(os.path.join(train_dir, s["name"] + ".mask.u8"), dtype="u1")
                           for s in manifest["shards"]]).reshape(-1, SEQ)
    seg = np.concatenate([np.fromfile(os.path.join(train_dir, s["name"] + ".seg.u16"), dtype="<u2")
                          for s in manifest["shards"]]).reshape(-1, SEQ).astype(np.int64)
    selected = trained_targets(mask, seg)
    labels = np.where(selected, ids[:, 1:], -100)

    torch.manual_seed(42)
    model = CausalLM(ModelConfig.from_dir(model_dir))
    model.load_hf_state_dict(safetensors.load_weights(model_dir, "modelDir"), "modelDir")
    if variant == "lora":
        for p in model.parameters():
            p.requires_grad_(False)
        lora.add_lora(model, lora.LoraSettings(LORA["r"], LORA["alpha"], 0.0, LORA["targets"]))
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=LR, weight_decay=WEIGHT_DECAY)
    order = np.random.default_rng(42).permutation(ids.shape[0])

    tokens = 0
    started = 0.0
    step_rates = []
    for step in range(WARMUP + STEPS):
        if step == WARMUP:
            started = time.perf_counter()
        step_started = time.perf_counter()
        rows = order[step * BATCH:(step + 1) * BATCH]
        x, s = torch.from_numpy(ids[rows]), torch.from_numpy(seg[rows])
        y = torch.from_numpy(labels[rows])
        logits = model(x, s)[:, :-1]
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=-100)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if step >= WARMUP:
            tokens += int(selected[rows].sum())
            step_rates.append(int(selected[rows].sum()) / (time.perf_counter() - step_started))
    elapsed = time.perf_counter() - started
    print(json.dumps({"tokensPerSecond": tokens / elapsed, "seconds": elapsed, "tokens": tokens,
                      "stepMedian": float(np.median(step_rates)), "torchThreads": threads, "openblas": os.environ.get("OPENBLAS_NUM_THREADS"),
                      "loss": float(loss), "torch": torch.__version__}))


# ---------------------------------------------------------------------------- driver
def child_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = RUNTIME + os.pathsep + env.get("PYTHONPATH", "")
    return env


def run_runtime(work: str, model_dir: str, train_dir: str, variant: str, n: int) -> dict:
    out = os.path.join(work, f"out-{variant}-{n}")
    spec = {
        "version": 1, "runId": f"task-bench{variant}{n}", "trainMode": "SFT",
        "parameterScale": "LoRA" if variant == "lora" else "FullFineTuning", "modelDir": model_dir,
        "initCheckpoint": None, "data": {"train": train_dir, "validation": None}, "outputDir": out,
        "resumeFrom": None, "device": "cpu", "precision": "fp32",
        "hyper": {"epoch": 1, "learningRate": LR, "batchSize": BATCH, "gradientAccumulationSteps": 1,
                  "warmupRatio": 0.1, "weightDecay": WEIGHT_DECAY, "schedulerName": "cosine", "maxGradNorm": 1.0,
                  "loggingSteps": 1, "saveStep": 100000, "checkpointCount": 1, "seed": 42,
                  "loraRank": LORA["r"], "loraAlpha": LORA["alpha"], "loraDropout": 0.0,
                  "loraTargetModules": LORA["targets"], "dpoBeta": 0.1, "ktoBeta": 0.1},
    }
    spec_path = os.path.join(work, f"spec-{variant}-{n}.json")
    with open(spec_path, "w") as f:
        json.dump(spec, f)
    proc = subprocess.run([sys.executable, "-m", "sailfin_runtime", "finetune", "--spec", spec_path],
                          capture_output=True, text=True, env=child_env(), cwd=RUNTIME)
    if proc.returncode != 0:
        raise RuntimeError(f"runtime exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    metrics = [e for e in events if e["event"] == "metrics"]
    assert len(metrics) == WARMUP + STEPS, f"{len(metrics)} metrics events"
    timed = metrics[WARMUP:]
    tokens = sum(m["trainedTokens"] for m in timed[-1:]) - metrics[WARMUP - 1]["trainedTokens"]
    step_seconds = sum((m["trainedTokens"] - p["trainedTokens"]) / m["tokensPerSecond"]
                       for p, m in zip(metrics[WARMUP - 1:], timed))
    wall = timed[-1]["time"] - metrics[WARMUP - 1]["time"]
    thread_line = next((line for line in proc.stderr.splitlines() if "torch thread" in line), "")
    shutil.rmtree(out, ignore_errors=True)
    return {"tokensPerSecond": tokens / step_seconds,
            "stepMedian": statistics.median(m["tokensPerSecond"] for m in timed), "wallTokensPerSecond": tokens / wall, "seconds": wall,
            "tokens": tokens, "threads": thread_line.strip(), "loss": timed[-1]["loss"]}


def run_bare(model_dir: str, train_dir: str, variant: str) -> dict:
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--bare", model_dir, train_dir, variant],
                          capture_output=True, text=True, env=child_env(), cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"bare loop exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])




def main() -> None:
    sys.path.insert(0, os.path.join(RUNTIME, "tests"))
    import numpy as np
    import helpers  # runtime/tests/helpers.py: tiny HF model folders, protocol-format shards
    from sailfin_runtime import _compat

    work = tempfile.mkdtemp(prefix="sailfin-bench-runtime-")
    try:
        heads = max(1, HIDDEN // 32)
        model_dir = helpers.make_model_dir(
            os.path.join(work, "model"), vocab_size=VOCAB, hidden_size=HIDDEN, intermediate_size=HIDDEN * 2,
            num_hidden_layers=LAYERS, num_attention_heads=heads, num_key_value_heads=max(1, heads // 2),
            max_position_embeddings=max(256, SEQ))
        rows = (WARMUP + STEPS) * BATCH
        ids, mask, seg = helpers.packed_rows(rows, SEQ, seed=0)
        ids = np.where(seg > 0, 10 + (ids * 37) % (VOCAB - 10), 0)  # spread the ids over the vocabulary
        train_dir = helpers.write_split(os.path.join(work, "train"), "packed", ids, mask, seg)
        targets_per_step = int(helpers.packed_rows(1, SEQ, 0)[1][:, 1:].sum()) * BATCH

        results = {v: {"runtime": [], "bare": []} for v in VARIANTS}
        for variant in VARIANTS:
            for n in range(REPEATS):
                r = run_runtime(work, model_dir, train_dir, variant, n)
                results[variant]["runtime"].append(r)
                print(f"{variant} runtime #{n + 1}: {r['tokensPerSecond']:.0f} tok/s (steps), "
                      f"{r['wallTokensPerSecond']:.0f} tok/s (wall)", flush=True)
                b = run_bare(model_dir, train_dir, variant)
                results[variant]["bare"].append(b)
                print(f"{variant} bare    #{n + 1}: {b['tokensPerSecond']:.0f} tok/s", flush=True)

        first_bare = results[VARIANTS[0]]["bare"][0]
        first_rt = results[VARIANTS[0]]["runtime"][0]
        lines = [
            "# Runtime overhead: `sailfin_runtime finetune` vs a bare PyTorch loop",
            "",
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {_compat.cpu_count()} CPU(s) ({cpu_model()}); "
            f"torch {first_bare['torch']} ({sys.executable}); fp32 on CPU; "
            f"threads: OPENBLAS_NUM_THREADS={first_bare['openblas']}, torch threads {first_bare['torchThreads']} "
            f"(both chosen by `_compat`; runtime logged: `{first_rt['threads'].split('] ')[-1]}`).",
            "",
            f"Model: random Llama, hidden {HIDDEN}, {LAYERS} layers, intermediate {HIDDEN * 2}, {heads} heads "
            f"({max(1, heads // 2)} KV), vocab {VOCAB}. Data: SFT packed rows of {SEQ} tokens (2 samples per row, "
            f"~{targets_per_step} trained targets per step), batch {BATCH}, AdamW lr {LR}. "
            f"{WARMUP} warm-up steps, then {STEPS} timed steps; {REPEATS} run(s) of each, alternating runtime and bare; medians. Rows all have the same layout, so the two data orders give the same work per step.",
            "LoRA: r 8, alpha 16, q_proj + v_proj, no dropout.",
            "",
            "| variant | runtime tok/s (metrics) | runtime tok/s (wall, events) | bare loop tok/s | runtime / bare (metrics) | runtime / bare (wall) | spread max/min (runtime; bare) | median step tok/s (runtime; bare) | runtime / bare (median step) |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for variant in VARIANTS:
            rt = results[variant]["runtime"]
            bare = results[variant]["bare"]
            m_rt = statistics.median(r["tokensPerSecond"] for r in rt)
            w_rt = statistics.median(r["wallTokensPerSecond"] for r in rt)
            m_b = statistics.median(r["tokensPerSecond"] for r in bare)
            label = "full fine-tuning" if variant == "full" else "LoRA"
            s_rt = statistics.median(r["stepMedian"] for r in rt)
            s_b = statistics.median(r["stepMedian"] for r in bare)
            spread_rt = max(r["tokensPerSecond"] for r in rt) / min(r["tokensPerSecond"] for r in rt)
            spread_b = max(r["tokensPerSecond"] for r in bare) / min(r["tokensPerSecond"] for r in bare)
            lines.append(f"| {label} | {m_rt:,.0f} | {w_rt:,.0f} | {m_b:,.0f} | {m_rt / m_b:.3f} | {w_rt / m_b:.3f} "
                         f"| {spread_rt:.2f}; {spread_b:.2f} | {s_rt:,.0f}; {s_b:,.0f} | {s_rt / s_b:.3f} |")
        lines += ["", "Every run (tok/s):", ""]
        for variant in VARIANTS:
            rt = ", ".join(f"{r['tokensPerSecond']:,.0f}" for r in results[variant]["runtime"])
            wl = ", ".join(f"{r['wallTokensPerSecond']:,.0f}" for r in results[variant]["runtime"])
            bare = ", ".join(f"{r['tokensPerSecond']:,.0f}" for r in results[variant]["bare"])
            lines.append(f"- {variant}: runtime metrics {rt}; runtime wall {wl}; bare {bare}")
        lines += [
            "",
            "The runtime's step does more than the bare loop: it builds the packed batch (segment mask, "
            "selected targets) from memory-mapped shards, applies `lm_head` to trained positions only, "
            "clips the gradient norm, steps a LambdaLR schedule and emits a JSON `metrics` line per step "
            "(loggingSteps 1). The bare loop computes full logits and `F.cross_entropy` with ignored "
            "non-targets. A ratio above 1 means the runtime is faster. A spread well above 1.05 means the "
            "machine was noisy (other load, a shared VM): compare the ratio only when both spreads are small, "
            "or raise BENCH_REPEATS. The median-step columns (median over runs of each run's median "
            "per-step rate) are the least sensitive to such noise: a stolen second slows a few steps, not "
            "the median step.",
            "",
        ]
        table = "\n".join(lines)
        print("\n" + table)
        os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
        with open(RESULTS, "w") as f:
            f.write(table)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--bare":
        bare_main(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        main()
