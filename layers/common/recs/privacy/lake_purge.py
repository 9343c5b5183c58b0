"""Rewriting the event lake without erased visitors' records.

The lake holds Parquet objects (Firehose's record format conversion, `recs.lake_format`) and,
from before it, NDJSON objects (gzip in AWS, plain under moto); each object is read by its
content. An object holding no erased pseudonym is left untouched; an affected object is rewritten
under the same key, in the same format and encoding, without the records that name an erased user
or anonymous id; an object left empty is deleted. The bucket has no versioning (template.yaml), so
the old contents are gone once the object is replaced.

- NDJSON: the decompressed text is searched for pseudonyms (one regular expression); only lines
  holding an erased one are parsed; they are removed and every other line is kept byte for byte.
- Parquet: compressed columns hide the ids from a byte search, so the ``userId``/``anonId``
  columns (and, for a pseudonym typed into free text, the other text columns) are read instead
  (`recs.privacy.lake_parquet`); the object is written again with its own columns and codec,
  every other row as it was.

A record of a user who is not erased that carries an erased anonymous id (a login on a browser
whose anonymous id was erased by its holder, or a shared browser of an erased user) is that
user's, not the anonymous visitor's: it is kept without its ``anonId`` (an NDJSON line rewritten
as compact JSON, like ingest writes it; a Parquet row with a null ``anonId``), so no erasure
removes another person's events and the erased id is gone.

Two passes, because an erased user's anonymous ids are only known from the lake itself (an
event carrying both ids links them): the first finds those links, the second rewrites.

The data export (`recs.privacy.export_job`) reads the lake the same way: its visitor set holds
the one user being exported (and, after the first pass, their linked anonymous ids), and
`LakePurge.records` yields their records instead of removing them.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from recs import lake_format
from recs.ports import ObjectStore
from recs.privacy import lake_parquet
from recs.privacy.visitors import ErasedVisitors

#: Objects fetched ahead of the one being scanned (downloads overlap scanning; memory bounded).
PREFETCH = 8
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass
class LakeRewrite:
    objects_read: int = 0
    objects_rewritten: int = 0
    objects_deleted: int = 0
    records_removed: int = 0
    #: Records of users who are not erased, kept without their erased anonymous id.
    anonymous_ids_detached: int = 0
    #: Removed records per erased visitor (the user id when it is erased, else the anonymous id);
    #: held in memory only, to attribute counts to receipts.
    removed_by_visitor: Counter[str] = field(default_factory=Counter)
    #: Objects (keys) affected per erased visitor, likewise.
    objects_by_visitor: dict[str, set[str]] = field(default_factory=dict)

    @property
    def keys_changed(self) -> set[str]:
        """Every object rewritten or deleted."""
        return set().union(*self.objects_by_visitor.values())


def decode(data: bytes) -> tuple[bytes, bool]:
    """The NDJSON text of an object and whether it was gzip-compressed."""
    compressed = data[:2] == _GZIP_MAGIC
    return (gzip.decompress(data) if compressed else data), compressed


def encode_lines(lines: Sequence[bytes], compressed: bool) -> bytes:
    data = b"".join(lines)
    return gzip.compress(data, compresslevel=6) if compressed else data


def iter_objects(
    store: ObjectStore, keys: Sequence[str], prefetch: int = PREFETCH
) -> Iterator[tuple[str, bytes]]:
    """(key, content) of each key, in order, `prefetch` downloads ahead."""
    with ThreadPoolExecutor(max_workers=max(1, prefetch), thread_name_prefix="purge") as pool:
        pending: deque[tuple[str, Future[bytes]]] = deque()
        for key in keys:
            pending.append((key, pool.submit(store.get, key)))
            if len(pending) >= prefetch:
                done_key, future = pending.popleft()
                yield done_key, future.result()
        while pending:
            done_key, future = pending.popleft()
            yield done_key, future.result()


def parse_record(line: bytes) -> dict[str, Any] | None:
    """A lake line as a JSON object, or None when it is not one."""
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def _ids(line: bytes) -> tuple[str | None, str | None]:
    """(userId, anonId) of a lake record; (None, None) when the line is not a JSON object."""
    try:
        record = json.loads(line)
    except ValueError:
        return None, None
    if not isinstance(record, dict):
        return None, None
    user, anon = record.get("userId"), record.get("anonId")
    return (user if isinstance(user, str) else None, anon if isinstance(anon, str) else None)


class LakePurge:
    """Finds and removes erased visitors' records in the lake objects under `prefix`."""

    def __init__(
        self, lake: ObjectStore, prefix: str, erased: ErasedVisitors, *, prefetch: int = PREFETCH
    ) -> None:
        self._lake = lake
        self._prefix = prefix
        self._erased = erased
        self._prefetch = prefetch

    def keys(self) -> list[str]:
        return sorted(self._lake.list_keys(self._prefix))

    def find_links(self, keys: Sequence[str]) -> dict[str, str]:
        """Anonymous pseudonyms linked to an erased user: {anonymous pseudonym: user pseudonym}.

        Only lines naming an erased user are parsed; the rest of the lake is only searched (a
        Parquet object's two id columns are read).
        """
        links: dict[str, str] = {}
        for _, data in iter_objects(self._lake, keys, self._prefetch):
            if lake_format.is_parquet(data):
                for anonymous_id, user_id in lake_parquet.links(data, self._erased):
                    links.setdefault(anonymous_id, user_id)
                continue
            text, _ = decode(data)
            erased_users = [t for t in self._erased.erased_in_bytes(text) if t.startswith(b"u_")]
            if not erased_users:
                continue
            for line in text.splitlines():
                if any(token in line for token in erased_users):
                    user, anon = _ids(line)
                    if user and anon and user in self._erased:
                        links.setdefault(anon, user)
        return links

    def records(self, keys: Sequence[str]) -> Iterator[dict[str, Any]]:
        """Every readable record whose user or anonymous id is in the set, in key order (the
        export's reader; nothing is changed)."""
        for _, data in iter_objects(self._lake, keys, self._prefetch):
            if lake_format.is_parquet(data):
                yield from lake_parquet.records(data, self._erased)
                continue
            text, _ = decode(data)
            wanted = self._erased.erased_in_bytes(text)
            if not wanted:
                continue
            for line in text.splitlines():
                if not any(token in line for token in wanted):
                    continue
                record = parse_record(line)
                if record is not None and (
                    record.get("userId") in self._erased or record.get("anonId") in self._erased
                ):
                    yield record

    def rewrite(self, keys: Sequence[str]) -> LakeRewrite:
        """Remove every record naming an erased visitor; returns what was removed."""
        outcome = LakeRewrite()
        for key, data in iter_objects(self._lake, keys, self._prefetch):
            outcome.objects_read += 1
            if lake_format.is_parquet(data):
                self._rewrite_parquet(key, data, outcome)
                continue
            text, compressed = decode(data)
            erased = self._erased.erased_in_bytes(text)
            if not erased:
                continue
            kept: list[bytes] = []
            for line in text.splitlines(keepends=True):
                if not any(token in line for token in erased):
                    kept.append(line)
                    continue
                detached = self._without_erased_anonymous_id(line)
                if detached is not None:
                    anonymous, rewritten = detached
                    kept.append(rewritten)
                    outcome.anonymous_ids_detached += 1
                    outcome.objects_by_visitor.setdefault(anonymous, set()).add(key)
                    continue
                visitor = self._visitor_of(line, erased)
                outcome.records_removed += 1
                outcome.removed_by_visitor[visitor] += 1
                outcome.objects_by_visitor.setdefault(visitor, set()).add(key)
            if kept:
                self._lake.put(key, encode_lines(kept, compressed))
                outcome.objects_rewritten += 1
            else:
                self._lake.delete([key])
                outcome.objects_deleted += 1
        return outcome

    def _rewrite_parquet(self, key: str, data: bytes, outcome: LakeRewrite) -> None:
        """A Parquet object without its erased visitors' rows, counted as the lines of NDJSON."""
        rewritten = lake_parquet.rewrite(data, self._erased)
        if rewritten is None:
            return
        for visitor in rewritten.removed:
            outcome.records_removed += 1
            outcome.removed_by_visitor[visitor] += 1
            outcome.objects_by_visitor.setdefault(visitor, set()).add(key)
        for anonymous in rewritten.detached:
            outcome.anonymous_ids_detached += 1
            outcome.objects_by_visitor.setdefault(anonymous, set()).add(key)
        if rewritten.data is None:
            self._lake.delete([key])
            outcome.objects_deleted += 1
        else:
            self._lake.put(key, rewritten.data)
            outcome.objects_rewritten += 1

    def _without_erased_anonymous_id(self, line: bytes) -> tuple[str, bytes] | None:
        """(the erased anonymous id, the line without it) when the line is a record of a user who
        is not erased and its only erased id is its ``anonId``; None otherwise (remove the line)."""
        record = parse_record(line)
        if record is None:
            return None
        user, anonymous = record.get("userId"), record.pop("anonId", None)
        if not isinstance(user, str) or user in self._erased or anonymous not in self._erased:
            return None
        rewritten = json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode()
        if self._erased.erased_in_bytes(rewritten):
            return None  # an erased id in another field too: the record goes
        return str(anonymous), rewritten + (b"\n" if line.endswith(b"\n") else b"")

    def _visitor_of(self, line: bytes, erased: set[bytes]) -> str:
        """Whose record a removed line is: its user when erased, else its anonymous id."""
        user, anon = _ids(line)
        if user and user in self._erased:
            return user
        if anon and anon in self._erased:
            return anon
        # Not a readable record, or the erased id sits in another field: the first one named.
        return next(token.decode() for token in sorted(erased) if token in line)
