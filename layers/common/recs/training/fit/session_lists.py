"""How each shop's similar-items lists are built for the session path, chosen on validation.

The session source (`recs.serving.ranking.session_neighbours`) answers "what will this visitor
look at next" from the similar-items lists of their recent products. Those lists blend session
co-occurrence (products seen in the same visit) with shopper-level co-occurrence
(`recs.training.fit.lists.similar_items`), and how much each counts and how strongly rare pairs are
shrunk depends on the shop: short shopping sessions reward a strong shrink, long sessions
(a catalogue browsed for an hour) none. So each run replays the visits it holds out for
validation as next-item predictions, through the same function serving calls, for each
candidate (share, shrink, and whether a pair counts by proximity in the visit or once per visit),
and keeps the one with the best hit rate at 20. On those lists it then chooses how serving merges
them (how many recent products seed the source, how fast older ones fade); the version carries
that choice to serving through the pointer (`recs.store_layout.session_constants`), so each shop
is served with its own constants rather than one default for every shop.

Validation: each known user's last visit before their test visit (never the test holdout, as
for the parameter search); each product of such a visit that is new to it, sold and known from
training is a prediction from the products before it. The lists are built from the rest of the
data, without the model's neighbours as filler (they would need a fit of their own; they only
fill lists shorter than ``similar_k`` and are the same for every candidate).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from recs.serving.ranking import SESSION_RECENCY, SESSION_SEEDS, Ranked, session_neighbours
from recs.training.fit import lists
from recs.training.parameters import SessionListParameters
from recs.training.prepare.interactions import EVENT_CODES, Interactions
from recs.training.prepare.matrix import confidence_matrix
from recs.training.prepare.visits import find_visits, last_visit_holdout

#: The candidates: (session share, shrink). Share 0 is the shopper-level lists alone.
CANDIDATES: tuple[tuple[float, float], ...] = (
    (1.0, 0.0),
    (1.0, 25.0),
    (1.0, 100.0),
    (1.0, 400.0),
    (0.5, 25.0),
    (0.5, 100.0),
    (0.5, 400.0),
    (0.0, 0.0),
)
#: How the session source merges the lists, searched on the chosen lists: how many recent
#: products seed it, and how fast older ones fade (`recs.serving.ranking.session_neighbours`).
SEED_COUNTS: tuple[int, ...] = (3, 5, 8, 12, 20)
RECENCIES: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0)
#: Next-item predictions scored per candidate (a seeded sample of visits beyond it).
MAX_PREDICTIONS = 5_000
HIT_AT = 20
_NAME = {code: name for name, code in EVENT_CODES.items()}


@dataclass(frozen=True)
class Prediction:
    """The visit so far (product, event type; oldest first) and the product that came next."""

    before: tuple[tuple[int, str], ...]
    target: int


@dataclass(frozen=True)
class SessionListChoice:
    share: float
    shrink: float
    record: dict[str, Any]
    proximity: bool = False
    seeds: int = SESSION_SEEDS
    recency: float = SESSION_RECENCY

    def as_parameters(self) -> dict[str, Any]:
        """The choice as `TrainingParameters` fields."""
        return {
            "session_share": self.share,
            "session_shrink": self.shrink,
            "session_proximity": self.proximity,
            "session_seeds": self.seeds,
            "session_recency": self.recency,
        }


@dataclass(frozen=True)
class _Merge:
    """How serving merges the lists of a visit's recent products."""

    seeds: int = SESSION_SEEDS
    recency: float = SESSION_RECENCY


def choose_session_lists(
    interactions: Interactions, unavailable: npt.NDArray[np.bool_], params: SessionListParameters
) -> SessionListChoice:
    """The lists (share, shrink, proximity) whose answers best predict validation visits' next
    products, then how serving merges them (seeds, recency) on those lists; the configured
    values when there is nothing to predict (no sessions, a shop's first visits)."""
    configured = SessionListChoice(
        params.session_share,
        params.session_shrink,
        {},
        params.session_proximity,
        params.session_seeds,
        params.session_recency,
    )
    test = last_visit_holdout(
        interactions, gap_minutes=params.visit_gap_minutes, fraction=params.holdout_fraction
    )
    held = last_visit_holdout(
        interactions, gap_minutes=params.visit_gap_minutes, fraction=params.holdout_fraction, mask=~test
    )
    train = ~test & ~held
    known = np.zeros(interactions.n_items, dtype=np.bool_)
    known[interactions.item[train]] = True
    predictions = next_item_predictions(interactions, held, known & ~unavailable, params)
    if not predictions:
        return replace(configured, record={"skipped": "no validation visit has a next product"})
    seeds = sorted({item for p in predictions for item, _ in p.before})
    # Only the seeds' rows are read: the whole matrices of a large shop would not fit in memory
    # beside the rest of the Train step (bench/training_scale.py measures the peak).
    co = {
        False: lists.session_cooccurrence(interactions, mask=train, rows=seeds),
        True: lists.session_proximity(interactions, mask=train, rows=seeds),
    }
    if co[False][0].nnz == 0:
        return replace(configured, record={"skipped": "no session co-occurrence"})
    confidence = confidence_matrix(
        interactions, params.event_weights, now_ts=float(interactions.timestamp.max()), mask=train
    )
    available = ~unavailable
    popular = lists.top_indices(lists.popularity(confidence), HIT_AT, available)
    configured_merge = _Merge(params.session_seeds, params.session_recency)
    # The shopper-level part is the same for every candidate: computed once.
    shopper = lists.shopper_cooccurrence(confidence, params.similar_k, seeds)
    scores: dict[str, float] = {}
    best: tuple[float, float, float, bool, dict[int, lists.Ranked]] | None = None
    for proximity in (False, True):
        for share, shrink in CANDIDATES:
            if share == 0.0 and proximity:
                continue  # shopper-level lists alone: no session co-occurrence to weigh
            similar = lists.similar_items(
                confidence,
                None,
                params.similar_k,
                available,
                sessions=lists.shrunk(*co[proximity], shrink=shrink),
                session_share=share,
                items=seeds,
                shopper_neighbours=shopper,
            )
            hit = hit_rate(predictions, similar, popular, configured_merge)
            scores[_lists_name(share, shrink, proximity)] = round(hit, 6)
            configured_first = (share, shrink, proximity) == (
                params.session_share,
                params.session_shrink,
                params.session_proximity,
            )
            if best is None or hit > best[0] or (hit == best[0] and configured_first):
                best = (hit, share, shrink, proximity, similar)
    assert best is not None
    top, share, shrink, proximity, similar = best
    # The chosen lists were scored with the configured merge: that is its score here too.
    chosen_merge = configured_merge
    merges = {_merge_name(configured_merge): round(top, 6)}
    named, fill = _named(similar), _fill(popular)
    for merge in [_Merge(n, r) for n in SEED_COUNTS for r in RECENCIES]:
        name = _merge_name(merge)
        if name in merges:
            continue
        hit = _hits(predictions, named, fill, merge) / len(predictions)
        merges[name] = round(hit, 6)
        if hit > top:  # strictly better: the configured merge wins ties
            chosen_merge, top = merge, hit
    choice = SessionListChoice(share, shrink, {}, proximity, chosen_merge.seeds, chosen_merge.recency)
    record = {
        "predictions": len(predictions),
        "hitRateAt20": scores,
        "mergeHitRateAt20": merges,
        "chosen": choice.as_parameters(),
    }
    return replace(choice, record=record)


def _merge_name(merge: _Merge) -> str:
    return f"seeds {merge.seeds}, recency {merge.recency:g}"


def _lists_name(share: float, shrink: float, proximity: bool) -> str:
    return f"share {share:g}, shrink {shrink:g}" + (", proximity" if proximity else "")


def next_item_predictions(
    interactions: Interactions,
    held: npt.NDArray[np.bool_],
    allowed: npt.NDArray[np.bool_],
    params: SessionListParameters,
) -> list[Prediction]:
    """Every product of a held-out visit that is new to it and ``allowed``, after the products
    before it (consecutive events of one product are one step, with its latest event type)."""
    visits = find_visits(interactions, gap_minutes=params.visit_gap_minutes, mask=held)
    index = np.flatnonzero(held)
    order = index[np.lexsort((index, interactions.timestamp[index], visits.of_interaction[index]))]
    predictions: list[Prediction] = []
    steps: list[tuple[int, str]] = []
    current = -1
    for row in order.tolist():
        visit = int(visits.of_interaction[row])
        if visit != current:
            predictions.extend(_visit_predictions(steps, allowed))
            steps, current = [], visit
        item, event = int(interactions.item[row]), _NAME[int(interactions.event[row])]
        if steps and steps[-1][0] == item:
            steps[-1] = (item, event)
        else:
            steps.append((item, event))
    predictions.extend(_visit_predictions(steps, allowed))
    if len(predictions) > MAX_PREDICTIONS:
        rng = np.random.default_rng(params.random_seed)
        keep = np.sort(rng.choice(len(predictions), size=MAX_PREDICTIONS, replace=False))
        predictions = [predictions[i] for i in keep.tolist()]
    return predictions


def _visit_predictions(steps: Sequence[tuple[int, str]], allowed: npt.NDArray[np.bool_]) -> list[Prediction]:
    made = []
    for position in range(1, len(steps)):
        target = steps[position][0]
        before = tuple(steps[:position])
        if allowed[target] and target not in {item for item, _ in before}:
            made.append(Prediction(before, target))
    return made


def hit_rate(
    predictions: Sequence[Prediction],
    similar: dict[int, lists.Ranked],
    popular: lists.Ranked,
    merge: _Merge = _Merge(),
) -> float:
    """Share of predictions whose next product is in the top ``HIT_AT`` of what serving's
    session source answers (then popular, as the anonymous homepage chain fills)."""
    return _hits(predictions, _named(similar), _fill(popular), merge) / len(predictions)


def _named(similar: dict[int, lists.Ranked]) -> dict[int, Ranked]:
    """The lists as serving reads them (product ids as strings, no reasons)."""
    return {item: [(str(other), score, None) for other, score in ranked] for item, ranked in similar.items()}


def _fill(popular: lists.Ranked) -> list[str]:
    return [str(item) for item, _ in popular]


def _hits(predictions: Sequence[Prediction], named: dict[int, Ranked], fill: list[str], merge: _Merge) -> int:
    """How many predictions' next product is among what serving would show."""
    hits = 0
    for prediction in predictions:
        recent = {str(item) for item, _ in prediction.before}
        newest_first: list[tuple[str, str]] = []
        for item, event in reversed(prediction.before):
            if all(str(item) != seen for seen, _ in newest_first):
                newest_first.append((str(item), event))
        answer = session_neighbours(
            newest_first[: merge.seeds],
            lambda product: named.get(int(product), []),
            limit=HIT_AT,
            recency=merge.recency,
            recent=recent,
        )
        shown = [product for product, _, _ in answer[:HIT_AT]]
        for product in fill:
            if len(shown) >= HIT_AT:
                break
            if product not in recent and product not in shown:
                shown.append(product)
        hits += str(prediction.target) in shown
    return hits
