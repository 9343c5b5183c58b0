"""ALS on Spark: the workflow's TrainOnSpark step for a shop past one Lambda (EMR Serverless).

EMR Serverless runs this file with spark-submit (the state machine's `startJobRun.sync`, its
entry point the copy Prepare uploads next to the run's input); locally the tests run the same
file with pyspark in local mode (`recs_tools.local.spark`). It imports nothing from `recs`: an
EMR Serverless release carries Spark and numpy, not our layer.

For each part (``full``: the whole window; ``holdout``: the training part of the evaluation's
split) it reads ``<input>/<part>.parquet`` (columns ``user`` int32, ``item`` int32, ``weight``
float32: the summed, decayed event weights Prepare aggregated,
`recs.training.spark.inputs`), fits Spark MLlib's implicit ALS with the run's parameters and
writes ``<output>/<part>/users/`` and ``<output>/<part>/items/`` as Parquet (``id`` int,
``features`` array<float>), which ImportFactors turns back into the factor matrices.

The confidence is the numpy ALS's: Spark computes ``c = 1 + alpha * r`` from the rating it is
given, so the rating is ``w`` (linear) or ``log(1 + w / epsilon)`` (log). Spark multiplies its
regularization by each row's number of entries; Prepare passes ``--regularization`` already
divided by the part's mean entries per user (`recs.training.spark.inputs.spark_regularization`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

PARTS = ("full", "holdout")


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="als_job", description=__doc__.splitlines()[0])
    parser.add_argument("--input", required=True, help="Prefix holding <part>.parquet.")
    parser.add_argument("--output", required=True, help="Prefix the factors are written under.")
    parser.add_argument("--parts", default=",".join(PARTS), help="Comma-separated parts to fit.")
    parser.add_argument("--factors", type=int, required=True)
    parser.add_argument("--regularization", required=True, help="part=value,... or one value for every part.")
    parser.add_argument("--alpha", type=float, required=True)
    parser.add_argument("--iterations", type=int, required=True)
    parser.add_argument("--confidence", choices=("linear", "log"), default="linear")
    parser.add_argument("--epsilon", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--blocks", type=int, default=0, help="User and item blocks; 0 = Spark's default.")
    return parser.parse_args(list(argv))


def regularization_of(text: str, part: str) -> float:
    """``full=0.05,holdout=0.06`` -> the value of ``part``; a bare number applies to every part."""
    if "=" not in text:
        return float(text)
    values = dict(pair.split("=", 1) for pair in text.split(","))
    return float(values[part])


def main(argv: Sequence[str]) -> int:
    args = parse_arguments(argv)
    from pyspark.ml.recommendation import ALS
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as fn

    spark = SparkSession.builder.appName("recs-als").getOrCreate()
    try:
        for part in [p for p in args.parts.split(",") if p]:
            ratings = spark.read.parquet(f"{args.input.rstrip('/')}/{part}.parquet")
            weight = fn.col("weight").cast("float")
            if args.confidence == "log":
                weight = fn.log1p(weight / fn.lit(args.epsilon))
            ratings = ratings.select(
                fn.col("user").cast("int"), fn.col("item").cast("int"), weight.alias("rating")
            )
            als = ALS(
                rank=args.factors,
                maxIter=args.iterations,
                regParam=regularization_of(args.regularization, part),
                alpha=args.alpha,
                implicitPrefs=True,
                userCol="user",
                itemCol="item",
                ratingCol="rating",
                seed=args.seed,
            )
            if args.blocks:
                als = als.setNumBlocks(args.blocks)
            model = als.fit(ratings)
            out = f"{args.output.rstrip('/')}/{part}"
            model.userFactors.write.mode("overwrite").parquet(f"{out}/users")
            model.itemFactors.write.mode("overwrite").parquet(f"{out}/items")
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
