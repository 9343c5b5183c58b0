"""Step Functions tasks that moto's interpreter cannot run, routed to a local stand-in.

moto's interpreter forwards a service integration it does not support to moto's backend (where,
for EMR Serverless and Batch, no job runs) and has no ``.sync`` for it. While
`route_service_tasks` is active, the state machine's tasks of one service call a local function
with the task's parameters instead. Its `TaskRun` is what the start call answers and, for
``.sync``, how the job ended: a failed job fails the task with its error and cause, which the
state machine's Catch takes as it takes a failed job in AWS.

Used by `recs_tools.local.spark` (EMR Serverless) and `recs_tools.local.container` (Batch).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from unittest import mock


@dataclass(frozen=True)
class TaskRun:
    """A local job, as its task reports it."""

    #: The start call's answer (the task's output without ``.sync``).
    started: Mapping[str, Any]
    #: The ``.sync`` output, once the job succeeded.
    finished: Mapping[str, Any]
    #: (error, cause) when the job failed: the ``.sync`` task fails with them.
    failure: tuple[str, str] | None = None


#: Runs one task's job at once, from the task's (normalised) parameters.
TaskRunner = Callable[[dict[str, Any]], TaskRun]


@contextmanager
def route_service_tasks(service: str, action: str, run: TaskRunner) -> Iterator[None]:
    """While active, the state machine's tasks of `service` (moto's service name, e.g. ``batch``)
    call `run`; any action but `action` (boto's name, e.g. ``submit_job``) is refused."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import state_task_factory

    original = state_task_factory.state_task_service_for  # type: ignore[attr-defined]

    def service_for(service_name: str) -> Any:
        if service_name == service:
            return _local_service(service, action, run)
        return original(service_name=service_name)

    with mock.patch.object(state_task_factory, "state_task_service_for", service_for):
        yield


def _local_service(service: str, action: str, run: TaskRunner) -> Any:
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

    class LocalService(StateTaskServiceUnsupported):
        """The start call runs the job at once; its .sync resolver reports how it ended."""

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
            asked = self._get_boto_service_action()
            if asked != action:
                raise NotImplementedError(f"the local {service} runs {action} only, not {asked}")
            self._last_run = run(normalised_parameters)
            env.stack.append(dict(self._last_run.started))

        def _build_sync_resolver(
            self,
            env: Any,
            resource_runtime_part: Any,
            normalised_parameters: dict[str, Any],
            state_credentials: Any,
        ) -> Callable[[], Any]:
            ran: TaskRun = self._last_run

            def resolve() -> Any:
                if ran.failure is not None:
                    error, cause = ran.failure
                    failure = CallbackOutcomeFailure(callback_id="", error=error, cause=cause)
                    raise CallbackOutcomeFailureError(failure)
                return dict(ran.finished)

            return resolve

    return LocalService()
