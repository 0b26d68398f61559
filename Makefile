# The two commands of the README: `make run` and `make test`. Everything else is a convenience.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV := $(PYTHON) -m uv
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.monitorlink-installed
# Superset's own environment (its dependencies conflict with Airflow's), from infra/superset/uv.lock.
SUPERSET_VENV := .venv-superset
SUPERSET_STAMP := $(SUPERSET_VENV)/.monitorlink-installed
# The browser the dashboard tests drive (Debian's package; Playwright's own download is not reachable).
CHROMIUM ?= /usr/bin/chromium

.PHONY: help install superset browser postgres run run-nl test test-fast faults lint typecheck up down status docs bench clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml uv.lock
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --disable-pip-version-check uv
	$(UV) sync --frozen --python 3.11
	@touch $@

install: $(STAMP) ## create .venv from uv.lock (Python 3.11), installing uv first if needed

$(SUPERSET_STAMP): infra/superset/pyproject.toml infra/superset/uv.lock | $(STAMP)
	UV_PROJECT_ENVIRONMENT=$(CURDIR)/$(SUPERSET_VENV) $(UV) sync --frozen --project infra/superset --python 3.11
	@touch $@

superset: $(SUPERSET_STAMP) ## create .venv-superset (Superset 6.1) from infra/superset/uv.lock

browser: ## install Debian's chromium for the dashboard browser tests, if missing
	@test -x $(CHROMIUM) || { echo "installing Debian's chromium (browser tests)"; \
	  $$( [ "$$(id -u)" = 0 ] || echo sudo ) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null \
	  || { $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get update -q >/dev/null && \
	       $$( [ "$$(id -u)" = 0 ] || echo sudo ) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }; }

postgres: ## install Debian's PostgreSQL server for the DuckLake and metadata tests, if missing (tests start their own)
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { echo "installing Debian's postgresql (DuckLake tests)"; \
	  $$( [ "$$(id -u)" = 0 ] || echo sudo ) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null \
	  || { $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get update -q >/dev/null && \
	       $$( [ "$$(id -u)" = 0 ] || echo sudo ) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null; }; }

run: install ## start the embedded defaults, run every pipeline once on simulated + real data, print a summary
	MONITORLINK_DEV_MODE=$${MONITORLINK_DEV_MODE:-1} $(BIN)/monitorlink run --simulated

NL_VOLUME ?= 1
run-nl: install ## the whole country (342 municipalities, 2019–2025) in var/nl: simulate --scale nl, then run everything (NL_VOLUME=0.1: a tenth)
	MONITORLINK_HOME=var/nl MONITORLINK_DEV_MODE=$${MONITORLINK_DEV_MODE:-1} $(BIN)/monitorlink simulate --scale nl --volume $(NL_VOLUME) --out var/nl/simulation
	MONITORLINK_HOME=var/nl MONITORLINK_DEV_MODE=$${MONITORLINK_DEV_MODE:-1} MONITORLINK_DUCKDB_MEMORY_LIMIT=$${MONITORLINK_DUCKDB_MEMORY_LIMIT:-4GB} $(BIN)/monitorlink run --simulated

test: install superset browser postgres lint typecheck ## lint, type-check, run every test (real broker, dbt, GX, Airflow, Superset, Chromium, PostgreSQL, S3)
	$(BIN)/pytest -q

test-fast: install ## unit tests only (no broker, dbt, Airflow or fault suite)
	$(BIN)/pytest -q -m "not integration and not faults"

faults: install ## the fault suite at full budget (fuzzing, random kills, broker loss, 2,000 reads, BSN seeding) → docs/reliability.md
	rm -f var/faults/figures.jsonl
	$(BIN)/pytest -q tests/faults --fault-budget full; status=$$?; \
	  $(BIN)/python -m tests.faults.report --write docs/reliability.md || status=1; exit $$status

lint: install ## ruff, the layer rules (import-linter) and the dbt SQL (sqlfluff)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	MONITORLINK_LAKE_ROOT=$${MONITORLINK_LAKE_ROOT:-var/lake} MONITORLINK_DBT_BUILD_PATH=:memory: $(BIN)/sqlfluff lint dbt/models --processes 2
	$(BIN)/lint-imports

typecheck: install ## mypy (strict)
	$(BIN)/mypy

up: install superset ## keep broker, ingester, landing watcher, Airflow and Superset running on 127.0.0.1
	MONITORLINK_DEV_MODE=$${MONITORLINK_DEV_MODE:-1} $(BIN)/monitorlink up

down: install ## stop what `make up` started
	$(BIN)/monitorlink down

status: install ## show the services monitorlink started
	$(BIN)/monitorlink services

docs: install ## generate the dbt docs site (lineage, KPI definitions) and serve it on 127.0.0.1:8081
	$(BIN)/monitorlink docs --serve

BENCH_NL_FILES ?= 600
BENCH_NL_VOLUME ?= 0.1
bench: install ## benchmarks as ratios against baselines of the same run → docs/performance.md (BENCH_REPEATS=N, default 5; dashboards need `make up`; BENCH_NL_FILES, BENCH_NL_VOLUME size the national ones)
	$(BIN)/python bench/national_landing.py --scale nl --files $(BENCH_NL_FILES)
	$(BIN)/python bench/national_build.py --volume $(BENCH_NL_VOLUME)
	$(BIN)/python bench/ingest_rate.py
	$(BIN)/python bench/event_queryable.py
	$(BIN)/python bench/delivery_rate.py
	$(BIN)/python bench/event_latency.py
	$(BIN)/python bench/publish_tiers.py
	$(BIN)/python bench/dashboards.py
	$(BIN)/python bench/cli_startup.py
	$(BIN)/python bench/object_store.py
	$(BIN)/python bench/report.py

clean: ## remove the local data (var/) — the lake, warehouse and service state
	@$(MAKE) down >/dev/null 2>&1 || true
	rm -rf var
