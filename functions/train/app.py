"""Every step of the training workflow; Step Functions passes {"step": ..., "job": {...}}.

One function serves every step (one package, one set of permissions); the step name selects
the pipeline method. A publish shard also carries the Distributed Map item it works on.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from recs.api.metrics import log_metrics_per_request
from recs.api.tracing import make_tracer
from recs.config.train import TrainSettings
from recs.wiring import train as wiring

logger = Logger()
metrics = Metrics()
settings = TrainSettings()  # values come from the environment
tracer = make_tracer(disabled=settings.powertools_trace_disabled)
pipeline = wiring.training_pipeline(settings)


class StepRequest(BaseModel):
    step: Literal[
        "take_lease", "prepare", "train", "evaluate", "flip", "cleanup", "record_failure", "record_refusal"
    ]
    job: dict[str, Any] = Field(default_factory=dict)


class Shard(BaseModel):
    """One item of the publish manifest (`recs.training.artifacts.SHARD_MANIFEST`)."""

    model_config = ConfigDict(extra="allow")

    kind: Literal["users", "items"]
    name: str = Field(pattern=r"^[a-z]+(-\d{5})?$")


class ShardRequest(BaseModel):
    step: Literal["publish_shard"]
    job: dict[str, Any]
    shard: Shard


class Invocation(BaseModel):
    request: Annotated[StepRequest | ShardRequest, Field(discriminator="step")]


@logger.inject_lambda_context(log_event=False)
@log_metrics_per_request(metrics)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = Invocation.model_validate({"request": event}).request
    logger.append_keys(step=request.step, modelVersion=request.job.get("modelVersion"))
    if isinstance(request, ShardRequest):
        return pipeline.publish_shard(request.job, request.shard.model_dump())
    result: dict[str, Any] = getattr(pipeline, request.step)(request.job)
    return result
