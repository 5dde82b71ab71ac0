# Two commands run everything on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

export DAGSTER_HOME := $(CURDIR)/.dagster_home
export LANDING_DIR ?= $(CURDIR)/data/sample
export WAREHOUSE_PATH ?= $(CURDIR)/data/warehouse/monitoring.duckdb
export PUBLISH_DIR ?= $(CURDIR)/data/published
export DUCKDB_MEMORY_LIMIT ?= 3GB
# The Dagster UI that alert links point at (`make dev` serves it here).
export DAGSTER_UI_URL ?= http://127.0.0.1:3000
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := false
# The PostgreSQL server of the dbt `postgres` target (scripts/start_postgres.sh, docs/scale_out.md).
export POSTGRES_HOST ?= 127.0.0.1
export POSTGRES_PORT ?= 5432
export POSTGRES_USER ?= monitoring
export POSTGRES_PASSWORD ?= monitoring
export POSTGRES_DB ?= monitoring

# The bundled sample's РЦОИ lists carry dummy documents, and a list with documents is read only with a key
# for participant codes. This key is for data/sample only and is not a secret: with any other LANDING_DIR,
# set PARTICIPANT_CODE_SALT yourself (docs/inputs.md, «ГИА»). Never used by `make test`.
SAMPLE_PARTICIPANT_KEY := bundled-sample-only-not-a-secret
ifeq ($(LANDING_DIR),$(CURDIR)/data/sample)
run dev: export PARTICIPANT_CODE_SALT ?= $(SAMPLE_PARTICIPANT_KEY)
endif

DBT_SOURCES := $(shell find dbt_project/models dbt_project/seeds dbt_project/macros dbt_project/tests dbt_project/packages_local -type f 2>/dev/null) dbt_project/dbt_project.yml dbt_project/profiles.yml dbt_project/packages.yml
MANIFEST := dbt_project/target/manifest.json

.PHONY: setup run test test-fast lint asset-graph dev bench clean postgres-server postgres browser

setup: $(VENV)/.installed $(MANIFEST) $(DAGSTER_HOME)/dagster.yaml

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

# @dbt_assets reads the manifest when the code location loads, so it is built here, not at run time.
# `dbt deps` only links the vendored packages (packages.yml: `local:`), so it needs no network.
$(MANIFEST): $(VENV)/.installed $(DBT_SOURCES)
	cd dbt_project && ../$(BIN)/dbt deps --quiet --profiles-dir . && ../$(BIN)/dbt parse --quiet --profiles-dir .
	touch $@

$(DAGSTER_HOME)/dagster.yaml: config/dagster.yaml
	mkdir -p $(DAGSTER_HOME) $(dir $(WAREHOUSE_PATH))
	cp $< $@

# Exit codes of pipelines.run: 0 ok, 3 ok with warnings, 1 failed, 2 not started. make stops only on the last
# two; call `.venv/bin/python -m pipelines.run` to see 3. `make run ARGS=--verbose` shows Dagster and dbt detail.
run: setup
	$(BIN)/python -m pipelines.run $(ARGS) || [ $$? -eq 3 ]

test: setup postgres-server browser
	$(BIN)/python -m pytest

# The suite without the tests marked slow (whole pipeline runs, dbt builds of the sample): under a minute.
test-fast: setup
	$(BIN)/python -m pytest -m "not slow"

# Refreshes tests/asset_graph.json, the snapshot of assets, groups, kinds and checks, after an intended change.
asset-graph: setup
	UPDATE_ASSET_GRAPH=1 $(BIN)/python -m pytest -q tests/test_asset_graph.py

# ruff on the Python, sqlfluff (dbt templater, DuckDB dialect: dbt_project/.sqlfluff) on the models. sqlfluff
# compiles the models with dbt; a scratch database keeps it off the working one.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	cd dbt_project && WAREHOUSE_PATH=$(CURDIR)/dbt_project/target/lint.duckdb ../$(BIN)/sqlfluff lint models --processes 2

# The browser tests drive Debian's Chromium; where it cannot be installed, they are skipped.
browser:
	@scripts/install_chromium.sh || echo "Chromium could not be installed: the browser tests will be skipped."

# The suite also builds the models on PostgreSQL; where no server can be started, that test is skipped.
postgres-server:
	@scripts/start_postgres.sh || echo "No PostgreSQL server could be started: the PostgreSQL target test will be skipped."

# The dbt models on PostgreSQL, from the raw schema of the DuckDB warehouse that `make run` filled.
postgres: setup postgres-server
	$(BIN)/python -m pipelines.postgres_target

dev: setup
	$(BIN)/dagster dev -h 127.0.0.1 -p 3000 -w workspace.yaml

clean:
	rm -rf $(DAGSTER_HOME) data/warehouse data/published dbt_project/target dbt_project/logs

# `make bench ARGS='--scale region'` measures one scale (README, «Performance»).
bench: setup
	$(BIN)/python -m pipelines.bench $(ARGS)
