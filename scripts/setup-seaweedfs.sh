#!/usr/bin/env bash
# Builds SeaweedFS's `weed` binary, the S3-compatible server the artifact-store tests start
# (tests/src/fixtures/s3-server.ts). It comes from the Go module proxy as source: its go.mod has
# `replace` directives, so `go install` refuses it; the module is downloaded, copied to a writable
# folder and built there (about 10 minutes of CPU: 8–9 minutes on 2 idle cores, 21 on a busy pair).
# The binary is cached outside the checkout, keyed by version, so a ready machine is done in a
# second. Idempotent; needs Go 1.26 or newer (the version its go.mod asks for). Last output line:
# WEED=<path>.
set -euo pipefail
version="v0.0.0-20261109003541-7506e5f91cd6"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/sailfin/seaweedfs-$version"
weed="$cache/weed"
mkdir -p "$cache"
# Test files started at once each ask for the binary: one builds, the others wait for it.
exec 9>"$cache/.lock"
flock 9
if [ ! -x "$weed" ]; then
  # The upstream toolchain first: Debian's golang-go (setup-go.sh) is older than its go.mod asks.
  go=/usr/local/go/bin/go
  [ -x "$go" ] || go=$(command -v go || true)
  if [ -z "$go" ]; then
    echo "setup-seaweedfs: no Go toolchain (need go 1.26 or newer): see https://go.dev/doc/install" >&2
    exit 1
  fi
  echo "setup-seaweedfs: installing SeaweedFS $version (building from source, several minutes)"
  work=$(mktemp -d)
  trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
  # Outside any module, so that no go.mod nearby changes what is downloaded.
  dir=$(cd "$work" && "$go" mod download -json "github.com/seaweedfs/seaweedfs@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -d "$dir" ] || { echo "setup-seaweedfs: go mod download gave no module folder" >&2; exit 1; }
  cp -r "$dir" "$work/src"
  chmod -R u+w "$work/src"
  (cd "$work/src" && "$go" build -o "$weed.partial" ./weed)
  mv "$weed.partial" "$weed"
fi
echo "WEED=$weed"
