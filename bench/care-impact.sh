#!/usr/bin/env bash
# How much background care slows S3 reads: a cold 1 GiB GET (AWS CLI) from
# nb serve with no scrub, with a scrub of another bucket (4 x 256 MiB) at
# --care-rate 64Mi (the default), and with it unbounded (0). Run it on a
# quiet machine (figures: docs/benchmarks.md).
set -eo pipefail
cd "$(dirname "$0")/.."; go build -o /tmp/nb-care ./cmd/nb; N=/tmp/nb-care
W=/var/tmp/nb-care-impact; rm -rf "$W"; mkdir -p "$W"
S=$W/base
export NB_TARGET=local
envof() { NB_STATE_DIR=$1 $N obc status "$2" -o env --show-secrets 2>/dev/null | sed -n "s/^export $3='\?\([^']*\)'\?$/\1/p"; }
ready() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; exit 1; }
cp_() { local dir=$1 claim=$2 port=$3; shift 3
  AWS_ACCESS_KEY_ID=$(envof "$dir" "$claim" AWS_ACCESS_KEY_ID) AWS_SECRET_ACCESS_KEY=$(envof "$dir" "$claim" AWS_SECRET_ACCESS_KEY) \
    aws --endpoint-url http://127.0.0.1:$port --region us-east-1 s3 cp --only-show-errors "$@"; }
export NB_STATE_DIR=$S
$N backingstore create pv-pool pv1 --num-volumes 1 --pv-size-gb 64 >/dev/null 2>&1
$N bucketclass create one --backingstores pv1 >/dev/null 2>&1
$N obc create a-scrubbed --bucketclass one >/dev/null 2>&1
$N obc create b-read --bucketclass one >/dev/null 2>&1
A=$(envof "$S" a-scrubbed BUCKET_NAME); B=$(envof "$S" b-read BUCKET_NAME)
head -c $((1<<30)) /dev/urandom > "$W/big"; head -c $((256<<20)) /dev/urandom > "$W/part"
$N serve --address 127.0.0.1:6091 --scrub-interval 0 >/dev/null 2>&1 & sp=$!; ready 6091
for i in 1 2 3 4; do cp_ "$S" a-scrubbed 6091 "$W/part" "s3://$A/p$i"; done
cp_ "$S" b-read 6091 "$W/big" "s3://$B/big"
kill $sp; wait $sp 2>/dev/null || true
$N bucket list 2>/dev/null
unset NB_STATE_DIR
for mode in "no-scrub --scrub-interval 0" "scrub-64Mi --scrub-interval 1m --care-rate 64Mi" "scrub-unbounded --scrub-interval 1m --care-rate 0"; do
  set -- $mode; name=$1; shift
  D=$W/$name; rm -rf "$D"; cp -a "$S" "$D"
  sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
  NB_STATE_DIR=$D $N serve --address 127.0.0.1:6092 "$@" 2>"$W/$name.log" & sp=$!; ready 6092; sleep 4
  start=$(date +%s.%N)
  cp_ "$D" b-read 6092 "s3://$B/big" - > /dev/null  # to stdout: the client writes nothing on the disk nb reads
  end=$(date +%s.%N)
  kill $sp; wait $sp 2>/dev/null || true
  python3 -c "import sys; t=$end-$start; print(f'{sys.argv[1]:16s} 1 GiB GET {t:6.2f} s {1024/t:6.0f} MiB/s; scrubs finished: {sys.argv[2]}')" "$name" "$(grep -c 'care: scrubbed' "$W/$name.log" || true)"
done
