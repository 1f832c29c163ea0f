#!/usr/bin/env bash
# Installs Debian's chromium when missing: the web console's end-to-end test
# (tests/src/console-e2e.test.ts) drives it through playwright-core, which never downloads a
# browser of its own. Idempotent; needs root to install.
set -euo pipefail
if [ ! -x /usr/bin/chromium ]; then
  echo "setup-chromium: installing chromium from Debian"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null
fi
echo "setup-chromium: $(/usr/bin/chromium --version 2>/dev/null | head -1)"
