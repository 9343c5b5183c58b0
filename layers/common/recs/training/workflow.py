"""The training workflow's contract: what each step receives and returns.

Step Functions carries one JSON document from state to state (infra/statemachines/
training.asl.json). Each model below is that document as a step sees it, with the camelCase
names the state machine reads (`$.gate.passed`, `$.shards.manifestKey`). A step returns the
document it received plus what it adds, so each output model extends its input model:

    take_lease   LeaseRequest      -> LeaseGrant          (ResultPath $.lease)
    plan_prepare PrepareRequest    -> PreparePlan         (ResultPath $.preparePlan: where Prepare
                                                           runs, from the lake window's size)
    prepare      PrepareRequest    -> PreparedJob         (the execution's input under `input`)
    prepared_result PrepareRequest -> PreparedJob         (the container path: what the training
                                                           container's Prepare stored)
    import_factors PreparedJob     -> PreparedJob         (the Spark path: after TrainOnSpark)
    container_result PreparedJob   -> EvaluatedJob        (the container path: what the training
                                                           container's train + evaluate stored)
    train        PreparedJob       -> TrainedJob
    evaluate     TrainedJob        -> EvaluatedJob        (Gate reads $.gate.passed)
    publish_lists EvaluatedJob     -> ListsPublishedJob   (a refused run: shop-wide lists only)
    publish      EvaluatedJob + Shard -> ShardWritten      (one per Distributed Map item)
    start_import PublishedJob      -> PublishedJob        (ImportTable: `tableImport` named)
    check_import PublishedJob      -> PublishedJob        (retried until the import is done)
    flip         PublishedJob      -> FlippedJob          (the Map's result under `publishRun`)
    cleanup      FlippedJob        -> CleanedJob
    record_refusal  RefusedJob     -> AlertedJob          (NotifyRefusal reads $.alert)
    record_failure  FailedJob      -> AlertedJob          (whatever the run had, plus $.error)

`tests/unit/training/test_workflow_contract.py` checks the state machine definition against
these models: every field a state reads exists in the model of the step before it.
"""

from __future__ import annotations

from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Document(BaseModel):
    """A workflow document: unknown fields are refused, so a renamed key fails loudly."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def to_state(self) -> dict[str, Any]:
        """The JSON Step Functions passes on (absent optional fields left out)."""
        return self.model_dump(mode="json", exclude_none=True)


class LeaseRequest(_Document):
    executionName: str = "manual"


class LeaseGrant(_Document):
    holder: str
    expiresAt: int


class TaskError(BaseModel):
    """What a Catch puts under ResultPath: the error's name and its cause."""

    model_config = ConfigDict(extra="allow", frozen=True)

    Error: str = "unknown"
    Cause: str = ""


class RunInput(BaseModel):
    """The execution's input as Prepare sees it (`$`): whatever started the run (the schedule's
    or an operator's payload, kept as given), plus what TakeLease and Purge added."""

    model_config = ConfigDict(extra="allow", frozen=True)

    lease: LeaseGrant | None = None


class PrepareRequest(_Document):
    executionName: str = "manual"
    startedAt: str | None = None
    input: RunInput = Field(default_factory=RunInput)


class PreparePlan(_Document):
    """Where this run's Prepare runs (WherePrepare reads `$.preparePlan.engine`): in the training
    container when the window's lake objects add up to at least ``minLakeBytes`` (the stack's
    PrepareContainerMinLakeBytes; 0 never), else on the prepare function. ``request`` is the
    document Prepare takes, which the container is handed as it is."""

    engine: Literal["lambda", "container"]
    lakeBytes: int = Field(ge=0)
    lakeObjects: int = Field(ge=0)
    minLakeBytes: int = Field(ge=0)
    request: PrepareRequest


class SparkRun(_Document):
    """What TrainOnSpark runs (`recs.training.spark`): the job's entry point and arguments as
    EMR Serverless takes them, the parameters it fits with (the search does not run on this
    path: the serving version's choice, or the configured values) and the matrix's shape."""

    entryPoint: str
    arguments: list[str]
    parts: list[Literal["full", "holdout"]]
    chosen: dict[str, Any]
    users: int = Field(ge=0)
    items: int = Field(ge=0)


class PreparedJob(_Document):
    """A model version exists from here on: its name, the end of its window, its counts, and
    the engine that trains it (ChooseEngine reads `$.engine`)."""

    executionName: str
    modelVersion: str
    generatedAt: str
    endTs: float
    stats: dict[str, int]
    lease: LeaseGrant | None = None
    engine: Literal["lambda", "container", "spark"] = "lambda"
    spark: SparkRun | None = None


class ShardsRef(_Document):
    manifestKey: str
    count: int = Field(ge=1)


class PublishPlan(_Document):
    """How the run publishes users' rows (`recs.training.publish.changes`): every row (``full``:
    a new base, keeping each shard's row hashes) or only those that differ from the base's
    (``delta``); ``shards`` users' shards by pseudonym hash, the same as the base's for a delta."""

    mode: Literal["full", "delta"]
    baseVersion: str
    shards: int = Field(ge=1)
    #: The table the users' rows are imported into (ImportTable from the shards' import files)
    #: instead of being written into the model table; always a full publish.
    importTable: str | None = None


class TrainedJob(PreparedJob):
    family: str
    #: The searched values the gate evaluates (`recs.training.evaluate.search.searched_values`).
    chosen: dict[str, Any]
    search: dict[str, Any]
    shards: ShardsRef
    publish: PublishPlan


class GateDecision(_Document):
    passed: bool
    reason: str


class EvaluatedJob(TrainedJob):
    evaluation: dict[str, Any]
    gate: GateDecision


class ListsPublishedJob(EvaluatedJob):
    """A refused run's document once its shop-wide lists serve (`publish_lists`)."""

    lists: dict[str, Any]


class RefusedJob(EvaluatedJob):
    """What RecordRefusal receives: the evaluated document, with the lists' publication or the
    error that stopped it (its Catch puts that under `listsError`)."""

    lists: dict[str, Any] | None = None
    listsError: TaskError | None = None


class Shard(BaseModel):
    """One item of the publish manifest (`recs.training.publish.artifacts.SHARD_MANIFEST`)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    kind: Literal["users", "items"]
    name: str = Field(pattern=r"^[a-z]+(-\d{5})?$")


class ShardWritten(_Document):
    rows: int
    expected: int
    shard: str
    #: A delta's rows left as the base has them (not written).
    unchanged: int = 0


class TableImport(_Document):
    """The ImportTable of a run that imports its users' rows (`PublishPlan.importTable`)."""

    table: str
    importArn: str
    #: Once the import is done (`check_import`): the items it imported.
    importedItems: int | None = Field(default=None, ge=0)


class PublishedJob(EvaluatedJob):
    #: The Distributed Map's result (ResultPath $.publishRun); its shape is the Map's own.
    publishRun: Any = None
    tableImport: TableImport | None = None


class FlippedJob(PublishedJob):
    flipped: dict[str, Any]


class CleanedJob(FlippedJob):
    cleanedUp: dict[str, Any]


class FailedJob(BaseModel):
    """Whatever the run had when a state failed, plus the Catch's `error`. The document may
    stop anywhere (before Prepare there is no version yet), so every other field is optional
    and fields of later steps are kept as they came."""

    model_config = ConfigDict(extra="allow", frozen=True)

    executionName: str | None = None
    modelVersion: str | None = None
    endTs: float | None = None
    lease: LeaseGrant | None = None
    error: TaskError = Field(default_factory=TaskError)

    def to_state(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class AlertedJob(FailedJob):
    """A refused or failed run's document with the alert SNS sends (`$.alert`)."""

    alert: str


#: Each step's document in and out, by the name the state machine sends. The train handler
#: parses with the first; the contract test reads the state machine against both.
STEP_DOCUMENTS: Final[dict[str, tuple[type[BaseModel], type[BaseModel]]]] = {
    "take_lease": (LeaseRequest, LeaseGrant),
    "plan_prepare": (PrepareRequest, PreparePlan),
    "prepare": (PrepareRequest, PreparedJob),
    "prepared_result": (PrepareRequest, PreparedJob),
    "import_factors": (PreparedJob, PreparedJob),
    "container_result": (PreparedJob, EvaluatedJob),
    "train": (PreparedJob, TrainedJob),
    "evaluate": (TrainedJob, EvaluatedJob),
    "publish_shard": (EvaluatedJob, ShardWritten),
    "start_import": (PublishedJob, PublishedJob),
    "check_import": (PublishedJob, PublishedJob),
    "flip": (PublishedJob, FlippedJob),
    "cleanup": (FlippedJob, CleanedJob),
    "publish_lists": (EvaluatedJob, ListsPublishedJob),
    "record_refusal": (RefusedJob, AlertedJob),
    "record_failure": (FailedJob, AlertedJob),
}
