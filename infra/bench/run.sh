#!/usr/bin/env bash
# `make bench`: builds the benchmarked bootstraps with the release profile — the functions as
# shipped, the same functions built the naive way (default-feature SDK clients, load_defaults),
# and the hello-world floor — then runs them all under the Runtime API emulator against its own
# DynamoDB Local and moto, and prints one table.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
functions=(create-invitation list-invitations accept-invitation post-confirmation)

cargo build --release -p bench-floor
for f in "${functions[@]}"; do
  # One invocation per function, so no other crate's features leak into its build.
  cargo build --release -p "$f"
  cargo build --release -p "$f" --features naive --target-dir target/naive
done
cargo build -p lambda-bench

infra/with-emulators.sh bash -c 'target/debug/lambda-bench --release target/release --naive target/naive/release \
  --dynamodb "$TEST_DYNAMODB_ENDPOINT" --moto "$TEST_MOTO_ENDPOINT" --rounds "${ROUNDS:-7}" --warm "${WARM:-100}"'
