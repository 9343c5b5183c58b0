"""The container engine's runtime side: which engine a window trains on, the container's entry
point (its job, its usage errors, its exit status) and the document it hands the workflow."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any, cast

import pytest

from recs.training.errors import TrainingError
from recs.training.parameters import TrainingParameters
from recs.training.pipeline import PipelineConfig, TrainingDeps, TrainingPipeline
from recs.training.prepare_step import choose_engine
from recs.training.publish import artifacts as paths
from recs.training.workflow import EvaluatedJob, PreparedJob
from recs.wiring import train_container
from recs.wiring.train_container import EXIT_FAILED, EXIT_USAGE, JOB_VARIABLE, UsageError, parse_job

VERSION = "v20260302T120000.000Z-1a2b3c"
PREPARED: dict[str, Any] = {
    "executionName": "run-1",
    "modelVersion": VERSION,
    "generatedAt": "2026-03-02T12:00:00Z",
    "endTs": 1772452800.0,
    "stats": {"interactions": 5_000_000},
    "engine": "container",
}
EVALUATED: dict[str, Any] = {
    **PREPARED,
    "family": "als",
    "chosen": {"als_factors": 64},
    "search": {"fits": 3},
    "shards": {"manifestKey": f"models/{VERSION}/shards/manifest.json", "count": 2},
    "publish": {"mode": "full", "baseVersion": VERSION, "shards": 1},
    "evaluation": {"model": {"ndcg": 0.2}},
    "gate": {"passed": True, "reason": "lift 1.4 over popularity"},
}


# ---------------------------------------------------------------------- the engine
@pytest.mark.parametrize(
    ("container", "spark", "interactions", "engine"),
    [
        (0, 0, 10**9, "lambda"),  # neither engine configured: always the training function
        (1_000, 0, 999, "lambda"),  # below the container's threshold
        (1_000, 0, 1_000, "container"),  # at it
        (1_000, 50_000, 49_999, "container"),  # between the two
        (1_000, 50_000, 50_000, "spark"),  # the larger threshold wins
        (0, 50_000, 49_999, "lambda"),  # Spark only: below it, the function
        (100_000, 50_000, 200_000, "spark"),  # misordered thresholds: Spark still wins past both
    ],
)
def test_the_engine_is_the_largest_threshold_the_window_reaches(
    container: int, spark: int, interactions: int, engine: str
) -> None:
    # Given the two thresholds
    params = TrainingParameters(container_min_interactions=container, spark_min_interactions=spark)
    # When a window of that many interactions is prepared / Then it trains on that engine
    assert choose_engine(params, interactions) == engine


def test_the_container_threshold_is_never_negative_and_off_by_default() -> None:
    # Given the parameter / Then 0 (never) is its default and a negative value is refused by name
    assert TrainingParameters().container_min_interactions == 0
    with pytest.raises(ValueError, match="container_min_interactions"):
        TrainingParameters(container_min_interactions=-1)


# ---------------------------------------------------------------------- the entry point's job
def test_the_job_comes_from_the_environment_and_the_argument_wins() -> None:
    # Given a prepared job in the environment and another one as --job
    other = {**PREPARED, "modelVersion": "v20260302T130000.000Z-4d5e6f"}
    environ = {JOB_VARIABLE: json.dumps(PREPARED)}
    # When each is parsed / Then the environment's serves when no argument is given
    assert parse_job([], environ).modelVersion == VERSION
    # And the argument wins over the environment
    assert parse_job(["--job", json.dumps(other)], environ).modelVersion == other["modelVersion"]


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({}, f"no job: pass --job or set {JOB_VARIABLE}"),
        ({JOB_VARIABLE: "  "}, "no job"),
        ({JOB_VARIABLE: "{not json"}, "not JSON"),
        ({JOB_VARIABLE: json.dumps({**PREPARED, "modelVersion": None})}, "fields: modelVersion"),
        ({JOB_VARIABLE: json.dumps({**PREPARED, "unknown": 1})}, "fields: unknown"),
        ({JOB_VARIABLE: json.dumps({**PREPARED, "engine": "lambda"})}, "prepared for the lambda engine"),
    ],
)
def test_a_missing_or_wrong_job_is_a_usage_error_naming_what_is_wrong(
    environ: dict[str, str], message: str
) -> None:
    # Given a job that is missing, not JSON, not a prepared job, or prepared for another engine
    # When it is parsed / Then the usage error says what is wrong
    with pytest.raises(UsageError, match=message):
        parse_job([], environ)


class _Pipeline:
    """Stands in for the training pipeline: records the job, or fails as training can."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.jobs: list[PreparedJob] = []

    def train_in_container(self, job: PreparedJob) -> EvaluatedJob:
        self.jobs.append(job)
        if self.error:
            raise self.error
        return EvaluatedJob.model_validate(EVALUATED)


def _main(argv: Sequence[str], environ: dict[str, str], pipeline: _Pipeline) -> int:
    return train_container.main(argv, environ, pipeline=lambda: cast(TrainingPipeline, pipeline))


def test_the_entry_point_trains_the_job_and_exits_0() -> None:
    # Given a prepared job for the container
    pipeline = _Pipeline()
    # When the container starts / Then it trains and evaluates that job and exits 0
    assert _main([], {JOB_VARIABLE: json.dumps(PREPARED)}, pipeline) == 0
    assert [job.modelVersion for job in pipeline.jobs] == [VERSION]


def test_a_usage_error_exits_2_with_the_reason_and_trains_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    # Given no job at all
    pipeline = _Pipeline()
    # When the container starts / Then it exits 2, says why on stderr, without a traceback
    assert _main([], {}, pipeline) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("usage error: no job")
    assert "Traceback" not in err
    assert pipeline.jobs == []


def test_an_unknown_argument_is_argparses_usage_error() -> None:
    # Given an argument the entry point does not take / When it starts / Then argparse exits 2
    with pytest.raises(SystemExit) as stopped:
        _main(["--jobs", "{}"], {}, _Pipeline())
    assert stopped.value.code == EXIT_USAGE


def test_a_failed_training_exits_1_so_that_batch_fails_the_job() -> None:
    # Given training that fails
    pipeline = _Pipeline(TrainingError("the window is empty"))
    # When the container runs the job / Then it exits 1 (Batch: FAILED; the workflow: RecordFailure)
    assert _main([], {JOB_VARIABLE: json.dumps(PREPARED)}, pipeline) == EXIT_FAILED


# ---------------------------------------------------------------------- the document handed on
class _MemoryStore:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        self.objects[key] = data

    def get(self, key: str) -> bytes:
        return self.objects[key]

    def list_keys(self, prefix: str) -> Iterator[str]:
        return iter(sorted(k for k in self.objects if k.startswith(prefix)))

    def delete(self, keys: Sequence[str]) -> int:
        return sum(self.objects.pop(k, None) is not None for k in keys)


def _pipeline(store: _MemoryStore) -> TrainingPipeline:
    unused = cast(Any, None)  # ContainerResult reads the artifacts only
    deps = TrainingDeps(
        artifacts=store,
        model_table=unused,
        privacy=unused,
        cache=unused,
        pseudonyms=unused,
        clock=unused,
        cache_ttl_seconds=0,
        lease=unused,
    )
    return TrainingPipeline(PipelineConfig(lake_prefix="events/", params=TrainingParameters()), deps)


def test_container_result_hands_on_what_the_container_stored() -> None:
    # Given the container's stored result for the version
    store = _MemoryStore()
    store.put(f"models/{VERSION}/{paths.CONTAINER_RESULT}", json.dumps(EVALUATED).encode())
    # When ContainerResult runs on the prepared document
    evaluated = _pipeline(store).container_result(PreparedJob.model_validate(PREPARED))
    # Then it is the evaluated document, with the gate's decision the Gate reads
    assert evaluated.to_state() == EvaluatedJob.model_validate(EVALUATED).to_state()
    assert evaluated.gate.passed is True


def test_container_result_fails_when_the_container_stored_nothing_or_another_versions() -> None:
    # Given no stored result / When ContainerResult runs / Then it fails naming the key
    store = _MemoryStore()
    pipeline = _pipeline(store)
    job = PreparedJob.model_validate(PREPARED)
    with pytest.raises(TrainingError, match=f"models/{VERSION}/container/evaluated.json"):
        pipeline.container_result(job)
    # Given a result of another version under this one's key / Then it fails naming both
    other = {**EVALUATED, "modelVersion": "v20260301T120000.000Z-0a0b0c"}
    store.put(f"models/{VERSION}/{paths.CONTAINER_RESULT}", json.dumps(other).encode())
    with pytest.raises(TrainingError, match="v20260301T120000.000Z-0a0b0c, not " + VERSION):
        pipeline.container_result(job)


def test_train_in_container_refuses_a_job_prepared_for_another_engine() -> None:
    # Given a job prepared for the training function / When the container is asked to train it
    # Then it refuses before reading anything
    job = PreparedJob.model_validate({**PREPARED, "engine": "lambda"})
    with pytest.raises(TrainingError, match="not prepared for the container engine"):
        _pipeline(_MemoryStore()).train_in_container(job)
