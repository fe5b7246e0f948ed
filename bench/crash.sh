#!/usr/bin/env bash
# kill -9 of nb serve at random points during uploads, TRIALS times (50 by
# default; CI runs 3): after each restart every acknowledged object must
# read back byte-identical and no torn object may be visible.
set -euo pipefail
cd "$(dirname "$0")/.."
NB_TEST_CRASH_TRIALS=${TRIALS:-50} go test -count=1 -v -run 'TestServeKilledDuringUploads$' ./pkg/server/ | grep -E 'trials|PASS|FAIL|ok'
