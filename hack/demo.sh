#!/usr/bin/env bash
# The classic federation walk-through, for real, on nb's local target (no
# cluster needed): two pv-pool stores, a Mirror bucket class over them, a
# claim, and nb verify: upload an object, lose each store in turn, read it
# back and compare checksums. The state goes to a fresh directory unless NB_DEMO_STATE_DIR
# names one.
set -euo pipefail
nb=${1:-bin/nb}
state=${NB_DEMO_STATE_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/nb-demo.XXXXXX")}
export NB_TARGET=local NB_STATE_DIR="$state"
run() { printf '\n$ nb %s\n' "${*:2}" >&2; "$@"; }
run "$nb" backingstore create pv-pool pv1 --num-volumes 2 --pv-size-gb 16
run "$nb" backingstore create pv-pool pv2 --num-volumes 2 --pv-size-gb 16
run "$nb" bucketclass create placement-bucketclass mirror-class --placement Mirror --backingstores pv1,pv2
run "$nb" obc create federated-bucket --bucketclass mirror-class
run "$nb" backingstore list
run "$nb" bucketclass list
run "$nb" obc list
run "$nb" verify federated-bucket --size 256Mi
printf '\nThe walk-through state is in %s (NB_TARGET=local NB_STATE_DIR=%s nb ... to explore it; rm -rf it when done).\n' "$state" "$state" >&2
