#!/usr/bin/env bash
# One device call: the runtime's tests with CUDA, then bench/gpu-train.py (gpu and gpu-8b presets).
#
#   bash bench/gpu-run.sh          # from the repository root; writes everything under $OUT
#
# Made for the device tool's machine (one H100 or H200, torch 2.x with CUDA, transformers + peft +
# accelerate + pytest, no trl, no flash-attn, no network) and its 600 s limit a command: each
# stage has its own timeout (about 8 minutes in all) so a slow stage cannot take the others' time,
# and the summary at the end says what ran. Knobs (environment): PYTHON (python3), OUT
# (/tmp/sailfin-gpu-out), SKIP_TESTS=1, SKIP_8B=1, CUDA_TESTS_TIMEOUT (50), TESTS_TIMEOUT (60), BENCH_TIMEOUT (170),
# BENCH_8B_TIMEOUT (210), PRESET (gpu), PRESET_8B (gpu-8b), BENCH_ARGS (more gpu-train.py arguments,
# for both presets). A dry run of the script itself on a CPU machine:
#   PRESET=cpu-smoke PRESET_8B=cpu-smoke SKIP_TESTS=1 BENCH_ARGS="--shapes tiny-llama-3.1 --scales LoRA" \
#     PYTHON=/work/hf-venv/bin/python OUT=/tmp/gpu-run-dry bash bench/gpu-run.sh
set -u
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
OUT=${OUT:-/tmp/sailfin-gpu-out}
mkdir -p "$OUT"
started=$(date +%s)
stage() { echo "== $1 ($(( $(date +%s) - started )) s in)"; }

stage "machine"
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  "$PYTHON" -c 'import torch, transformers, peft; print("torch", torch.__version__, "cuda", torch.version.cuda, "| transformers", transformers.__version__, "| peft", peft.__version__)'
  "$PYTHON" -c 'import flash_attn' 2>/dev/null && echo "flash_attn present" || echo "flash_attn absent"
} 2>&1 | tee "$OUT/machine.txt"

tests_rc=skipped
cuda_tests_rc=skipped
if [ "${SKIP_TESTS:-0}" != 1 ]; then
  # The CUDA-only tests (named test_cuda_*, skipped on CPU) first, so a slow suite cannot crowd them out;
  # SIGINT at the timeout, so pytest still prints its summary of what ran.
  stage "runtime tests: the CUDA ones (pytest -k cuda)"
  (cd runtime && timeout -s INT -k 10 "${CUDA_TESTS_TIMEOUT:-50}" "$PYTHON" -m pytest -q -p no:cacheprovider -rs -k cuda \
      --junitxml="$OUT/runtime-tests-cuda.xml" tests) > "$OUT/runtime-tests-cuda.log" 2>&1
  cuda_tests_rc=$?
  tail -n 15 "$OUT/runtime-tests-cuda.log"
  stage "runtime tests: the rest (pytest -k 'not cuda', CUDA visible)"
  (cd runtime && timeout -s INT -k 10 "${TESTS_TIMEOUT:-60}" "$PYTHON" -m pytest -q -p no:cacheprovider -rs -k "not cuda" \
      --junitxml="$OUT/runtime-tests.xml" tests) > "$OUT/runtime-tests.log" 2>&1
  tests_rc=$?
  tail -n 8 "$OUT/runtime-tests.log"
fi

PRESET=${PRESET:-gpu}
PRESET_8B=${PRESET_8B:-gpu-8b}
stage "bench: $PRESET preset (gpu: Qwen2.5-0.5B and Llama-3.2-1B shapes, LoRA r16 and full, seq 2048)"
timeout "${BENCH_TIMEOUT:-170}" "$PYTHON" bench/gpu-train.py --preset "$PRESET" --row-timeout 80 --out "$OUT" ${BENCH_ARGS:-} \
  > "$OUT/gpu-train-gpu.log" 2>&1
bench_rc=$?
tail -n 40 "$OUT/gpu-train-gpu.log"

bench8_rc=skipped
if [ "${SKIP_8B:-0}" != 1 ]; then
  stage "bench: $PRESET_8B preset, gradient checkpointing (gpu-8b: Llama-3.1-8B shape, LoRA, seq 4096; QLoRA if the runtime has it)"
  timeout "${BENCH_8B_TIMEOUT:-210}" "$PYTHON" bench/gpu-train.py --preset "$PRESET_8B" --gradient-checkpointing --qlora \
      --row-timeout 120 --out "$OUT" ${BENCH_ARGS:-} > "$OUT/gpu-train-gpu-8b.log" 2>&1
  bench8_rc=$?
  tail -n 30 "$OUT/gpu-train-gpu-8b.log"
fi

stage "summary"
echo "runtime CUDA tests: rc=$cuda_tests_rc ($(grep -Eo '[0-9]+ (passed|failed|skipped|deselected|errors?)' "$OUT/runtime-tests-cuda.log" 2>/dev/null | tr '\n' ' '))"
echo "runtime other tests: rc=$tests_rc ($(grep -Eo '[0-9]+ (passed|failed|skipped|deselected|errors?)' "$OUT/runtime-tests.log" 2>/dev/null | tr '\n' ' '))"
echo "bench gpu: rc=$bench_rc; bench gpu-8b: rc=$bench8_rc (124 = stage timeout)"
ls -l "$OUT"/*.json 2>/dev/null
echo "total $(( $(date +%s) - started )) s"
