# MMRareBench leaderboard: `make test` is the single entry point, locally and in CI (.ci/run).
# GNU make. Recipes use bash with -euo pipefail; every tool runs from .venv.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := test
MAKEFLAGS += --no-builtin-rules

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
ARGS ?=
LOCK_ARGS ?=

# The pinned, hashed dependencies: $(LOCK) for the service (the image), $(DEV_LOCK) with the
# dev tools too (.venv and CI). The runtime pins are taken from the dev lock, so both agree.
# Both carry the service's optional extras ($(RUNTIME_EXTRAS)): the image can use any store.
LOCK := requirements.lock
DEV_LOCK := requirements-dev.lock
RUNTIME_EXTRAS := s3
UV_COMPILE := $(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 \
	--generate-hashes --quiet

PG_HOST := 127.0.0.1
REDIS_HOST := 127.0.0.1

# Chromium for the browser tests: only fetched when it is missing and we may install packages.
BROWSER_DEPS := $(if $(wildcard /usr/bin/chromium),,$(if $(filter 0,$(shell id -u)),browser-deps))

.PHONY: venv lock services browser-deps lint test reliability demo bench clean distclean

## venv: create .venv and install the project with its dev extras (again when pyproject changes)
venv: $(STAMP)

$(STAMP): pyproject.toml $(DEV_LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r $(DEV_LOCK)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

## lock: re-resolve the lock files from pyproject.toml (after changing a dependency; keeps the
## other pins; `make lock LOCK_ARGS=--upgrade` moves every pin to the newest release)
lock: $(STAMP)
	$(UV_COMPILE) --extra dev -o $(DEV_LOCK) $(LOCK_ARGS)
	$(UV_COMPILE) $(addprefix --extra ,$(RUNTIME_EXTRAS)) -c $(DEV_LOCK) -o $(LOCK) $(LOCK_ARGS)

## services: start local PostgreSQL and Redis when they are down (best effort; tests decide)
services:
	@if pg_isready -q -h $(PG_HOST) 2>/dev/null; then \
		echo "services: PostgreSQL is accepting connections on $(PG_HOST)"; \
	else \
		echo "services: starting PostgreSQL"; \
		version=$$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1 || true); \
		pg_ctlcluster --skip-systemctl-redirect "$$version" main start \
			|| echo "services: warning: could not start PostgreSQL"; \
	fi
	@if redis-cli -h $(REDIS_HOST) ping >/dev/null 2>&1; then \
		echo "services: Redis answers on $(REDIS_HOST)"; \
	else \
		echo "services: starting Redis"; \
		mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true; \
		redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
			--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log \
			|| echo "services: warning: could not start Redis"; \
		for _ in $$(seq 50); do \
			redis-cli -h $(REDIS_HOST) ping >/dev/null 2>&1 && break; sleep 0.1; \
		done; \
	fi

## browser-deps: Debian's chromium for the browser tests (best effort)
browser-deps:
	@if [ -x /usr/bin/chromium ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then echo "browser-deps: not root, chromium not installed"; exit 0; fi; \
	{ apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; } \
		|| echo "browser-deps: warning: could not install chromium (browser tests will fail)"

## lint: ruff (lint and format check) and mypy
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## test: lint, then every test against real PostgreSQL and Redis
test: venv services $(BROWSER_DEPS)
	$(MAKE) --no-print-directory lint
	$(BIN)/pytest -q -p no:cacheprovider $(PYTEST_ARGS)

## reliability: the fault suite on private PostgreSQL and Redis servers with arq worker processes;
## prints one row per fault (items lost, written twice, judge calls repeated, recovery, scores)
reliability: venv
	$(BIN)/pytest -q -p no:cacheprovider tests/reliability $(PYTEST_ARGS)

## demo: the service with the reference judge and demo data (make demo ARGS=--smoke)
demo: venv
	$(BIN)/mmrare demo $(ARGS)

## bench: run every benchmark script in bench/
bench: venv
	@shopt -s nullglob; scripts=(bench/*.py); \
	if [ $${#scripts[@]} -eq 0 ]; then echo "bench: no scripts in bench/"; exit 0; fi; \
	for script in "$${scripts[@]}"; do echo "== $$script"; $(BIN)/python "$$script"; done

## clean: caches and build output (keeps .venv and var/)
clean:
	rm -rf .pytest_cache .mypy_cache .ruff_cache .hypothesis build test-artifacts *.egg-info
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -exec rm -rf {} +

## distclean: clean, and remove .venv too
distclean: clean
	rm -rf $(VENV)
