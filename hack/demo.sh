#!/usr/bin/env bash
# The classic federation walk-through. Until the local control plane lands
# it prints the manifests nb generates for it (no cluster is touched).
set -euo pipefail
nb=${1:-bin/nb}
run() { printf '\n$ %s\n' "$*" >&2; "$@"; }
export AWS_ACCESS_KEY_ID=AKIADEMOEXAMPLE AWS_SECRET_ACCESS_KEY=demo-secret-not-real
run "$nb" backingstore create aws-s3 aws1 --target-bucket nb-demo-bucket --region us-east-1 --dry-run=client -o yaml
run "$nb" backingstore create pv-pool pv1 --num-volumes 1 --pv-size-gb 16 --dry-run=client -o yaml
run "$nb" bucketclass create placement-bucketclass mirror-class --backingstores aws1,pv1 --placement Mirror --dry-run=client -o yaml
run "$nb" obc create federated-bucket --bucketclass mirror-class --dry-run=client -o yaml
