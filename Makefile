# Trail: `make run` sets everything up and serves the demo; `make test` runs every test.

VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
HOST_PORT ?= 127.0.0.1:8000
# The PostgreSQL run of the suite; pytest-django makes and drops test_<name> itself.
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/trail

.PHONY: install run test test-sqlite test-postgres lint format clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e ".[dev]"
	touch $@

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo
	@echo "  Trail is at http://$(HOST_PORT)/  -  log in as demo / demo"
	@echo
	$(PY) manage.py runserver $(HOST_PORT)

test: install lint test-sqlite test-postgres

lint: install
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(PY) manage.py makemigrations --check --dry-run

test-sqlite: install
	env -u DATABASE_URL $(VENV)/bin/pytest

test-postgres: install
	@if $(PY) scripts/pg_available.py "$(PG_TEST_URL)"; then \
		DATABASE_URL="$(PG_TEST_URL)" $(VENV)/bin/pytest; \
	elif [ "$$CI" = "true" ]; then \
		echo "PostgreSQL is expected in CI but $(PG_TEST_URL) is not reachable" >&2; exit 1; \
	else \
		echo "Skipping the PostgreSQL run: $(PG_TEST_URL) is not reachable."; \
	fi

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) staticfiles

# Benchmarks (docs/benchmarks.md). `bench` builds 2.2M-entry databases on SQLite and on
# PostgreSQL under ~/bench-data (BENCH_DATA_DIR), reused while their size and migrations
# match: the first run takes the better part of an hour on a small machine.
.PHONY: bench bench-quick

bench: install
	$(PY) -m bench.run

bench-quick: install
	$(PY) -m bench.run --quick
