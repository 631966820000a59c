# The README's commands. Each target creates or refreshes .venv first, so a fresh clone works.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Python writes bytecode (__pycache__/, ignored by git) even where the environment says not to:
# without it every test worker, CLI run and app process compiles the project from source again,
# and pytest rewrites every test module's asserts again in each worker (~6 s of CPU apiece).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: demo test test-fast suite bench lint format clean venv screenshots contracts messages catalogues

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m sandbox demo

# Four pytest-xdist workers keep two cores busy: the tests that wait (sandbox latency, time
# budgets, other processes) leave room for the others. Six used 12 % more CPU for the same wall
# time (each worker imports, collects and serves its own sandboxes). Each worker has its own
# sandboxes and databases.
# `--maxschedchunk 1`: each test goes to the next free worker. By default xdist hands each worker
# a block of consecutive tests up front (a quarter of its share), and the first block held
# nearly all the long tests (sorted first, tests/conftest.py): one worker ran on for a minute
# after the others had finished.
PYTEST_WORKERS ?= 4
PYTEST := $(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist load --maxschedchunk 1

# The README's test command: lint (ruff, ruff format, mypy) and the whole suite, side by side:
# mypy on a fresh clone is ~55 s on one core, which fits into the time the suite's workers spend
# waiting on sockets. Either failing fails the command.
test: $(STAMP)
	@$(MAKE) --no-print-directory -j2 lint suite

# The inner loop: lint and everything but the browser and slow tests.
test-fast: $(STAMP)
	@$(MAKE) --no-print-directory -j2 lint suite PYTEST_ARGS='-m "not slow" $(PYTEST_ARGS)'

suite: $(STAMP)
	$(PYTEST) $(PYTEST_ARGS)

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

# The message catalogue (kernel/i18n.py): `messages` extracts every msgid of the code and the
# templates (babel.cfg) into messages.pot and merges it into each language's .po; translate the
# new entries, then `catalogues` compiles the .mo files (committed; a test checks they are
# current). `de` speaks formally ("Sie"); `de@informal` holds only what differs for "du".
LOCALES_DIR := kernel/locales
EXTRACT_FROM := canvas_kit inbox messenger actions automations reporting billing kernel
# Babel stamps the extraction time into the headers; pinned, so an unchanged catalogue stays
# byte-for-byte unchanged (`make messages` on a clean tree yields no diff).
PIN_DATE := sed -i -e 's/^"POT-Creation-Date: .*"$$/"POT-Creation-Date: 2026-01-01 00:00+0000\\n"/'

messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg --no-default-keywords -k t -k tn:1,2 -k N_ \
		-k _ -k gettext -k ngettext:1,2 --no-location --sort-output --width 100 \
		--project stripe-intercom-canvas --version 0.1.0 \
		--header-comment "# Messages of stripe-intercom-canvas (English msgids): written by make messages." \
		-o $(LOCALES_DIR)/messages.pot $(EXTRACT_FROM)
	$(PIN_DATE) $(LOCALES_DIR)/messages.pot
	$(BIN)/pybabel update -i $(LOCALES_DIR)/messages.pot -d $(LOCALES_DIR) \
		--no-fuzzy-matching --ignore-obsolete --width 100
	$(PIN_DATE) $(LOCALES_DIR)/*/LC_MESSAGES/messages.po

catalogues: $(STAMP)
	$(BIN)/pybabel compile -d $(LOCALES_DIR) --statistics
