"""AWS Batch, locally: a `batch:submitJob.sync` task runs the training container's entry point.

moto's Step Functions interpreter forwards `batch:submitJob` to moto's Batch backend, which runs
no container here (Docker is not available, and the image is not built locally). While
`route_container_jobs` is active, the state machine's ``arn:aws:states:::batch:submitJob[.sync]``
tasks run the job the way Batch on Fargate would (`recs_tools.local.step_tasks` routes them), with
the same entry point and environment:

1. the job definition's environment (template.yaml TrainingJobDefinition, resolved by the
   local stack) plus the task's ``ContainerOverrides.Environment`` (the job document);
2. the image's command, ``python -m recs.wiring.train_container`` (or the task's
   ``ContainerOverrides.Command``: PrepareInContainer's adds ``--step prepare``), run as
   `recs.wiring.train_container.main` **in this process**: the local stack's AWS is moto's
   in-process mock (`moto.mock_aws`), which a child process could not reach; the code, the
   settings it loads and the S3 and DynamoDB it reads and writes are the deployed container's;
3. its exit status decides the job: 0 SUCCEEDED, anything else FAILED.

What this does not exercise: the image itself (infra/container/Dockerfile: its base, its pinned
packages), Fargate's memory and CPU limits, the roles (moto does not enforce IAM) and the
network. A FAILED job fails the task (``LocalContainerJobFailed``, the end of the job's log as the
cause), which the state machine's Catch (States.ALL) takes as it takes a failed Batch job.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from recs_tools.local.functions import patched_environ
from recs_tools.local.step_tasks import TaskRun, route_service_tasks

_log = logging.getLogger(__name__)

#: The error a failed local job raises in the task (the Catch's States.ALL takes any name; this
#: one says the failure came from the local stand-in).
JOB_FAILED = "LocalContainerJobFailed"
LOG_TAIL_CHARS = 4_000
#: The image's command (infra/container/Dockerfile CMD and TrainingJobDefinition Command).
ENTRY_MODULE = "recs.wiring.train_container"


@dataclass(frozen=True)
class ContainerJobRun:
    """One job: what was asked and how it ended."""

    job_id: str
    name: str
    queue: str
    definition: str
    command: list[str]
    environment: dict[str, str]
    exit_code: int
    log_tail: str

    @property
    def succeeded(self) -> bool:
        return self.exit_code == 0


class _LogTail(logging.Handler):
    """What the entry point logged, for a failed job's cause."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += f": {type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
        self.lines.append(text)


def _run_module(command: list[str]) -> int:
    """The image's ``python -m recs.wiring.train_container [args]``, in this process."""
    if command[:3] != ["python", "-m", ENTRY_MODULE]:
        raise ValueError(f"the local Batch runs {ENTRY_MODULE} only, not {command!r}")
    from recs.wiring import train_container

    return train_container.main(command[3:])


@dataclass
class LocalContainerJobs:
    """Runs the training container's jobs in this process, by the job definitions the local
    stack resolved from the template (``definitions``: by the definition's Ref)."""

    definitions: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    runs: list[ContainerJobRun] = field(default_factory=list)
    runner: Callable[[list[str]], int] = _run_module
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def run(self, name: str, queue: str, definition: str, overrides: Mapping[str, Any]) -> ContainerJobRun:
        if definition not in self.definitions:
            raise ValueError(f"no job definition {definition!r} in the local stack")
        container = self.definitions[definition]
        command = [str(part) for part in overrides.get("Command") or container["Command"]]
        environment = {item["Name"]: str(item["Value"]) for item in container.get("Environment", [])}
        environment.update({item["Name"]: str(item["Value"]) for item in overrides.get("Environment", [])})
        job_id = f"local-job-{next(self._ids):08d}"
        tail = _LogTail()
        entry_logger = logging.getLogger("train-container")
        entry_logger.addHandler(tail)
        try:
            with patched_environ(environment):
                exit_code = self.runner(command)
        except SystemExit as stopped:  # argparse's usage errors exit
            exit_code = stopped.code if isinstance(stopped.code, int) else 1
        finally:
            entry_logger.removeHandler(tail)
        log = "\n".join(tail.lines)[-LOG_TAIL_CHARS:] or f"exit status {exit_code}"
        run = ContainerJobRun(job_id, name, queue, definition, command, environment, exit_code, log)
        self.runs.append(run)
        _log.info("local Batch job %s (%s): %s", job_id, name, "SUCCEEDED" if run.succeeded else "FAILED")
        return run


# ---------------------------------------------------------------------- the state machine's side
@contextmanager
def route_container_jobs(jobs: LocalContainerJobs) -> Iterator[LocalContainerJobs]:
    """While active, the state machine's Batch tasks run on ``jobs``."""

    def submit_job(parameters: dict[str, Any]) -> TaskRun:
        run = jobs.run(
            str(parameters["JobName"]),
            str(parameters["JobQueue"]),
            str(parameters["JobDefinition"]),
            parameters.get("ContainerOverrides") or {},
        )
        return TaskRun(
            started={"JobName": run.name, "JobId": run.job_id, "JobArn": f"local:batch:job/{run.job_id}"},
            finished={
                "JobName": run.name,
                "JobId": run.job_id,
                "JobQueue": run.queue,
                "Status": "SUCCEEDED",
                "Container": {"ExitCode": run.exit_code},
            },
            failure=None if run.succeeded else (JOB_FAILED, run.log_tail),
        )

    with route_service_tasks("batch", "submit_job", submit_job):
        yield jobs
