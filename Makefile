# The README's commands. Each target creates or refreshes .venv first, so a fresh clone works.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast bench lint format clean venv screenshots contracts

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m sandbox demo

# Most tests wait on sockets (sandbox latency, time budgets, server start-up), not on the CPU:
# six pytest-xdist workers keep two cores busy, each test going to the next free worker (long
# tests spread out). Each worker has its own sandboxes and databases.
PYTEST_WORKERS ?= 6
PYTEST := $(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist load

# The README's test command: lint (ruff, ruff format, mypy) and the whole suite.
test: lint
	$(PYTEST) $(PYTEST_ARGS)

# The inner loop: lint and everything but the browser and slow tests.
test-fast: lint
	$(PYTEST) -m "not slow" $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m sandbox bench

lint: $(STAMP)
	$(BIN)/python -m ruff check .
	$(BIN)/python -m ruff format --check .
	$(BIN)/python -m mypy

format: $(STAMP)
	$(BIN)/python -m ruff format .
	$(BIN)/python -m ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache *.egg-info

screenshots: $(STAMP)
	$(BIN)/python scripts/screenshots.py

contracts: $(STAMP)
	$(BIN)/python scripts/update_contracts.py
