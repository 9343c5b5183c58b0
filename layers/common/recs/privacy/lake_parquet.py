"""The erasure purge's and the export's reading of a Parquet lake object (`recs.lake_format`):
by columns, not bytes.

A Parquet object's column pages are compressed (Snappy, as Firehose writes them), so a search of
its bytes for pseudonyms, the way an NDJSON object is searched (`recs.privacy.lake_purge`), would
miss them, skip the object and leave an erased visitor in the lake. Rows are found by their
values instead, with the same meaning an NDJSON line has:

- a row **names** an erased visitor when its ``userId`` or ``anonId`` is that visitor's pseudonym,
  or when any other text column (``query``, ``results``, ``context``, ...) contains it: an NDJSON
  line holding the pseudonym anywhere is removed, and a shopper can type the pseudonym their
  export showed them into a search;
- each distinct value of a column is looked at once: ids by membership, other text by the
  pseudonym pattern (a vectorised pre-filter, then the exact tokens of the matching values);
- a row of a user who is not erased whose only erased id is its ``anonId`` is kept with a null
  ``anonId`` (detached); every other row naming an erased visitor is removed;
- the rewritten object has the object's own columns and codec (`lake_format.compression_of`),
  every kept row as it was read (the detached ``anonId`` aside).

Only the purge and export functions import this (they carry the arrow layer; pyproject.toml's
import-linter contracts keep the privacy routes' function away from it).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from recs import lake_format
from recs.privacy.visitors import ErasedVisitors

#: Lower-case column names of the two ids (as Firehose writes them).
USER, ANON = "userid", "anonid"
#: A superset of `recs.privacy.visitors.VISITOR_TOKEN` for RE2 (no word boundaries): a value it
#: does not match holds no pseudonym; a value it matches is checked exactly.
_CANDIDATE = "[ua]_[0-9a-f]{32}"

Mask = npt.NDArray[np.bool_]


@dataclass
class ParquetRewrite:
    """What a rewrite of one object did."""

    #: The object's new content; None when no row is left (the object is deleted).
    data: bytes | None
    #: Whose each removed row was, in row order: its user when erased, else its anonymous id,
    #: else the first erased pseudonym it holds (as `LakePurge` attributes an NDJSON line).
    removed: list[str] = field(default_factory=list)
    #: The erased anonymous id of each row kept without it, in row order.
    detached: list[str] = field(default_factory=list)


def _text_columns(table: pa.Table) -> list[str]:
    """Columns holding text: strings, or lists of strings (``results``)."""
    names = []
    for column in table.schema:
        kind = column.type.value_type if pa.types.is_list(column.type) else column.type
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            names.append(column.name)
    return names


def _exact(column: pa.ChunkedArray, visitors: ErasedVisitors) -> Mask:
    """Rows whose value is one of the visitors (each distinct value hashed once)."""
    found = [v for v in pc.unique(column).to_pylist() if isinstance(v, str) and v in visitors]
    return _rows_with(column, found)


def _rows_with(column: pa.ChunkedArray, values: list[str]) -> Mask:
    if not values:
        return np.zeros(len(column), dtype=np.bool_)
    hits = pc.is_in(column, value_set=pa.array(values, type=column.type))
    return np.asarray(hits.to_numpy(zero_copy_only=False), dtype=np.bool_)


def _naming(
    column: pa.ChunkedArray, visitors: ErasedVisitors, *, is_id: bool
) -> tuple[Mask, dict[str, set[str]]]:
    """Rows of a text column that name an erased visitor, and the erased pseudonyms each named
    value holds (an id column's value also counts when it is an erased id of another shape)."""
    values = column
    parents: npt.NDArray[np.int64] | None = None
    if pa.types.is_list(column.type):
        values = pc.list_flatten(column)
        parents = np.asarray(pc.list_parent_indices(column).to_numpy(zero_copy_only=False), dtype=np.int64)
    candidates = (
        values if is_id else values.filter(pc.fill_null(pc.match_substring_regex(values, _CANDIDATE), False))
    )
    tokens: dict[str, set[str]] = {}
    for value in pc.unique(candidates).to_pylist():
        if not isinstance(value, str):
            continue
        found = visitors.erased_in(value)
        if is_id and value in visitors:
            found.add(value)
        if found:
            tokens[value] = found
    hit = _rows_with(values, list(tokens))
    if parents is None:
        return hit, tokens
    rows = np.zeros(len(column), dtype=np.bool_)
    rows[parents[hit]] = True
    return rows, tokens


def rewrite(data: bytes, erased: ErasedVisitors) -> ParquetRewrite | None:
    """The object without the rows naming an erased visitor (an erased ``anonId`` of a user who is
    not erased detached instead); None when no row names one (the object is left as it is)."""
    table = lake_format.read_table(data).combine_chunks()
    names = _text_columns(table)
    other = np.zeros(table.num_rows, dtype=np.bool_)
    anon_named = np.zeros(table.num_rows, dtype=np.bool_)
    tokens: dict[str, dict[str, set[str]]] = {}
    for name in names:
        rows, tokens[name] = _naming(table.column(name), erased, is_id=name in (USER, ANON))
        if name == ANON:
            anon_named = rows
        else:
            other |= rows
    named = other | anon_named
    if not named.any():
        return None
    users = table.column(USER) if USER in names else pa.nulls(table.num_rows, pa.string())
    anons = table.column(ANON) if ANON in names else pa.nulls(table.num_rows, pa.string())
    user_erased, anon_erased = _exact(users, erased), _exact(anons, erased)
    has_user = np.asarray(pc.is_valid(users).to_numpy(zero_copy_only=False), dtype=np.bool_)
    # An NDJSON line is kept without its anonId exactly when this holds (LakePurge).
    detach = anon_erased & has_user & ~user_erased & ~other
    remove = named & ~detach
    user_of, anon_of = users.to_pylist(), anons.to_pylist()
    outcome = ParquetRewrite(data=None)
    for row in np.flatnonzero(remove).tolist():
        if user_erased[row]:
            outcome.removed.append(str(user_of[row]))
        elif anon_erased[row]:
            outcome.removed.append(str(anon_of[row]))
        else:
            outcome.removed.append(min(_tokens_of_row(table, row, names, tokens)))
    outcome.detached = [str(anon_of[row]) for row in np.flatnonzero(detach).tolist()]
    kept = table
    if detach.any():
        index = table.schema.get_field_index(ANON)
        cleared = pc.if_else(pa.array(detach), pa.scalar(None, anons.type), anons)
        kept = kept.set_column(index, table.schema.field(index), cleared)
    kept = kept.filter(pa.array(~remove))
    if kept.num_rows:
        outcome.data = lake_format.encode(kept, compression=lake_format.compression_of(data))
    return outcome


def _tokens_of_row(
    table: pa.Table, row: int, names: list[str], tokens: dict[str, dict[str, set[str]]]
) -> set[str]:
    """The erased pseudonyms one row holds (a removed row naming no erased id of its own)."""
    found: set[str] = set()
    for name in names:
        value: Any = table.column(name)[row].as_py()
        for text in value if isinstance(value, list) else [value]:
            found |= tokens[name].get(text, set()) if isinstance(text, str) else set()
    return found


def links(data: bytes, erased: ErasedVisitors) -> Iterator[tuple[str, str]]:
    """(anonymous id, erased user) of every row carrying both, the user erased."""
    for batch in lake_format.read_fields(data, ["userId", "anonId"]):
        users = batch.column("userId")
        linked = _exact(users, erased) & np.asarray(
            pc.is_valid(batch.column("anonId")).to_numpy(zero_copy_only=False), dtype=np.bool_
        )
        if not linked.any():
            continue
        rows = pa.array(linked)
        for user, anon in zip(
            users.filter(rows).to_pylist(), batch.column("anonId").filter(rows).to_pylist(), strict=True
        ):
            if user and anon:
                yield anon, user


def records(data: bytes, visitors: ErasedVisitors) -> Iterator[dict[str, Any]]:
    """The records (as ingest wrote them, `lake_format.records`) whose ``userId`` or ``anonId`` is
    one of the visitors, in row order."""
    source = lake_format.parquet_file(data)  # read twice below: its footer parsed once
    wanted: list[int] = []
    offset = 0
    for batch in lake_format.read_fields(source, ["userId", "anonId"]):
        rows = _exact(batch.column("userId"), visitors) | _exact(batch.column("anonId"), visitors)
        wanted.extend((offset + np.flatnonzero(rows)).tolist())
        offset += batch.num_rows
    if not wanted:
        return
    table = lake_format.read_table(source).take(pa.array(wanted, type=pa.int64()))
    for row in table.to_pylist():
        yield {
            lake_format.FIELD_OF_COLUMN.get(name, name): value
            for name, value in row.items()
            if value is not None
        }
