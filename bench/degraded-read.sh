#!/usr/bin/env bash
# A Mirror read with its S3 mirror down: nb verify --fail on a Mirror of a
# pv-pool store and an s3-compatible store (versitygw posix on 127.0.0.1),
# with each nb binary given (default: this checkout's). Pass an older
# build first to compare in the same run, e.g.
#   git worktree add /tmp/old <commit> && (cd /tmp/old && go build -o /tmp/nb-old ./cmd/nb)
#   bench/degraded-read.sh /tmp/nb-old
# SIZE (default 640Mi) is the object's size.
set -euo pipefail
cd "$(dirname "$0")/.."
go build -o /tmp/nb-bench ./cmd/nb
bins=("$@" /tmp/nb-bench)
VG=$(./hack/versitygw.sh)
W=${WORK:-/var/tmp/nb-degraded}
rm -rf "$W"; mkdir -p "$W/vg/nbs3"
export ROOT_ACCESS_KEY=admin ROOT_SECRET_KEY=adminsecret
"$VG" --port 127.0.0.1:7071 posix "$W/vg" >/dev/null 2>&1 &
vgp=$!
trap 'kill $vgp' EXIT
sleep 1
i=0
for bin in "${bins[@]}"; do
  i=$((i+1))
  S=$W/state-$i
  nb() { "$bin" "$@" --target local --state-dir "$S" >/dev/null 2>&1; }
  nb backingstore create pv-pool pv1 --num-volumes 1 --pv-size-gb 16
  "$bin" backingstore create s3-compatible s3a --endpoint http://127.0.0.1:7071 --target-bucket nbs3 \
    --access-key admin --secret-key adminsecret --target local --state-dir "$S" >/dev/null 2>&1 || true
  nb bucketclass create placement-bucketclass m --placement Mirror --backingstores pv1,s3a
  nb obc create c1 --bucketclass m
  "$bin" verify c1 --size "${SIZE:-640Mi}" --fail s3a -o json --target local --state-dir "$S" >"$W/$i.json" 2>/dev/null
  python3 - "$bin" "$W/$i.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[2]))
for c in r["cases"]:
    print(f"{sys.argv[1]}: upload {r['uploadSeconds']:.2f} s; read with {'+'.join(c['failed'])} down: {c['result']} in {c['seconds']:.2f} s")
PY
done
