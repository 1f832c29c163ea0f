#!/usr/bin/env bash
# Creates a venv with PyPI's torch 2.x (plus numpy and pytest) for the runtime's torch-2-only
# tests: FSDP2 (`fully_shard`) and `torchrun` (Debian's torch 1.13, the CI runtime, has neither;
# runtime/tests/test_fsdp.py). Lives outside the checkout, keyed by version:
# ~/.cache/sailfin/torch2-venv-<version>. Idempotent: a venv that imports the pinned torch,
# numpy and pytest is left alone (about 2 s: one torch import). PyPI's default Linux wheel is
# the CUDA build (runs on CPU too, so the same venv serves a GPU machine): a fresh install
# downloads its wheels and the nvidia-* ones (about 4 GB; 6.7 GB installed) and took 126 s here
# (2026-12-06, 2 shared cores, niced, from PyPI; 129 s with venv creation). A venv made
# by hand at ~/.cache/sailfin/torch2-venv with the same torch is reused (hard-linked, no
# download). Needs no root. PYTHON picks the interpreter (default python3). `--check` installs
# nothing: exit 1 (and the command to run) when the venv is not ready.
# Last output line: TORCH2_PYTHON=<path>.
set -euo pipefail

TORCH_VERSION="2.9.1"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/sailfin"
venv="${SAILFIN_TORCH2_VENV:-$cache/torch2-venv-$TORCH_VERSION}"
python="${PYTHON:-python3}"

fail() { echo "setup-torch2-venv: $*" >&2; exit 1; }
ready() {
  [[ -x "$1/bin/python" ]] && "$1/bin/python" -c "
import torch, numpy, pytest
assert torch.__version__.split('+')[0] == '$TORCH_VERSION'" >/dev/null 2>&1
}
has_torch() {
  [[ -x "$1/bin/python" ]] && "$1/bin/python" -c "
import torch
assert torch.__version__.split('+')[0] == '$TORCH_VERSION'" >/dev/null 2>&1
}

if [[ "${1:-}" == "--check" ]]; then
  ready "$venv" || fail "no venv with torch $TORCH_VERSION, numpy and pytest at $venv (run: bash scripts/setup-torch2-venv.sh)"
  echo "TORCH2_PYTHON=$venv/bin/python"
  exit 0
fi

mkdir -p "$(dirname "$venv")"
# Test files started at once each ask for the venv: one installs, the others wait for it.
exec 9>"$venv.lock"
flock 9

if ! ready "$venv"; then
  if [[ ! -e "$venv" ]] && has_torch "$cache/torch2-venv"; then
    # Hard links: no second copy of the 6.7 GB, and pip below writes new files beside them.
    cp -al "$cache/torch2-venv" "$venv.partial"
    mv "$venv.partial" "$venv"
  fi
  # A venv left half-made by an earlier failure (no pip in it) is rebuilt rather than reused.
  if [[ -e "$venv" ]] && ! "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
    rm -rf "$venv"
  fi
  if [[ ! -x "$venv/bin/python" ]]; then
    command -v "$python" >/dev/null || fail "'$python' not found; install Python 3.10+ or set PYTHON=/path/to/python3"
    "$python" -m venv "$venv" || { rm -rf "$venv"; fail "'$python -m venv' failed (on Debian/Ubuntu: apt-get install python3-venv)"; }
  fi
  echo "setup-torch2-venv: installing torch $TORCH_VERSION, numpy and pytest into $venv (about 4 GB to download the first time)"
  started=$SECONDS
  # `python -m pip`, not bin/pip: a venv copied from elsewhere keeps the old path in its scripts' shebangs.
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-cache-dir "torch==$TORCH_VERSION" numpy pytest \
    || fail "pip install torch==$TORCH_VERSION numpy pytest into $venv failed"
  ready "$venv" || fail "$venv still cannot import torch $TORCH_VERSION, numpy and pytest"
  echo "setup-torch2-venv: ready in $((SECONDS - started)) s"
fi
echo "TORCH2_PYTHON=$venv/bin/python"
