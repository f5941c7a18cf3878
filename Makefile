# Two entry points for a fresh clone: `make demo` and `make test`.
# PYTHON picks the interpreter, VENV the virtual environment it installs into.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test coverage lint typecheck docs check generate bench fuzz fuzz-long mutation

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

demo: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m superoffice_webhooks demo

test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m pytest

# The test suite under coverage.py, subprocesses included; fails below 100% branch coverage.
coverage: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,coverage]'
	rm -f .coverage .coverage.*
	$(BIN)/coverage run -m pytest
	$(BIN)/coverage combine --quiet
	$(BIN)/coverage report

lint: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,lint]'
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,lint]'
	$(BIN)/mypy
	$(BIN)/pyright --pythonpath $(BIN)/python

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

# Coverage-guided fuzzing (atheris) of parse and Receiver.receive, FUZZ_SECONDS per target.
FUZZ_SECONDS ?= 60
fuzz: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[fuzz]'
	for target in parse receive-signed receive-raw; do \
	  $(BIN)/python -m fuzz $$target -- -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 || exit 1; \
	done

# The property tests with 10^5 cases each (a few minutes per test).
fuzz-long: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	SUPEROFFICE_WEBHOOKS_HYPOTHESIS_PROFILE=long $(BIN)/python -m pytest tests/test_properties.py -p no:cacheprovider --hypothesis-show-statistics

# Mutation testing of _verify.py, _parse.py and _converter.py (about 30 minutes on two cores).
mutation: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,mutation]'
	$(BIN)/mutmut run
	$(BIN)/mutmut results
