# Two commands for a newcomer: `make demo` (the whole product locally) and `make test` (everything).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
DEPS_HASH := $(shell cat pyproject.toml | sha1sum | cut -c1-12)
STAMP := $(VENV)/.installed-$(DEPS_HASH)
SAM_VERSION := 1.170.0
SAM_VENV := .tools/sam
SAM := $(SAM_VENV)/bin/sam
PYTEST_ARGS ?= -n 2

export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= eu-west-1

.PHONY: help venv tools redis demo test lint format typecheck validate unit integration e2e \
        bench bench-quick package-check clean

help:
	@echo "make demo   - run the whole product locally (synthetic shop -> ingest -> training -> API on :3000)"
	@echo "make test   - install everything the tests need, then lint, type check, validate the template, run all tests"
	@echo "make bench  - every performance and quality figure (docs/benchmarks.md); make bench-quick for a short run"

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[train,dev]'
	rm -f $(VENV)/.installed-* && touch $@

venv: $(STAMP)

$(SAM):
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check aws-sam-cli==$(SAM_VERSION)

tools: $(SAM)

redis:
	@scripts/ensure-redis.sh

demo: venv redis
	$(PY) -m recs.local demo

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: venv
	$(BIN)/mypy layers/common/recs functions tests $(wildcard bench)

validate: venv tools
	$(SAM) validate --lint --template template.yaml
	$(BIN)/cfn-lint template.yaml

unit: venv
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

integration: venv redis
	$(BIN)/pytest tests/integration $(PYTEST_ARGS)

e2e: venv redis
	$(BIN)/pytest tests/e2e $(PYTEST_ARGS)

test: venv tools redis lint typecheck validate
	$(BIN)/pytest tests $(PYTEST_ARGS)

package-check: venv
	$(PY) -m recs.packaging

bench: venv redis
	$(PY) -m bench --full

bench-quick: venv redis
	$(PY) -m bench --quick

clean:
	rm -rf $(VENV) .tools .aws-sam .mypy_cache .ruff_cache .pytest_cache build
