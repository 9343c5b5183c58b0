"""AWS Batch, locally: a `batch:submitJob.sync` task runs the training container's entry point.

moto's Step Functions interpreter forwards `batch:submitJob` to moto's Batch backend, which runs
no container here (Docker is not available, and the image is not built locally). While
`route_container_jobs` is active, the state machine's ``arn:aws:states:::batch:submitJob[.sync]``
tasks run the job the way Batch on Fargate would, with the same entry point and environment:

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
from unittest import mock

from recs_tools.local.functions import patched_environ

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
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import state_task_factory

    original = state_task_factory.state_task_service_for  # type: ignore[attr-defined]

    def service_for(service_name: str) -> Any:
        if service_name == "batch":
            return _local_batch(jobs)
        return original(service_name=service_name)

    with mock.patch.object(state_task_factory, "state_task_service_for", service_for):
        yield jobs


def _local_batch(jobs: LocalContainerJobs) -> Any:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import (
        ResourceCondition,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_unsupported import (  # noqa: E501
        StateTaskServiceUnsupported,
    )
    from moto.stepfunctions.parser.asl.eval.callback.callback import (
        CallbackOutcomeFailure,
        CallbackOutcomeFailureError,
    )

    class LocalBatch(StateTaskServiceUnsupported):
        """submitJob runs the job at once; its .sync resolver reports how it ended."""

        def __init__(self) -> None:
            super().__init__()  # type: ignore[no-untyped-call]
            # .sync as AWS offers it; the task-token pattern stays listed because moto's callback
            # machinery (which .sync runs on) expects a callback endpoint for every such task.
            patterns: set[Any] = {ResourceCondition.WaitForTaskToken, ResourceCondition.Sync}
            self._supported_integration_patterns = patterns  # type: ignore[misc]

        def _validate_service_integration_is_supported(self) -> None:
            """Supported here: no warning that the call is forwarded to a backend."""

        def _eval_service_task(
            self,
            env: Any,
            resource_runtime_part: Any,
            normalised_parameters: dict[str, Any],
            state_credentials: Any,
        ) -> None:
            action = self._get_boto_service_action()
            if action != "submit_job":
                raise NotImplementedError(f"the local Batch runs submit_job only, not {action}")
            run = jobs.run(
                str(normalised_parameters["JobName"]),
                str(normalised_parameters["JobQueue"]),
                str(normalised_parameters["JobDefinition"]),
                normalised_parameters.get("ContainerOverrides") or {},
            )
            self._last_run = run
            env.stack.append(
                {"JobName": run.name, "JobId": run.job_id, "JobArn": f"local:batch:job/{run.job_id}"}
            )

        def _build_sync_resolver(
            self,
            env: Any,
            resource_runtime_part: Any,
            normalised_parameters: dict[str, Any],
            state_credentials: Any,
        ) -> Callable[[], Any]:
            run: ContainerJobRun = self._last_run

            def resolve() -> Any:
                if not run.succeeded:
                    raise CallbackOutcomeFailureError(
                        CallbackOutcomeFailure(callback_id="", error=JOB_FAILED, cause=run.log_tail)
                    )
                return {
                    "JobName": run.name,
                    "JobId": run.job_id,
                    "JobQueue": run.queue,
                    "Status": "SUCCEEDED",
                    "Container": {"ExitCode": run.exit_code},
                }

            return resolve

    return LocalBatch()
