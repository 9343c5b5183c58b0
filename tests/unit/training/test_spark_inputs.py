"""The Spark engine's input and output without Spark: Prepare's aggregate is the numpy ALS's
matrix, Parquet carries it unchanged, and Spark's factor files come back as the run's matrices."""

from __future__ import annotations

import io
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from recs.engine import AlternatingLeastSquares
from recs.training.build import evaluate_version, train_version
from recs.training.errors import TrainingError
from recs.training.evaluate.holdout import hold_out
from recs.training.fit.fitting import fit, with_factors
from recs.training.fit.signals import derive_signals
from recs.training.parameters import TrainingParameters
from recs.training.prepare.interactions import Interactions, build_interactions
from recs.training.prepare.matrix import SECONDS_PER_DAY
from recs.training.spark import job_script
from recs.training.spark.exchange import aggregate_from_parquet, aggregate_to_parquet, factors_from_parquet
from recs.training.spark.inputs import Aggregate, aggregate, holdout_training_mask, spark_regularization
from recs_tools.synthetic import build_config, generate_shop

PARAMS = TrainingParameters(als_threads=1, als_factors=8, als_iterations=4, half_life_days=30.0)


@cache
def _shop() -> tuple[Interactions, float]:
    shop = generate_shop(build_config("test", seed=7))
    end = shop.config.now.timestamp()
    return build_interactions(shop.events, start_ts=end - 400 * SECONDS_PER_DAY, end_ts=end), end


def _dense(part: Aggregate) -> np.ndarray:
    matrix = np.zeros((part.n_users, part.n_items), dtype=np.float64)
    matrix[part.user, part.item] = part.weight
    return matrix


def test_the_full_aggregate_is_the_numpy_als_input() -> None:
    # Given a shop's interactions
    inter, end = _shop()
    # When Prepare aggregates the whole window for Spark
    part = aggregate(inter, PARAMS, now_ts=end)
    # Then it holds the decayed confidence the numpy ALS fits, entry for entry, sorted by user
    confidence = derive_signals(inter, PARAMS, now_ts=end).confidence
    assert part.entries == confidence.nnz
    np.testing.assert_allclose(_dense(part), confidence.toarray(), rtol=1e-5)
    assert np.all(np.diff(part.user.astype(np.int64) * part.n_items + part.item) > 0)


def test_the_holdout_aggregate_is_the_evaluations_training_part() -> None:
    # Given a shop's interactions and the evaluation's split of them
    inter, end = _shop()
    split = hold_out(inter, np.zeros(inter.n_items, dtype=np.bool_), PARAMS, end_ts=end)
    # When Prepare aggregates the holdout's training part
    part = aggregate(inter, PARAMS, now_ts=end, mask=holdout_training_mask(inter, PARAMS))
    # Then it is the matrix the evaluation fits on, and smaller than the whole window's
    np.testing.assert_array_equal(holdout_training_mask(inter, PARAMS), split.train)
    np.testing.assert_allclose(_dense(part), split.signals.confidence.toarray(), rtol=1e-5)
    assert part.entries < aggregate(inter, PARAMS, now_ts=end).entries


def test_parquet_carries_the_aggregate_unchanged() -> None:
    # Given an aggregate
    inter, end = _shop()
    part = aggregate(inter, PARAMS, now_ts=end)
    # When it goes through Parquet
    back = aggregate_from_parquet(aggregate_to_parquet(part), n_users=part.n_users, n_items=part.n_items)
    # Then every column comes back as it was, with the types the job reads
    for column in ("user", "item", "weight"):
        np.testing.assert_array_equal(getattr(back, column), getattr(part, column))
    schema = pq.read_schema(io.BytesIO(aggregate_to_parquet(part)))
    assert [str(schema.field(n).type) for n in ("user", "item", "weight")] == ["int32", "int32", "float"]


def test_spark_regularization_gives_the_average_user_the_numpy_penalty() -> None:
    # Given 3 users with 2, 4 and 6 entries (mean 4)
    users = np.repeat(np.arange(3, dtype=np.int32), [2, 4, 6])
    part = Aggregate(users, np.arange(12, dtype=np.int32), np.ones(12, dtype=np.float32), 3, 12)
    # Then Spark's per-entry penalty is λ / 4
    assert spark_regularization(2.0, part) == pytest.approx(0.5)


def _factor_file(ids: list[int], vectors: list[list[float]]) -> bytes:
    table = pa.table({"id": pa.array(ids, pa.int32()), "features": pa.array(vectors, pa.list_(pa.float32()))})
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def test_spark_factor_files_become_the_runs_matrix_with_missing_rows_zero() -> None:
    # Given two part files of Spark's user factors, user 2 absent (no entries in the part)
    files = [_factor_file([3, 0], [[3.0, 3.5], [0.0, 0.5]]), _factor_file([1], [[1.0, 1.5]])]
    # When they are read for 4 users of 2 factors
    matrix = factors_from_parquet(files, rows=4, factors=2)
    # Then each row is its id's vector, the absent one zeros
    assert matrix.tolist() == [[0.0, 0.5], [1.0, 1.5], [0.0, 0.0], [3.0, 3.5]]
    assert matrix.dtype == np.float32


@pytest.mark.parametrize(
    ("ids", "vectors", "message"),
    [([5], [[1.0, 1.0]], "outside"), ([0], [[1.0, 1.0, 1.0]], "values a row")],
)
def test_factor_files_that_do_not_fit_the_run_are_refused(
    ids: list[int], vectors: list[list[float]], message: str
) -> None:
    # Given a factor file with an id past the run's users, or vectors of another length
    # When it is read for 4 users of 2 factors / Then the import fails naming why
    with pytest.raises(TrainingError, match=message):
        factors_from_parquet([_factor_file(ids, vectors)], rows=4, factors=2)


def test_a_version_trained_and_evaluated_on_factors_fitted_elsewhere_uses_them() -> None:
    # Given ALS factors fitted outside the run (as the Spark job does) on the same matrix
    inter, end = _shop()
    unavailable = np.zeros(inter.n_items, dtype=np.bool_)
    outside = fit("als", derive_signals(inter, PARAMS, now_ts=end).confidence, PARAMS).model
    assert isinstance(outside, AlternatingLeastSquares)
    assert outside.user_factors is not None
    assert outside.item_factors is not None
    fitted = with_factors(PARAMS, outside.user_factors, outside.item_factors)
    params = PARAMS.model_copy(update={"model_family": "als"})
    # When the version is trained and evaluated with them
    trained = train_version(
        inter, unavailable, inter.item_category, params, end_ts=end, chosen=params, fitted=fitted
    )
    evaluation = evaluate_version(
        inter, unavailable, params, end_ts=end, family="als", current_lift=None, fitted=fitted
    )
    # Then the version's model is that one (nothing refitted) and the evaluation scored it
    assert trained.model is fitted
    assert trained.selection is None
    assert evaluation.model_metrics is not None
    assert evaluation.model_metrics["users"] > 0


def test_factor_shapes_that_disagree_are_refused() -> None:
    with pytest.raises(ValueError, match="do not match"):
        with_factors(PARAMS, np.zeros((3, 4), np.float32), np.zeros((5, 3), np.float32))


def test_the_job_script_ships_with_the_package_and_runs_standalone() -> None:
    # Given the job's source as Prepare uploads it
    source = job_script().decode()
    # Then it is a script that imports nothing of ours (EMR Serverless has no layer)
    assert source.startswith('"""ALS on Spark')
    assert "import recs" not in source
    assert "from recs" not in source
    compile(source, "als_job.py", "exec")
