"""The builder's columns: segments in order across their boundaries, released as taken, and
mostly-one values held as exceptions until dense is smaller."""

from __future__ import annotations

import numpy as np

from recs.training.prepare.columns import Column, MostlyOnes


def test_values_come_back_in_order_across_segment_boundaries() -> None:
    # Given a column of 4-row segments extended by pieces of several sizes
    column = Column(np.int32, segment_rows=4)
    pieces = [np.arange(0, 3), np.arange(3, 4), np.arange(4, 13), np.zeros(0), np.arange(13, 14)]
    for piece in pieces:
        column.extend(piece.astype(np.int32))
    # When read / Then every value is there, in order, in segments of at most 4 rows
    segments = column.segments()
    assert len(column) == 14
    assert [s.size for s in segments] == [4, 4, 4, 2]
    assert np.concatenate(segments).tolist() == list(range(14))


def test_taking_the_segments_empties_the_column() -> None:
    # Given a filled column / When its segments are taken / Then they come in order, the column empty
    column = Column(np.float64, segment_rows=3)
    column.extend(np.arange(7, dtype=np.float64))
    taken = [segment.tolist() for segment in column.take_segments()]
    assert taken == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0]]
    assert len(column) == 0
    assert column.segments() == []


def test_segments_are_writable_in_place() -> None:
    # Given a column / When a segment is changed in place / Then the column holds the change
    column = Column(np.int32, segment_rows=2)
    column.extend(np.array([-1, 2, -3], dtype=np.int32))
    for segment in column.segments():
        segment[segment < 0] = 0
    assert np.concatenate(column.segments()).tolist() == [0, 2, 0]


def test_rare_exceptions_are_kept_where_kept_rows_put_them() -> None:
    # Given mostly ones with a few other values, and rows to keep across segments
    values = np.ones(23, dtype=np.float32)
    values[[0, 5, 9, 22]] = [2.0, 0.5, 3.0, 4.0]
    column = MostlyOnes(segment_rows=4)
    column.extend(values[:10])
    column.extend(values[10:])
    keep = np.ones(23, dtype=np.bool_)
    keep[[1, 5, 8, 20]] = False
    # When the kept values are taken / Then they are the kept rows' values
    assert column.take_kept(keep).tolist() == values[keep].tolist()


def test_all_ones_kept_can_be_no_array_at_all() -> None:
    # Given ones with one other value, in a row that is not kept
    values = np.ones(9, dtype=np.float32)
    values[4] = 3.0
    column = MostlyOnes(segment_rows=4)
    column.extend(values)
    keep = np.ones(9, dtype=np.bool_)
    keep[4] = False
    # When taken as "None if all ones" / Then there is nothing to hold
    assert column.take_kept(keep, ones_as_none=True) is None


def test_many_exceptions_turn_dense_and_read_alike() -> None:
    # Given values that are mostly not one (a sampled view type, say), in several pieces
    rng = np.random.default_rng(3)
    values = rng.choice(np.array([1.0, 4.0, 10.0], dtype=np.float32), size=50, p=[0.3, 0.4, 0.3])
    column = MostlyOnes(segment_rows=8)
    for piece in np.array_split(values, 6):
        column.extend(piece)
    keep = rng.random(50) < 0.7
    # When taken / Then the kept values come back, the column held densely
    assert column._dense is not None
    assert column.take_kept(keep).tolist() == values[keep].tolist()


def test_segments_grow_with_the_column() -> None:
    # Given a column of 4-row first segments grown far past them
    column = Column(np.int64, segment_rows=4)
    for start in range(0, 2_000, 7):
        column.extend(np.arange(start, min(start + 7, 2_000), dtype=np.int64))
    # When read / Then every value is there in order, in far fewer segments than 4 rows each
    segments = column.segments()
    assert np.concatenate(segments).tolist() == list(range(2_000))
    assert len(segments) < 2_000 // 4 // 2
    assert max(s.size for s in segments) <= 2_000 // 64 + 4
