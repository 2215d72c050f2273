# Two commands matter: `make run` and `make test` (see README).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
PY      = $(VENV)/bin/python
DATA   ?= var

.PHONY: run test deps-test lint bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,bench]'
	touch $@

run: $(VENV)/.installed
	$(VENV)/bin/ipcc serve --config config/demo.yaml --data-dir $(DATA)

deps-test:
	bash scripts/install-test-deps.sh

test: $(VENV)/.installed deps-test
	$(PY) -m pytest -q -p no:cacheprovider

lint: $(VENV)/.installed
	$(PY) -m pip install -q ruff
	$(VENV)/bin/ruff check acd gateways ivr recorder crm_bridge agent_ui config tests

bench: $(VENV)/.installed
	$(VENV)/bin/ipcc bench routing
	$(VENV)/bin/ipcc bench erlang
	$(VENV)/bin/ipcc bench store

clean:
	rm -rf $(VENV) $(DATA) .pytest_cache
