#!/usr/bin/env bash
# Time from the operator's status write to `nb backingstore create` returning
# on Ready, against a real kube-apiserver + etcd. Prints the median and p90.
set -euo pipefail
cd "$(dirname "$0")/.."
export KUBEBUILDER_ASSETS="$(./hack/envtest-assets.sh)"
go test -run=NONE -bench=BenchmarkWaitReadyLatency -benchtime="${1:-50}x" ./pkg/nbcmd/
