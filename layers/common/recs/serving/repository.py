"""Reading what training, ingestion and privacy published: memory, then cache, then DynamoDB.

Three tiers, read in one pass per request:

- **memory** (this container): a version's non-personal rows (similar items, bought-together,
  popular, trending, the catalog) never change once the version's pointer has flipped, and
  their keys carry the version, so they can be held until evicted (bounded LRU) with no TTL and
  no staleness. User rows are never held in memory: an opt-out or erasure must take effect
  without waiting for warm containers to die.
- **cache** (Redis): every key a request still needs goes in ONE MGET, including the opt-out
  flag and the session signal; a cache fault is a miss (the adapter guarantees it).
- **DynamoDB**: the misses, in one BatchGetItem per table; what was read is written back to the
  cache in one pipeline (absent rows as negative entries, so an absent list is looked up once
  per TTL, not per request). A version whose users' rows were imported into a table of their
  own (the pointer's ``listsTable``) has them read there; everything else is in the model table.

A store fault never fails the request: the rows it could not read are reported as failed and
the service falls back to other sources; an unreadable opt-out flag counts as opted out.

The current-version pointer and the availability row are held in memory for a short TTL and
refreshed together; when DynamoDB cannot be read the last known values keep serving (and a
fresh container falls back to the copy this class keeps in the cache).
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, NamedTuple

from recs.errors import StoreUnavailableError
from recs.ports import ReadableTable, ServingCache
from recs.store_layout import (
    ATTRIBUTES_PK,
    AVAILABILITY_KEY,
    CATALOG_PK,
    CONTROL_CACHE_KEY,
    LISTS_TABLE_ATTRIBUTE,
    POINTER_KEY,
    availability_part_keys,
    cache_key,
    catalog_part_keys,
    category_map_payload,
    decode_attribute_map,
    decode_availability,
    decode_category_map,
    decode_items,
    optout_cache_key,
    preference_key,
    read_session_constants,
    session_cache_key,
    session_constants_attribute,
    session_key,
    version_sk,
)

Items = list[tuple[str, float, str | None]]
#: A recent product of the live session signal: (product id, event type, ISO timestamp).
Recent = tuple[str, str, str]
_ABSENT = b"-"


class Kind(Enum):
    LIST = "list"  # a version's non-personal ranked list: memory, cache, model table
    PERSONAL_LIST = "personal-list"  # a version's per-user list: cache, model table
    CATALOG = "catalog"  # a version's product -> category map: memory, cache, model table
    ATTRIBUTES = "attributes"  # a version's product -> [brand, price] map: as CATALOG
    OPTOUT = "optout"  # a user's preference: cache flag, state table
    SESSION = "session"  # a visitor's recent products: cache (short TTL), state table


_IN_MEMORY = frozenset({Kind.LIST, Kind.CATALOG, Kind.ATTRIBUTES})
#: Maps compressed and split in parts for a large catalog (`recs.store_layout._map_rows`).
_PARTED = frozenset({Kind.CATALOG, Kind.ATTRIBUTES})
_IN_STATE_TABLE = frozenset({Kind.OPTOUT, Kind.SESSION})


class Want(NamedTuple):
    """One thing a request needs, with where it lives in each tier.

    A named tuple rather than a frozen dataclass: a request makes and hashes a dozen of them, and
    tuples do both in C (measured: docs/serving.md, Performance).
    """

    kind: Kind
    cache_key: str
    table_key: tuple[str, str]
    #: The table a personal row is in when it is not the model table (an imported version's).
    table: str = ""

    @classmethod
    def list(cls, version: str, pk: str) -> Want:
        return cls(Kind.LIST, cache_key(version, pk), (pk, version_sk(version)))

    @classmethod
    def personal_list(cls, version: str, pk: str, table: str = "") -> Want:
        return cls(Kind.PERSONAL_LIST, cache_key(version, pk), (pk, version_sk(version)), table)

    @classmethod
    def catalog(cls, version: str) -> Want:
        return cls(Kind.CATALOG, cache_key(version, CATALOG_PK), (CATALOG_PK, version_sk(version)))

    @classmethod
    def attributes(cls, version: str) -> Want:
        return cls(Kind.ATTRIBUTES, cache_key(version, ATTRIBUTES_PK), (ATTRIBUTES_PK, version_sk(version)))

    @classmethod
    def optout(cls, user: str) -> Want:
        return cls(Kind.OPTOUT, optout_cache_key(user), preference_key(user))

    @classmethod
    def session(cls, visitor: str) -> Want:
        return cls(Kind.SESSION, session_cache_key(visitor), session_key(visitor))


@dataclass
class ReadStats:
    """What one request read where (logged, and turned into metrics by the handler)."""

    memory_hits: int = 0
    cache_hits: int = 0
    cache_misses: int = 0
    cache_errors: int = 0
    cache_round_trips: int = 0
    store_reads: int = 0
    store_errors: int = 0

    @property
    def cache_outcome(self) -> str:
        """hit, miss, partial, error or off: the one word the logs carry."""
        if self.cache_errors:
            return "error"
        if self.cache_hits + self.cache_misses == 0:
            return "memory" if self.memory_hits else "off"
        if self.cache_misses == 0:
            return "hit"
        return "miss" if self.cache_hits == 0 else "partial"


@dataclass
class Fetched:
    """The values a fetch found: absent rows are None (a row with an empty list is an empty list,
    not None: a delta version's empty row hides its base's); rows that could not be read are
    `failed`."""

    values: dict[str, Any] = field(default_factory=dict)
    failed: set[str] = field(default_factory=set)

    def get(self, want: Want) -> Any:
        return self.values.get(want.cache_key)


@dataclass(frozen=True)
class Pointer:
    """The version serving personal lists and similar items, and the one serving shop-wide lists
    (popular, trending, the catalog map): newer when a later run was refused by the gate."""

    version: str
    generated_at: str
    lists_version: str = ""
    #: How to merge this version's session lists (seeds, recency), as its training chose them;
    #: None for a version without them (serving keeps its configured defaults).
    session: tuple[int, float] | None = None
    #: The last full publish (`baseVersion`): when it is not `version`, `version` is a delta that
    #: wrote only the users' rows that changed since it, and a user without a row of `version`
    #: is served the base's ("" for a full version, or a pointer written before deltas).
    base_version: str = ""
    #: The table holding the version's users' rows when they were imported into one of their own
    #: ("" : the model table).
    lists_table: str = ""

    @property
    def shop_wide_version(self) -> str:
        return self.lists_version or self.version

    @property
    def personal_base(self) -> str | None:
        """The version whose users' rows stand in for those `version` did not write; None when
        `version` wrote every user's rows (one key per personal row, as before deltas)."""
        return self.base_version if self.base_version and self.base_version != self.version else None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Pointer:
        return cls(
            str(row["modelVersion"]),
            str(row["generatedAt"]),
            str(row.get("listsVersion") or ""),
            read_session_constants(row),
            str(row.get("baseVersion") or ""),
            str(row.get(LISTS_TABLE_ATTRIBUTE) or ""),
        )


@dataclass(frozen=True)
class Control:
    """The rows every request depends on: the current version and what is unavailable now."""

    pointer: Pointer | None
    unavailable: frozenset[str]
    #: The catalog feed's latest version: new arrivals, attribute-similar items, the live map.
    catalog_version: str | None = None


@dataclass(frozen=True)
class CacheTtls:
    lists: int
    optout: int
    session: int
    control: int


class ListRepository:
    def __init__(
        self,
        model_table: ReadableTable,
        state_table: ReadableTable,
        cache: ServingCache,
        *,
        ttls: CacheTtls,
        control_ttl_seconds: float,
        memory_entries: int,
        monotonic: Callable[[], float] = time.monotonic,
        lists_table: Callable[[str], ReadableTable] | None = None,
    ) -> None:
        self._tables = {False: model_table, True: state_table}
        #: Opens an imported version's table by name (kept: a container serves one or two).
        self._open_lists_table = lists_table
        self._lists_tables: dict[str, ReadableTable] = {}
        self._cache = cache
        self._ttls = ttls
        self._control_ttl = control_ttl_seconds
        self._memory_entries = memory_entries
        self._monotonic = monotonic
        self._memory: OrderedDict[str, Any] = OrderedDict()
        # Lambda runs one request at a time per container; the local HTTP server runs several.
        self._memory_lock = threading.Lock()
        self._control: Control | None = None
        self._control_at = float("-inf")
        #: The content stamp of the long availability list last read whole, and that list: its
        #: parts are read again only when the main row names other content.
        self._availability: tuple[str, frozenset[str]] | None = None

    # ------------------------------------------------------------------ pointer and availability
    def control(self, stats: ReadStats) -> Control:
        """The current version and the unavailable products, refreshed every `control_ttl_seconds`."""
        now = self._monotonic()
        if self._control is not None and now - self._control_at < self._control_ttl:
            return self._control
        try:
            stats.store_reads += 1
            pointer_row, availability_row = self._tables[False].get_many([POINTER_KEY, AVAILABILITY_KEY])
        except StoreUnavailableError:
            stats.store_errors += 1
            # Keep serving what we knew; try the store again after a short pause, not per request.
            self._control = self._control or self._control_from_cache(stats)
            self._control_at = now - self._control_ttl + min(self._control_ttl, 2.0)
            return self._control
        pointer = Pointer.from_row(pointer_row) if pointer_row else None
        unavailable: frozenset[str] = frozenset()
        if availability_row:
            known = self._unavailable(availability_row, stats)
            if known is None:
                # Its parts are being written: keep what we knew until the next refresh.
                unavailable = self._control.unavailable if self._control else frozenset()
            else:
                unavailable = known
        catalog_version = str(availability_row.get("catalogVersion") or "") if availability_row else ""
        control = Control(pointer, unavailable, catalog_version or None)
        if control != self._control and pointer is not None:
            # The copy a fresh container reads when DynamoDB is down (see _control_from_cache).
            self._write_cache({CONTROL_CACHE_KEY: (_encode_control(control), self._ttls.control)}, stats)
        self._control, self._control_at = control, now
        return control

    def _unavailable(self, main: dict[str, Any], stats: ReadStats) -> frozenset[str] | None:
        """The availability list whole (one more read for a long list's parts); None while its
        parts are not all there yet."""
        keys = availability_part_keys(main)
        stamp = str(main.get("stamp") or "")
        if keys and self._availability is not None and self._availability[0] == stamp:
            return self._availability[1]
        parts: list[dict[str, Any] | None] = []
        if keys:
            stats.store_reads += 1
            try:
                parts = self._tables[False].get_many(keys)
            except StoreUnavailableError:
                stats.store_errors += 1
                return None
        if any(part is None for part in parts):
            return None
        unavailable = frozenset(decode_availability([main, *[part for part in parts if part is not None]]))
        if keys:
            self._availability = (stamp, unavailable)
        return unavailable

    def _control_from_cache(self, stats: ReadStats) -> Control:
        if not self._cache.enabled:
            return Control(None, frozenset())
        errors = self._cache.errors
        stats.cache_round_trips += 1
        raw = self._cache.get_many([CONTROL_CACHE_KEY])[0]
        if self._cache.errors != errors:
            stats.cache_errors += 1
        return _decode_control(raw) if raw else Control(None, frozenset())

    # ------------------------------------------------------------------ lists, flags, sessions
    def fetch(self, wants: Iterable[Want], stats: ReadStats) -> Fetched:
        """Everything in `wants`, each tier read at most once (one MGET, one BatchGetItem per table)."""
        fetched = Fetched()
        pending: list[Want] = []
        with self._memory_lock:
            for want in dict.fromkeys(wants):
                if want.kind in _IN_MEMORY and want.cache_key in self._memory:
                    self._memory.move_to_end(want.cache_key)
                    fetched.values[want.cache_key] = self._memory[want.cache_key]
                    stats.memory_hits += 1
                else:
                    pending.append(want)
        if not pending:
            return fetched
        missing = self._from_cache(pending, fetched, stats)
        if missing:
            self._from_store(missing, fetched, stats)
        return fetched

    def _from_cache(self, wants: list[Want], fetched: Fetched, stats: ReadStats) -> list[Want]:
        cacheable = [w for w in wants if self._ttl(w.kind) > 0] if self._cache.enabled else []
        if not cacheable:
            return wants
        errors = self._cache.errors
        stats.cache_round_trips += 1
        raw_values = self._cache.get_many([w.cache_key for w in cacheable])
        if self._cache.errors != errors:
            stats.cache_errors += 1
        missing = [w for w in wants if self._ttl(w.kind) <= 0]
        for want, raw in zip(cacheable, raw_values, strict=True):
            if raw is None:
                stats.cache_misses += 1
                missing.append(want)
            else:
                stats.cache_hits += 1
                self._keep(want, _decode(want.kind, raw), fetched)
        return missing

    def _table(self, want: Want) -> tuple[ReadableTable, bool]:
        """The table `want` is read from, and whether it is the model table."""
        if want.kind in _IN_STATE_TABLE:
            return self._tables[True], False
        if not want.table or self._open_lists_table is None:
            return self._tables[False], True
        table = self._lists_tables.get(want.table)
        if table is None:
            table = self._lists_tables[want.table] = self._open_lists_table(want.table)
        return table, False

    def _from_store(self, wants: list[Want], fetched: Fetched, stats: ReadStats) -> None:
        refill: dict[str, tuple[bytes, int]] = {}
        groups: dict[int, tuple[ReadableTable, bool, list[Want]]] = {}
        for want in wants:
            table, is_model_table = self._table(want)
            groups.setdefault(id(table), (table, is_model_table, []))[2].append(want)
        for table, is_model_table, group in groups.values():
            stats.store_reads += 1
            try:
                rows = table.get_many([w.table_key for w in group])
            except StoreUnavailableError:
                stats.store_errors += 1
                fetched.failed.update(w.cache_key for w in group)
                continue
            if is_model_table:
                try:
                    rows = self._with_catalog_parts(group, rows, stats)
                except StoreUnavailableError:
                    stats.store_errors += 1
                    fetched.failed.update(w.cache_key for w in group if w.kind in _PARTED)
                    rows = [None if w.kind in _PARTED else r for w, r in zip(group, rows, strict=True)]
            for want, row in zip(group, rows, strict=True):
                raw = _encode_row(want.kind, row)
                self._keep(want, _decode(want.kind, raw), fetched)
                ttl = self._ttl(want.kind)
                if ttl > 0:
                    refill[want.cache_key] = (raw, ttl)
        if refill and self._cache.enabled:
            self._write_cache(refill, stats)

    def _with_catalog_parts(
        self, group: list[Want], rows: list[dict[str, Any] | None], stats: ReadStats
    ) -> list[dict[str, Any] | None]:
        """A category or attribute map split in parts (a large catalog) read whole: one more read
        of the other parts, made once per version and container (the map is then kept in memory
        and cache)."""
        parts = {
            index: catalog_part_keys(row)
            for index, (want, row) in enumerate(zip(group, rows, strict=True))
            if want.kind in _PARTED and row is not None and int(row.get("parts", 1)) > 1
        }
        if not parts:
            return rows
        stats.store_reads += 1
        keys = [key for index in sorted(parts) for key in parts[index]]
        found = iter(self._tables[False].get_many(keys))
        whole = list(rows)
        for index in sorted(parts):
            others = [next(found) for _ in parts[index]]
            first = rows[index]
            assert first is not None
            if any(part is None for part in others):
                whole[index] = None  # a version being deleted: as if it had no map
                continue
            whole[index] = {**first, "d": [first, *others]}
        return whole

    def _write_cache(self, values: dict[str, tuple[bytes, int]], stats: ReadStats) -> None:
        """A best-effort write; a failed one counts as a cache error like a failed read (a frozen
        cache may first show itself on a refill)."""
        errors = self._cache.errors
        self._cache.set_many_ttl(values)
        if self._cache.errors != errors:
            stats.cache_errors += 1

    def _keep(self, want: Want, value: Any, fetched: Fetched) -> None:
        fetched.values[want.cache_key] = value
        if want.kind in _IN_MEMORY:
            # Values are shared by later requests: nothing downstream mutates them (ranking copies).
            with self._memory_lock:
                self._memory[want.cache_key] = value
                while len(self._memory) > self._memory_entries:
                    self._memory.popitem(last=False)

    def _ttl(self, kind: Kind) -> int:
        if kind is Kind.OPTOUT:
            return self._ttls.optout
        if kind is Kind.SESSION:
            return self._ttls.session
        return self._ttls.lists


# ---------------------------------------------------------------------- encodings
def _encode_row(kind: Kind, row: Mapping[str, Any] | None) -> bytes:
    """A DynamoDB row as the cache holds it."""
    if kind is Kind.OPTOUT:
        return b"1" if row and row.get("recommendations") is False else b"0"
    if kind is Kind.SESSION:
        return str(row["d"]).encode() if row else b"[]"
    if kind in _PARTED and row is not None:
        # Its parts, gathered by `_with_catalog_parts`, or the one row of a small map.
        parts = row["d"] if isinstance(row["d"], list) else [row]
        return category_map_payload(parts)
    return str(row["d"]).encode() if row else _ABSENT


def _decode(kind: Kind, raw: bytes) -> Any:
    """A cached value as the service uses it (None: the row does not exist)."""
    if kind is Kind.OPTOUT:
        return raw == b"1"
    if kind is Kind.SESSION:
        return [(str(p), str(t), str(ts)) for p, t, ts in json.loads(raw)]
    if raw == _ABSENT:
        return None
    if kind is Kind.CATALOG:
        return decode_category_map(raw)
    if kind is Kind.ATTRIBUTES:
        return decode_attribute_map(raw)
    return decode_items(raw)


def _encode_control(control: Control) -> bytes:
    assert control.pointer is not None
    return json.dumps(
        {
            "modelVersion": control.pointer.version,
            "generatedAt": control.pointer.generated_at,
            "listsVersion": control.pointer.lists_version,
            **session_constants_attribute(control.pointer.session),
            # Only when the pointer names one: a copy written before deltas reads as a full version.
            **({"baseVersion": control.pointer.base_version} if control.pointer.base_version else {}),
            **({LISTS_TABLE_ATTRIBUTE: control.pointer.lists_table} if control.pointer.lists_table else {}),
            "catalogVersion": control.catalog_version,
            "unavailable": sorted(control.unavailable),
        },
        separators=(",", ":"),
    ).encode()


def _decode_control(raw: bytes) -> Control:
    data = json.loads(raw)
    return Control(Pointer.from_row(data), frozenset(data["unavailable"]), data.get("catalogVersion"))
