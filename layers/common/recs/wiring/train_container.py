"""The training container's entry point: one run's Train and Evaluate on one large machine.

    python -m recs.wiring.train_container [--job '<PreparedJob JSON>']

The container engine (docs/training.md) runs this on AWS Batch with Fargate compute, for a
window past what the training function handles in 15 minutes and 10 GB but short of needing
Spark. The code is the training function's (`TrainingPipeline.train` then `.evaluate`) and so
are its settings: the job definition sets the same environment variables (template.yaml
TrainingJobDefinition). The job is the document Prepare returned (`PreparedJob`), given by the
state machine in ``RECS_TRAINING_JOB`` (or ``--job``, which wins); what the run ends with is
stored under the version's ``container/evaluated.json``, where the ContainerResult step reads it.

Exit status: 0 when the document is stored; 2 when the job is missing or not a prepared job for
this engine (a usage error, nothing trained); 1 when training or evaluating failed (its traceback
in the log). Batch fails the job on a non-zero status and the state machine's Catch takes it to
RecordFailure, leaving the serving version as it was.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from recs.config.train import TrainSettings
from recs.training.pipeline import TrainingPipeline
from recs.training.workflow import PreparedJob

#: The environment variable the state machine passes the job in (TrainInContainer's overrides).
JOB_VARIABLE = "RECS_TRAINING_JOB"
EXIT_FAILED = 1
EXIT_USAGE = 2

logger = Logger(service="train-container")


class UsageError(ValueError):
    """The job given is missing or not one this entry point runs."""


def parse_job(argv: Sequence[str], environ: Mapping[str, str]) -> PreparedJob:
    """The prepared job from ``--job`` or the environment, validated as the contract says."""
    parser = argparse.ArgumentParser(prog="python -m recs.wiring.train_container", add_help=True)
    parser.add_argument("--job", help=f"the PreparedJob document as JSON (default: ${JOB_VARIABLE})")
    arguments = parser.parse_args(list(argv))
    text = arguments.job if arguments.job is not None else environ.get(JOB_VARIABLE, "")
    if not text.strip():
        raise UsageError(f"no job: pass --job or set {JOB_VARIABLE} to the prepared job's JSON")
    try:
        job = PreparedJob.model_validate(json.loads(text))
    except json.JSONDecodeError as error:
        raise UsageError(f"{JOB_VARIABLE}: not JSON ({error.msg} at position {error.pos})") from error
    except ValidationError as error:
        fields = ", ".join(".".join(str(part) for part in e["loc"]) or "(document)" for e in error.errors())
        raise UsageError(f"{JOB_VARIABLE}: not a prepared job (fields: {fields})") from error
    if job.engine != "container":
        raise UsageError(f"{JOB_VARIABLE}: {job.modelVersion} was prepared for the {job.engine} engine")
    return job


def _pipeline() -> TrainingPipeline:
    # Imported here: the wiring builds AWS clients, which a usage error never needs.
    from recs.wiring.train import training_pipeline

    return training_pipeline(TrainSettings())  # values come from the job definition's environment


def main(
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    pipeline: Callable[[], TrainingPipeline] = _pipeline,
) -> int:
    try:
        job = parse_job(sys.argv[1:] if argv is None else argv, os.environ if environ is None else environ)
    except UsageError as error:
        print(f"usage error: {error}", file=sys.stderr)
        return EXIT_USAGE
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


if __name__ == "__main__":
    sys.exit(main())
