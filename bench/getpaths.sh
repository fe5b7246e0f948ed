#!/usr/bin/env bash
# Ways to send a cold 1 GiB file over HTTP on this machine, without nb
# (bench/getpaths): sendfile unchecked (versitygw's posix back end), and
# four that check every 4 MiB block's CRC-32C first: pread + write (nb
# serve's way), check in small pieces then sendfile from the page cache,
# O_DIRECT reads, and splice + tee (the checked pages themselves sent
# from pipes, one copy for the check). The client fetches it as the transfer manager does
# (5 concurrent 8 MiB ranged GETs). Each round runs every mode once,
# after dropping the page cache (root), and prints MB/s with the busy
# core-seconds of the whole machine (/proc/stat: user, nice, system, irq,
# softirq) and its iowait. BENCH_DIR (default /var/tmp) holds the file.
# Usage: [ROUNDS=3] [SIZE=1073741824] bench/getpaths.sh
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-3}
size=${SIZE:-1073741824}
work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/nb-getpaths.XXXXXX")
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/getpaths" ./bench/getpaths
head -c "$size" /dev/urandom >"$work/file"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$work/getpaths" serve -file "$work/file" -addr "127.0.0.1:$port" >/dev/null &
for _ in $(seq 300); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
if sync && echo 3 2>/dev/null >/proc/sys/vm/drop_caches; then
  drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }
else
  drop() { :; }; echo "note: not root, so the reads are warm (the page cache cannot be dropped)" >&2
fi
busy() { awk '/^cpu / {print $2+$3+$4+$7+$8, $6}' /proc/stat; }
one() { # one MODE[?QUERY]
  drop
  local b0 w0 b1 w1 r
  read -r b0 w0 < <(busy)
  r=$("$work/getpaths" get -url "http://127.0.0.1:$port/$1" -size "$size" | awk '{print $1}')
  read -r b1 w1 < <(busy)
  printf '  %-26s %6s MB/s  busy %5.2f core-s  iowait %5.2f s\n' "$1" "$r" \
    "$(awk -v a="$b0" -v b="$b1" 'BEGIN{print (b-a)/100}')" "$(awk -v a="$w0" -v b="$w1" 'BEGIN{print (b-a)/100}')"
}
# MODES (space-separated) picks some of them.
modes=(sendfile buffered check-send 'check-send?piece=4194304' direct splice-tee)
[[ -n ${MODES:-} ]] && read -r -a modes <<<"$MODES"
for r in $(seq "$rounds"); do
  echo "round $r (cold)"
  for m in "${modes[@]}"; do one "$m"; done
done
