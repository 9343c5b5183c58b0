"""The Spark job (recs/training/spark/als_job.py) through EMR Serverless's local stand-in
(`recs_tools.local.spark`: pyspark in local mode, the job's data in moto's S3): it fits what the
numpy ALS fits, about as well, and a job that fails says so."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import numpy as np
import pytest
from moto import mock_aws

from recs.training.build import evaluate_version
from recs.training.fit.fitting import with_factors
from recs.training.parameters import TrainingParameters
from recs.training.prepare.interactions import Interactions, build_interactions
from recs.training.prepare.matrix import SECONDS_PER_DAY
from recs.training.spark import job_arguments, job_script
from recs.training.spark.exchange import aggregate_to_parquet, factors_from_parquet
from recs.training.spark.inputs import aggregate, holdout_training_mask, spark_regularization
from recs_tools.local.spark import LocalSparkJobs
from recs_tools.synthetic import build_config, generate_shop

BUCKET = "artifacts"
PARAMS = TrainingParameters(
    als_threads=1, als_factors=16, als_iterations=10, als_regularization=1.0, half_life_days=30.0
)


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="eu-west-1")
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        yield client


def _shop() -> tuple[Interactions, float]:
    shop = generate_shop(build_config("demo", seed=5))
    end = shop.config.now.timestamp()
    return build_interactions(shop.events, start_ts=end - 400 * SECONDS_PER_DAY, end_ts=end), end


def _arguments(params: TrainingParameters, regularization: float) -> list[str]:
    """The holdout part's command line, as Prepare builds it."""
    return job_arguments(
        f"s3://{BUCKET}/run/input", f"s3://{BUCKET}/run/factors", {"holdout": regularization}, params
    )


def _factors(s3: Any, prefix: str, rows: int, factors: int) -> np.ndarray:
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])]
    files = [s3.get_object(Bucket=BUCKET, Key=k)["Body"].read() for k in keys if k.endswith(".parquet")]
    assert files, f"no factor files under {prefix}"
    return factors_from_parquet(files, rows=rows, factors=factors)


def test_the_spark_job_fits_the_holdout_about_as_well_as_the_numpy_als(s3: Any) -> None:
    # Given a shop's holdout training part, aggregated and uploaded as Prepare does, with the job
    inter, end = _shop()
    part = aggregate(inter, PARAMS, now_ts=end, mask=holdout_training_mask(inter, PARAMS))
    s3.put_object(Bucket=BUCKET, Key="run/input/holdout.parquet", Body=aggregate_to_parquet(part))
    s3.put_object(Bucket=BUCKET, Key="run/als_job.py", Body=job_script())
    regularization = spark_regularization(PARAMS.als_regularization, part)
    # When EMR Serverless's local stand-in runs the job
    jobs = LocalSparkJobs(s3)
    run = jobs.run("holdout", f"s3://{BUCKET}/run/als_job.py", _arguments(PARAMS, regularization))
    # Then it succeeded and wrote both sides' factors for the run's users and items
    assert run.succeeded, run.log_tail
    users = _factors(s3, "run/factors/holdout/users/", inter.n_users, PARAMS.als_factors)
    items = _factors(s3, "run/factors/holdout/items/", inter.n_items, PARAMS.als_factors)
    assert np.count_nonzero(np.abs(items).sum(axis=1)) == np.unique(part.item).size
    # And the evaluation scores them within 10% of the numpy ALS fitted on the same split, both
    # above popularity (the benchmark measures the gap on real data: docs/benchmarks.md)
    unavailable = np.zeros(inter.n_items, dtype=np.bool_)
    spark = evaluate_version(
        inter, unavailable, PARAMS, end_ts=end, family="als", current_lift=None,
        fitted=with_factors(PARAMS, users, items),
    )  # fmt: skip
    numpy = evaluate_version(inter, unavailable, PARAMS, end_ts=end, family="als", current_lift=None)
    assert spark.model_metrics is not None
    assert numpy.model_metrics is not None
    assert spark.model_metrics["ndcg"] >= 0.9 * numpy.model_metrics["ndcg"]
    assert spark.report.popularity is not None
    assert spark.model_metrics["ndcg"] > spark.report.popularity["ndcg"]


def test_a_job_that_fails_reports_it_and_writes_nothing(s3: Any) -> None:
    # Given the job with an input that does not exist
    s3.put_object(Bucket=BUCKET, Key="run/als_job.py", Body=job_script())
    # When it runs
    run = LocalSparkJobs(s3).run("missing", f"s3://{BUCKET}/run/als_job.py", _arguments(PARAMS, 1.0))
    # Then it failed, the log says why, and no factor was written
    assert not run.succeeded
    assert "holdout.parquet" in run.log_tail
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix="run/factors/")


def test_a_job_run_again_replaces_its_output_as_spark_overwrites_it_on_s3(s3: Any) -> None:
    # Given a job that already wrote the holdout part's factors, and a stale file beside them
    inter, end = _shop()
    part = aggregate(inter, PARAMS, now_ts=end, mask=holdout_training_mask(inter, PARAMS))
    s3.put_object(Bucket=BUCKET, Key="run/input/holdout.parquet", Body=aggregate_to_parquet(part))
    s3.put_object(Bucket=BUCKET, Key="run/als_job.py", Body=job_script())
    s3.put_object(Bucket=BUCKET, Key="run/factors/holdout/users/part-stale.parquet", Body=b"old")
    jobs = LocalSparkJobs(s3)
    arguments = _arguments(PARAMS, 1.0)
    assert jobs.run("first", f"s3://{BUCKET}/run/als_job.py", arguments).succeeded
    first = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="run/factors/")["Contents"]}
    # When it runs again on the same output
    assert jobs.run("again", f"s3://{BUCKET}/run/als_job.py", arguments).succeeded
    # Then only the second run's files are there: nothing stale is read back with them
    second = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="run/factors/")["Contents"]}
    assert "run/factors/holdout/users/part-stale.parquet" not in first | second
    assert not first & {k for k in second if k.endswith(".parquet")}
    _factors(s3, "run/factors/holdout/users/", inter.n_users, PARAMS.als_factors)
