"""How many fake visitors it takes to push an unwanted product into the shop-wide lists.

    python -m bench --full --only poisoning    # the demo and the grocery-year shops
    python -m bench --quick --only poisoning   # the demo shop
    python -m bench.poisoning [--quick]        # JSON to stdout

A synthetic shop's events (the product's own generator) get fake visitors who each buy the
shop's least popular available product over and over today, through the training code's own
lists (`recs.training.fit.lists`, the weights `recs.training.build` uses): the fewest distinct
fake visitors that put it in the popular top 10 and in the trending top 10, found by bisection.

* **Before** is the code before the defences: trending summed raw event weights against a
  constant prior (kept as `bench.trending_quality.trending_before`), and ingest took any
  number of events per visitor; the attacker is one client sending one full batch (500 events)
  per fake visitor.
* **After**: ingest keeps at most ``VISITOR_EVENTS_PER_HOUR`` (600) events per visitor and hour
  (the attacker sends as many as the cap lets through), and trending counts visitor-days (a
  visitor once per product and day, whatever they sent) against the product's longer-run rate
  under a prior scaled to the shop's traffic (``TRENDING_PRIOR_SHARE`` of the recent visitors of
  its typical top product): a product rising from nothing needs support in proportion to what the
  shop's top products get. The results also keep the figure of the step between (each visitor
  capped at one purchase's weight a day, the constant prior; ``trendingCappedWeights``).

Popularity already counted distinct visitors before (a product's visitors, not its events), so
its row is the same before and after.

One shopper's list: what a shopper looking at the shop's most viewed product is shown beside it
(its similar items, as `recs.training.build.train_version` builds them: the shopper-level cosine
blended with session co-occurrence at the default share, shrink and counting). Each fake visitor
opens one session per two events, each viewing that product and then the unwanted one.

* **Before**: a session counted once whoever opened it (the code before sessions were weighted
  by visitor and day); measured with today's code by giving each fake session its own visitor in
  the session counts only (the shopper-level part keeps the real fake visitors), which is exactly
  what the old counting saw.
* **After**: a visitor's sessions of one day share one session's weight (`lists.visit_weights`).

At the default share the list is session co-occurrence alone (the shopper-level cosine only fills
the lists of products never seen in a visit with others), ranked by co-visits (visitor-days that
saw both products) with a shrink of rare pairs. So a fake product enters once its fake co-visits
come near what the list's tenth real neighbour has (``tenthNeighbourCoVisits`` in the results):
whatever the counting, a list that cannot tell fake visitors from real ones admits a product with
as much evidence as its own tenth neighbour, and in a small shop that is a few dozen visitors.

Two attackers after the defences, both reported: **fresh** fake visitors, each first seen in
the attack itself (the rows above), and fake visitors **aged by one earlier event**: each also
viewed the most viewed product once, outside any session, ``AGED_BY`` (25 hours) before the
attack, so each is first seen on an earlier day and over a day before it (``afterAged`` in the
results). A defence that discounts brand-new visitors stops only the first; the second is what
an attacker who prepares a day ahead needs, and its row says what such a defence is worth.

The goal, from the privacy and abuse issue: at least 50 times as many fake visitors after as
before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import numpy as np

from bench.environment import benchmark_main, log
from bench.figures import Figure, figure
from bench.trending_quality import trending_before
from recs.training.fit import lists
from recs.training.parameters import TrainingParameters
from recs.training.prepare.interactions import Interactions, build_interactions
from recs.training.prepare.matrix import confidence_matrix
from recs.training.prepare.weights import interaction_weights
from recs_tools.synthetic import build_config, generate_shop

COMMAND = "python -m bench --only poisoning"
SEED = 23
TOP = 10
BATCH_EVENTS = 500  # one POST /api/events
VISITOR_CAP = 600  # VISITOR_EVENTS_PER_HOUR's default
PARAMS = TrainingParameters()
MAX_VISITORS = 1 << 16
#: How long before the attack the aged attacker's fake visitors each send their one earlier
#: event: a day and an hour, so each is first seen on an earlier day and over 24 hours before.
AGED_BY = timedelta(hours=25)


@dataclass(frozen=True)
class Warmup:
    """The aged attacker's earlier event: each fake visitor views ``product`` once at
    ``timestamp`` (no session), long enough before the attack to count as established."""

    product: str
    timestamp: str


def _warmups(count: int, warmup: Warmup | None) -> list[dict[str, Any]]:
    if warmup is None:
        return []
    return [
        {
            "eventId": f"fake-{visitor}-warmup",
            "eventType": "view",
            "timestamp": warmup.timestamp,
            "anonId": f"fake-{visitor}",
            "productId": warmup.product,
        }
        for visitor in range(count)
    ]


def _fakes(
    count: int, events: int, product: str, now_iso: str, warmup: Warmup | None = None
) -> list[dict[str, Any]]:
    bought = [
        {
            "eventId": f"fake-{visitor}-{n}",
            "eventType": "purchase",
            "timestamp": now_iso,
            "anonId": f"fake-{visitor}",
            "productId": product,
        }
        for visitor in range(count)
        for n in range(events)
    ]
    return _warmups(count, warmup) + bought


def _fake_visits(
    count: int,
    events: int,
    anchor: str,
    product: str,
    now_iso: str,
    one_visitor_per_session: bool,
    warmup: Warmup | None = None,
) -> list[dict[str, Any]]:
    """Fake visitors each opening ``events // 2`` sessions that view ``anchor`` then ``product``.
    With ``one_visitor_per_session`` each session is filed under a visitor of its own (how the
    counting before visit weights saw them)."""
    made: list[dict[str, Any]] = _warmups(count, warmup)
    for visitor in range(count):
        for session in range(events // 2):
            who = f"fake-{visitor}-{session}" if one_visitor_per_session else f"fake-{visitor}"
            for step, viewed in enumerate((anchor, product)):
                made.append(
                    {
                        "eventId": f"fake-{visitor}-{session}-{step}",
                        "eventType": "view",
                        "timestamp": now_iso,
                        "anonId": who,
                        "productId": viewed,
                        "sessionId": f"fake-{visitor}-{session}",
                    }
                )
    return made


def _similar_rank(
    base: Sequence[Mapping[str, Any]],
    anchor: str,
    product: str,
    end_ts: float,
    now_iso: str,
    visitors: int,
    events: int,
    before: bool,
    warmup: Warmup | None,
) -> int:
    """``product``'s 0-based place in ``anchor``'s similar items (a large number when absent)."""
    start_ts = end_ts - 400 * 86_400
    inter = build_interactions(
        [*base, *_fake_visits(visitors, events, anchor, product, now_iso, False, warmup)],
        start_ts=start_ts,
        end_ts=end_ts,
    )
    sessions_of = inter
    if before:
        sessions_of = build_interactions(
            [*base, *_fake_visits(visitors, events, anchor, product, now_iso, True)],
            start_ts=start_ts,
            end_ts=end_ts,
        )
        if sessions_of.items != inter.items:
            raise RuntimeError("the two builds indexed the products differently")
    confidence = confidence_matrix(
        inter, PARAMS.event_weights, now_ts=end_ts, half_life_days=PARAMS.half_life_days
    )
    available = np.ones(inter.n_items, dtype=np.bool_)
    at, item = inter.items.index(anchor), inter.items.index(product)
    similar = lists.similar_items(
        confidence,
        None,
        TOP,
        available,
        sessions=lists.session_similarity(
            sessions_of, shrink=PARAMS.session_shrink, proximity=PARAMS.session_proximity
        ),
        session_share=PARAMS.session_share,
        items=[at],
    )
    ranked = [other for other, _ in similar.get(at, [])]
    return ranked.index(item) if item in ranked else MAX_VISITORS


def _rank(scores: np.ndarray[Any, Any], item: int) -> int:
    """0-based position of ``item`` in descending ``scores`` (ties: lower index first)."""
    order = np.lexsort((np.arange(scores.size), -scores))
    return int(np.flatnonzero(order == item)[0])


#: Which trending: the code before the defences, the step between, the product's.
TrendingFormula = Literal["raw weights", "capped weights", "visitors"]


def _lists(inter: Interactions, end_ts: float, formula: TrendingFormula) -> dict[str, np.ndarray[Any, Any]]:
    """Popularity and trending scores as `recs.training.build.train_version` computes them (trending
    as ``formula`` says)."""
    confidence = confidence_matrix(
        inter, PARAMS.event_weights, now_ts=end_ts, half_life_days=PARAMS.half_life_days
    )
    weights = interaction_weights(inter, PARAMS.event_weights, now_ts=end_ts, half_life_days=0.0)
    if formula == "visitors":
        trend = lists.trending(inter, weights, end_ts, PARAMS.trending_days)
    else:
        cap = max(PARAMS.event_weights.values()) if formula == "capped weights" else None
        trend = trending_before(inter, weights, end_ts, PARAMS.trending_days, visitor_day_cap=cap)
    return {"popular": lists.popularity(confidence), "trending": trend}


def fewest(
    base: Sequence[Mapping[str, Any]],
    product: str,
    end_ts: float,
    now_iso: str,
    events: int,
    formula: TrendingFormula,
    kinds: Sequence[str] = ("popular", "trending"),
    warmup: Warmup | None = None,
) -> dict[str, int]:
    """Per list of ``kinds``, the fewest fake visitors (``events`` purchases each, after
    ``warmup`` when given) that put ``product`` in its top 10."""

    def in_top(kind: str) -> Callable[[int], bool]:
        def check(visitors: int) -> bool:
            inter = build_interactions(
                [*base, *_fakes(visitors, events, product, now_iso, warmup)],
                start_ts=end_ts - 400 * 86_400,
                end_ts=end_ts,
            )
            item = inter.items.index(product)
            return _rank(_lists(inter, end_ts, formula)[kind], item) < TOP

        return check

    return {kind: _bisect(in_top(kind), kind) for kind in kinds}


def fewest_for_similar(
    base: Sequence[Mapping[str, Any]],
    anchor: str,
    product: str,
    end_ts: float,
    now_iso: str,
    events: int,
    before: bool,
    warmup: Warmup | None = None,
) -> int:
    """The fewest fake visitors (``events`` views each, after ``warmup`` when given) that put
    ``product`` in the top 10 beside ``anchor``."""

    def check(visitors: int) -> bool:
        rank = _similar_rank(base, anchor, product, end_ts, now_iso, visitors, events, before, warmup)
        return rank < TOP

    return _bisect(check, "similar")


def _bisect(check: Callable[[int], bool], kind: str) -> int:
    high = 1
    while not check(high):
        high *= 2
        if high > MAX_VISITORS:
            raise RuntimeError(f"more than {MAX_VISITORS} fake visitors for {kind}")
    low = high // 2
    while high - low > 1:
        middle = (low + high) // 2
        if check(middle):
            high = middle
        else:
            low = middle
    return high


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def measure(preset: str) -> dict[str, Any]:
    shop = generate_shop(build_config(preset, seed=SEED))
    now = shop.config.now
    end_ts = now.timestamp()
    base = list(shop.events)
    inter = build_interactions(base, start_ts=end_ts - 400 * 86_400, end_ts=end_ts)
    available = {p.id for p in shop.products if p.available}
    counts = _lists(inter, end_ts, "raw weights")["popular"]
    candidates = [i for i in np.argsort(counts, kind="stable") if inter.items[i] in available]
    product = inter.items[int(candidates[0])]
    attack = now - timedelta(minutes=30)
    stamp = _iso(attack)
    before = fewest(base, product, end_ts + 1, stamp, BATCH_EVENTS, "raw weights")
    after = fewest(base, product, end_ts + 1, stamp, VISITOR_CAP, "visitors")
    between = fewest(base, product, end_ts + 1, stamp, VISITOR_CAP, "capped weights", kinds=("trending",))
    # The page most shoppers see: the available product with the most visitors.
    anchor = inter.items[int(candidates[-1])]
    # The aged attacker: each fake visitor first views that page once, a day and an hour before
    # the attack, outside any session (a defence that discounts new visitors must hold against it).
    warmup = Warmup(anchor, _iso(attack - AGED_BY))
    aged = fewest(base, product, end_ts + 1, stamp, VISITOR_CAP, "visitors", ("trending",), warmup)
    before["similar"] = fewest_for_similar(
        base, anchor, product, end_ts + 1, stamp, BATCH_EVENTS, before=True
    )
    after["similar"] = fewest_for_similar(base, anchor, product, end_ts + 1, stamp, VISITOR_CAP, before=False)
    aged["similar"] = fewest_for_similar(base, anchor, product, end_ts + 1, stamp, VISITOR_CAP, False, warmup)
    log(
        f"  {preset}: fake visitors for {product} (beside {anchor}) before {before}, after {after}, "
        f"aged {aged}"
    )
    # What the anchor's tenth real neighbour has: a list ranked by co-visits admits a product with
    # as many (docs/training.md, Data).
    co, _ = lists.session_cooccurrence(inter, rows=[int(candidates[-1])])
    row = co.getrow(int(candidates[-1]))
    sold = np.array([inter.items[i] in available for i in row.indices.tolist()], dtype=np.bool_)
    tenth = float(np.sort(row.data[sold])[::-1][TOP - 1]) if sold.sum() >= TOP else 0.0
    return {
        "product": product,
        "productVisitors": int(counts[candidates[0]]),
        "anchor": anchor,
        "anchorVisitors": int(counts[candidates[-1]]),
        "before": before,
        "after": after,
        "afterAged": aged,
        "agedBeforeAttackHours": AGED_BY.total_seconds() / 3600,
        "trendingCappedWeights": between["trending"],
        "tenthNeighbourCoVisits": round(tenth, 2),
    }


def run(quick: bool) -> dict[str, Any]:
    shops = ["demo"] if quick else ["demo", "grocery-year"]
    results = {preset: measure(preset) for preset in shops}
    figures: list[Figure] = []
    for preset, result in results.items():
        for kind in ("trending", "popular", "similar"):
            before, after = result["before"][kind], result["after"][kind]
            where = (
                f"the top {TOP} beside the most viewed product (one shopper's list)"
                if kind == "similar"
                else f"the {kind} top {TOP}"
            )
            baseline = (
                f"before ({BATCH_EVENTS} events per fake visitor, each session counted)"
                if kind == "similar"
                else f"before ({BATCH_EVENTS} events per fake visitor, raw weights)"
            )
            note = (
                f"{result['product']} beside {result['anchor']} ({result['anchorVisitors']} visitors); "
                if kind == "similar"
                else f"{result['product']}, bought by {result['productVisitors']} visitors before; "
            )
            figures.append(
                figure(
                    "Poisoning",
                    f"{preset}: fake visitors to push a product into {where}",
                    float(after),
                    "visitors",
                    baseline=baseline,
                    baseline_value=float(before),
                    goal=">= 50x before",
                    met=after >= 50 * before,
                    note=note + f"after: {VISITOR_CAP} events per fake visitor (the ingest cap)",
                    digits=0,
                )
            )
            if kind in result["afterAged"]:
                figures.append(_aged_figure(preset, where, baseline, note, result, kind))
    return {"command": COMMAND, "seeds": {"synthetic": SEED}, "figures": figures, "shops": results}


def _aged_figure(
    preset: str, where: str, baseline: str, note: str, result: dict[str, Any], kind: str
) -> Figure:
    """The same list against fake visitors aged by one earlier event (each first seen a day before
    the attack), next to the fresh fakes' row."""
    before, aged = result["before"][kind], result["afterAged"][kind]
    return figure(
        "Poisoning",
        f"{preset}: fake visitors aged by one earlier event to push a product into {where}",
        float(aged),
        "visitors",
        baseline=baseline,
        baseline_value=float(before),
        goal=">= 50x before",
        met=aged >= 50 * before,
        note=note
        + f"after: each fake visitor viewed {result['anchor']} once {AGED_BY.total_seconds() / 3600:g} h "
        f"before, then {VISITOR_CAP} events (the ingest cap)",
        digits=0,
    )


def main(argv: Sequence[str] | None = None) -> int:
    return benchmark_main(__doc__, run, argv, quick_help="the demo shop only")


if __name__ == "__main__":
    raise SystemExit(main())
