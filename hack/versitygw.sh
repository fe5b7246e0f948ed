#!/usr/bin/env bash
# Installs versitygw (a real S3 server, Apache-2.0) from the Go module proxy
# into a cache folder keyed by its version, outside nb's go.mod, and prints
# the binary's path: tests read it from NB_VERSITYGW.
set -euo pipefail
version=v1.8.0
cache="${NB_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nb/tools}/versitygw-$version"
if [ -x "$cache/versitygw" ]; then
  echo "$cache/versitygw"; exit 0
fi
mkdir -p "$cache.tmp"
GOBIN="$cache.tmp" GOFLAGS=-mod=mod go install "github.com/versity/versitygw/cmd/versitygw@$version" >&2
rm -rf "$cache" && mv "$cache.tmp" "$cache"
echo "$cache/versitygw"
