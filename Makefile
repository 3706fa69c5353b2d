# The two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PORT ?= 3000
# The architecture `make build` builds for (the stack's default, for deployment, is arm64).
ARCH ?= x86_64
export SAM_CLI_TELEMETRY := 0

.PHONY: help deps test lint test-only run build bench

help:
	@echo "make run    serve the whole API on http://127.0.0.1:$(PORT) (no AWS, no Docker)"
	@echo "make test   install what the tests need, lint, and run every test against local AWS emulators"
	@echo "make bench  cold start, memory, size and AWS calls of the Lambdas (release builds; slow)"
	@echo "make build  sam build for ARCH=$(ARCH) (cargo-lambda and the SAM CLI come with make deps)"

deps:
	@bash infra/install-deps.sh

lint: deps
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	.venv/bin/cfn-lint template.yaml
	.venv/bin/sam validate --lint --region us-east-1 --template template.yaml
	@# The four checks skipped for every function have their reasons in template.yaml's Globals.
	.venv-checkov/bin/checkov --skip-download --quiet --compact --framework cloudformation -f template.yaml \
	  --skip-check CKV_AWS_115,CKV_AWS_116,CKV_AWS_117,CKV_AWS_173

test-only: deps
	@mkdir -p target
	infra/with-emulators.sh cargo test --workspace --all-targets 2>&1 | tee target/test-output.log; exit $${PIPESTATUS[0]}
	infra/fuzz.sh
	@awk '/^test result:/ { passed += $$4; failed += $$6 } END { printf "tests: %d passed, %d failed\n", passed, failed }' target/test-output.log

test: lint test-only

run:
	PORT=$(PORT) cargo run -p local-server

bench: deps
	infra/bench/run.sh

build: deps
	PATH="$(CURDIR)/.venv/bin:$$PATH" sam build --parameter-overrides Architecture=$(ARCH)
