# The same commands for everyone: a newcomer, a developer and CI.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint fix bench clean venv docs

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/nightowl serve

test: $(STAMP)
	$(BIN)/pytest -n auto -q

lint: $(STAMP)
	$(BIN)/ruff check src tests $(wildcard bench) scripts
	$(BIN)/mypy

fix: $(STAMP)
	$(BIN)/ruff check --fix src tests $(wildcard bench) scripts
	$(BIN)/ruff format src tests $(wildcard bench) scripts

docs: $(STAMP)
	$(BIN)/python scripts/gen_config_docs.py

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
