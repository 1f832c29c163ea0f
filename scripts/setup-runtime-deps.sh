#!/usr/bin/env bash
# Installs what the Python training runtime needs from Debian when it is missing: python3-torch
# (1.13, CPU), numpy, pytest, and libopenblas0-pthread (without it torch falls back to the
# reference BLAS, ~30x slower in fp32). Idempotent; needs root to install.
set -euo pipefail
missing=()
# One import of torch when nothing is missing (it takes seconds on a small machine).
torch_version=$(/usr/bin/python3 -c "import torch; print(torch.__version__)" 2>/dev/null) || missing+=(python3-torch python3-numpy)
/usr/bin/python3 -c "import pytest" 2>/dev/null || missing+=(python3-pytest)
dpkg -s libopenblas0-pthread >/dev/null 2>&1 || missing+=(libopenblas0-pthread)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup-runtime-deps: installing ${missing[*]} from Debian"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
  torch_version=$(/usr/bin/python3 -c "import torch; print(torch.__version__)")
fi
echo "setup-runtime-deps: torch $torch_version"
