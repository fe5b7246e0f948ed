#!/usr/bin/env bash
# Runs a public S3 compatibility suite against nb serve: versitygw v1.8.0's
# integration tests (`versitygw test full-flow`, written against AWS S3's
# behaviour) with NooBaa's admin keys, on a fresh state directory. The
# test (pkg/server TestPublicS3Suite, part of `make test`) fails on any
# failure testdata/s3-suite/known-failures.txt does not list with its
# reason, and on any listed test that passes.
# NB_S3_SUITE_OUT=FILE keeps the suite's whole output.
set -euo pipefail
cd "$(dirname "$0")/.."
NB_VERSITYGW=$(./hack/versitygw.sh) exec go test -run '^TestPublicS3Suite$' -count=1 -v ./pkg/server
