#!/usr/bin/env bash
# Creates .venv with the official Qianfan Python SDK, which tests/src/sdk-python.test.ts drives
# the server with. Idempotent and quiet: a venv that already has the pinned version is left alone.
#   bash scripts/setup-test-venv.sh          (PYTHON=/path/to/python3 picks the interpreter)
set -euo pipefail

QIANFAN_VERSION="0.4.12.3"
# The official `openai` client: the serving tests call Sailfin's /v2 chat with it, unchanged.
OPENAI_VERSION="3.63.0"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
python="${PYTHON:-python3}"

fail() { echo "setup-test-venv: $*" >&2; exit 1; }

installed_version() {
  "$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("qianfan"))' 2>/dev/null || true
}

# What qianfan.dataset and qianfan.model import beyond plain qianfan (its `dataset_base` extra,
# without locust): the higher-level Dataset and Model objects the conformance tests drive.
EXTRAS=(python-dateutil pyarrow numpy ijson filelock tabulate "openai==$OPENAI_VERSION")
extras_present() {
  "$venv/bin/python" -c 'import dateutil, pyarrow, numpy, ijson, filelock, tabulate, importlib.metadata as m; assert m.version("openai") == "'"$OPENAI_VERSION"'"' 2>/dev/null
}

if [[ -x "$venv/bin/python" && "$(installed_version)" == "$QIANFAN_VERSION" ]] && extras_present; then
  exit 0
fi

# A venv left half-made by an earlier failure (no pip in it) is rebuilt rather than reused.
if [[ -e "$venv" ]] && ! "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
  rm -rf "$venv"
fi

if [[ ! -x "$venv/bin/python" ]]; then
  command -v "$python" >/dev/null || fail "'$python' not found; install Python 3.8+ or set PYTHON=/path/to/python3"
  if ! "$python" -m venv "$venv" 2>/dev/null; then
    rm -rf "$venv"
    # A fresh Debian/Ubuntu has python3 without its venv module: root installs it, once.
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
      echo "setup-test-venv: installing python3-venv from Debian"
      apt-get update -q
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv >/dev/null
    fi
    if ! "$python" -m venv "$venv"; then
      rm -rf "$venv"
      fail "'$python -m venv' failed (on Debian/Ubuntu: sudo apt-get install python3-venv)"
    fi
  fi
fi

"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "qianfan==$QIANFAN_VERSION" "${EXTRAS[@]}" \
  || fail "pip install qianfan==$QIANFAN_VERSION ${EXTRAS[*]} into $venv failed"

got="$(installed_version)"
[[ "$got" == "$QIANFAN_VERSION" ]] || fail "expected qianfan $QIANFAN_VERSION in $venv, found '${got:-nothing}'"
echo "setup-test-venv: qianfan $QIANFAN_VERSION installed in $venv"
