#!/usr/bin/env bash
# nb verify of the walk-through's "movie": a 3 GiB object on a Mirror over
# two pv-pool stores, on the local target. Reports the upload rate, each
# read-back's time and nb's peak RSS (GNU time).
# Usage: bench/verify.sh [size, default 3Gi]
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-3Gi}
work=$(mktemp -d "${TMPDIR:-/tmp}/nb-bench-verify.XXXX")
trap 'rm -rf "$work"' EXIT
go build -o "$work/nb" ./cmd/nb
export NB_TARGET=local NB_STATE_DIR="$work/state"
nb=$work/nb
$nb backingstore create pv-pool pv1 --num-volumes 2 --pv-size-gb 16 2>/dev/null >/dev/null
$nb backingstore create pv-pool pv2 --num-volumes 2 --pv-size-gb 16 2>/dev/null >/dev/null
$nb bucketclass create placement-bucketclass mirror --placement Mirror --backingstores pv1,pv2 2>/dev/null >/dev/null
$nb obc create movie --bucketclass mirror 2>/dev/null >/dev/null
/usr/bin/time -f "peak-rss-kb %M elapsed-s %e" "$nb" verify movie --size "$size" -o json > "$work/report.json" 2> "$work/time.txt"
python3 - "$work/report.json" "$work/time.txt" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
t = open(sys.argv[2]).read().split()
rss = int(t[t.index("peak-rss-kb") + 1]); el = float(t[t.index("elapsed-s") + 1])
mib = r["size"] / 2**20
print(f"object {mib:.0f} MiB, verdict ok={r['ok']}")
print(f"upload {r['uploadSeconds']:.2f}s = {mib / r['uploadSeconds']:.0f} MiB/s (Mirror, fsync per block)")
for c in r["cases"]:
    rate = f" = {mib / c['seconds']:.0f} MiB/s" if c["result"] == "intact" else ""
    print(f"fail {'+'.join(c['failed'])}: {c['result']} in {c['seconds']:.2f}s{rate}")
print(f"whole command {el:.1f}s, peak RSS {rss / 1024:.1f} MiB")
PY
