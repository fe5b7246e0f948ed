#!/usr/bin/env bash
# Data-path benchmarks with their baselines, in one run on the same disk.
# Every figure is measured RUNS times (default 5), each nb figure right
# after its baseline, and the ratio reported is the median of the per-run
# ratios (this VM's disk is noisy; a ratio of medians would pair runs that
# did not see the same disk):
#   Mirror write of a 1 GiB file to two dir stores (fsync per block) vs
#   `cp` to two folders + sync; Mirror read vs a raw read of the file with
#   the same 4 MiB requests (`dd bs=4M`), both cold (page cache dropped;
#   needs root); erasure-coded (4+2) Spread write vs plain Spread, from a
#   warm input, with the disk's own ceiling for that ratio (six parallel
#   direct writes of 1 GiB against 1.5 GiB: 4+2 writes 1.5x the bytes)
#   and the same pair on tmpfs stores (nb's cost without a device); peak
#   RSS while a 4 GiB object is written and read.
# The raw read reads the copy `cp` has just written, not the source file:
# the source is read five times per run, so the VM's host keeps it in its
# own cache and a raw read of it measures that cache, not the disk (both
# are printed). The copy and nb's blocks are written moments before their
# reads, the same way.
# The Mirror write is also paired with what the disk does for two copies:
# two parallel direct `dd` writers of the same file (bs=4M oflag=direct
# conv=fsync), timed right before it (issue 19's yardstick), and with one
# core's SHA-256 rate in memory (the object's SHA-256 is one serial
# stream): the ratio to the slower of the two is printed too.
# Usage: bench/datapath.sh [work-dir]      (ONLY=read: the read pair only;
#        ONLY=mirror: the Mirror write pairs only)
#        DP_FLAGS=-noextents bench/datapath.sh   (the file-per-block layout)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
only=${ONLY:-all}
shm=""
if [ $# -gt 0 ]; then
  work=$1; mkdir -p "$work"
  trap 'rm -rf "$work/cp1" "$work/cp2" "$work/stores" "$work/dd" "$work/input.bin" "$work/datapath" ${shm:+"$shm"}' EXIT
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/nb-bench.XXXX")
  trap 'rm -rf "$work" ${shm:+"$shm"}' EXIT
fi
go build -o "$work/datapath" ./bench/datapath
file=$work/input.bin
head -c $((1<<30)) /dev/urandom > "$file"
size=$(stat -c %s "$file")
if [ ! -w /proc/sys/vm/drop_caches ]; then
  echo "note: not root, so reads are not cold (the page cache cannot be dropped)" >&2
fi

drop() { sync; if [ -w /proc/sys/vm/drop_caches ]; then echo 3 > /proc/sys/vm/drop_caches; fi; }
now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
rate() { awk -v b="$size" -v s="$1" -v e="$2" 'BEGIN{printf "%.0f\n", b/(e-s)/1e6}'; }
nbrate() { awk '{for(i=1;i<=NF;i++) if($i=="MB/s") print $(i-1)}'; }
rss() { awk '{for(i=1;i<=NF;i++) if($i=="peak-rss") print $(i+1)}'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f\n", a/b}'; }
# DP_FLAGS go to every nb run (e.g. DP_FLAGS=-noextents: a file per block).
dp() { "$work/datapath" "$@" -root "$work/stores" ${DP_FLAGS:-}; }
dpat() { local root=$1; shift; "$work/datapath" "$@" -root "$root" ${DP_FLAGS:-}; }
# warm reads the input into the page cache: the EC/Spread pair compares two
# write paths, and on this VM a cold read of the input costs 0.1-1.2 s of
# kernel copy time per GiB from one run to the next (docs/benchmarks.md),
# more than the difference being measured.
warm() { cat "$file" > /dev/null; }
# ddw N: seconds for six parallel direct writes of N MiB each (fsynced),
# from the input file, as six dir stores receive them: the disk's own
# figure for what a Spread (6 x 171 MiB = 1 GiB) and an EC 4+2 write
# (6 x 256 MiB = 1.5 GiB) must put on it.
ddw() {
  rm -rf "$work/dd"; mkdir -p "$work/dd"; drop; warm
  local s e j
  s=$(now)
  for j in 0 1 2 3 4 5; do
    dd if="$file" of="$work/dd/$j" bs=1M count="$1" skip=$(( (j * $1) % 768 )) oflag=direct conv=fsync status=none &
  done
  wait; e=$(now); rm -rf "$work/dd"
  awk -v s="$s" -v e="$e" 'BEGIN{printf "%.3f\n", e-s}'
}
if [ -d /dev/shm ] && [ "$(df -k --output=avail /dev/shm | tail -1)" -gt $((4<<20)) ]; then
  shm=$(mktemp -d /dev/shm/nb-bench.XXXX)
fi

cp_runs=(); dd2_runs=(); mw_dd2=(); sha_runs=(); mw_bound=(); mw_runs=(); mw_ratio=(); raw_runs=(); src_runs=(); blk_runs=(); rd_runs=(); rd_ratio=()
sp_runs=(); ec_runs=(); ec_ratio=(); ec_rss=(); ceil_ratio=(); shm_sp=(); shm_ec=(); shm_ratio=()
if [ "$only" = read ]; then
  rm -rf "$work/stores"; dp -mode mirror-write -file "$file" >/dev/null
  mkdir -p "$work/cp1"; cp "$file" "$work/cp1/"; sync
fi
for i in $(seq "$runs"); do
  if [ "$only" != read ]; then
    rm -rf "$work/cp1" "$work/cp2" "$work/stores"; mkdir -p "$work/cp1" "$work/cp2"; drop
    s=$(now); cp "$file" "$work/cp1/"; cp "$file" "$work/cp2/"; sync; e=$(now)
    c=$(rate "$s" "$e"); cp_runs+=("$c"); rm -rf "$work/cp2"; drop
    # The disk's two-copy rate: two direct writers of the file at once.
    mkdir -p "$work/dd"; drop; s=$(now)
    dd if="$file" of="$work/dd/1" bs=4M oflag=direct conv=fsync status=none &
    dd if="$file" of="$work/dd/2" bs=4M oflag=direct conv=fsync status=none &
    wait; e=$(now); rm -rf "$work/dd"; drop
    d2=$(rate "$s" "$e"); dd2_runs+=("$d2")
    m=$(dp -mode mirror-write -file "$file" | nbrate); mw_runs+=("$m"); mw_ratio+=("$(div "$m" "$c")")
    mw_dd2+=("$(div "$m" "$d2")")
    # The other bound of a Mirror write: the object's SHA-256 (the
    # manifest's, what nb verify reports) is one serial stream of hashing
    # on one core. The write cannot beat the slower of the two.
    sh=$(dp -mode sha256 | nbrate); sha_runs+=("$sh")
    b=$(awk -v a="$d2" -v b="$sh" 'BEGIN{print (a < b ? a : b)}'); mw_bound+=("$(div "$m" "$b")")
  fi
  if [ "$only" = mirror ]; then rm -rf "$work/cp1" "$work/stores"; continue; fi
  drop; s=$(now); dd if="$file" of=/dev/null bs=4M status=none; e=$(now)
  src_runs+=("$(rate "$s" "$e")")
  drop; s=$(now); dd if="$work/cp1/input.bin" of=/dev/null bs=4M status=none; e=$(now)
  r=$(rate "$s" "$e"); raw_runs+=("$r")
  drop; d=$(dp -mode read | nbrate); rd_runs+=("$d"); rd_ratio+=("$(div "$d" "$r")")
  # The same bytes as nb reads them, without nb: one store's files (its
  # extent, or its block files in chunk order), by cat.
  drop; s=$(now)
  find "$work/stores/pv0" -path '*/blocks/*' -type f -printf '%f %p\n' | sort -n | cut -d' ' -f2- | xargs cat > /dev/null
  e=$(now); blk_runs+=("$(rate "$s" "$e")")
  [ "$only" = read ] || rm -rf "$work/cp1"
  if [ "$only" != read ]; then
    rm -rf "$work/stores"; drop; warm
    p=$(dp -mode spread-write -file "$file" | nbrate); sp_runs+=("$p")
    rm -rf "$work/stores"; drop; warm
    out=$(dp -mode ec-write -file "$file"); x=$(nbrate <<<"$out")
    ec_runs+=("$x"); ec_ratio+=("$(div "$x" "$p")"); ec_rss+=("$(rss <<<"$out")")
    rm -rf "$work/stores"
    # The disk's ceiling for that ratio: 1 GiB against 1.5 GiB of writes.
    t1=$(ddw 171); t15=$(ddw 256)
    ceil_ratio+=("$(awk -v a="$t1" -v b="$t15" 'BEGIN{printf "%.2f\n", a*1024/1026/b}')")
    # The same pair with the stores in memory (tmpfs): nb's own cost of
    # erasure coding, with no device in the way.
    if [ -n "$shm" ]; then
      rm -rf "$shm/stores"; warm
      p=$(dpat "$shm/stores" -mode spread-write -file "$file" | nbrate); shm_sp+=("$p")
      rm -rf "$shm/stores"; warm
      x=$(dpat "$shm/stores" -mode ec-write -file "$file" | nbrate); shm_ec+=("$x")
      shm_ratio+=("$(div "$x" "$p")"); rm -rf "$shm/stores"
    fi
  fi
done

m() { printf '%s\n' "$@" | median; }
echo "$runs runs (MB/s, each run's figures in brackets); ratio = median of the per-run ratios"
if [ "$only" != read ]; then
  echo "cp to two dirs + sync    $(m "${cp_runs[@]}")   [${cp_runs[*]}]"
  echo "two direct dd writers    $(m "${dd2_runs[@]}")   [${dd2_runs[*]}] (object rate: 1 GiB / time for both copies)"
  echo "mirror write (fsync)     $(m "${mw_runs[@]}")   [${mw_runs[*]}]   ratio $(m "${mw_ratio[@]}") [${mw_ratio[*]}] (target >= 0.85)"
  echo "  against two dd writers: $(m "${mw_dd2[@]}") [${mw_dd2[*]}] (target >= 0.90)"
  echo "one core's SHA-256       $(m "${sha_runs[@]}")   [${sha_runs[*]}]"
  echo "  against the slower of the two: $(m "${mw_bound[@]}") [${mw_bound[*]}] (target >= 0.90)"
fi
[ "$only" = mirror ] && exit 0
echo "raw read of the source     $(m "${src_runs[@]}")  [${src_runs[*]}] (host-cached, see above)"
echo "raw read of the fresh copy $(m "${raw_runs[@]}")  [${raw_runs[*]}] (dd bs=4M, cold)"
echo "raw read of nb's blocks  $(m "${blk_runs[@]}")  [${blk_runs[*]}] (cat of one store's extent or block files, cold)"
echo "mirror read, cold        $(m "${rd_runs[@]}")   [${rd_runs[*]}]   ratio $(m "${rd_ratio[@]}") [${rd_ratio[*]}] (target >= 0.85)"
[ "$only" = read ] && exit 0
echo "spread write             $(m "${sp_runs[@]}")   [${sp_runs[*]}]"
echo "EC 4+2 spread write      $(m "${ec_runs[@]}")   [${ec_runs[*]}]   ratio $(m "${ec_ratio[@]}") [${ec_ratio[*]}] (target >= 0.70); peak RSS [${ec_rss[*]}]"
echo "  disk ceiling of that ratio (dd: 6 x 171 MiB against 6 x 256 MiB, direct+fsync): $(m "${ceil_ratio[@]}") [${ceil_ratio[*]}]"
if [ -n "$shm" ]; then
  echo "spread write, tmpfs      $(m "${shm_sp[@]}")   [${shm_sp[*]}]"
  echo "EC 4+2 write, tmpfs      $(m "${shm_ec[@]}")   [${shm_ec[*]}]   ratio $(m "${shm_ratio[@]}") [${shm_ratio[*]}] (target >= 0.70)"
fi
rm -f "$file"
stream=$(dp -mode stream -size $((4<<30)))
rm -rf "$work/stores"
echo "4 GiB Mirror write+read: $(nbrate <<<"$stream") MB/s, peak RSS $(rss <<<"$stream") (target <= 64 MiB = 65536kB)"
