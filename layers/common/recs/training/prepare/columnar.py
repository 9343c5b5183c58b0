"""Lake objects decoded as columns: a Parquet object's columns (Firehose's record format
conversion), or pyarrow's JSON reader over an NDJSON object (the deliveries before it), then
compute kernels, instead of one Python dict per record.

Every object becomes a `Usable`: a table of its usable records in `USABLE_FIELDS` (ids
dictionary-encoded, null where absent; the event-type code; microseconds since the epoch; the
quantity the model counts; the eventId as two 64-bit halves) plus the counts of records read and
malformed.
`block_of` then turns a `Usable` into an `EventBlock` of numpy columns whose ids are indexed by
each block's distinct values, which `InteractionBuilder.add_block` maps once per distinct id
rather than once per event. The same table, one per closed lake day, is what
`recs.training.prepare.days` keeps as Parquet.

The columnar reader builds exactly what the record path (`decode_object`, then
`InteractionBuilder.add`) builds from the same object, whatever its format (`recs.lake_format`
tells them apart by content, so a lake holding both reads as one). Where an object is not plain
enough to promise that (a corrupt line, a field of another JSON type, a Parquet column of another
type than the events table's, a timestamp outside the forms of `text_forms.TIMESTAMP`, a null
eventId, a line longer than a block of text), `usables_of_objects` reads that object (Parquet
objects: the rows not yet handed out) record by record with the record path's
own rules (`usable_from_records`), so rare shapes keep their exact meaning. An object streams
through its reader a part at a time (`parquet_blocks`: a batch of rows; `raw_blocks`: a block of
text), so that memory holds one part's columns, not a whole object's; a Parquet object's usable
records come in slices of some `SLICE_ROWS`, consecutive objects' rows read as one stream, so
that what follows (the block, the kept day's row group) holds a slice, not an object, and small
objects are not each a slice.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from recs import lake_format
from recs.training.prepare.blocks import EventBlock
from recs.training.prepare.dedupe import event_keys
from recs.training.prepare.interactions import EVENT_CODES, count_or_one, event_id_halves
from recs.training.prepare.lake import decode_object, decompressed
from recs.training.prepare.text_forms import all_timestamps, canonical_uuids, uuid_halves

#: The fields Prepare reads; the parser skips every other field of a record.
LAKE_FIELDS = pa.schema(
    [
        ("eventId", pa.string()),
        ("eventType", pa.string()),
        ("timestamp", pa.string()),
        ("userId", pa.string()),
        ("anonId", pa.string()),
        ("productId", pa.string()),
        ("category", pa.string()),
        ("sessionId", pa.string()),
        ("quantity", pa.float64()),
        ("sampleRate", pa.float64()),
    ]
)
#: An id column of `USABLE_FIELDS`: each distinct text once. Encoded once per `Usable`, the
#: dictionary serves both the kept day's Parquet writer (which writes a dictionary array's pages
#: without hashing its texts again: 34 against 85 ns per record for four id columns, probed) and
#: `block_of`'s indices, and a kept day reads back into the same type, its texts never repeated.
ID_TYPE = pa.dictionary(pa.int32(), pa.string())
#: Usable records: ids null where the record path sees none; the rest as the model reads them.
USABLE_FIELDS = pa.schema(
    [
        ("user", ID_TYPE),
        ("anon", ID_TYPE),
        ("product", ID_TYPE),
        ("category", ID_TYPE),
        ("session", ID_TYPE),
        ("event", pa.int8()),
        ("micros", pa.int64()),
        ("quantity", pa.float32()),
        ("weight", pa.float32()),
        ("idHigh", pa.uint64()),
        ("idLow", pa.uint64()),
    ]
)
#: The text fields a Parquet object's reader hands over as dictionary arrays (its pages' dictionary
#: and an index per row) instead of a copy of every row's text: the ids become `ID_TYPE` without
#: hashing every row's text again, and the few event types are looked up once each. Not the
#: eventId (each one distinct) nor the timestamp (nearly so): a dictionary would only add to them.
#: At 1M events (bench/prepare_speed.py's Parquet lake) the reading and encoding of these columns
#: took 0.25 CPU s instead of 0.47 (probe, 3 rounds).
_DICTIONARY_FIELDS = ("eventType", "userId", "anonId", "productId", "category", "sessionId")
_PARSE = pj.ParseOptions(explicit_schema=LAKE_FIELDS, unexpected_field_behavior="ignore")
#: JSON text parsed at a time: an object streams through the parser a block at a time, so the parse
#: holds one block's columns, never a whole object's (Firehose's objects run to 128 MiB). 2 MiB:
#: smaller blocks cost more per block than they saved in memory (bench/prepare_speed.py at 1M
#: events, 3 runs each: 1 MiB the same memory and 5% more CPU; 4 MiB 6% less CPU, 5 bytes more).
#: A line longer than this fails the columnar reader, and its object is read record by record.
_BLOCK_BYTES = 2 << 20
#: Rows of a Parquet lake object decoded at a time: Firehose writes a delivery (64 MiB of JSON or
#: more) as one row group, and the decode holds one batch's columns, not the row group's. 8,192:
#: at 1M events (bench/prepare_speed.py's Parquet lake, objects of some 23,000 rows, 4 runs each,
#: alternating) the peak was 61 bytes per event against 66 reading each object whole, with the
#: same CPU within the runs' spread; 4,096 took about a tenth more CPU.
PARQUET_BATCH_ROWS = 8_192
#: Records of a Parquet object per `Usable` (and so per `EventBlock` and per row group of a kept
#: day): the object's slice Prepare holds at once besides the reader's pages. Also the most
#: records `recs.training.prepare.days.joined` puts together from small objects.
SLICE_ROWS = 32_768
_EVENT_NAMES = pa.array(sorted(EVENT_CODES, key=EVENT_CODES.__getitem__))
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NO_TEXT = pa.scalar(None, pa.string())


@dataclass(frozen=True)
class Usable:
    """Usable records (`USABLE_FIELDS`) and the counts of what was read to find them."""

    table: pa.Table
    read: int
    malformed: int

    @staticmethod
    def concat(parts: Sequence[Usable]) -> Usable:
        tables = [part.table for part in parts] or [USABLE_FIELDS.empty_table()]
        return Usable(
            table=pa.concat_tables(tables).combine_chunks(),
            read=sum(part.read for part in parts),
            malformed=sum(part.malformed for part in parts),
        )


# ---------------------------------------------------------------------- one lake object
class NotPlainError(Exception):
    """An object the columnar reader cannot promise the record path's meaning for."""


def usable_of_object(data: bytes) -> Usable:
    """An object's usable records as one `Usable` (`usables_of_object`'s slices concatenated)."""
    return Usable.concat(list(usables_of_object(data)))


def usables_of_object(data: bytes) -> Iterator[Usable]:
    """One object's usable records, in order, in slices (`usables_of_objects`)."""
    return usables_of_objects([data])


def usables_of_objects(objects: Iterable[bytes]) -> Iterator[Usable]:
    """Objects' usable records, in order, in slices: columnar where an object allows, else record
    by record.

    Consecutive Parquet objects are read as one stream of rows (`_ParquetRows`): their batches
    are made usable `PARQUET_BATCH_ROWS` rows at a time, and handed out in slices closed by the
    first batch that takes one to `SLICE_ROWS` records read. So what Prepare holds does not grow
    with an object (Firehose's deliveries run to 64 MiB of JSON and more, one row group), and
    what it does per batch is not paid per object where objects are small (Firehose delivers one
    per buffer interval however few its records: a small shop's day is some 1,440 objects of a
    few hundred records). An NDJSON object (the lake's older deliveries) comes whole, as one
    slice."""
    parquet = _ParquetRows()
    for data in objects:
        if lake_format.is_parquet(data):
            yield from parquet.read(data)
            continue
        yield from parquet.rest()
        text = decompressed(data)
        yield _usable_of_blocks(raw_blocks(text), functools.partial(decode_object, text))
    yield from parquet.rest()


class _ParquetRows:
    """Parquet objects' rows, read in order as one stream (`usables_of_objects`).

    A large object (its first batch a whole `PARQUET_BATCH_ROWS`) is sliced on its own, each batch
    made usable as it comes, a slice closed by the first batch that takes it to `SLICE_ROWS`
    records and the last at the object's end. A small object's rows (Firehose's deliveries of a
    small shop) wait to be joined with the next objects': made usable once the rows waiting make
    a batch, and handed out before rows that would take them past `SLICE_ROWS` records (or a large
    object's rows, or at the objects' end).

    Where a batch is not plain, every row not yet handed out (of this object and of the earlier
    objects whose rows wait) is read record by record (a Parquet object's records are its rows,
    in order: `lake_format.records`), so every row is read exactly once, either way, and in order:
    the first copy of a repeated eventId stays the one kept."""

    def __init__(self) -> None:
        # Read, not yet usable: fewer than PARQUET_BATCH_ROWS rows.
        self._raws: list[pa.Table] = []
        # Usable, not yet handed out: fewer than SLICE_ROWS records read.
        self._parts: list[Usable] = []
        # The objects whose rows wait (the first's from row `_handed_out` on), oldest first: kept
        # for the fallback, so a large object's end hands out all that waits.
        self._objects: list[bytes] = []
        self._handed_out = 0

    def read(self, data: bytes) -> Iterator[Usable]:
        """The slices that ``data``'s rows close (none while they only add to what waits)."""
        self._objects.append(data)
        rows, large = 0, False
        try:
            for raw in _parquet_tables(data):
                large = large or (not rows and raw.num_rows >= PARQUET_BATCH_ROWS)
                waiting = self._raw_rows() + self._part_rows()
                # What waits goes first: earlier small objects' rows before a large object's, and a
                # small objects' slice before rows that would take it past SLICE_ROWS records.
                if waiting and (not rows if large else waiting + raw.num_rows > SLICE_ROWS):
                    yield self._hand_out(data, rows)
                rows += raw.num_rows
                self._raws.append(raw)
                # Nothing but the slice may stay referenced here while the caller holds it: a
                # batch's text columns or the slice's parts would add to Prepare's peak.
                del raw
                if large or self._raw_rows() >= PARQUET_BATCH_ROWS:
                    self._make_usable()
                if large and self._part_rows() >= SLICE_ROWS:
                    yield self._hand_out(data, rows)
        except NotPlainError:
            yield self._by_records()
            return
        if large:
            yield from self.rest()
        elif not (self._raws or self._parts):
            self._objects, self._handed_out = [], 0

    def rest(self) -> Iterator[Usable]:
        """What waits, as a last slice (none if nothing does)."""
        if self._raws or self._parts:
            try:
                whole = self._slice()
            except NotPlainError:
                whole = self._by_records()
            yield whole
        self._objects, self._handed_out = [], 0

    def _raw_rows(self) -> int:
        return sum(raw.num_rows for raw in self._raws)

    def _part_rows(self) -> int:
        return sum(part.read for part in self._parts)

    def _make_usable(self) -> None:
        """What was read, usable: `NotPlainError` where it is not plain (the rows read since the
        last batch made usable, of one object or several)."""
        if not self._raws:
            return
        raws, self._raws = self._raws, []
        # Several objects' batches, each with its own dictionaries: a table of their chunks, which
        # the kernels join a column at a time (dictionaries unified), not a copy of the whole;
        # cast at once where the objects' columns are of the same types (the usual case), and
        # checked at once, as each step costs about as much for a few rows as for a batch.
        if all(raw.schema == raws[0].schema for raw in raws[1:]):
            table = _as_lake_fields(pa.concat_tables(raws))
        else:
            table = pa.concat_tables([_as_lake_fields(raw) for raw in raws])
        del raws
        self._parts.append(usable_from_table(_plain(table)))

    def _hand_out(self, data: bytes, rows: int) -> Usable:
        """What waits, as a slice; ``data``'s rows from row ``rows`` on are what waits next."""
        whole = self._slice()
        self._objects, self._handed_out = [data], rows
        return whole

    def _slice(self) -> Usable:
        self._make_usable()
        parts, self._parts = self._parts, []
        return _compacted(Usable.concat(parts))

    def _by_records(self) -> Usable:
        first, *later = self._objects
        records = itertools.chain(
            itertools.islice(lake_format.records(first), self._handed_out, None),
            *(lake_format.records(data) for data in later),
        )
        self._raws, self._parts, self._objects, self._handed_out = [], [], [], 0
        return usable_from_records(records)


def _compacted(usable: Usable) -> Usable:
    """``usable`` with each id column's dictionary cut to the texts its rows use (`_first_appearance`)."""
    table = usable.table
    for index, field in enumerate(USABLE_FIELDS):
        if field.type == ID_TYPE:
            table = table.set_column(index, field, _first_appearance(_single(table.column(index))))
    return Usable(table=table, read=usable.read, malformed=usable.malformed)


def _usable_of_blocks(
    blocks: Iterator[pa.Table], records: Callable[[], Iterable[Mapping[str, Any]]]
) -> Usable:
    """The usable records of an object's raw blocks, or of its ``records`` (the record path's
    reading) when a block is not plain."""
    parts: list[pa.Table] = []
    read = malformed = 0
    try:
        for raw in blocks:
            usable = usable_from_table(raw)
            parts.append(usable.table)
            read += usable.read
            malformed += usable.malformed
    except NotPlainError:
        return usable_from_records(records())
    # One chunk, its dictionaries unified: the writer writes a column's pages from one dictionary.
    table = pa.concat_tables(parts).combine_chunks() if parts else USABLE_FIELDS.empty_table()
    return Usable(table=table, read=read, malformed=malformed)


def raw_blocks(data: bytes) -> Iterator[pa.Table]:
    """The (plain NDJSON) object's records as tables of `LAKE_FIELDS`, one per block of text;
    raises `NotPlainError` (possibly after some blocks) where the columnar reader cannot promise the
    record path's meaning for every record."""
    try:
        reader = pj.open_json(
            pa.BufferReader(data),
            read_options=pj.ReadOptions(use_threads=False, block_size=_BLOCK_BYTES),
            parse_options=_PARSE,
        )
        for batch in reader:
            yield _plain(pa.Table.from_batches([batch]))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        # Also an object of no record at all: the record path reads it as such.
        raise NotPlainError(str(error)) from error


def parquet_blocks(data: bytes) -> Iterator[pa.Table]:
    """A Parquet lake object's records as tables of `LAKE_FIELDS`, `PARQUET_BATCH_ROWS` rows at a
    time; raises `NotPlainError` (possibly after some blocks) where the columnar reader cannot
    promise the record path's meaning (`lake_format.records`) for every record."""
    for table in _parquet_tables(data):
        yield _plain(_as_lake_fields(table))


def _parquet_tables(data: bytes) -> Iterator[pa.Table]:
    """A Parquet lake object's `LAKE_FIELDS`, `PARQUET_BATCH_ROWS` rows at a time, of the types the
    object has (`_as_lake_fields` casts them); `NotPlainError` where the reader fails."""
    try:
        yield from lake_format.read_fields(
            data, LAKE_FIELDS.names, batch_rows=PARQUET_BATCH_ROWS, dictionaries=_DICTIONARY_FIELDS
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        raise NotPlainError(str(error)) from error


def _as_lake_fields(table: pa.Table) -> pa.Table:
    """A Parquet object's columns cast to `LAKE_FIELDS`: text stays text (a dictionary of texts
    stays one, as `ID_TYPE`), counts become floats (exactly: a cast that would round raises). A
    column of any other type (written under another table) is not plain: the record path knows
    what its values mean."""
    fields = []
    for field in LAKE_FIELDS:
        kind = table.schema.field(field.name).type
        numeric = pa.types.is_integer(kind) or pa.types.is_floating(kind)
        dictionary = pa.types.is_dictionary(kind) and pa.types.is_string(kind.value_type)
        text = pa.types.is_string(kind) or dictionary
        if not (numeric if pa.types.is_floating(field.type) else text):
            raise NotPlainError(f"{field.name} of type {kind}")
        fields.append(pa.field(field.name, ID_TYPE) if dictionary else field)
    return table.cast(pa.schema(fields))


def _plain(table: pa.Table) -> pa.Table:
    """``table`` (`LAKE_FIELDS`) if the columnar reader gives the record path's meaning for each of
    its records, else `NotPlainError`."""
    # The record path tells a missing eventId (unusable) from a null one (the text "None"); a
    # Parquet object's null is a missing one, and unusable: both are left to the record path.
    if table.column("eventId").null_count:
        raise NotPlainError("a null eventId")
    # The forms both readers parse to the same instant (the tracker's and the ingest's ISO-8601
    # with a zone); the record path knows what any other means.
    if not all_timestamps(_single(table.column("timestamp"))):
        raise NotPlainError("a timestamp of another form")
    return table


def read_table(data: bytes) -> pa.Table | None:
    """The (plain NDJSON) object's records as one table of `LAKE_FIELDS`, or None when the
    columnar reader cannot promise the record path's meaning for every record."""
    try:
        return pa.concat_tables(list(raw_blocks(data)))
    except NotPlainError:
        return None


def usable_from_table(raw: pa.Table) -> Usable:
    """`LAKE_FIELDS` records -> `Usable`, with the record path's rules as array operations."""
    n = raw.num_rows
    code = _event_codes(raw.column("eventType"))
    micros = pc.cast(pc.cast(raw.column("timestamp"), pa.timestamp("us", tz="UTC")), pa.int64())
    user, anon = _present(raw.column("userId")), _present(raw.column("anonId"))
    ok = pc.and_(pc.and_(code.is_valid(), micros.is_valid()), pc.or_(user.is_valid(), anon.is_valid()))
    product = _present(raw.column("productId"))
    named = pc.and_(ok, product.is_valid())
    ids = raw.column("eventId").filter(named)
    high, low = _id_halves(ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids)
    kept = pa.table(
        {
            "user": _ids(user),
            "anon": _ids(anon),
            "product": _ids(product),
            "category": _ids(_present(raw.column("category"))),
            "session": _ids(_present(raw.column("sessionId"))),
            "event": pc.cast(code, pa.int8()),
            "micros": micros,
            "quantity": _positive_or_one(raw.column("quantity")),
            "weight": _positive_or_one(raw.column("sampleRate")),
        }
    )
    if not pc.all(ok).as_py():
        # Filtered only when a record is unusable (the dictionaries then keep ids no kept record
        # has: `_encoded` leaves them out).
        kept = kept.filter(ok)
    # Halves are only needed (and only computed) for records naming a product; others keep 0.
    named_in_kept = np.asarray(
        kept.column("product").is_valid().to_numpy(zero_copy_only=False), dtype=np.bool_
    )
    high_all = np.zeros(kept.num_rows, dtype=np.uint64)
    low_all = np.zeros(kept.num_rows, dtype=np.uint64)
    high_all[named_in_kept], low_all[named_in_kept] = high, low
    kept = kept.append_column("idHigh", pa.array(high_all)).append_column("idLow", pa.array(low_all))
    return Usable(table=kept.combine_chunks(), read=n, malformed=n - kept.num_rows)


def usable_from_records(records: Iterable[Mapping[str, Any]]) -> Usable:
    """Records -> `Usable` by `InteractionBuilder.add`'s rules, one record at a time (objects the
    columnar reader refuses, and tests)."""
    columns: dict[str, list[Any]] = {name: [] for name in USABLE_FIELDS.names}
    read = malformed = 0
    for event in records:
        read += 1
        try:
            code = EVENT_CODES[str(event["eventType"])]
            micros = _micros(event["timestamp"])
            event_id = str(event["eventId"])
        except (KeyError, ValueError, TypeError):
            malformed += 1
            continue
        user, anon = _text(event.get("userId")), _text(event.get("anonId"))
        if user is None and anon is None:
            malformed += 1
            continue
        product = _text(event.get("productId"))
        quantity = event.get("quantity")
        high, low = event_id_halves(event_id) if product is not None else (0, 0)
        row = {
            "user": user,
            "anon": anon,
            "product": product,
            "category": _text(event.get("category")),
            "session": _text(event.get("sessionId")),
            "event": code,
            "micros": micros,
            "quantity": count_or_one(quantity),
            "weight": count_or_one(event.get("sampleRate")),
            "idHigh": high,
            "idLow": low,
        }
        for name, value in row.items():
            columns[name].append(value)
    return Usable(table=pa.table(columns, schema=USABLE_FIELDS), read=read, malformed=malformed)


def _positive_or_one(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """`count_or_one` of every value, as float32."""
    return pc.cast(pc.if_else(pc.fill_null(pc.greater(values, 0.0), False), values, 1.0), pa.float32())


def _micros(value: Any) -> int:
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("timestamp without a zone")
    delta = parsed - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _text(value: Any) -> str | None:
    """What the record path does with an optional id: falsy values are absent, others text."""
    return str(value) if value else None


def _single(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One array of a column's chunks."""
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    return values


def _event_codes(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Per row, the code (`EVENT_CODES`) of its event type, null where the type is unknown or
    absent; a dictionary column's few types are looked up once each."""
    if pa.types.is_dictionary(values.type):
        types = _single(values)
        return pc.take(pc.index_in(types.dictionary, value_set=_EVENT_NAMES), types.indices)
    return pc.index_in(values, value_set=_EVENT_NAMES)


def _ids(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """A text column as `ID_TYPE`. Text is dictionary-encoded: each distinct text once, in order
    of first appearance. A dictionary column (a Parquet object's batch, which carries a copy of
    its row group's whole dictionary) is kept as it is, its dictionary cut to the texts its rows
    use once per slice (`_compacted`), unless the dictionary outnumbers the batch's rows (a large
    object's): then it is cut at once, so that a slice does not hold a copy per batch."""
    if not pa.types.is_dictionary(values.type):
        return pc.dictionary_encode(values)
    values = _single(values)
    return _first_appearance(values) if len(values.dictionary) > len(values) else values


def _first_appearance(values: pa.DictionaryArray) -> pa.DictionaryArray:
    """``values`` with its dictionary cut to the texts its rows use, numbered in order of first
    appearance (as they are already where no filter or row group intervened: then unchanged)."""
    return _renumbered(values)[0]


def _renumbered(values: pa.DictionaryArray) -> tuple[pa.DictionaryArray, npt.NDArray[np.int32]]:
    """`_first_appearance` of ``values``, and its indices (-1 where null) as numpy."""
    indices = np.asarray(pc.fill_null(values.indices, -1).to_numpy(zero_copy_only=False), dtype=np.int32)
    dictionary = values.dictionary
    if _in_order_of_first_appearance(indices, len(dictionary)):
        return values, indices
    order = np.asarray(pc.unique(values.indices.drop_null()).to_numpy(zero_copy_only=False), dtype=np.intp)
    renumbered = np.full(len(dictionary), -1, dtype=np.int32)
    renumbered[order] = np.arange(order.size, dtype=np.int32)
    absent = indices < 0
    indices = np.where(absent, np.int32(-1), renumbered[np.maximum(indices, 0)] if len(dictionary) else -1)
    indices = indices.astype(np.int32, copy=False)
    numbers = pa.array(np.maximum(indices, 0), type=pa.int32(), mask=absent if absent.any() else None)
    return pa.DictionaryArray.from_arrays(numbers, dictionary.take(pa.array(order))), indices


def _present(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Null where the text is null or empty (the record path's truthiness test)."""
    if pa.types.is_dictionary(values.type):
        values = _single(values)
        if not pc.any(pc.equal(values.dictionary, "")).as_py():
            return values  # the usual case: no empty text among the dictionary's
        values = values.dictionary_decode()
    empty = pc.equal(values, "")
    if not pc.any(empty).as_py():
        return values  # the usual case: no copy of the text
    # A null condition gives null: null text stays null.
    return pc.if_else(empty, _NO_TEXT, values)


def _id_halves(ids: pa.Array) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    """`event_id_halves` of every id: canonical UUIDs decoded from their hex digits at once, any
    other id one by one."""
    n = len(ids)
    high = np.zeros(n, dtype=np.uint64)
    low = np.zeros(n, dtype=np.uint64)
    if not n:
        return high, low
    canonical = canonical_uuids(ids)
    rows = np.flatnonzero(canonical)
    if rows.size:
        halves = uuid_halves(ids, rows)
        high[rows], low[rows] = halves[:, 0], halves[:, 1]
    for row in np.flatnonzero(~canonical).tolist():
        high[row], low[row] = event_id_halves(str(ids[row].as_py()))
    return high, low


# ---------------------------------------------------------------------- usable -> block
def block_of(usable: Usable) -> EventBlock:
    """The `EventBlock` of a `Usable` (an NDJSON lake object, a slice of a Parquet one, or a row
    group of a kept day)."""
    # Columns are read whole and their rows naming a product picked with numpy, rather than the
    # table filtered first: a filter copies the ids' text, an object's worth. Only the sessions
    # are filtered: they are numbered in order of first appearance among those rows.
    table = usable.table
    user_local, users = _encoded(table.column("user"))
    anon_local, anons = _encoded(table.column("anon"))
    micros = _numpy(table.column("micros")).astype(np.int64, copy=False)
    linked = (user_local >= 0) & (anon_local >= 0)
    # Products are null exactly where a record names none, so their order of first appearance
    # is the same among the rows naming one.
    product_local, items = _encoded(table.column("product"))
    named = product_local >= 0
    item_local = product_local[named]
    session_local, sessions = _encoded(table.column("session").filter(pa.array(named)))
    return EventBlock(
        read=usable.read,
        malformed=usable.malformed,
        without_product=int(table.num_rows - item_local.size),
        users=users,
        anons=anons,
        items=items,
        sessions=sessions,
        categories=_first_categories(item_local, items, table.column("category"), named),
        link_user=user_local[linked],
        link_anon=anon_local[linked],
        link_time=micros[linked] / 1e6,
        user_local=user_local[named],
        anon_local=anon_local[named],
        item_local=item_local,
        session_local=session_local,
        event=_numpy(table.column("event")).astype(np.int8)[named],
        micros=micros[named],
        quantity=_numpy(table.column("quantity")).astype(np.float32)[named],
        weight=_numpy(table.column("weight")).astype(np.float32)[named],
        key=event_keys(
            _numpy(table.column("idHigh")).astype(np.uint64)[named],
            _numpy(table.column("idLow")).astype(np.uint64)[named],
        ),
    )


def _numpy(values: pa.Array | pa.ChunkedArray) -> npt.NDArray[Any]:
    return np.asarray(
        values.to_numpy(zero_copy_only=False) if isinstance(values, pa.Array) else values.to_numpy()
    )


def _encoded(values: pa.Array | pa.ChunkedArray) -> tuple[npt.NDArray[np.int32], list[str]]:
    """Per row, the index of its value among the column's distinct values (in order of first
    appearance), -1 where null. A dictionary column (`ID_TYPE`) keeps its encoding where that is
    already so (the usual case), and is renumbered where not (a filter left ids no row has, or
    took the row where one first appeared)."""
    values = _single(values)
    if not pa.types.is_dictionary(values.type):
        values = pc.dictionary_encode(values)
    values, indices = _renumbered(values)
    return indices, values.dictionary.to_pylist()


def _in_order_of_first_appearance(indices: npt.NDArray[np.int32], distinct: int) -> bool:
    """Each of ``0 .. distinct - 1`` occurs (-1 aside), and each first after the one before it:
    the running maximum then ends at the last and never grows by more than one."""
    if not indices.size:
        return distinct == 0
    reached = np.maximum.accumulate(indices)
    return int(reached[-1]) == distinct - 1 and bool(np.all(np.diff(reached, prepend=-1) <= 1))


def _first_categories(
    item_local: npt.NDArray[np.int32],
    items: list[str],
    categories: pa.Array | pa.ChunkedArray,
    named: npt.NDArray[np.bool_],
) -> dict[str, str]:
    """The first category given for each product, among the rows naming one (``named``)."""
    given = _numpy(categories.is_valid()).astype(np.bool_)[named]
    if not given.any():
        return {}
    if given.all():
        # Items are numbered in order of first appearance among these rows (`block_of`), so each
        # one's first row is where the running maximum of the numbers grows: no sort.
        reached = np.maximum.accumulate(item_local)
        chosen = np.flatnonzero(np.diff(reached, prepend=-1) > 0)
    else:
        rows = np.flatnonzero(given)
        _, first = np.unique(item_local[rows], return_index=True)
        chosen = rows[first]
    names = categories.take(pa.array(np.flatnonzero(named)[chosen])).to_pylist()
    return {items[int(item_local[row])]: str(name) for row, name in zip(chosen.tolist(), names, strict=True)}
