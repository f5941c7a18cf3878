# Two entry points for a fresh clone: `make demo` and `make test`.
# PYTHON picks the interpreter, VENV the virtual environment it installs into.
# The tools for working on the project are dependency groups in pyproject.toml, which
# `pip install --group` reads (pip 25.1 or later: the virtual environment gets the latest).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# `make test-min` installs into a virtual environment of its own.
MIN_VENV ?= .venv-min

.PHONY: demo test test-min coverage lint typecheck docs check generate bench fuzz fuzz-long mutation

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

demo: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m superoffice_webhooks demo

test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m pytest

# The whole test suite with the lowest version of every dependency pyproject.toml allows
# (.ci/minimums.txt), so that the floors it declares stay true.
test-min:
	$(PYTHON) -m venv $(MIN_VENV)
	$(MIN_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(MIN_VENV)/bin/python -m pip install --quiet --constraint .ci/minimums.txt -e '.[test]'
	$(MIN_VENV)/bin/python -m pytest

# The test suite under coverage.py, subprocesses included; fails below 100% branch coverage.
coverage: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]' --group coverage
	rm -f .coverage .coverage.*
	$(BIN)/coverage run -m pytest
	$(BIN)/coverage combine --quiet
	$(BIN)/coverage report

lint: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]' --group lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]' --group lint
	$(BIN)/mypy
	$(BIN)/pyright --pythonpath $(BIN)/python

docs: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e . --group docs
	$(BIN)/sphinx-build -W -n --keep-going -b html docs docs/_build/html

# Rewrites the event classes and the typed on() from codegen/catalogue.py (the docs render
# the event reference from it when they are built).
generate: $(BIN)/python
	$(BIN)/python -m codegen.generate

check: lint typecheck docs test

# BENCH_ARGS: --quick (under 30 s), --import (import time, about a minute) or --memory
# (about a minute per 10^6 events).
bench: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e . --group bench
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

# Coverage-guided fuzzing (atheris) of parse and Receiver.receive, FUZZ_SECONDS per target.
FUZZ_SECONDS ?= 60
fuzz: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e . --group fuzz
	for target in parse receive-signed receive-raw; do \
	  $(BIN)/python -m fuzz $$target -- -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 || exit 1; \
	done

# The property tests with 10^5 cases each (a few minutes per test).
fuzz-long: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	SUPEROFFICE_WEBHOOKS_HYPOTHESIS_PROFILE=long $(BIN)/python -m pytest tests/test_properties.py -p no:cacheprovider --hypothesis-show-statistics

# Mutation testing of _verify.py, _parse.py and _converter.py (about 30 minutes on two cores).
mutation: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]' --group mutation
	$(BIN)/mutmut run
	$(BIN)/mutmut results
