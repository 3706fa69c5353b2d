#!/usr/bin/env bash
# Init instructions of the release bootstraps, counted by callgrind: unlike times, the count does
# not move with the machine's load. Each binary runs as in the benchmark until its first call to
# the Runtime API, which is refused here, and then exits; the count is everything up to that.
# Usage: infra/bench/instructions.sh BINARY...   (a path under target/naive/ is labelled naive)
set -euo pipefail
if ! command -v valgrind > /dev/null; then
  echo "instructions: valgrind is not installed; skipped"
  exit 0
fi
empty="$(mktemp -d)"
out="$(mktemp)"
trap 'rm -rf "$empty" "$out"' EXIT
echo
echo "Init instructions (callgrind, process start to the first Runtime API call), millions:"
echo
echo "| binary | init instructions (M) |"
echo "|---|---|"
for binary in "$@"; do
  label="$(basename "$binary")"
  case "$binary" in */naive/*) label="$label (naive)" ;; esac
  env -i PATH=/usr/bin:/bin HOME="$empty" SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt SSL_CERT_DIR="$empty" \
    AWS_LAMBDA_RUNTIME_API=127.0.0.1:1 AWS_LAMBDA_FUNCTION_NAME=bench AWS_LAMBDA_FUNCTION_VERSION='$LATEST' \
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128 AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench \
    TABLE_NAME=bench EMAIL_QUEUE_URL=http://127.0.0.1:1/q RECONCILE_QUEUE_URL=http://127.0.0.1:1/r RUST_LOG=info \
    valgrind --tool=callgrind --callgrind-out-file="$out" "$binary" > /dev/null 2>&1 || true
  awk -v binary="$label" '/^summary:/ { printf "| %s | %.2f |\n", binary, $2 / 1e6; exit }' "$out"
done
