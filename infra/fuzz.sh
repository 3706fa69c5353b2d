#!/usr/bin/env bash
# The property-based fuzzer (Schemathesis, pinned in infra/requirements-fuzz.txt) against the
# local server, over every operation of openapi.yaml, bounded in time (FUZZ_SECONDS, default 90).
# It fails on any 5xx, any crash, and any response the document does not declare (status code,
# content type, schema). Runs the local-server binary the test build made; stops what it started.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
work="$(mktemp -d "${TMPDIR:-/tmp}/invitations-fuzz.XXXXXX")"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
server=""
stop() { [ -z "$server" ] || { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }; }
trap stop EXIT INT TERM

(cd "$work" && PORT="$port" RUST_LOG=warn exec "$root/target/debug/local-server") >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done

api="http://127.0.0.1:$port"
token="$(curl -s -X POST "$api/local/signup" -d '{"email": "fuzzer@example.com"}' | jq -r .id_token)"
# A project of the fuzzer's own, so some generated requests reach past the 404s.
curl -s -X POST "$api/api/v1/projects" -H "Authorization: Bearer $token" -d '{"name": "Fuzzed"}' >/dev/null

"$root/.venv-fuzz/bin/st" run openapi.yaml --url "$api" \
  -H "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --phases examples,coverage,fuzzing --max-time "${FUZZ_SECONDS:-90}" --workers 1 --seed 20261201 \
  --generation-database none --no-color --report junit --report-dir "$root/target/fuzz" \
  || { echo "fuzz: failures above; the server's log:"; tail -50 "$work/server.log"; exit 1; }
rm -rf "$work"
