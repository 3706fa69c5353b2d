# The two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PORT ?= 3000

.PHONY: help deps test lint test-only run build bench

help:
	@echo "make run    serve the whole API on http://127.0.0.1:$(PORT) (no AWS, no Docker)"
	@echo "make test   install what the tests need, lint, and run every test against local AWS emulators"
	@echo "make build  sam build (needs cargo-lambda and the SAM CLI)"

deps:
	@bash infra/install-deps.sh

lint: deps
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	.venv/bin/cfn-lint template.yaml

test-only: deps
	infra/with-emulators.sh cargo test --workspace

test: lint test-only

run:
	PORT=$(PORT) cargo run -p local-server

build:
	sam build
