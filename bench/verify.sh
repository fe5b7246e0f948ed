#!/usr/bin/env bash
# nb verify of the walk-through's "movie": a 3 GiB object on a Mirror over
# two pv-pool stores, on the local target, RUNS times (default 3), each in
# a fresh state directory. Each run reports the upload rate, each
# read-back's time and nb's peak RSS (GNU time), and, in the same run and
# on the same object (kept with --keep), what the read-back is measured
# against:
#   - the data path's own cold Mirror read of the object (bench/datapath
#     -mode read-object, page cache dropped first), and
#   - one core's SHA-256 rate (in memory), with the CPU a cold read and a
#     SHA-256 of the object take: a read-back is both, so on this
#     machine's cores it cannot run faster than
#     cores / (read CPU + SHA CPU) per byte.
# The page cache is dropped (as root) before each verify, so that the
# peak RSS does not depend on how much of the freshly built nb binary is
# still cached (fault-around maps up to 16 cached pages per fault).
# Usage: bench/verify.sh [size, default 3Gi]
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-3Gi}
runs=${RUNS:-3}
work=$(mktemp -d "${TMPDIR:-/tmp}/nb-bench-verify.XXXX")
trap 'rm -rf "$work"' EXIT
go build -o "$work/nb" ./cmd/nb
go build -o "$work/datapath" ./bench/datapath
nb=$work/nb
drop() { sync; if [ -w /proc/sys/vm/drop_caches ]; then echo 3 > /proc/sys/vm/drop_caches; fi; }
[ -w /proc/sys/vm/drop_caches ] || echo "note: not root, so the page cache cannot be dropped: reads are not cold" >&2
cores=$(nproc)
for i in $(seq "$runs"); do
  export NB_TARGET=local NB_STATE_DIR="$work/state$i"
  $nb backingstore create pv-pool pv1 --num-volumes 2 --pv-size-gb 16 2>/dev/null >/dev/null
  $nb backingstore create pv-pool pv2 --num-volumes 2 --pv-size-gb 16 2>/dev/null >/dev/null
  $nb bucketclass create placement-bucketclass mirror --placement Mirror --backingstores pv1,pv2 2>/dev/null >/dev/null
  $nb obc create movie --bucketclass mirror 2>/dev/null >/dev/null
  drop
  /usr/bin/time -f "peak-rss-kb %M elapsed-s %e" "$nb" verify movie --size "$size" --keep -o json > "$work/report.json" 2> "$work/time.txt"
  read -r bucket key < <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["bucket"], r["key"])' "$work/report.json")
  drop
  /usr/bin/time -f "cpu-s %U %S" "$work/datapath" -mode read-object -state "$NB_STATE_DIR" -bucket "$bucket" -key "$key" > "$work/read.txt" 2>&1
  drop
  /usr/bin/time -f "cpu-s %U %S" "$work/datapath" -mode read-object -state "$NB_STATE_DIR" -bucket "$bucket" -key "$key" -sha256 whole > "$work/readsha.txt" 2>&1
  "$work/datapath" -mode sha256 > "$work/sha.txt"
  python3 - "$work" "$cores" "$i" <<'PY'
import json, sys
work, cores, run = sys.argv[1], int(sys.argv[2]), sys.argv[3]
r = json.load(open(f"{work}/report.json"))
t = open(f"{work}/time.txt").read().split()
rss = int(t[t.index("peak-rss-kb") + 1]); el = float(t[t.index("elapsed-s") + 1])
def dp(name):
    w = open(f"{work}/{name}").read().split()
    mbs = float(w[w.index("MB/s") - 1])
    c = w.index("cpu-s") if "cpu-s" in w else -1
    cpu = float(w[c + 1]) + float(w[c + 2]) if c >= 0 else 0
    return mbs * 1e6 / 2**20, cpu
mib = r["size"] / 2**20
read, read_cpu = dp("read.txt")
readsha, readsha_cpu = dp("readsha.txt")
sha, _ = dp("sha.txt")
# CPU per MiB of a cold read, and of a SHA-256 (one core's rate).
bound = cores / (read_cpu / mib + 1 / sha)
print(f"run {run}: object {mib:.0f} MiB, verdict ok={r['ok']}, whole command {el:.1f}s, peak RSS {rss / 1024:.1f} MiB")
print(f"  upload {r['uploadSeconds']:.2f}s = {mib / r['uploadSeconds']:.0f} MiB/s (Mirror, fsync per block)")
print(f"  data path's cold Mirror read of the object: {read:.0f} MiB/s ({read_cpu / mib * 1024:.2f} CPU-s per GiB); with one SHA-256 of it: {readsha:.0f} MiB/s")
print(f"  one core's SHA-256: {sha:.0f} MiB/s; CPU bound of a read-back on {cores} cores: {bound:.0f} MiB/s")
for c in r["cases"]:
    if c["result"] != "intact":
        print(f"  fail {'+'.join(c['failed'])}: {c['result']} in {c['seconds']:.2f}s")
        continue
    rate = mib / c["seconds"]
    print(f"  fail {'+'.join(c['failed'])}: intact, read back at {rate:.0f} MiB/s = {rate / read:.2f} x the cold Mirror read (target >= 0.8), {rate / min(read, bound):.2f} x the bound min(read, CPU) (>= 0.9)")
PY
  rm -rf "$NB_STATE_DIR"
done
