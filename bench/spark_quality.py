"""The Spark engine against the numpy ALS: the same input, the same parameters, the same holdout.

    python -m bench --full --only spark_quality    # MovieLens 100K and all of The Complete Journey
    python -m bench --quick --only spark_quality   # MovieLens 100K and 600 households
    python -m bench.spark_quality [--quick]        # JSON to stdout

Each real data set goes through the product's path: its events as a file, read by `recs train`'s
reader into the run's interactions (`recs_tools.training.offline.load_window`), split as the
workflow's Evaluate step splits them (each known user's last visit held out). The Spark side is
what the workflow's Spark branch runs: Prepare's aggregate of the training part
(`recs.training.spark.inputs`) as Parquet in (moto's) S3, the job script
(`recs/training/spark/als_job.py`) run by EMR Serverless's local stand-in (pyspark in local mode,
`recs_tools.local.spark`), its factor files read back (`recs.training.spark.exchange`). The numpy
side fits `recs.engine`'s ALS on the same training part. Both use the product's default ALS
parameters (the Spark path fits the serving version's choice; the defaults stand in for it) and
are scored by the Evaluate step's code on the same users: NDCG@10 of the ranked list (the repeat
model's boost included, as published). The goal, from the scale issue: Spark's NDCG@10 within 2% of
the numpy ALS, read as ``Spark >= 0.98 x numpy`` on a 95% paired bootstrap (met only when the
whole interval is above).

The cost model's Spark unit (`recs_tools.deploy.cost`) comes from the larger data set: the job
on its whole window with 2 and with 12 iterations, the difference per iteration, in core-seconds
per million entries (local mode, ``local[2]``: no shuffle between machines, so a cluster's is
higher; docs/deploy.md says so where it uses it).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.datasets import Dataset, complete_journey, movielens
from bench.environment import benchmark_main, log
from bench.figures import Figure, figure, goal_figure
from recs.training.evaluate.holdout import compare_on_holdout, family_scorer
from recs.training.fit.fitting import with_factors
from recs.training.parameters import TrainingParameters
from recs.training.prepare.interactions import Interactions
from recs.training.spark import job_arguments, job_script
from recs.training.spark.exchange import aggregate_to_parquet, factors_from_parquet
from recs.training.spark.inputs import Aggregate, aggregate, holdout_training_mask, spark_regularization
from recs_tools.training.event_files import read_events
from recs_tools.training.offline import load_window

COMMAND = "python -m bench --only spark_quality"
SEED = 23
BUCKET = "spark-bench"
#: The product's defaults, ALS, one run's threads (both engines on the same two cores).
PARAMS = TrainingParameters(model_family="als", auto_tune=False)
QUICK_HOUSEHOLDS = 600
#: The iteration cost's two runs (`iteration_cost`), and the cores local mode runs on.
SHORT, LONG = 2, 12
LOCAL_CORES = 2


def _interactions(dataset: Dataset) -> tuple[Interactions, float]:
    with tempfile.TemporaryDirectory(prefix="spark-bench-") as scratch:
        path = Path(scratch) / "events.jsonl"
        dataset.write_events(path, np.ones(len(dataset.table), dtype=np.bool_))
        return load_window(read_events(path), PARAMS, None)


class SparkBench:
    """The job on a moto S3 bucket through EMR Serverless's local stand-in, as the workflow runs it."""

    def __init__(self) -> None:
        import boto3
        from moto import mock_aws

        from recs_tools.local.spark import LocalSparkJobs

        self._mock = mock_aws()
        self._mock.start()
        self.s3 = boto3.client("s3", region_name="eu-west-1")
        self.s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        self.s3.put_object(Bucket=BUCKET, Key="run/als_job.py", Body=job_script())
        self.jobs = LocalSparkJobs(self.s3)

    def close(self) -> None:
        self._mock.stop()

    def fit(self, part: Aggregate, name: str, iterations: int) -> tuple[np.ndarray, np.ndarray, float]:
        """Both sides' factors of ``part`` and the job's wall seconds (JVM start included)."""
        self.s3.put_object(Bucket=BUCKET, Key=f"run/input/{name}.parquet", Body=aggregate_to_parquet(part))
        arguments = job_arguments(
            f"s3://{BUCKET}/run/input",
            f"s3://{BUCKET}/run/factors",
            {name: spark_regularization(PARAMS.als_regularization, part)},
            PARAMS.model_copy(update={"als_iterations": iterations}),
        )
        began = time.perf_counter()
        run = self.jobs.run(name, f"s3://{BUCKET}/run/als_job.py", arguments)
        seconds = time.perf_counter() - began
        if not run.succeeded:
            raise RuntimeError(f"the Spark job failed:\n{run.log_tail}")
        return self._side(name, "users", part.n_users), self._side(name, "items", part.n_items), seconds

    def _side(self, part: str, side: str, rows: int) -> np.ndarray:
        listed = self.s3.list_objects_v2(Bucket=BUCKET, Prefix=f"run/factors/{part}/{side}/")
        keys = [o["Key"] for o in listed.get("Contents", []) if o["Key"].endswith(".parquet")]
        files = [self.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() for key in keys]
        return factors_from_parquet(files, rows=rows, factors=PARAMS.als_factors)


def iteration_cost(spark: SparkBench, part: Aggregate) -> dict[str, Any]:
    """Core-seconds of one ALS iteration per million entries: the job with ``SHORT`` and ``LONG``
    iterations on the same part, their difference per iteration (the JVM's start, reading and
    writing cancel out), times the local cores."""
    _, _, short = spark.fit(part, "full", SHORT)
    _, _, long = spark.fit(part, "full", LONG)
    per_iteration = max(long - short, 0.0) / (LONG - SHORT)
    return {
        "entries": part.entries,
        "secondsShort": round(short, 2),
        "secondsLong": round(long, 2),
        "iterations": [SHORT, LONG],
        "coreSecondsPerIterationPerMillionEntries": round(
            per_iteration * LOCAL_CORES / part.entries * 1e6, 3
        ),
    }


def measure(dataset: Dataset, spark: SparkBench, *, cost: bool) -> dict[str, Any]:
    inter, end_ts = _interactions(dataset)
    log(f"  {dataset.label}: {len(inter):,} interactions, {inter.n_users:,} users, {inter.n_items:,} items")
    holdout = aggregate(inter, PARAMS, now_ts=end_ts, mask=holdout_training_mask(inter, PARAMS))
    users, items, spark_seconds = spark.fit(holdout, "holdout", PARAMS.als_iterations)
    regularization = f"{spark_regularization(PARAMS.als_regularization, holdout):.4g}"
    began = time.perf_counter()
    compared = compare_on_holdout(
        inter,
        np.zeros(inter.n_items, dtype=np.bool_),
        PARAMS,
        end_ts=end_ts,
        methods={
            "spark": (family_scorer("als", PARAMS, with_factors(PARAMS, users, items)), True),
            "numpy": (family_scorer("als", PARAMS), True),
        },
    )
    numpy_seconds = time.perf_counter() - began
    ranked_spark, ranked_numpy = compared.ndcg_per_user("spark"), compared.ndcg_per_user("numpy")
    log(f"  {dataset.label}: NDCG@10 Spark {ranked_spark.mean():.4f}, numpy {ranked_numpy.mean():.4f}")
    return {
        "label": dataset.label,
        "interactions": len(inter),
        "users": inter.n_users,
        "items": inter.n_items,
        "evaluatedUsers": compared.evaluated_users,
        "ndcg": {name: compared.on_interactions[name] for name in ("spark", "numpy", "popularity")},
        "sparkRegParam": regularization,
        "seconds": {"sparkJob": round(spark_seconds, 1), "numpyFitAndScoring": round(numpy_seconds, 1)},
        "iterationCost": iteration_cost(spark, aggregate(inter, PARAMS, now_ts=end_ts)) if cost else None,
        "_perUser": (ranked_spark, ranked_numpy),
    }


def run(quick: bool) -> dict[str, Any]:
    datasets = [movielens(), complete_journey(QUICK_HOUSEHOLDS if quick else None, SEED)]
    results: dict[str, Any] = {}
    figures: list[Figure] = []
    bench = SparkBench()
    try:
        # The iteration cost on the larger data set only (the last): its entries dwarf the JVM.
        measured = [measure(d, bench, cost=d is datasets[-1]) for d in datasets]
    finally:
        bench.close()
    for dataset, result in zip(datasets, measured, strict=True):
        spark, numpy = result.pop("_perUser")
        results[dataset.name] = result
        figures.append(
            goal_figure(
                "Spark engine",
                f"{dataset.label}: NDCG@10 of ALS on Spark (local mode)",
                spark,
                numpy,
                baseline="recs ALS (numpy), same input, parameters and users",
                factor=0.98,
                goal="within 2% (Spark >= 0.98 x numpy)",
                seed=SEED,
                note=f"{result['evaluatedUsers']:,} users; Spark regParam {result['sparkRegParam']}",
            )
        )
    cost = results[datasets[-1].name]["iterationCost"]
    figures.append(
        figure(
            "Spark engine",
            f"{datasets[-1].label}: Spark ALS, core-seconds per iteration per million entries (local mode)",
            cost["coreSecondsPerIterationPerMillionEntries"],
            "core-s",
            note=f"{cost['entries']:,} entries, factors {PARAMS.als_factors}; {SHORT} vs {LONG} iterations "
            f"({cost['secondsShort']} s vs {cost['secondsLong']} s on {LOCAL_CORES} cores); the cost model's "
            "Spark unit (docs/deploy.md)",
            digits=3,
        )
    )
    return {
        "command": COMMAND,
        "seeds": {"completeJourneySample": SEED, "bootstrap": SEED, "als": PARAMS.random_seed},
        "figures": figures,
        "parameters": {
            key: getattr(PARAMS, key)
            for key in ("als_factors", "als_regularization", "als_alpha", "als_iterations", "als_confidence")
        },
        "datasets": results,
    }


def main(argv: Sequence[str] | None = None) -> int:
    return benchmark_main(__doc__, run, argv, quick_help=f"MovieLens 100K and {QUICK_HOUSEHOLDS} households")


if __name__ == "__main__":
    raise SystemExit(main())
