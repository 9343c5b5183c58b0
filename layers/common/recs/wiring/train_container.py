"""The training container's entry point: one run's Train and Evaluate, or its Prepare, on one
large machine.

    python -m recs.wiring.train_container [--job '<PreparedJob JSON>']
    python -m recs.wiring.train_container --step prepare [--job '<PrepareRequest JSON>']

The container engine (docs/training.md) runs this on AWS Batch with Fargate compute, for a
window past what the training function handles in 15 minutes and 10 GB but short of needing
Spark. The code is the training function's (`TrainingPipeline.train` then `.evaluate`) and so
are its settings: the job definition sets the same environment variables (template.yaml
TrainingJobDefinition). The job is the document Prepare returned (`PreparedJob`), given by the
state machine in ``RECS_TRAINING_JOB`` (or ``--job``, which wins); what the run ends with is
stored under the version's ``container/evaluated.json``, where the ContainerResult step reads it.

With ``--step prepare`` (PrepareInContainer: the window's lake is past what the prepare function
reads in 15 minutes, docs/training.md) it runs the prepare function's code instead
(`PrepareStep.prepare`, the same outputs) on the document Prepare takes (`PrepareRequest`), and
stores the prepared job under ``prepared/runs/<execution>.json``, where PreparedResult reads it.

Exit status: 0 when the document is stored; 2 when the job is missing or not a prepared job for
this engine (a usage error, nothing trained); 1 when training or evaluating failed (its traceback
in the log). Batch fails the job on a non-zero status and the state machine's Catch takes it to
RecordFailure, leaving the serving version as it was.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from recs.config.train import TrainSettings
from recs.training.pipeline import TrainingPipeline
from recs.training.workflow import PreparedJob, PrepareRequest

if TYPE_CHECKING:  # pyarrow's code: imported by the prepare step only when it runs
    from recs.training.prepare_step import PrepareStep

#: The environment variable the state machine passes the job in (TrainInContainer's overrides).
JOB_VARIABLE = "RECS_TRAINING_JOB"
EXIT_FAILED = 1
EXIT_USAGE = 2

logger = Logger(service="train-container")


class UsageError(ValueError):
    """The job given is missing or not one this entry point runs."""


#: Step Functions execution names (the prepared job is stored under this name).
EXECUTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


def parse_arguments(argv: Sequence[str], environ: Mapping[str, str]) -> PreparedJob | PrepareRequest:
    """The job from ``--job`` or the environment, validated as the contract says for the step:
    a prepared job to train (the default), or a prepare request (``--step prepare``)."""
    parser = argparse.ArgumentParser(prog="python -m recs.wiring.train_container", add_help=True)
    parser.add_argument(
        "--step",
        choices=("train", "prepare"),
        default="train",
        help="train: Train and Evaluate a prepared job (the default); prepare: Prepare a run",
    )
    parser.add_argument(
        "--job",
        help=f"the PreparedJob (train) or PrepareRequest (prepare) as JSON (default: ${JOB_VARIABLE})",
    )
    arguments = parser.parse_args(list(argv))
    text = arguments.job if arguments.job is not None else environ.get(JOB_VARIABLE, "")
    if arguments.step == "prepare":
        return _parse_prepare_request(text)
    return _parse_prepared_job(text)


def parse_job(argv: Sequence[str], environ: Mapping[str, str]) -> PreparedJob:
    """The prepared job to train from ``--job`` or the environment."""
    job = parse_arguments(argv, environ)
    if not isinstance(job, PreparedJob):
        raise UsageError("--step prepare takes a prepare request, not a prepared job")
    return job


def _document(text: str, what: str) -> object:
    if not text.strip():
        raise UsageError(f"no job: pass --job or set {JOB_VARIABLE} to the {what}'s JSON")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(f"{JOB_VARIABLE}: not JSON ({error.msg} at position {error.pos})") from error


def _invalid(error: ValidationError, what: str) -> UsageError:
    fields = ", ".join(".".join(str(part) for part in e["loc"]) or "(document)" for e in error.errors())
    return UsageError(f"{JOB_VARIABLE}: not a {what} (fields: {fields})")


def _parse_prepared_job(text: str) -> PreparedJob:
    try:
        job = PreparedJob.model_validate(_document(text, "prepared job"))
    except ValidationError as error:
        raise _invalid(error, "prepared job") from error
    if job.engine != "container":
        raise UsageError(f"{JOB_VARIABLE}: {job.modelVersion} was prepared for the {job.engine} engine")
    return job


def _parse_prepare_request(text: str) -> PrepareRequest:
    try:
        request = PrepareRequest.model_validate(_document(text, "prepare request"))
    except ValidationError as error:
        raise _invalid(error, "prepare request") from error
    if not EXECUTION_NAME.match(request.executionName):
        # It names the object the prepared job is stored as: nothing but an execution's name.
        raise UsageError(f"{JOB_VARIABLE}: executionName is not a Step Functions execution name")
    return request


def _pipeline() -> TrainingPipeline:
    # Imported here: the wiring builds AWS clients, which a usage error never needs.
    from recs.wiring.train import training_pipeline

    return training_pipeline(TrainSettings())  # values come from the job definition's environment


def _prepare_step() -> PrepareStep:
    # Imported here, as the pipeline: the wiring builds AWS clients.
    from recs.wiring.prepare import prepare_step

    return prepare_step(TrainSettings())  # the prepare function's settings, from the same environment


def main(
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    pipeline: Callable[[], TrainingPipeline] = _pipeline,
    prepare: Callable[[], PrepareStep] = _prepare_step,
) -> int:
    try:
        job = parse_arguments(
            sys.argv[1:] if argv is None else argv, os.environ if environ is None else environ
        )
    except UsageError as error:
        print(f"usage error: {error}", file=sys.stderr)
        return EXIT_USAGE
    if isinstance(job, PrepareRequest):
        return _prepare(job, prepare)
    logger.append_keys(modelVersion=job.modelVersion)
    try:
        evaluated = pipeline().train_in_container(job)
    except Exception:
        logger.exception("training in the container failed")
        return EXIT_FAILED
    logger.info(
        "trained and evaluated",
        extra={
            "family": evaluated.family,
            "gatePassed": evaluated.gate.passed,
            "reason": evaluated.gate.reason,
        },
    )
    return 0


def _prepare(request: PrepareRequest, prepare: Callable[[], PrepareStep]) -> int:
    logger.append_keys(executionName=request.executionName)
    try:
        prepared = prepare().prepare_in_container(request)
    except Exception:
        logger.exception("preparing in the container failed")
        return EXIT_FAILED
    logger.info(
        "prepared",
        extra={"modelVersion": prepared.modelVersion, "engine": prepared.engine, "stats": prepared.stats},
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
