# therapy-signals: `make demo` and `make test` work on a fresh clone; everything they need
# is installed here, into .venv, from PyPI.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# durable_rules 2.0.28 calls PyEval_CallObject, which Python 3.13 removed; the alias is
# harmless on older Pythons, so every build of it gets the flag.
export CPPFLAGS := -DPyEval_CallObject=PyObject_CallObject
# mkdocs-material prints a banner about MkDocs 2 on every build; it is not a warning of ours.
export NO_MKDOCS_2_WARNING := 1
PIP := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: demo test lint format bench bench-batch bench-server docs smoke install dev clean lint-data

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

$(VENV)/.core: $(BIN)/python pyproject.toml
	$(PIP) install -e .
	@touch $@

$(VENV)/.dev: $(BIN)/python pyproject.toml
	$(PIP) install -e '.[dev]'
	@touch $@ $(VENV)/.core

install: $(VENV)/.core
dev: $(VENV)/.dev

demo: $(VENV)/.core
	$(BIN)/therapy-signals explain examples/scenarios/repeated-misunderstanding.json

lint: $(VENV)/.dev
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples
	$(BIN)/mypy

format: $(VENV)/.dev
	$(BIN)/ruff check --fix src tests benchmarks examples
	$(BIN)/ruff format src tests benchmarks examples

test: $(VENV)/.dev lint
	@# tests/test_app_guide.py runs the app developer guide's curl commands as written
	@command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl; }
	$(BIN)/therapy-signals rules validate
	@# one worker per core; a test file stays on one worker (its module fixtures and order hold)
	$(BIN)/python -m pytest -n logical --dist loadfile
	$(MAKE) docs
	$(MAKE) smoke

docs: $(VENV)/.dev
	$(BIN)/mkdocs build --strict --quiet --site-dir site

# The wheel in a clean venv on every Python 3.11-3.13 pyenv has here: install, validate,
# explain every example from outside the checkout (so the rules come from the wheel).
smoke: $(VENV)/.dev
	bash scripts/smoke.sh

# Prints the figures only. To refresh docs/performance.md with them, run
# `$(BIN)/python benchmarks/bench_engine.py --write` (about two minutes; no timing is a test).
bench: $(VENV)/.dev
	$(BIN)/python benchmarks/bench_engine.py

# Batches: 1 and 2 workers on 100,000 scenarios next to raw durable_rules, then 1,000,000
# streamed for peak memory (about 15 minutes). `--write` also rewrites the Batches section of
# docs/performance.md; `--n 20000 --stream-n 0` is a quick look.
bench-batch: $(VENV)/.dev
	$(BIN)/python benchmarks/bench_batch.py

# The HTTP service under wrk on loopback: 1 and 16 clients, then a 100,000-request memory run
# (about two minutes). wrk is Debian's package; `--write` rewrites the HTTP service section of
# docs/performance.md.
bench-server: $(VENV)/.dev
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(BIN)/python benchmarks/bench_server.py

# The linter's prebuilt data (src/therapy_signals/lint/_data/), which lets `therapy-signals lint`
# start without loading the rule base or lemminflect. Run it after changing lint/_text.py,
# lint/_phrases.py, lint/_roles.py, _evaluate.py, _facts.py, the rule files or lemminflect, and
# commit the files; tests/lint/test_prebuilt.py fails until then (the linter stays right, only slower).
lint-data: $(VENV)/.dev
	$(BIN)/python scripts/build_lint_data.py

clean:
	rm -rf $(VENV) .venv-smoke-* dist build site .pytest_cache .mypy_cache .ruff_cache .hypothesis
