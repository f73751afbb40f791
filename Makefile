# Every target bootstraps its own virtual environment (.venv) from nothing.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= clarion-demo

.PHONY: demo test bench lint fmt docs clean postgres chromium dovecot

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The main job: a whole campaign against the simulated market, its report, then the dashboard.
# DEMO_ARGS passes options through, e.g. DEMO_ARGS="--contacts 2000 --days 7 --no-serve".
demo: $(STAMP)
	rm -rf $(DEMO_DIR)
	$(BIN)/clarion demo --out $(DEMO_DIR) $(DEMO_ARGS)

# PostgreSQL server binaries for the test harness (installed if missing).
postgres:
	@bash scripts/ensure-postgres.sh

# Chromium for the real-browser snippet test (installed if missing).
chromium:
	@bash scripts/ensure-chromium.sh

# Dovecot for the IMAP/POP3 tests of delivery feedback (installed if missing).
dovecot:
	@bash scripts/ensure-dovecot.sh

# The whole suite, on SQLite and on a throwaway PostgreSQL server.
test: $(STAMP) postgres chromium dovecot
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Benchmarks; QUICK=1 is the small smoke CI may run.
bench: $(STAMP)
	@bash scripts/ensure-bench-tools.sh
	$(BIN)/python -m benchmarks $(if $(QUICK),--quick,)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

# Regenerate the CLI reference from the code (a test fails when it is stale).
docs: $(STAMP)
	$(BIN)/python -m clarion.cli.reference > docs/cli.md

fmt: $(STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache
