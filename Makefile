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
        bench bench-quick bench-deps package-check clean

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

# Benchmark extras, into the project's virtualenv: the `implicit` library (the ALS reference) and
# recbole, installed without its dependencies, only for the MovieLens 100K file it ships
# (recbole/dataset_example/ml-100k/ml-100k.inter, read in place, never copied into the repo).
BENCH_STAMP := $(VENV)/.bench-deps-$(DEPS_HASH)

$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[train,dev,bench]'
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps recbole==1.2.1
	rm -f $(VENV)/.bench-deps-* && touch $@

bench-deps: $(BENCH_STAMP)

# Every figure with its baseline and goal -> bench/results/*.json and docs/benchmarks.md.
# The full run waits up to 3x longer for a quiet machine before its timings (--patience).
bench: venv redis bench-deps
	$(PY) -m bench --full --patience 3

# Small sizes, written under build/ so the committed full-run results and doc stay as measured.
bench-quick: venv redis bench-deps
	$(PY) -m bench --quick --results build/bench-quick --doc build/bench-quick/benchmarks.md

clean:
	rm -rf $(VENV) .tools .aws-sam .mypy_cache .ruff_cache .pytest_cache build
