#!/usr/bin/env bash
# The classic federation walk-through, for real, on nb's local target (no
# cluster needed): two pv-pool stores, a Mirror bucket class over them, a
# claim, nb verify; then the S3 part: nb serve in the background, aws s3 ls,
# a file copied up, one store's disk lost, the file copied back and
# compared, the server stopped. Uses the AWS CLI where it is installed,
# else nb's own small client (hack/s3). The state goes to a fresh
# directory unless NB_DEMO_STATE_DIR names one.
set -euo pipefail
nb=${1:-bin/nb}
state=${NB_DEMO_STATE_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/nb-demo.XXXXXX")}
export NB_TARGET=local NB_STATE_DIR="$state"
run() { printf '\n$ %s\n' "$*" >&2; "$@"; }
shown() { printf '\n$ %s\n' "$1" >&2; }
run "$nb" backingstore create pv-pool pv1 --num-volumes 2 --pv-size-gb 16
run "$nb" backingstore create pv-pool pv2 --num-volumes 2 --pv-size-gb 16
run "$nb" bucketclass create placement-bucketclass mirror-class --placement Mirror --backingstores pv1,pv2
run "$nb" obc create federated-bucket --bucketclass mirror-class
run "$nb" backingstore list
run "$nb" bucketclass list
run "$nb" obc list
run "$nb" verify federated-bucket --size 256Mi

# The S3 part.
if command -v aws >/dev/null 2>&1; then
  s3ls() { aws s3 ls "$@"; }
  s3cp() { aws s3 cp --only-show-errors "$@"; }
  s3name="aws s3"
else
  client=$(dirname "$nb")/nb-demo-s3
  go build -o "$client" ./hack/s3
  s3ls() { "$client" ls "$@"; }
  s3cp() { "$client" cp "$@"; }
  s3name="s3 (no AWS CLI here: nb's small client, hack/s3)"
fi
port=${NB_DEMO_PORT:-6001}
shown "$nb serve --address 127.0.0.1:$port &"
"$nb" serve --address "127.0.0.1:$port" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 150); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done
shown 'eval "$(nb obc status federated-bucket -o env --show-secrets)"'
eval "$("$nb" obc status federated-bucket -o env --show-secrets 2>/dev/null)"
export AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
movie=$state/movie.bin
head -c $((64 << 20)) /dev/urandom >"$movie"
shown "$s3name ls"; s3ls
shown "$s3name cp movie.bin s3://$BUCKET_NAME/movie.bin"; s3cp "$movie" "s3://$BUCKET_NAME/movie.bin"
shown "$s3name ls s3://$BUCKET_NAME"; s3ls "s3://$BUCKET_NAME"
# The failure: pv1's disk is lost (its volume folder goes away).
shown "mv $state/data/noobaa/pv1 $state/pv1-lost    # pv1's disk is gone"
mv "$state/data/noobaa/pv1" "$state/pv1-lost"
shown "$s3name cp s3://$BUCKET_NAME/movie.bin movie.back"; s3cp "s3://$BUCKET_NAME/movie.bin" "$state/movie.back"
shown "cmp movie.bin movie.back"
cmp "$movie" "$state/movie.back"
echo "identical: the movie survived the loss of pv1" >&2
mv "$state/pv1-lost" "$state/data/noobaa/pv1"
shown "kill %1    # stop nb serve"
kill -TERM $server
wait $server
trap - EXIT
printf '\nThe walk-through state is in %s (NB_TARGET=local NB_STATE_DIR=%s nb ... to explore it; rm -rf it when done).\n' "$state" "$state" >&2
