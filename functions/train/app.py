"""Every step of the training workflow but Prepare; Step Functions passes {"step": ..., "job": {...}}.

One function serves these steps (one package, one set of permissions); Prepare runs on its own
function (functions/prepare: it reads the lake with pyarrow, which does not fit beside scipy).
The step table below names, for each step, the typed document it takes
(`recs.training.workflow`) and the pipeline method that runs it; a publish shard also carries the
Distributed Map item it works on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Final, Literal

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from recs.api.metrics import log_metrics_per_request
from recs.api.tracing import make_tracer
from recs.config.train import TrainSettings
from recs.training.deadline import Deadline
from recs.training.workflow import STEP_DOCUMENTS, EvaluatedJob, Shard
from recs.wiring import train as wiring

logger = Logger()
metrics = Metrics()
settings = TrainSettings()  # values come from the environment
tracer = make_tracer(disabled=settings.powertools_trace_disabled)
pipeline = wiring.training_pipeline(settings)


#: What runs each step, by the name the state machine sends (infra/statemachines/training.asl.json),
#: given its document (`recs.training.workflow.STEP_DOCUMENTS`) and when the invocation ends. The
#: pipeline's method is looked up on each call, so a test may wrap one.
def _flip(job: Any, _deadline: Deadline) -> Any:
    """Point serving at the new version, and count it: the staleness alarm watches versions that
    went live, not executions that ended well (a run that found another holding the lease ends
    in a success state having published nothing)."""
    flipped = pipeline.flip(job)
    metrics.add_metric(name="VersionsPublished", unit=MetricUnit.Count, value=1)
    return flipped


def _train(job: Any, deadline: Deadline) -> Any:
    """The Train step, told when the invocation ends; a search cut short by that deadline is
    counted (TrainStepNearTimeLimitAlarm: the shop is outgrowing the training function)."""
    trained = pipeline.train(job, deadline=deadline)
    if trained.search.get("stoppedBy") == "deadline":
        metrics.add_metric(name="SearchStoppedByDeadline", unit=MetricUnit.Count, value=1)
    return trained


STEPS: Final[dict[str, Callable[[Any, Deadline], Any]]] = {
    "take_lease": lambda job, _: pipeline.take_lease(job),
    # The one step whose length the product chooses (its search): told when the invocation ends.
    "train": _train,
    "container_result": lambda job, _: pipeline.container_result(job),
    "evaluate": lambda job, _: pipeline.evaluate(job),
    "start_import": lambda job, _: pipeline.start_import(job),
    "check_import": lambda job, _: pipeline.check_import(job),
    "flip": _flip,
    "cleanup": lambda job, _: pipeline.cleanup(job),
    "publish_lists": lambda job, _: pipeline.publish_lists(job),
    "record_refusal": lambda job, _: pipeline.record_refusal(job),
    "record_failure": lambda job, _: pipeline.record_failure(job),
}


class StepRequest(BaseModel):
    step: Literal[
        "take_lease",
        "train",
        "container_result",
        "evaluate",
        "publish_lists",
        "start_import",
        "check_import",
        "flip",
        "cleanup",
        "record_failure",
        "record_refusal",
    ]
    job: dict[str, Any] = Field(default_factory=dict)


class ShardRequest(BaseModel):
    step: Literal["publish_shard"]
    job: EvaluatedJob
    shard: Shard


class Invocation(BaseModel):
    request: Annotated[StepRequest | ShardRequest, Field(discriminator="step")]


@logger.inject_lambda_context(log_event=False)
@log_metrics_per_request(metrics)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = Invocation.model_validate({"request": event}).request
    if isinstance(request, ShardRequest):
        logger.append_keys(step=request.step, modelVersion=request.job.modelVersion)
        return dict(pipeline.publish_shard(request.job, request.shard).to_state())
    takes, _ = STEP_DOCUMENTS[request.step]
    job = takes.model_validate(request.job)
    logger.append_keys(step=request.step, modelVersion=request.job.get("modelVersion"))
    deadline = Deadline.after(context.get_remaining_time_in_millis() / 1000)
    return dict(STEPS[request.step](job, deadline).to_state())
