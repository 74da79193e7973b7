# Detour: `make run` builds the warehouse from the seeds, `make test` runs the tests, `make ui` starts Dagster.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
UV_VERSION := 0.13.9
export DAGSTER_HOME ?= $(CURDIR)/.dagster
DETOUR_UI_PORT ?= 3000

.PHONY: install run test ui sample bench bench-lake bench-import bench-comext bench-ui soak clean lake-up lake-down

install: $(VENV)/.installed

# uv installs the locked set in seconds; it is bootstrapped from PyPI into the venv itself. Compiling
# the bytecode once here (~25 s) saves ~8 s on every start of Python where .pyc files are not written
# (PYTHONDONTWRITEBYTECODE, a read-only venv): dagster and its imports are thousands of modules.
$(VENV)/.installed: pyproject.toml uv.lock
	@test -x $(VENV)/bin/uv || { $(PYTHON) -m venv $(VENV) && $(VENV)/bin/pip install --quiet uv==$(UV_VERSION); }
	$(VENV)/bin/uv sync --frozen --quiet --compile-bytecode
	@touch $@

# Linked once: a DAGSTER_HOME with an instance of its own (make lake-up's, for a team) keeps it.
$(DAGSTER_HOME)/dagster.yaml:
	@mkdir -p $(DAGSTER_HOME)
	@test -e $@ || ln -sf $(CURDIR)/dagster.yaml $@

run: install $(DAGSTER_HOME)/dagster.yaml
	$(VENV)/bin/detour-run

test: install
	$(VENV)/bin/pytest

# Started from DAGSTER_HOME (where dagster.yaml is linked) so `dagster dev` does not warn about the
# repository's dagster.yaml; the paths it reads are made absolute first. `dg dev` supersedes
# `dagster dev` only for dg projects: its warning is silenced. pipeline/ui.py stops it cleanly on SIGTERM or SIGINT.
ui: install $(DAGSTER_HOME)/dagster.yaml
	cd $(DAGSTER_HOME) && \
	DETOUR_SEEDS_DIR=$(abspath $(or $(DETOUR_SEEDS_DIR),seeds)) \
	DETOUR_WAREHOUSE=$(abspath $(or $(DETOUR_WAREHOUSE),warehouse/detour.duckdb)) \
	PYTHONWARNINGS='ignore:Function `dev_command` is superseded' \
	exec $(CURDIR)/$(VENV)/bin/python -m pipeline.ui -m pipeline.definitions -d $(CURDIR) -h 127.0.0.1 -p $(DETOUR_UI_PORT)

# A local PostgreSQL (Debian's postgresql package) in .lake/ for running it as a team would: Dagster's
# runs, events and schedules in PostgreSQL (deploy/dagster.team.yaml). lake-up prints the lines to paste.
lake-up: install
	@$(VENV)/bin/python -m pipeline.storage.local_postgres up

lake-down: install
	@$(VENV)/bin/python -m pipeline.storage.local_postgres down

# Regenerate the shipped illustrative trade-flow sample (deterministic).
sample: install
	$(VENV)/bin/python -m pipeline.sample_flows

clean:
	rm -rf warehouse .dagster/storage .dagster/history .dagster/schedules .dagster/logs

# Benchmark against a DuckDB-only floor on synthetic flows (ROWS=1000000 make bench for a quick one).
ROWS ?= 10000000
bench: install
	$(VENV)/bin/detour-bench --rows $(ROWS)

# Lake mode against the embedded mode on make bench's flows: full refreshes, and four month refreshes
# (one after another embedded, concurrent in the lake), with a local PostgreSQL of its own.
bench-lake: install
	$(VENV)/bin/python -m pipeline.tools.bench_lake --rows $(ROWS)

# The one-click refresh launched in the UI (refresh_all through a real dagster dev) against make run, side by side.
bench-ui: install
	$(VENV)/bin/python -m pipeline.tools.bench_ui --rounds $(or $(ROUNDS),3)

# Time and peak RSS of importing one CEPII BACI year of ROWS rows (reference tables + core/trade_flows).
bench-import: install
	$(VENV)/bin/python -m pipeline.tools.bench_import --rows $(ROWS)

# Time and peak RSS of importing every Eurostat Comext download below COMEXT (e.g. the 22 spreadsheets and the
# relational-view files of the roundabout's sources), with the published findings they reproduce.
bench-comext: install
	$(VENV)/bin/python -m pipeline.tools.bench_import --comext $(COMEXT)

# Refreshes SIGKILLed at random moments while 2 readers query the published warehouse, in a temporary
# folder (REFRESHES=6 KILLS=3 make soak for a short one; SEED=n repeats one).
REFRESHES ?= 20
soak: install
	$(VENV)/bin/python -m pipeline.tools.soak --refreshes $(REFRESHES) $(if $(KILLS),--kills $(KILLS)) $(if $(SEED),--seed $(SEED))
