# Everyday commands. `make help` lists them; `make test` and `make run` set up what they need.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STATE := .cluster
KUBECTL := $(STATE)/bin/kubectl --kubeconfig $(STATE)/kubeconfig

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets.
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(BIN)/.installed: pyproject.toml requirements-dev.lock requirements-build.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes \
		-r requirements-dev.lock -r requirements-build.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation \
		--editable .
	touch $@

.PHONY: setup
setup: $(BIN)/.installed ## Create the virtualenv from the hash-pinned lock.

.PHONY: binaries
binaries: setup ## Find or build every binary the tests use (a cold build takes minutes).
	$(BIN)/python -m localcluster build

.PHONY: cluster
cluster: setup ## Start the local control plane in the background (idempotent; builds on first use).
	$(BIN)/python -m localcluster --state-dir $(STATE) up

.PHONY: cluster-down
cluster-down: setup ## Stop the local control plane; nothing is left running.
	$(BIN)/python -m localcluster --state-dir $(STATE) down

.PHONY: run
run: cluster ## Run the operator as its ServiceAccount against the local control plane.
	scripts/run-local.sh

.PHONY: bench
bench: setup ## Measure the operator on a fresh local control plane; prints figures.
	$(BIN)/python -m bench.operator_bench $(BENCH_ARGS)

.PHONY: lint
lint: setup ## ruff (format and lint) and mypy strict.
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

.PHONY: format
format: setup ## Format and fix what ruff can fix.
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

.PHONY: unit
unit: setup ## The fast tests, no cluster.
	$(BIN)/pytest -m "not integration"

.PHONY: test
test: lint binaries ## Lint, type-check, and run every test against the local control plane.
	$(BIN)/pytest
