#!/usr/bin/env bash
# Installs a Go program from the module proxy into a cache folder keyed by
# its version, outside nb's go.mod, and prints the binary's path.
# Usage: hack/go-tool.sh BINARY PACKAGE VERSION
set -euo pipefail
name=$1 pkg=$2 version=$3
cache="${NB_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nb/tools}/$name-$version"
if [ -x "$cache/$name" ]; then
  echo "$cache/$name"; exit 0
fi
mkdir -p "$cache.tmp"
GOBIN="$cache.tmp" GOFLAGS=-mod=mod go install "$pkg@$version" >&2
rm -rf "$cache" && mv "$cache.tmp" "$cache"
echo "$cache/$name"
