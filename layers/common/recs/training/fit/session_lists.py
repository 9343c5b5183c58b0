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

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from recs.contracts.recommendations import Reason
from recs.serving.ranking import SESSION_RECENCY, SESSION_SEEDS, Ranked, blend, session_neighbours
from recs.training.fit import lists
from recs.training.parameters import SessionListParameters, TrainingParameters
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
#: The session's weight in a signed-in shopper's homepage (`choose_session_weight`).
SESSION_WEIGHTS: tuple[float, ...] = (0.0, 0.1, 0.2, 0.4, 0.6, 0.8)
#: What a visitor's homepage answers, given the users (rows) and the training mask: each known
#: user's own list, best first, as (product index as a string, score, reason).
OwnLists = Callable[[npt.NDArray[np.int64], npt.NDArray[np.bool_]], Mapping[int, Ranked]]
SESSION = Reason.SESSION.value
#: Next-item predictions scored per candidate (a seeded sample of visits beyond it).
MAX_PREDICTIONS = 5_000
HIT_AT = 20
_NAME = {code: name for name, code in EVENT_CODES.items()}
SESSION_WEIGHT = float(TrainingParameters.model_fields["session_weight"].default)


@dataclass(frozen=True)
class Prediction:
    """The visit so far (product, event type; oldest first) and the product that came next, and
    the visitor (a row of the matrix; -1 when not known)."""

    before: tuple[tuple[int, str], ...]
    target: int
    user: int = -1


@dataclass(frozen=True)
class SessionListChoice:
    share: float
    shrink: float
    record: dict[str, Any]
    proximity: bool = False
    seeds: int = SESSION_SEEDS
    recency: float = SESSION_RECENCY
    weight: float = SESSION_WEIGHT

    def as_parameters(self) -> dict[str, Any]:
        """The choice as `TrainingParameters` fields."""
        return {
            "session_share": self.share,
            "session_shrink": self.shrink,
            "session_proximity": self.proximity,
            "session_seeds": self.seeds,
            "session_recency": self.recency,
            "session_weight": self.weight,
        }


@dataclass(frozen=True)
class SessionMerge:
    """How serving merges the lists of a visit's recent products (`session_neighbours`)."""

    seeds: int = SESSION_SEEDS
    recency: float = SESSION_RECENCY


def choose_session_lists(
    interactions: Interactions,
    unavailable: npt.NDArray[np.bool_],
    params: SessionListParameters,
    own_lists: OwnLists | None = None,
) -> SessionListChoice:
    """The lists (share, shrink, proximity) whose answers best predict validation visits' next
    products, then how serving merges them (seeds, recency), then, given ``own_lists``, how much
    the session moves a signed-in shopper's homepage (`choose_session_weight`); the configured
    values when there is nothing to predict (no sessions, a shop's first visits)."""
    configured = SessionListChoice(
        params.session_share,
        params.session_shrink,
        {},
        params.session_proximity,
        params.session_seeds,
        params.session_recency,
        params.session_weight,
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
    co = {
        False: lists.session_cooccurrence(interactions, mask=train),
        True: lists.session_proximity(interactions, mask=train),
    }
    if co[False][0].nnz == 0:
        return replace(configured, record={"skipped": "no session co-occurrence"})
    confidence = confidence_matrix(
        interactions, params.event_weights, now_ts=float(interactions.timestamp.max()), mask=train
    )
    seeds = sorted({item for p in predictions for item, _ in p.before})
    available = ~unavailable
    popular = lists.top_indices(lists.popularity(confidence), HIT_AT, available)
    configured_merge = SessionMerge(params.session_seeds, params.session_recency)
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
    _, share, shrink, proximity, similar = best
    merges: dict[str, float] = {}
    chosen_merge = configured_merge
    top = -1.0
    for merge in [configured_merge] + [SessionMerge(n, r) for n in SEED_COUNTS for r in RECENCIES]:
        name = f"seeds {merge.seeds}, recency {merge.recency:g}"
        if name in merges:
            continue
        hit = hit_rate(predictions, similar, popular, merge)
        merges[name] = round(hit, 6)
        if hit > top:  # strictly better: the configured merge, tried first, wins ties
            chosen_merge, top = merge, hit
    weight, weights = params.session_weight, dict[str, Any]()
    if own_lists is not None:
        weight, weights = choose_session_weight(
            interactions, predictions, train, similar, popular, chosen_merge, own_lists, params.session_weight
        )
    choice = SessionListChoice(share, shrink, {}, proximity, chosen_merge.seeds, chosen_merge.recency, weight)
    record = {
        "predictions": len(predictions),
        "hitRateAt20": scores,
        "mergeHitRateAt20": merges,
        "homepageHitRateAt20": weights,
        "chosen": choice.as_parameters(),
    }
    return replace(choice, record=record)


def choose_session_weight(
    interactions: Interactions,
    predictions: Sequence[Prediction],
    train: npt.NDArray[np.bool_],
    similar: dict[int, lists.Ranked],
    popular: lists.Ranked,
    merge: SessionMerge,
    own_lists: OwnLists,
    configured: float,
) -> tuple[float, dict[str, Any]]:
    """The weight of the session in a signed-in shopper's homepage (serving's ``blend`` of their
    own list and the session source) with the best hit rate at 20 on the validation visits of
    known users, their own lists coming from a model fitted without those visits (``own_lists``,
    given the users and the training mask). A repeat-purchase shop's own lists already predict
    much of a visit and may want little session; a discovery shop more. The configured weight
    wins ties and stays when no known user has a validation visit."""
    users = sorted({p.user for p in predictions if p.user >= 0 and interactions.is_user[p.user]})
    if not users:
        return configured, {"skipped": "no known user has a validation visit"}
    own = own_lists(np.asarray(users, dtype=np.int64), train)
    known = [p for p in predictions if own.get(p.user)]
    if not known:
        return configured, {"skipped": "no known user has a list of their own"}
    named = _named(similar)
    fill = [str(item) for item, _ in popular]
    answers = [_session_answer(p, named, merge) for p in known]
    hit_rates: dict[str, float] = {}
    chosen, top = configured, -1.0
    for weight in (configured, *SESSION_WEIGHTS):
        if f"{weight:g}" in hit_rates:
            continue
        hits = 0
        for prediction, answer in zip(known, answers, strict=True):
            homepage = blend(own[prediction.user], answer, weight, other_reason=SESSION, keep_base_only=False)
            hits += str(prediction.target) in _shown([homepage, answer], fill, _recent(prediction))
        hit_rates[f"{weight:g}"] = round(hits / len(known), 6)
        if hits / len(known) > top:  # strictly better: the configured weight, tried first, wins ties
            chosen, top = weight, hits / len(known)
    return chosen, {"predictions": len(known), "users": len(users), "byWeight": hit_rates}


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
    current, visitor = -1, -1
    for row in order.tolist():
        visit = int(visits.of_interaction[row])
        if visit != current:
            predictions.extend(_visit_predictions(steps, allowed, visitor))
            steps, current, visitor = [], visit, int(interactions.user[row])
        item, event = int(interactions.item[row]), _NAME[int(interactions.event[row])]
        if steps and steps[-1][0] == item:
            steps[-1] = (item, event)
        else:
            steps.append((item, event))
    predictions.extend(_visit_predictions(steps, allowed, visitor))
    if len(predictions) > MAX_PREDICTIONS:
        rng = np.random.default_rng(params.random_seed)
        keep = np.sort(rng.choice(len(predictions), size=MAX_PREDICTIONS, replace=False))
        predictions = [predictions[i] for i in keep.tolist()]
    return predictions


def _visit_predictions(
    steps: Sequence[tuple[int, str]], allowed: npt.NDArray[np.bool_], visitor: int
) -> list[Prediction]:
    made = []
    for position in range(1, len(steps)):
        target = steps[position][0]
        before = tuple(steps[:position])
        if allowed[target] and target not in {item for item, _ in before}:
            made.append(Prediction(before, target, visitor))
    return made


def hit_rate(
    predictions: Sequence[Prediction],
    similar: dict[int, lists.Ranked],
    popular: lists.Ranked,
    merge: SessionMerge = SessionMerge(),
) -> float:
    """Share of predictions whose next product is in the top ``HIT_AT`` of what serving's
    session source answers (then popular, as the anonymous homepage chain fills)."""
    named = _named(similar)
    fill = [str(item) for item, _ in popular]
    hits = 0
    for prediction in predictions:
        answer = _session_answer(prediction, named, merge)
        hits += str(prediction.target) in _shown([answer], fill, _recent(prediction))
    return hits / len(predictions)


def _named(similar: dict[int, lists.Ranked]) -> dict[int, Ranked]:
    """The lists as serving reads them (product ids as strings, no reasons)."""
    return {item: [(str(other), score, None) for other, score in ranked] for item, ranked in similar.items()}


def _recent(prediction: Prediction) -> set[str]:
    return {str(item) for item, _ in prediction.before}


def _session_answer(prediction: Prediction, named: dict[int, Ranked], merge: SessionMerge) -> Ranked:
    """What serving's session source answers after the visit so far."""
    newest_first: list[tuple[str, str]] = []
    for item, event in reversed(prediction.before):
        if all(str(item) != seen for seen, _ in newest_first):
            newest_first.append((str(item), event))
    return session_neighbours(
        newest_first[: merge.seeds],
        lambda product: named.get(int(product), []),
        limit=HIT_AT,
        recency=merge.recency,
        recent=_recent(prediction),
    )


def _shown(sources: Sequence[Ranked], fill: Sequence[str], recent: set[str]) -> list[str]:
    """The first ``HIT_AT`` products of the sources in turn, then popular ones not seen."""
    shown: list[str] = []
    for source in sources:
        for product, _, _ in source:
            if len(shown) >= HIT_AT:
                return shown
            if product not in shown:
                shown.append(product)
    for product in fill:
        if len(shown) >= HIT_AT:
            break
        if product not in recent and product not in shown:
            shown.append(product)
    return shown
