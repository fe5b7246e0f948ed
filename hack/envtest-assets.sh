#!/usr/bin/env bash
# Builds kube-apiserver and etcd from the Go module proxy (hack/envtest-bins)
# into a cache folder keyed by the wrapper module's contents, and prints that
# folder: use it as KUBEBUILDER_ASSETS. A cache hit costs milliseconds.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src="$here/envtest-bins"
key=$(cat "$src/go.mod" "$src/go.sum" "$src"/*/main.go | sha256sum | cut -c1-16)
cache="${NB_ENVTEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nb/envtest}/$key"
if [ -x "$cache/kube-apiserver" ] && [ -x "$cache/etcd" ]; then
  echo "$cache"; exit 0
fi
mkdir -p "$cache.tmp"
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=v1.34.4"
# No -trimpath: it would make later `go test` builds of client-go miss the cache.
(cd "$src" && go build -mod=readonly -ldflags "$ldflags" -o "$cache.tmp/kube-apiserver" ./kube-apiserver \
  && go build -mod=readonly -ldflags "-s -w" -o "$cache.tmp/etcd" ./etcd) >&2
rm -rf "$cache" && mv "$cache.tmp" "$cache"
echo "$cache"
