#!/usr/bin/env bash
# `make bench`: builds the benchmarked bootstraps with the release profile — the functions as
# shipped, the same functions built the naive way (default-feature SDK clients, load_defaults),
# and the hello-world floor — then runs them all under the Runtime API emulator against its own
# DynamoDB Local and moto, and prints one table; then counts, with callgrind, each one's init and
# first request instructions and its init instructions alone.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
# FUNCTIONS (comma-separated) picks some of the six; NAIVE=0 leaves the naive builds out;
# SIGN_UPS, LISTS and BULK set the sizes of the sections after the table (empty: left out).
IFS=, read -r -a functions <<< "${FUNCTIONS:-create-invitation,list-invitations,accept-invitation,post-confirmation,send-invitation-email,ses-events}"
naive=()
[ "${NAIVE:-1}" = 0 ] || naive=(--naive target/naive/release)

cargo build --release -p bench-floor
# The sections after the main table run these too: lists at scale, sign-ups handed off, bulk.
for f in list-events my-invitations reconcile-signups bulk-invite; do cargo build --release -p "$f"; done
for f in "${functions[@]}"; do
  # One invocation per function, so no other crate's features leak into its build.
  cargo build --release -p "$f"
  [ "${NAIVE:-1}" = 0 ] || cargo build --release -p "$f" --features naive --target-dir target/naive
done
cargo build -p lambda-bench

BENCH_NAIVE="${naive[*]}"
BENCH_FUNCTIONS="$(IFS=,; echo "${functions[*]}")"
export BENCH_NAIVE BENCH_FUNCTIONS
infra/with-emulators.sh bash -c 'target/debug/lambda-bench --release target/release $BENCH_NAIVE --functions "$BENCH_FUNCTIONS" \
  --dynamodb "$TEST_DYNAMODB_ENDPOINT" --moto "$TEST_MOTO_ENDPOINT" --rounds "${ROUNDS:-21}" --warm "${WARM:-100}" \
  --sign-ups "${SIGN_UPS-1,10,100,1000}" --lists "${LISTS-100,1000,10000}" --bulk "${BULK-100}"'
# The same cold starts once more under callgrind, for the cold first request in instructions.
if command -v valgrind > /dev/null; then
  callgrind_dir="$(mktemp -d)"
  export BENCH_CALLGRIND="$callgrind_dir"
  infra/with-emulators.sh bash -c 'target/debug/lambda-bench --release target/release --functions "$BENCH_FUNCTIONS" \
    --dynamodb "$TEST_DYNAMODB_ENDPOINT" --moto "$TEST_MOTO_ENDPOINT" --rounds 1 --warm 0 --sign-ups "" --lists "" --bulk ""' \
    | sed -n '/^The cold first request in instructions/,$p'
  unset BENCH_CALLGRIND
  rm -rf "$callgrind_dir"
fi
binaries=(target/release/bench-floor)
for f in "${functions[@]}"; do
  binaries+=("target/release/$f")
  [ "${NAIVE:-1}" = 0 ] || binaries+=("target/naive/release/$f")
done
infra/bench/instructions.sh "${binaries[@]}"
