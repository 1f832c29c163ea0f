#!/usr/bin/env bash
# Installs the Go toolchain from Debian when `go` is missing. The Go SDK conformance test
# (tests/src/sdk-go.test.ts) builds tests/go against github.com/baidubce/bce-qianfan-sdk/go/qianfan
# v0.0.15 (its go.mod asks for go 1.18); bookworm's golang-go is 1.19, the oldest release the
# driver was built with. Modules come from the Go module proxy at build time (nothing vendored;
# tests/go/go.sum pins them). Idempotent; needs root to install.
set -euo pipefail
if ! command -v go >/dev/null 2>&1; then
  echo "setup-go: installing golang-go from Debian"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q golang-go >/dev/null
fi
version=$(go version | awk '{print $3}')
minor=$(echo "$version" | sed -E 's/^go1\.([0-9]+).*/\1/')
if ! [[ "$minor" =~ ^[0-9]+$ ]] || [ "$minor" -lt 19 ]; then
  echo "setup-go: $version is too old for the Go SDK tests (need go1.19 or newer): see https://go.dev/doc/install" >&2
  exit 1
fi
echo "setup-go: $version"
