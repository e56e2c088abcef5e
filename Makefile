# The same commands for everyone: a newcomer, a developer and CI.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.installed-runtime
DEV := $(VENV)/.installed-dev
DEMO ?= 1

.PHONY: run test lint fix bench clean venv docs web

# The web UI: built from web/ into the package when the build is missing or older than its sources.
WEB_DIST := src/nightowl/web/dist/index.html
WEB_DEPS := web/node_modules/.installed
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/vite.config.ts web/tsconfig.json

$(WEB_DEPS): web/package.json web/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "error: building the web UI needs Node.js 20+ and npm (e.g. apt-get install nodejs npm)" >&2; exit 1; }
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $(WEB_DEPS)

$(WEB_DIST): $(WEB_DEPS) $(WEB_SOURCES)
	cd web && npm run build --silent
	touch $(WEB_DIST)

web: $(WEB_DIST)

$(RUNTIME): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	touch $(RUNTIME)

$(DEV): $(RUNTIME)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(DEV)

venv: $(DEV)

run: $(RUNTIME) $(WEB_DIST)
	$(BIN)/nightowl serve $(if $(filter 1,$(DEMO)),--demo,)

test: $(DEV) $(WEB_DIST)
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
	rm -rf web/node_modules src/nightowl/web/dist
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
