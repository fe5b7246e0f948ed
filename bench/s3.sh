#!/usr/bin/env bash
# nb serve against versitygw v1.8.0's posix back end (the anchor), pair by
# pair in the same run on the same disk:
#   - 1 GiB PUT and GET with aws-sdk-go-v2's transfer manager: nb on a
#     one-store class, and on a Mirror over two pv-pool stores; beside
#     them the disk's own two-copy rate (two direct dd writers) and the
#     cold GET's bound with every block's CRC-32C checked (bench/getpaths);
#   - 4 KiB objects, 16 concurrent clients, 10,000 objects: PUT, GET, LIST
#     (versitygw as it ships, and with --keep-alive for reference);
#   - one 1 GiB PutObject and GetObject (ONLY=single; not in the default
#     run): the single-stream path against its bounds measured in the
#     same run (one core's MD5, one direct dd writer, a cold dd read);
#   - nb serve's peak RSS during 4 concurrent 1 GiB uploads and downloads;
#   - start-up of another command (bucketclass create --dry-run=client -o
#     yaml) against kubectl create secret --dry-run=client -o yaml.
# RUNS (default 3) repeats the pairs. BENCH_DIR (default /var/tmp) holds
# the data of both servers. ONLY=big|small|single|rss|startup runs one section.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-3}
size=${SIZE:-1073741824}
small_n=${SMALL_N:-10000}
work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/nb-s3bench.XXXXXX")
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/nb" ./cmd/nb
go build -o "$work/s3load" ./bench/s3load
vgw=$(./hack/versitygw.sh)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 300); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }
val() { python3 -c 'import json,sys; w=sys.argv[1]; print(next(json.loads(l)["value"] for l in sys.stdin if l.strip() and json.loads(l)["what"]==w))' "$1"; }
rotated() { # rotated N A B C... -> the words, shifted left by N mod their count
  local n=$1; shift; local w=("$@"); n=$((n % ${#w[@]}))
  echo "${w[@]:n}" "${w[@]:0:n}"
}
ratio() { python3 -c "print(f'{float(\"$1\")/float(\"$2\"):.2f}')"; }
peak_kib() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }
# Both servers' GETs read from the disk: the page cache is dropped before
# each (nb writes blocks with O_DIRECT, versitygw through the cache; without
# this versitygw's GET is a read of memory). Needs root; else both read
# whatever is cached, and the script says so.
if sync && echo 3 2>/dev/null >/proc/sys/vm/drop_caches; then
  drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }
  cold="cold (page cache dropped before each GET)"
else
  drop() { :; }
  cold="WARM for versitygw (cannot drop the page cache without root)"
fi

# versitygw, posix, on this disk.
vport=$(free_port); mkdir -p "$work/vgw"
"$vgw" --port "127.0.0.1:$vport" --access vkey --secret vsecret0123456789 --quiet posix "$work/vgw" >/dev/null 2>&1 &
vpid=$!
wait_port "$vport"
V=(-endpoint "http://127.0.0.1:$vport" -key vkey -secret vsecret0123456789)
"$work/s3load" mb "${V[@]}" -bucket big; "$work/s3load" mb "${V[@]}" -bucket small

# nb serve: a one-store class (the default one, one pv-pool volume) and a Mirror.
export NB_TARGET=local NB_STATE_DIR="$work/nb-state"
nbq() { "$work/nb" "$@" >/dev/null 2>&1; }
nbq backingstore create pv-pool pv1 --num-volumes 1 --pv-size-gb 64
nbq backingstore create pv-pool pv2 --num-volumes 1 --pv-size-gb 64
nbq bucketclass create placement-bucketclass mirror --placement Mirror --backingstores pv1,pv2
nbq obc create one          # noobaa-default-bucket-class: one pv-pool store
nbq obc create two --bucketclass mirror
nport=$(free_port)
start_nb() {
  "$work/nb" serve --address "127.0.0.1:$nport" 2>"$work/serve.log" &
  npid=$!
  wait_port "$nport"
}
claim() { # claim -> -endpoint ... -key ... -secret ... -bucket ...
  eval "$("$work/nb" obc status "$1" -o env --show-secrets 2>/dev/null)"
  echo "-endpoint http://127.0.0.1:$nport -key $AWS_ACCESS_KEY_ID -secret $AWS_SECRET_ACCESS_KEY -bucket $BUCKET_NAME"
}
start_nb
read -r -a ONE <<<"$(claim one)"
read -r -a TWO <<<"$(claim two)"

only=${ONLY:-}
want() { [[ -z $only || $only == "$1" ]]; }
if want rss; then
echo "== nb serve peak RSS during 4 concurrent $((size >> 20)) MiB uploads, then downloads"
kill "$npid"; wait "$npid" 2>/dev/null || true; start_nb
"$work/s3load" para "${ONE[@]}" -size "$size" -c 4 -label nb
echo "nb serve peak RSS: $(( $(peak_kib "$npid") / 1024 )) MiB (target <= 128)"
fi

if want big; then
printf '\n== 1 GiB PUT / GET (MB/s), %s runs; GETs %s\n' "$runs" "$cold"
# What the disk itself does for a Mirror's two copies, in the same run: two
# parallel direct writers of the object's size (the rate is the object's).
two_copies() {
  head -c "$size" /dev/urandom >"$work/dd.src"
  local s e
  s=$(date +%s%N)
  dd if="$work/dd.src" of="$work/dd.1" bs=4M oflag=direct conv=fsync status=none &
  dd if="$work/dd.src" of="$work/dd.2" bs=4M oflag=direct conv=fsync status=none &
  wait %1 %2 2>/dev/null || wait
  e=$(date +%s%N)
  rm -f "$work/dd.1" "$work/dd.2" "$work/dd.src"
  python3 -c "print(f'{$size / (($e - $s) / 1e9) / 1e6:.0f}')"
}
# The GET's bound with the check the standards ask for: bench/getpaths
# serving a 1 GiB file of this disk the way nb serve reads a block (pread
# into a 4 MiB buffer, CRC-32C, write), cold, to the same client pattern;
# versitygw sendfiles its file unchecked.
go build -o "$work/getpaths" ./bench/getpaths
head -c "$size" /dev/urandom >"$work/chk.file"
gport=$(free_port)
"$work/getpaths" serve -file "$work/chk.file" -addr "127.0.0.1:$gport" >/dev/null &
wait_port "$gport"
printf '%-4s %10s %10s %10s %6s %6s %8s %6s %10s %10s %6s %6s %8s %6s\n' run vgw-put one-put two-put r1 r2 dd-two r2dd vgw-get one-get r1 r2 chk-get r1chk
for r in $(seq "$runs"); do
  v=$("$work/s3load" big "${V[@]}" -bucket big -size "$size" -label vgw -no-get)
  o=$("$work/s3load" big "${ONE[@]}" -size "$size" -label one -no-get)
  t=$("$work/s3load" big "${TWO[@]}" -size "$size" -label two -no-get)
  # The GETs in an order rotating from run to run: the first read after
  # the writes meets what the VM's disk still does with them.
  for who in $(rotated "$r" vgw one two); do
    drop
    case $who in
      vgw) v+=$'\n'$("$work/s3load" big "${V[@]}" -bucket big -size "$size" -label vgw -get-only) ;;
      one) o+=$'\n'$("$work/s3load" big "${ONE[@]}" -size "$size" -label one -get-only) ;;
      two) t+=$'\n'$("$work/s3load" big "${TWO[@]}" -size "$size" -label two -get-only) ;;
    esac
  done
  vp=$(val put <<<"$v"); op=$(val put <<<"$o"); tp=$(val put <<<"$t")
  vg=$(val get <<<"$v"); og=$(val get <<<"$o"); tg=$(val get <<<"$t")
  dd2=$(two_copies)
  drop; chk=$("$work/getpaths" get -url "http://127.0.0.1:$gport/buffered" -size "$size" | awk '{print $1}')
  printf '%-4s %10.0f %10.0f %10.0f %6s %6s %8s %6s %10.0f %10.0f %6s %6s %8.0f %6s\n' "$r" "$vp" "$op" "$tp" "$(ratio "$op" "$vp")" "$(ratio "$tp" "$vp")" \
    "$dd2" "$(ratio "$tp" "$dd2")" "$vg" "$og" "$(ratio "$og" "$vg")" "$(ratio "$tg" "$vg")" "$chk" "$(ratio "$og" "$chk")"
done
echo "(r1: one-store class / versitygw, target >= 1.0; r2: Mirror over two pv-pools / versitygw, target >= 0.8; dd-two: two parallel direct dd writers of the object, MB/s of the object, and r2dd the Mirror PUT against it; two-get ratio is r2 of the GET column; chk-get: the same cold GET of a file with each block's CRC-32C checked before it is sent (bench/getpaths, buffered), and r1chk the one-store GET against it)"
fi

if [[ $only == single ]]; then
printf '\n== one stream: a 1 GiB PutObject and GetObject (unsigned payload, no request checksum), MB/s\n'
# What bounds them, measured in each run: a PUT's ETag is one MD5 of the
# whole stream (one core's MD5 rate), and its bytes must reach the disk
# (one direct dd writer, queue depth 1: nb keeps 4 blocks in flight, so
# the disk does more for it); a GET cannot beat a cold read of the file
# (dd). And the CPU: nb serve's and the client's CPU seconds against the
# 2 x wall seconds the two cores give (cpu = the share used).
one_copy() {
  head -c "$size" /dev/urandom >"$work/dd.src"; drop
  local s e
  s=$(date +%s%N); dd if="$work/dd.src" of="$work/dd.1" bs=4M oflag=direct conv=fsync status=none; e=$(date +%s%N)
  python3 -c "print(f'{$size / (($e - $s) / 1e9) / 1e6:.0f}')"
  drop
  s=$(date +%s%N); dd if="$work/dd.1" of=/dev/null bs=4M status=none; e=$(date +%s%N)
  python3 -c "print(f'{$size / (($e - $s) / 1e9) / 1e6:.0f}')"
  rm -f "$work/dd.1" "$work/dd.src"
}
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# nbcpu WHAT ARGS...: runs s3load single against nb, prints its JSON and
# a line {"what": "cpu WHAT", "value": share of the cores used}.
nbcpu() {
  local what=$1; shift
  local t0 t1 out c
  t0=$(ticks "$npid")
  out=$( { /usr/bin/time -f "client-cpu %U %S" "$work/s3load" single "$@"; } 2>&1 )
  t1=$(ticks "$npid")
  c=$(awk '/client-cpu/ {print $2 + $3}' <<<"$out")
  grep -v client-cpu <<<"$out"
  python3 - "$out" "$t0" "$t1" "$c" "$size" "$(nproc)" "$what" <<'PY'
import json, os, sys
out, t0, t1, client, size, cores, what = sys.argv[1:]
rate = next(json.loads(l)["value"] for l in out.splitlines() if l.startswith("{"))
wall = int(size) / (rate * 1e6)
server = (int(t1) - int(t0)) / os.sysconf("SC_CLK_TCK")
print(json.dumps({"what": f"cpu {what}", "value": (server + float(client)) / (int(cores) * wall),
                  "server": server, "client": float(client), "wall": wall}))
PY
}
printf '%-4s %6s %8s %8s %8s %6s %6s %5s %8s %8s %8s %6s %6s %5s\n' run md5 dd-write vgw-put nb-put r r-md5 cpu dd-read vgw-get nb-get r r-dd cpu
for r in $(seq "$runs"); do
  md5=$(printf '%.0f' "$("$work/s3load" hashes | val md5)")
  read -r ddw ddr <<<"$(one_copy | tr '\n' ' ')"
  v=$("$work/s3load" single "${V[@]}" -bucket big -size "$size" -label vgw -no-get)
  o=$(nbcpu put "${ONE[@]}" -size "$size" -label one -no-get)
  drop; v+=$'\n'$("$work/s3load" single "${V[@]}" -bucket big -size "$size" -label vgw -get-only)
  drop; o+=$'\n'$(nbcpu get "${ONE[@]}" -size "$size" -label one -get-only)
  vp=$(val put <<<"$v"); op=$(val put <<<"$o"); vg=$(val get <<<"$v"); og=$(val get <<<"$o")
  printf '%-4s %6s %8s %8.0f %8.0f %6s %6s %5.2f %8s %8.0f %8.0f %6s %6s %5.2f\n' "$r" "$md5" "$ddw" "$vp" "$op" "$(ratio "$op" "$vp")" "$(ratio "$op" "$md5")" "$(val 'cpu put' <<<"$o")" \
    "$ddr" "$vg" "$og" "$(ratio "$og" "$vg")" "$(ratio "$og" "$ddr")" "$(val 'cpu get' <<<"$o")"
done
echo "(r: nb one-store class / versitygw; r-md5: nb's PUT against one core's MD5; r-dd: nb's GET against a cold dd read; cpu: nb serve's + the client's CPU over what the $(nproc) cores give in the same time; versitygw's posix back end computes the same MD5 but fsyncs nothing)"
exit 0
fi

if want small; then
# The anchor as it ships closes each connection after its response (its
# --keep-alive is off by default); nb serve keeps them open, as S3 does.
# So versitygw runs twice here: as it ships (vgw, the target's anchor) and
# with --keep-alive (vka), to show what is nb's and what keep-alive's.
kport=$(free_port); mkdir -p "$work/vka"
"$vgw" --port "127.0.0.1:$kport" --access vkey --secret vsecret0123456789 --quiet --keep-alive posix "$work/vka" >/dev/null 2>&1 &
wait_port "$kport"
K=(-endpoint "http://127.0.0.1:$kport" -key vkey -secret vsecret0123456789)
"$work/s3load" mb "${K[@]}" -bucket small
printf '\n== %s objects of 4 KiB, 16 clients (ops/s)\n' "$small_n"
printf '%-4s' run
for op in put get list; do printf ' %8s %8s %8s %5s %5s' "vgw-$op" "vka-$op" "nb-$op" r r-ka; done
echo
for r in $(seq "$runs"); do
  # Phase by phase, the servers one after the other, which goes first
  # rotating from run to run, with the disk synced before each: none
  # measures another's writeback (versitygw syncs nothing, so its PUTs
  # leave dirty pages the kernel writes out later), and the machine's drift
  # between them is one phase, not a whole run.
  declare -A got=()
  for phase in put get list; do
    for who in $(rotated "$r" vgw vka nb); do
      sync
      case $who in
        vgw) got[$who]+=$("$work/s3load" small "${V[@]}" -bucket small -n "$small_n" -c 16 -size 4096 -phases "$phase" -label vgw)$'\n' ;;
        vka) got[$who]+=$("$work/s3load" small "${K[@]}" -bucket small -n "$small_n" -c 16 -size 4096 -phases "$phase" -label vka)$'\n' ;;
        nb) got[$who]+=$("$work/s3load" small "${ONE[@]}" -n "$small_n" -c 16 -size 4096 -phases "$phase" -label nb)$'\n' ;;
      esac
    done
  done
  printf '%-4s' "$r"
  for what in 'put 4k' 'get 4k' 'list 100'; do
    a=$(val "$what" <<<"${got[vgw]}"); k=$(val "$what" <<<"${got[vka]}"); n=$(val "$what" <<<"${got[nb]}")
    printf ' %8.0f %8.0f %8.0f %5s %5s' "$a" "$k" "$n" "$(ratio "$n" "$a")" "$(ratio "$n" "$k")"
  done
  echo
done
echo "(r: nb / versitygw as it ships, target >= 1.0; r-ka: nb / versitygw --keep-alive, for reference)"
fi

want startup || exit 0
printf '\n== start-up of another command, 20 runs each, alternating\n'
nbt=0; kt=0; nbm=0; km=0
for i in $(seq 20); do
  s=$(date +%s%N); m=$( { /usr/bin/time -f %M "$work/nb" bucketclass create placement-bucketclass m1 --backingstores a,b --placement Mirror --dry-run=client -o yaml >/dev/null; } 2>&1 | tail -1); e=$(date +%s%N)
  nbt=$((nbt + e - s)); nbm=$((m > nbm ? m : nbm))
  s=$(date +%s%N); m=$( { /usr/bin/time -f %M kubectl create secret generic s1 --from-literal=a=b --dry-run=client -o yaml >/dev/null; } 2>&1 | tail -1); e=$(date +%s%N)
  kt=$((kt + e - s)); km=$((m > km ? m : km))
done
echo "nb $((nbt / 20000000)) ms ($((nbm / 1024)) MiB peak), kubectl $((kt / 20000000)) ms ($((km / 1024)) MiB peak): ratio $(ratio "$nbt" "$kt") (target <= 0.69)"
