"""The training workflow's PlanPrepare, Prepare, PreparedResult and ImportFactors steps; Step
Functions passes {"step": "plan_prepare" | "prepare" | "prepared_result" | "import_factors", "job": {...}}.

Their own function because they read and write Parquet with pyarrow, which does not fit beside
scipy in one Lambda (recs.training.prepare_step); every other step runs on the training function.
"""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from recs.api.metrics import log_metrics_per_request
from recs.api.tracing import make_tracer
from recs.config.train import TrainSettings
from recs.training.workflow import PreparedJob, PrepareRequest
from recs.wiring.common import utc_now
from recs.wiring.prepare import prepare_planner, prepare_step

logger = Logger()
metrics = Metrics()
settings = TrainSettings()  # values come from the environment
tracer = make_tracer(disabled=settings.powertools_trace_disabled)
step = prepare_step(settings)
planner = prepare_planner(settings)


class PrepareInvocation(BaseModel):
    step: Literal["plan_prepare", "prepare", "prepared_result"]
    job: PrepareRequest


class ImportFactorsInvocation(BaseModel):
    step: Literal["import_factors"]
    job: PreparedJob


class Invocation(BaseModel):
    request: PrepareInvocation | ImportFactorsInvocation = Field(discriminator="step")


@logger.inject_lambda_context(log_event=False)
@log_metrics_per_request(metrics)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = Invocation.model_validate({"request": event}).request
    logger.append_keys(step=request.step, executionName=request.job.executionName)
    if isinstance(request, ImportFactorsInvocation):
        return dict(step.import_factors(request.job).to_state())
    if request.step == "plan_prepare":
        plan = planner.plan(request.job, utc_now())
        logger.info(
            "where Prepare runs",
            extra={"engine": plan.engine, "lakeBytes": plan.lakeBytes, "lakeObjects": plan.lakeObjects},
        )
        return dict(plan.to_state())
    if request.step == "prepared_result":
        return dict(step.prepared_result(request.job).to_state())
    return dict(step.prepare(request.job).to_state())
