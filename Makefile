# releasegate — the two commands a fresh machine needs: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3)
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck unit services bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q --disable-pip-version-check -U pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m releasegate demo

services:
	bash scripts/services.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks examples

typecheck: $(STAMP)
	$(VENV)/bin/mypy src

unit: $(STAMP) services
	$(VENV)/bin/pytest

test: lint typecheck unit

bench: $(STAMP) services
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test,bench]'
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) .releasegate .pytest_cache .mypy_cache .ruff_cache
