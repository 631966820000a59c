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

# The README's test command: lint (ruff, ruff format, mypy) and the whole suite.
test: lint
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# The inner loop: lint and everything but the browser and slow tests.
test-fast: lint
	$(BIN)/python -m pytest -q -m "not slow" $(PYTEST_ARGS)

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
