#!/usr/bin/env bash
# Data-path benchmarks with their baselines, in one run on the same disk:
#   Mirror write of a 1 GiB file to two dir stores (fsync) vs `cp` to two
#   folders + sync; Mirror read vs a raw read of the file; erasure-coded
#   (4+2) Spread write vs plain Spread; peak RSS of a 4 GiB object.
# Usage: bench/datapath.sh [work-dir]   (default: a folder under /work or /tmp)
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-$(mktemp -d "${TMPDIR:-/tmp}/nb-bench.XXXX")}
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
go build -o "$work/datapath" ./bench/datapath
file=$work/input.bin
head -c $((1<<30)) /dev/urandom > "$file"
# Reads are compared cold: both from disk, with the page cache dropped
# (needs root; otherwise both come from the cache and the ratio says little).
drop() { sync; if [ -w /proc/sys/vm/drop_caches ]; then echo 3 > /proc/sys/vm/drop_caches; fi; }
mbps() { awk -v b="$1" -v s="$2" 'BEGIN{printf "%.0f", b/s/1e6}'; }
timeit() { local s e; s=$(date +%s.%N); "$@"; e=$(date +%s.%N); awk -v s="$s" -v e="$e" 'BEGIN{print e-s}'; }
size=$(stat -c %s "$file")

rm -rf "$work/cp1" "$work/cp2"; mkdir -p "$work/cp1" "$work/cp2"; drop
cp_s=$(timeit bash -c "cp '$file' '$work/cp1/' && cp '$file' '$work/cp2/' && sync")
rm -rf "$work/cp1" "$work/cp2"
drop; raw_s=$(timeit bash -c "cat '$file' > /dev/null")

rm -rf "$work/stores"; drop
mirror=$("$work/datapath" -mode mirror-write -file "$file" -root "$work/stores")
drop; read=$("$work/datapath" -mode read -root "$work/stores")
rm -rf "$work/stores"; drop
spread=$("$work/datapath" -mode spread-write -file "$file" -root "$work/stores")
rm -rf "$work/stores"; drop
ec=$("$work/datapath" -mode ec-write -file "$file" -root "$work/stores")
rm -rf "$work/stores" "$file"; sync
stream=$("$work/datapath" -mode stream -size $((4<<30)) -root "$work/stores")

field() { awk -v k="$2" '{for(i=1;i<=NF;i++) if($i==k) print $(i-1)}' <<<"$1"; }
cp_mbps=$(mbps "$size" "$cp_s"); raw_mbps=$(mbps "$size" "$raw_s")
m=$(field "$mirror" MB/s); r=$(field "$read" MB/s); s=$(field "$spread" MB/s); e=$(field "$ec" MB/s)
echo "baseline cp to two dirs + sync: $cp_mbps MB/s; raw read: $raw_mbps MB/s"
echo "$mirror";  echo "  mirror write / cp baseline = $(awk -v a="$m" -v b="$cp_mbps" 'BEGIN{printf "%.2f", a/b}') (target >= 0.85)"
echo "$read";    echo "  read / raw read = $(awk -v a="$r" -v b="$raw_mbps" 'BEGIN{printf "%.2f", a/b}') (target >= 0.85)"
echo "$spread"
echo "$ec";      echo "  EC 4+2 / plain spread = $(awk -v a="$e" -v b="$s" 'BEGIN{printf "%.2f", a/b}') (target >= 0.70)"
echo "$stream";  echo "  (4 GiB written and read back; target peak RSS <= 64 MiB)"
