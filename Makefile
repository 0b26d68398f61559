# The two commands of the README: `make run` and `make test`. Everything else is a convenience.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV := $(PYTHON) -m uv
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.monitorlink-installed

.PHONY: help install run test test-fast lint typecheck up down status docs bench clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml uv.lock
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --disable-pip-version-check uv
	$(UV) sync --frozen --python 3.11
	@touch $@

install: $(STAMP) ## create .venv from uv.lock (Python 3.11), installing uv first if needed

run: install ## start the embedded defaults, run every pipeline once on simulated + real data, print a summary
	MONITORLINK_DEV_MODE=$${MONITORLINK_DEV_MODE:-1} $(BIN)/monitorlink run --simulated

test: install lint typecheck ## lint, type-check and run the whole test suite (real broker, dbt, GX, Airflow)
	$(BIN)/pytest -q

test-fast: install ## unit tests only (no broker, dbt or Airflow)
	$(BIN)/pytest -q -m "not integration"

lint: install ## ruff
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install ## mypy (strict)
	$(BIN)/mypy

up: install ## keep broker, ingester and Airflow running on 127.0.0.1
	MONITORLINK_DEV_MODE=$${MONITORLINK_DEV_MODE:-1} $(BIN)/monitorlink up

down: install ## stop what `make up` started
	$(BIN)/monitorlink down

status: install ## show the services monitorlink started
	$(BIN)/monitorlink services

docs: install ## generate the dbt docs site (lineage, KPI definitions) and serve it on 127.0.0.1:8081
	$(BIN)/monitorlink docs --serve

bench: install ## ingest and build benchmarks (ratios against a baseline in the same run)
	$(BIN)/python bench/ingest_rate.py
	$(BIN)/python bench/delivery_rate.py
	$(BIN)/python bench/event_latency.py
	$(BIN)/python bench/publish_tiers.py

clean: ## remove the local data (var/) — the lake, warehouse and service state
	@$(MAKE) down >/dev/null 2>&1 || true
	rm -rf var
