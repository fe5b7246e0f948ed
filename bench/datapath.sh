#!/usr/bin/env bash
# Data-path benchmarks with their baselines, in one run on the same disk,
# each the median of RUNS runs (default 3; this VM's disk is noisy):
#   Mirror write of a 1 GiB file to two dir stores (fsync per block) vs
#   `cp` to two folders + sync; Mirror read vs a raw read of the file, both
#   cold (page cache dropped; needs root); erasure-coded (4+2) Spread write
#   vs plain Spread; peak RSS while a 4 GiB object is written and read.
# Usage: bench/datapath.sh [work-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-3}
work=${1:-$(mktemp -d "${TMPDIR:-/tmp}/nb-bench.XXXX")}
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
go build -o "$work/datapath" ./bench/datapath
file=$work/input.bin
head -c $((1<<30)) /dev/urandom > "$file"
size=$(stat -c %s "$file")

drop() { sync; if [ -w /proc/sys/vm/drop_caches ]; then echo 3 > /proc/sys/vm/drop_caches; fi; }
now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
rate() { awk -v b="$size" -v s="$1" 'BEGIN{printf "%.0f\n", b/s/1e6}'; }
nbrate() { awk '{for(i=1;i<=NF;i++) if($i=="MB/s") print $(i-1)}'; }
rss() { awk '{for(i=1;i<=NF;i++) if($i=="peak-rss") print $(i+1)}'; }

cp_runs=(); raw_runs=(); mirror_runs=(); read_runs=(); spread_runs=(); ec_runs=()
for i in $(seq "$runs"); do
  rm -rf "$work/cp1" "$work/cp2"; mkdir -p "$work/cp1" "$work/cp2"; drop
  s=$(now); cp "$file" "$work/cp1/"; cp "$file" "$work/cp2/"; sync; e=$(now)
  cp_runs+=("$(rate "$(awk -v s="$s" -v e="$e" 'BEGIN{print e-s}')")")
  rm -rf "$work/cp1" "$work/cp2"
  drop; s=$(now); cat "$file" > /dev/null; e=$(now)
  raw_runs+=("$(rate "$(awk -v s="$s" -v e="$e" 'BEGIN{print e-s}')")")
  rm -rf "$work/stores"; drop
  mirror_runs+=("$("$work/datapath" -mode mirror-write -file "$file" -root "$work/stores" | nbrate)")
  drop; read_runs+=("$("$work/datapath" -mode read -root "$work/stores" | nbrate)")
  rm -rf "$work/stores"; drop
  spread_runs+=("$("$work/datapath" -mode spread-write -file "$file" -root "$work/stores" | nbrate)")
  rm -rf "$work/stores"; drop
  ec_runs+=("$("$work/datapath" -mode ec-write -file "$file" -root "$work/stores" | nbrate)")
  rm -rf "$work/stores"
done
rm -f "$file"
stream=$("$work/datapath" -mode stream -size $((4<<30)) -root "$work/stores")

m() { printf '%s\n' "$@" | median; }
cp=$(m "${cp_runs[@]}"); raw=$(m "${raw_runs[@]}"); mw=$(m "${mirror_runs[@]}")
rd=$(m "${read_runs[@]}"); sp=$(m "${spread_runs[@]}"); ec=$(m "${ec_runs[@]}")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }
echo "medians of $runs runs (MB/s): runs listed in brackets"
echo "cp to two dirs + sync   $cp   [${cp_runs[*]}]"
echo "mirror write (fsync)    $mw   [${mirror_runs[*]}]   ratio $(ratio "$mw" "$cp") (target >= 0.85)"
echo "raw read, cold          $raw  [${raw_runs[*]}]"
echo "mirror read, cold       $rd   [${read_runs[*]}]   ratio $(ratio "$rd" "$raw") (target >= 0.85)"
echo "spread write            $sp   [${spread_runs[*]}]"
echo "EC 4+2 spread write     $ec   [${ec_runs[*]}]   ratio $(ratio "$ec" "$sp") (target >= 0.70)"
echo "4 GiB write+read: $(nbrate <<<"$stream") MB/s, peak RSS $(rss <<<"$stream") (target <= 64 MiB = 65536kB)"
