"""The builder's columns: segments in order across their boundaries, released as taken,
mostly-one values held as exceptions until dense is smaller, times held in 4 bytes exactly, and
small numbers in 2 bytes while they fit."""

from __future__ import annotations

import numpy as np

from recs.training.prepare.columns import (
    DECODE_ROWS,
    Column,
    MostlyOnes,
    SmallNumbers,
    Times,
    grown_for,
    mapped_empty,
)


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


DAY_MS = 86_400_000


def _times_in(column: Times) -> list[float]:
    return [float(value) for value in np.concatenate([np.zeros(0), *column.segments()])]


def test_millisecond_times_come_back_as_the_very_floats_appended() -> None:
    # Given times in whole milliseconds, parsed as a timestamp's parse gives them, over 90 days
    rng = np.random.default_rng(3)
    millis = 1_780_000_000_000 + np.sort(rng.integers(0, 90 * DAY_MS, size=5_000))
    seconds = millis / 1e3
    column = Times(segment_rows=512)
    # When appended in batches of a lake object's size (a few minutes each) and read back
    for batch in np.array_split(seconds, 40):
        column.extend(batch)
    # Then every value is the same float, in order, and each batch was held in 4 bytes
    assert len(column) == seconds.size
    assert _times_in(column) == seconds.tolist()
    assert column.held_bytes() == 4 * seconds.size


def test_times_finer_than_milliseconds_are_held_as_they_are() -> None:
    # Given a batch with a microsecond, between batches of whole milliseconds
    column = Times(segment_rows=4)
    whole = np.array([1_780_000_000.001, 1_780_000_000.002])
    finer = np.array([1_780_000_000.000_001, 1_780_000_001.5])
    # When all three are appended
    for batch in (whole, finer, whole + 1):
        column.extend(batch)
    # Then every value comes back exactly; the finer batch in 8 bytes, the others in 4
    assert _times_in(column) == [*whole.tolist(), *finer.tolist(), *(whole + 1).tolist()]
    assert column.held_bytes() == 2 * 4 + 2 * 8 + 2 * 4


def test_a_batch_too_far_from_its_segment_starts_another_and_one_too_wide_is_held_as_floats() -> None:
    # Given a batch today, one 30 days earlier (past 24.8 days from today's base), and one batch
    # spanning 60 days (past the 49.7 days 4 bytes hold), then NaN and an infinity
    today = np.array([1_780_000_000.0, 1_780_000_060.0])
    earlier = today - 30 * 86_400
    wide = np.array([1_780_000_000.0, 1_780_000_000.0 + 60 * 86_400])
    odd = np.array([np.nan, np.inf])
    column = Times()
    for batch in (today, earlier, wide, odd):
        column.extend(batch)
    # When read back / Then in order and exact, in four segments
    read = _times_in(column)
    assert read[:6] == [*today.tolist(), *earlier.tolist(), *wide.tolist()]
    assert np.isnan(read[6])
    assert read[7] == np.inf
    assert column.held_bytes() == 4 * 4 + 4 * 8
    assert column.latest() is not None


def test_taking_the_times_empties_the_column_and_the_latest_is_the_largest() -> None:
    # Given times in several segments
    column = Times(segment_rows=3)
    seconds = (1_780_000_000_000 + np.arange(8) * 1_250) / 1e3
    column.extend(seconds[:5])
    column.extend(seconds[5:])
    assert column.latest() == seconds.max()
    # When taken / Then the same values, a segment at a time, and the column empty
    assert np.concatenate(list(column.take_segments())).tolist() == seconds.tolist()
    assert len(column) == 0
    assert column.latest() is None


def test_times_from_whole_microseconds_are_the_times_of_their_seconds() -> None:
    # Given one batch of whole milliseconds and one with a stray microsecond, as microseconds
    rng = np.random.default_rng(5)
    whole = (1_780_000_000_000 + rng.integers(0, DAY_MS, size=1_000)) * 1_000
    finer = whole.copy()
    finer[7] += 1
    from_micros, from_seconds = Times(segment_rows=256), Times(segment_rows=256)
    # When appended as microseconds to one column and as seconds to the other
    for batch in (whole, finer):
        from_micros.extend_micros(batch)
        from_seconds.extend(batch / 1e6)
    # Then both read back the very floats micros / 1e6, the finer batch held in 8 bytes
    expected = np.concatenate([whole, finer]) / 1e6
    assert _times_in(from_micros) == expected.tolist()
    assert _times_in(from_seconds) == expected.tolist()
    assert from_micros.held_bytes() == from_seconds.held_bytes() == 1_000 * 4 + 1_000 * 8


def test_a_long_segment_is_decoded_in_pieces_in_order() -> None:
    # Given one segment of two and a half decoding pieces
    seconds = (1_780_000_000_000 + np.arange(DECODE_ROWS * 5 // 2) * 7) / 1e3
    column = Times(segment_rows=seconds.size)
    column.extend(seconds)
    # When read and taken / Then in pieces of at most DECODE_ROWS, every value exact and in order
    pieces = list(column.segments())
    assert [piece.size for piece in pieces] == [DECODE_ROWS, DECODE_ROWS, DECODE_ROWS // 2]
    assert np.array_equal(np.concatenate(pieces), seconds)
    assert np.array_equal(np.concatenate(list(column.take_segments())), seconds)


def test_kept_exceptions_in_many_slices_land_on_their_kept_rows() -> None:
    # Given many slices' worth of rows, exceptions in every slice, and a random choice of rows kept
    rng = np.random.default_rng(5)
    values = np.ones(10_000, dtype=np.float32)
    exceptions = rng.choice(values.size, size=300, replace=False)
    values[exceptions] = rng.integers(2, 9, size=exceptions.size).astype(np.float32)
    column = MostlyOnes(segment_rows=64)
    for piece in np.array_split(values, 7):
        column.extend(piece)
    keep = rng.random(values.size) < 0.7
    # When the kept values are taken (their ranks counted a slice at a time in one buffer)
    # Then they are exactly the kept rows' values
    assert column.take_kept(keep).tolist() == values[keep].tolist()


def test_small_numbers_are_held_in_two_bytes_until_one_does_not_fit() -> None:
    # Given item numbers below 65,536, then a batch with a larger one, then small ones again
    column = SmallNumbers(segment_rows=4)
    column.extend(np.array([0, 7, 65_535], dtype=np.int32))
    column.extend(np.zeros(0, dtype=np.int32))
    column.extend(np.array([3, 65_536], dtype=np.int32))
    column.extend(np.array([1, 2], dtype=np.int32))
    # When read / Then the values come back in order, 2 bytes each before the large one's batch
    # and 4 from it on (never narrow again)
    segments = column.segments()
    assert len(column) == 7
    assert np.concatenate([s.astype(np.int64) for s in segments]).tolist() == [0, 7, 65_535, 3, 65_536, 1, 2]
    assert [s.dtype.itemsize for s in segments] == [2, 4]
    # And a value held narrow indexes like the number it is
    assert np.arange(70_000)[segments[0]].tolist() == [0, 7, 65_535]
    # And taking the segments empties the column
    assert [s.size for s in column.take_segments()] == [3, 4]
    assert len(column) == 0
    assert column.segments() == []


def test_a_grown_array_keeps_what_was_used_and_grows_by_half_at_least() -> None:
    # Given a mapped array of 8 rows, 5 of them used
    array = mapped_empty(8, np.int64)
    array[:5] = np.arange(5)
    # When it must hold 9 rows, then 100 / Then it grows by half, then to what is needed, the used
    # rows kept; and an array large enough is itself
    grown = grown_for(array, 5, 9)
    assert grown.size == 12
    assert grown[:5].tolist() == [0, 1, 2, 3, 4]
    assert grown_for(grown, 5, 100).size == 100
    assert grown_for(grown, 5, 12) is grown
