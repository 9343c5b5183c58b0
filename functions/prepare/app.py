"""The training workflow's Prepare step; Step Functions passes {"step": "prepare", "job": {...}}.

Its own function because it reads the lake with pyarrow, which does not fit beside scipy in one
Lambda (recs.training.prepare_step); every other step runs on the training function.
"""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from recs.api.metrics import log_metrics_per_request
from recs.api.tracing import make_tracer
from recs.config.train import TrainSettings
from recs.training.workflow import PrepareRequest
from recs.wiring.prepare import prepare_step

logger = Logger()
metrics = Metrics()
settings = TrainSettings()  # values come from the environment
tracer = make_tracer(disabled=settings.powertools_trace_disabled)
step = prepare_step(settings)


class Invocation(BaseModel):
    step: Literal["prepare"]
    job: PrepareRequest


@logger.inject_lambda_context(log_event=False)
@log_metrics_per_request(metrics)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = Invocation.model_validate(event)
    logger.append_keys(step=request.step, executionName=request.job.executionName)
    return dict(step.prepare(request.job).to_state())
