# The README's two commands are `make demo` and `make test`; the rest are helpers.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
HOST ?= 127.0.0.1:8000

.PHONY: demo test bench lint install install-dev

$(PY):
	$(PYTHON) -m venv $(VENV)

# Stamp files re-run pip only when a requirements file changes.
$(VENV)/.installed-runtime: requirements.txt | $(PY)
	$(PIP) install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(PY)
	$(PIP) install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed-runtime
install-dev: $(VENV)/.installed-dev

## Set up the app with demo data and serve it at http://$(HOST)/
demo: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py runserver $(HOST)

## Run the whole test suite (PostgreSQL when DATABASE_URL is set, SQLite otherwise)
test: install-dev
	$(PY) -m pytest

## Benchmarks on PostgreSQL (DATABASE_URL): the monthly close (creates <name>_bench) and KPI ingestion (<name>_ingest):
## one file of 15-minute intervals, then daily packs, 1,000,000 values each
## e.g. make bench BENCH_ARGS="--contracts 200" INGEST_ARGS="--values 100000"; figures in BENCHMARKS.md
bench: install
	$(PY) -m benchmarks.monthly_close $(BENCH_ARGS)
	$(PY) -m benchmarks.ingest --intervals 96 --contracts 1 $(INGEST_ARGS)
	$(PY) -m benchmarks.ingest $(INGEST_ARGS)

lint: install-dev
	$(PY) -m ruff check .
