#!/usr/bin/env bash
# Installs a pinned goreleaser from the Go module proxy into a cache folder
# keyed by its version, outside nb's go.mod, and prints the binary's path.
# v2.14.0: v2.18 needs Go 1.27, and v2.15-v2.17 depend on go-msix, which the
# module proxy refuses (403).
set -euo pipefail
version=v2.14.0
cache="${NB_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nb/tools}/goreleaser-$version"
if [ -x "$cache/goreleaser" ]; then
  echo "$cache/goreleaser"; exit 0
fi
mkdir -p "$cache.tmp"
GOBIN="$cache.tmp" GOFLAGS=-mod=mod go install "github.com/goreleaser/goreleaser/v2@$version" >&2
rm -rf "$cache" && mv "$cache.tmp" "$cache"
echo "$cache/goreleaser"
