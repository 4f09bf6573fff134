# callgate: `make run` opens the desk on the demo database, `make test` runs
# every check CI runs. Both create .venv on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# pip runs again only when pyproject.toml changes, not on every make.
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: run test bench bench-system bench-compare bench-smoke

run: $(RUN_STAMP)
	@# The demo data goes only into a database that has no schema yet, never
	@# into one already in use (the URL comes from CALLGATE_DATABASE_URL or
	@# the default SQLite file, as for the desk).
	@# The desk's full screen would hide the demo passphrases it prints: pause.
	@if $(BIN)/callgate db current 2>/dev/null | grep -q '^none'; then \
		$(BIN)/callgate demo && \
		printf '\nNote a username and passphrase above; press Enter to open the desk. ' && \
		{ read -r _ || true; }; \
	fi
	$(BIN)/callgate

test: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n auto --dist worksteal

# Every performance bar of PRODUCT.md section 9 in one table (benchmarks/run.py),
# the PostgreSQL load on a throwaway cluster included; each run's figures are
# kept in benchmarks/results/<UTC time>.json.
# The first run generates the call-center-sized database (cached afterwards).
# On a fresh clone it first installs what the PostgreSQL figures need: the
# server and PgBouncer (apt, as .ci/run does) and psycopg and pyte (the bench extra).
bench: bench-system $(BENCH_STAMP)
	$(BIN)/python -m benchmarks.run

# First, so python3-venv is there before the virtual environment is made.
bench-system:
	@scripts/install_system_packages.sh bench

# The last two runs of `make bench` (benchmarks/results/*.json) side by side.
bench-compare: $(RUN_STAMP)
	$(BIN)/python -m benchmarks.compare

# A tiny run of the generator and every measurement (also part of make test).
bench-smoke: $(TEST_STAMP)
	$(BIN)/python -m pytest tests/test_bench_smoke.py -q

# The first install takes a minute or two with pip quiet: say what is going on.
$(BIN)/python:
	@echo "callgate: creating the virtual environment in $(VENV) (first run only)"
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	@echo "callgate: installing callgate and its libraries into $(VENV) (a minute or two; again only when pyproject.toml changes)"
	$(BIN)/python -m pip install -q -e .
	@echo "callgate: installed"
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	@echo "callgate: installing callgate with its test tools into $(VENV) (a few minutes; again only when pyproject.toml changes)"
	$(BIN)/python -m pip install -q -e '.[test]'
	@echo "callgate: installed"
	touch $@ $(RUN_STAMP) $(BENCH_STAMP)

# The test extra holds the bench extra's libraries too (TEST_STAMP marks both).
$(BENCH_STAMP): pyproject.toml | $(BIN)/python
	@echo "callgate: installing callgate with its benchmark libraries into $(VENV) (a minute or two; again only when pyproject.toml changes)"
	$(BIN)/python -m pip install -q -e '.[bench]'
	@echo "callgate: installed"
	touch $@ $(RUN_STAMP)
