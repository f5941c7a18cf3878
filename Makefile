# Two entry points for a fresh clone: `make demo` and `make test`.
# PYTHON picks the interpreter, VENV the virtual environment it installs into.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint typecheck docs check generate bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

demo: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m superoffice_webhooks demo

test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m pytest

lint: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,lint]'
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,lint]'
	$(BIN)/mypy

docs: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[docs]'
	$(BIN)/sphinx-build -W -n --keep-going -b html docs docs/_build/html

# Rewrites the event classes, the on() overloads and docs/events.md from _catalogue.py.
generate: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m superoffice_webhooks._generate

check: lint typecheck docs test

# BENCH_ARGS: --quick (under 30 s) or --memory (about a minute per 10^6 events).
bench: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m benchmarks $(BENCH_ARGS)
