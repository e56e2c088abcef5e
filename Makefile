# The same commands for everyone: a newcomer, a developer and CI.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.installed-runtime
DEV := $(VENV)/.installed-dev
DEMO ?= 1

.PHONY: run test lint fix bench clean venv docs

$(RUNTIME): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	touch $(RUNTIME)

$(DEV): $(RUNTIME)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(DEV)

venv: $(DEV)

run: $(RUNTIME)
	$(BIN)/nightowl serve $(if $(filter 1,$(DEMO)),--demo,)

test: $(DEV)
	$(BIN)/pytest -n auto -q

lint: $(DEV)
	$(BIN)/ruff check src tests $(wildcard bench) scripts
	$(BIN)/mypy

fix: $(DEV)
	$(BIN)/ruff check --fix src tests $(wildcard bench) scripts
	$(BIN)/ruff format src tests $(wildcard bench) scripts

docs: $(DEV)
	$(BIN)/python scripts/gen_config_docs.py

bench: $(DEV)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
