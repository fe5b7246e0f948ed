#!/usr/bin/env bash
# nb serve under load for ROUNDS rounds (30 by default; CI runs 4), each
# with one fault: SIGKILL and restart, a Mirror store taken away and
# brought back, a damaged block, or a class change (the data moved). Every acknowledged object must read
# back byte-identical after each round and no scrub may find one lost.
# Prints the figures docs/benchmarks.md records.
set -euo pipefail
cd "$(dirname "$0")/.."
export NB_VERSITYGW="${NB_VERSITYGW:-$(./hack/versitygw.sh)}"
NB_TEST_CHAOS_ROUNDS=${ROUNDS:-30} go test -count=1 -v -timeout 60m -run 'TestServeChaos$' ./pkg/server/ | grep -E 'seed|chaos:|PASS|FAIL|ok|round'
