"""Parquet in and out of the Spark job (pyarrow: only the prepare function imports this module).

In: an `Aggregate` as one Parquet file (``user`` int32, ``item`` int32, ``weight`` float32).
Out: Spark's factor tables (``id`` int, ``features`` array<float>), one or more part files per
side, turned back into dense float32 matrices indexed like the run's users and items. A row
Spark did not produce (a user with no entries in the part) stays zero, as the numpy ALS leaves
a row without entries.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from recs.training.errors import TrainingError
from recs.training.spark.inputs import Aggregate

#: Rows per row group: Spark reads a file in parallel by row groups.
ROW_GROUP_ROWS = 1 << 20


def aggregate_to_parquet(part: Aggregate) -> bytes:
    table = pa.table({"user": part.user, "item": part.item, "weight": part.weight})
    buffer = io.BytesIO()
    pq.write_table(table, buffer, row_group_size=ROW_GROUP_ROWS, compression="zstd")
    return buffer.getvalue()


def aggregate_from_parquet(data: bytes, *, n_users: int, n_items: int) -> Aggregate:
    table = pq.read_table(io.BytesIO(data))
    return Aggregate(
        user=table.column("user").to_numpy().astype(np.int32),
        item=table.column("item").to_numpy().astype(np.int32),
        weight=table.column("weight").to_numpy().astype(np.float32),
        n_users=n_users,
        n_items=n_items,
    )


def factors_from_parquet(files: Iterable[bytes], *, rows: int, factors: int) -> npt.NDArray[np.float32]:
    """A ``rows x factors`` matrix from Spark's factor files; ids outside ``[0, rows)`` or
    vectors of another length are refused (`TrainingError`), never silently dropped."""
    matrix = np.zeros((rows, factors), dtype=np.float32)
    for data in files:
        table = pq.read_table(io.BytesIO(data), columns=["id", "features"])
        if table.num_rows == 0:
            continue
        ids = table.column("id").to_numpy().astype(np.int64)
        features = table.column("features").combine_chunks()
        flat = features.flatten().to_numpy(zero_copy_only=False).astype(np.float32)
        if flat.size != ids.size * factors:
            per_row = flat.size // max(ids.size, 1)
            raise TrainingError(f"Spark factors have {per_row} values a row, not {factors}")
        if ids.min() < 0 or ids.max() >= rows:
            raise TrainingError(f"Spark factor ids outside [0, {rows}): {int(ids.min())}..{int(ids.max())}")
        matrix[ids] = flat.reshape(ids.size, factors)
    return matrix
