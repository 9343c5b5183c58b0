"""Turning the event table into ShopEvent wire dicts; batching and JSONL output."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from recs_tools.synthetic._random import BoolArray, IntArray, count_of, uuid4_strings
from recs_tools.synthetic.catalog import Catalog
from recs_tools.synthetic.config import ShopConfig
from recs_tools.synthetic.sessions import CONTEXTS, EVENT_TYPES, IDENT_ANON, IDENT_USER, EventTable
from recs_tools.synthetic.shoppers import Shoppers
from recs_tools.synthetic.vocabulary import EMAIL_DOMAINS, FIRST_NAMES, LAST_NAMES, STREETS

#: A JSON-ready event in the ShopEvent wire format (camelCase keys, ISO-8601 'Z' timestamps).
WireEvent = dict[str, Any]

#: Extra payload fields that injected events carry; ShopEvent ignores them and ingestion must drop them.
PII_FIELDS: Final[tuple[str, ...]] = ("email", "phone", "name", "address", "ip")


@dataclass(frozen=True, slots=True)
class WirePlan:
    """Everything needed to stream the wire events, precomputed column-wise.

    Streaming (rather than holding dicts) lets the bench preset write millions of events to JSONL
    without materialising them all.
    """

    table: EventTable
    event_ids: list[str]
    timestamps: list[str]
    user_of_session: list[str | None]
    anon_of_session: list[str | None]
    product_ids: list[str]
    product_category: list[str]
    product_price: list[float]
    resend: BoolArray
    pii: dict[int, dict[str, str]]

    def iter_events(self) -> Iterator[WireEvent]:
        """Yield the wire events in time order; a re-sent duplicate follows its original."""
        table = self.table
        product_ids, categories, prices = self.product_ids, self.product_category, self.product_price
        users, anons, session_ids = self.user_of_session, self.anon_of_session, table.session_ids
        queries, results = table.search_query, table.search_results
        resend, pii = self.resend.tolist(), self.pii
        columns = zip(
            self.event_ids,
            self.timestamps,
            table.type_code.tolist(),
            table.session.tolist(),
            table.product.tolist(),
            table.quantity.tolist(),
            table.context.tolist(),
            table.search.tolist(),
            strict=True,
        )
        for i, (event_id, timestamp, type_code, session, product, quantity, context, search) in enumerate(
            columns
        ):
            event: WireEvent = {
                "eventId": event_id,
                "eventType": EVENT_TYPES[type_code],
                "timestamp": timestamp,
            }
            user, anon = users[session], anons[session]
            if user is not None:
                event["userId"] = user
            if anon is not None:
                event["anonId"] = anon
            event["sessionId"] = session_ids[session]
            if product >= 0:
                event["productId"] = product_ids[product]
                event["category"] = categories[product]
                event["price"] = prices[product]
            if quantity:
                event["quantity"] = quantity
            event["context"] = CONTEXTS[context]
            if search >= 0:
                event["query"] = queries[search]
                event["results"] = [product_ids[p] for p in results[search]]
            extra = pii.get(i)
            if extra is not None:
                if "query" in event:
                    # A shopper who typed their address into the search box: free text must be scrubbed too.
                    event["query"] = f"{event['query']} {extra['email']}"
                event.update(extra)
            yield event
            if resend[i]:
                yield {**event, "results": list(event["results"])} if "results" in event else dict(event)


def plan_wire(
    config: ShopConfig, catalog: Catalog, shoppers: Shoppers, table: EventTable, rng: np.random.Generator
) -> WirePlan:
    """Precompute ids, timestamps, identities, duplicates and PII for :meth:`WirePlan.iter_events`.

    Parameters
    ----------
    config
        Shop configuration (duplicate and PII fractions).
    catalog, shoppers
        Where product and person ids come from.
    table
        The simulated events.
    rng
        Generator dedicated to this stage (event ids, duplicates, PII).

    Returns
    -------
    WirePlan
    """
    n = table.n_events
    event_ids = uuid4_strings(rng, n)
    timestamps: list[str] = np.datetime_as_string(
        table.timestamp_ms.astype("datetime64[ms]"), unit="ms", timezone="UTC"
    ).tolist()

    person = table.session_person.tolist()
    identity = table.session_identity.tolist()
    user_ids, anon_ids = shoppers.user_ids, shoppers.anon_ids
    # Purely anonymous visitors only ever have IDENT_ANON sessions, so p < n_users holds below.
    user_of_session = [
        user_ids[p] if ident != IDENT_ANON else None for p, ident in zip(person, identity, strict=True)
    ]
    anon_of_session = [
        anon_ids[p] if ident != IDENT_USER else None for p, ident in zip(person, identity, strict=True)
    ]

    resend = np.zeros(n, dtype=np.bool_)
    resend[rng.choice(n, size=count_of(config.duplicate_fraction, n), replace=False)] = True
    pii = _pii(rng, np.sort(rng.choice(n, size=count_of(config.pii_fraction, n), replace=False)))

    return WirePlan(
        table=table,
        event_ids=event_ids,
        timestamps=timestamps,
        user_of_session=user_of_session,
        anon_of_session=anon_of_session,
        product_ids=catalog.product_ids,
        product_category=[catalog.category_names[c] for c in catalog.category_of.tolist()],
        product_price=catalog.price.tolist(),
        resend=resend,
        pii=pii,
    )


def _pii(rng: np.random.Generator, chosen: IntArray) -> dict[int, dict[str, str]]:
    """Fictional personal data per chosen event; values vary so a scrubber cannot match one literal."""
    n = len(chosen)
    first = rng.integers(0, len(FIRST_NAMES), size=n).tolist()
    last = rng.integers(0, len(LAST_NAMES), size=n).tolist()
    domain = rng.integers(0, len(EMAIL_DOMAINS), size=n).tolist()
    digits = rng.integers(0, 100, size=n).tolist()
    house = rng.integers(1, 999, size=n).tolist()
    street = rng.integers(0, len(STREETS), size=n).tolist()
    octet = rng.integers(1, 255, size=n).tolist()
    out: dict[int, dict[str, str]] = {}
    for i, f, la, d, x, h, s, o in zip(
        chosen.tolist(), first, last, domain, digits, house, street, octet, strict=True
    ):
        given, family = FIRST_NAMES[f], LAST_NAMES[la]
        out[i] = {
            "email": f"{given}.{family}@{EMAIL_DOMAINS[d]}",
            "phone": f"+1 555 01{x:02d}",
            "name": f"{given.title()} {family.title()}",
            "address": f"{h} {STREETS[s]}, Springfield",
            "ip": f"203.0.113.{o}",
        }
    return out


def iter_batches(events: Iterable[WireEvent], size: int = 500) -> Iterator[list[WireEvent]]:
    """Group events into lists of at most ``size`` (the ingest API takes up to 500 per request).

    Parameters
    ----------
    events
        Any iterable of events, e.g. ``shop.events`` or ``shop.iter_events()``.
    size
        Maximum batch length, at least 1.

    Yields
    ------
    list of dict
        Consecutive batches; only the last may be shorter.
    """
    if size < 1:
        raise ValueError("size must be at least 1")
    batch: list[WireEvent] = []
    for event in events:
        batch.append(event)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def write_jsonl(events: Iterable[Mapping[str, Any]], path: str | Path) -> int:
    """Write events as newline-delimited JSON (compact, keys in wire order), streaming.

    Parameters
    ----------
    events
        Events to write.
    path
        Destination file; parent directories are created.

    Returns
    -------
    int
        Number of lines written.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
    with target.open("w", encoding="utf-8", newline="\n") as out:
        for event in events:
            out.write(encode(event))
            out.write("\n")
            count += 1
    return count


def read_jsonl(path: str | Path) -> Iterator[WireEvent]:
    """Read back a JSONL file written by :func:`write_jsonl`.

    Parameters
    ----------
    path
        Source file.

    Yields
    ------
    dict
        One event per non-empty line.
    """
    with Path(path).open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)
