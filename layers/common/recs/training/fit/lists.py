"""Non-personalized lists: popular and trending (overall and per category), bought together,
and similar items. Cheap, robust, and what serving falls back on."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from recs.contracts.recommendations import Reason
from recs.engine.similarity import similar_by_cooccurrence
from recs.store_layout import ALL_CATEGORIES
from recs.training.parameters import TrainingParameters
from recs.training.prepare.interactions import ADD_TO_CART_CODE, PURCHASE_CODE, Interactions
from recs.training.prepare.matrix import SECONDS_PER_DAY

Ranked = list[tuple[int, float]]

#: Trending's prior (`trending`): its strength is this share of the recent visitors of the
#: shop's typical top product (the median of its ``TRENDING_TYPICAL_TOP`` most visited in the
#: recent period). 0.2 is the strongest share of bench/trending_quality.py's grid that found
#: the synthetic shops' own trending products at least as often as the formula before it, on
#: each shop type's validation seeds (never the seed the benchmarks test on).
TRENDING_PRIOR_SHARE = 0.2
TRENDING_TYPICAL_TOP = 10

#: Share of session co-occurrence in a similar-items score, against the shopper-level cosine,
#: and the shrink of rare session pairs (Ludewig & Jannach's item-kNN regularization): the
#: defaults of TrainingParameters, which each run replaces with its own shop's choice on
#: validation visits (`recs.training.fit.session_lists`).
SESSION_SHARE = float(TrainingParameters.model_fields["session_share"].default)
SESSION_SHRINK = float(TrainingParameters.model_fields["session_shrink"].default)
SESSION_PROXIMITY = bool(TrainingParameters.model_fields["session_proximity"].default)
#: How many steps apart two products of a visit may be and still count (`session_proximity`);
#: 20, 40 and a whole visit scored within 0.003 HR@20 of each other on MovieLens validation
#: sessions, and the window bounds the work on very long visits.
PROXIMITY_WINDOW = 30


def top_indices(
    scores: npt.NDArray[np.floating], k: int, allowed: npt.NDArray[np.bool_] | None = None
) -> Ranked:
    """The k best positive scores (index, score), best first, ties broken by index."""
    values = np.asarray(scores, dtype=np.float64).copy()
    if allowed is not None:
        values[~allowed] = -np.inf
    candidates = np.flatnonzero(values > 0)
    if candidates.size == 0:
        return []
    order = candidates[np.lexsort((candidates, -values[candidates]))][:k]
    return [(int(i), float(values[i])) for i in order]


def popularity(matrix: sp.csr_matrix) -> npt.NDArray[np.float64]:
    """Distinct users per item: robust to a few heavy users."""
    return np.bincount(matrix.indices, minlength=matrix.shape[1]).astype(np.float64)


def trending(
    interactions: Interactions,
    weights: npt.NDArray[np.float32],
    now_ts: float,
    recent_days: float,
    *,
    prior_share: float = TRENDING_PRIOR_SHARE,
) -> npt.NDArray[np.float64]:
    """Recent visitors relative to the product's longer-run rate, favouring risers.

    ``r (r + b) / (e + b)``: ``r`` is the product's visitors in the last ``recent_days`` and
    ``e`` what its rate over the whole window would give in as many days, both counted in
    visitor-days (`visitor_days`: a visitor counts once per product and UTC day, whatever and
    however many events they sent; events of zero ``weights`` do not count). ``(r + b) / (e + b)``
    is the rise ``r / e`` under a Gamma prior of mean 1 (neither rising nor falling) worth ``b``
    visitor-days, as in the empirical Bayes smoothing of observed-to-expected ratios (Clayton &
    Kaldor 1987; DuMouchel 1999), and ``b`` scales with the shop (`trending_prior`): a product
    rising from nothing needs support comparable to a share of what the shop's top products
    get, so fake visitors must number in proportion to the shop's traffic (docs/training.md,
    Data). Times ``r``: a list of risers, not of the rarest products.
    """
    n = interactions.n_items
    if len(interactions) == 0:
        return np.zeros(n, dtype=np.float64)
    items, visitors, latest = visitor_days(interactions, weights > 0)
    recent = latest >= now_ts - recent_days * SECONDS_PER_DAY
    recent_v = np.bincount(items[recent], weights=visitors[recent], minlength=n)
    total_v = np.bincount(items, weights=visitors, minlength=n)
    span_days = max(recent_days, (now_ts - float(interactions.timestamp.min())) / SECONDS_PER_DAY)
    expected = total_v * (recent_days / span_days)
    prior = trending_prior(recent_v, prior_share)
    return np.asarray(recent_v * (recent_v + prior) / (expected + prior), dtype=np.float64)


def trending_prior(recent: npt.ArrayLike, share: float = TRENDING_PRIOR_SHARE) -> float:
    """Trending's prior in visitor-days: ``share`` of the recent visitors of the shop's typical top
    product (the median of the ``TRENDING_TYPICAL_TOP`` largest ``recent``), at least one
    visitor (a shop's first days)."""
    top = np.sort(np.asarray(recent, dtype=np.float64))[-TRENDING_TYPICAL_TOP:]
    typical = float(np.median(top)) if top.size else 0.0
    return max(share * typical, 1.0)


def visitor_days(
    interactions: Interactions, counted: npt.NDArray[np.bool_]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """One entry per (visitor, product, UTC day) of the ``counted`` interactions: the product, how
    many visitors it stands for and the day's latest time (so a recent-period cut keeps the day it
    falls in).

    An entry stands for one visitor, or for as many as its most sampled event stands for (a
    sampling rule keeps one view in N and counts it N times: `Interactions.weight`), so a shop
    that samples views keeps its trending counts on the same scale.
    """
    rows = np.flatnonzero(counted)
    if rows.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0)
    timestamps = interactions.timestamp[rows]
    days = np.floor(timestamps / SECONDS_PER_DAY).astype(np.int64)
    n_items = max(interactions.n_items, 1)
    first_day = int(days.min())
    span = int(days.max()) - first_day + 1
    item = interactions.item[rows].astype(np.int64)
    keys = (interactions.user[rows].astype(np.int64) * n_items + item) * span + (days - first_day)
    unique, inverse = np.unique(keys, return_inverse=True)
    inverse = inverse.ravel()
    stands_for = np.ones(rows.size) if interactions.weight is None else interactions.weight[rows]
    visitors = np.zeros(unique.size)
    np.maximum.at(visitors, inverse, stands_for.astype(np.float64))
    latest = np.full(unique.size, -np.inf)
    np.maximum.at(latest, inverse, timestamps)
    items = (unique // span) % n_items
    return items.astype(np.int64), visitors, latest


def visit_weights(interactions: Interactions, rows: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
    """Per session of the ``rows`` events (in the order of ``np.unique`` of their session ids):
    one over the number of sessions its visitor began that UTC day.

    Why: a session id is the client's, so one visitor can open as many as they like; weighted
    so, a visitor adds at most one session's worth to a pair of products per day, however many
    sessions they open (docs/training.md, Data). A visitor's only session of the day weighs 1,
    as before.
    """
    sessions = interactions.basket[rows]
    _, first_event, session_of = np.unique(sessions, return_index=True, return_inverse=True)
    first_ts = np.full(first_event.size, np.inf)
    np.minimum.at(first_ts, session_of.ravel(), interactions.timestamp[rows])
    visitor = interactions.user[rows][first_event].astype(np.int64)
    day = np.floor(first_ts / SECONDS_PER_DAY).astype(np.int64)
    _, visitor_day, per_visitor_day = np.unique(
        np.stack([visitor, day], axis=1), axis=0, return_inverse=True, return_counts=True
    )
    return 1.0 / per_visitor_day[visitor_day.ravel()].astype(np.float64)


def per_category(
    scores: npt.NDArray[np.floating],
    categories: Sequence[str | None],
    k: int,
    available: npt.NDArray[np.bool_],
) -> dict[str, Ranked]:
    """The top ``k`` of ``scores`` within each category."""
    labels = np.array([c or "" for c in categories], dtype=object)
    return {
        category: ranked
        for category in sorted({c for c in categories if c})
        if (ranked := top_indices(scores, k, available & (labels == category)))
    }


def bought_together(
    interactions: Interactions, k: int, available: npt.NDArray[np.bool_]
) -> dict[int, Ranked]:
    """Products added to the same cart or bought in the same session, by popularity-damped count."""
    mask = ((interactions.event == PURCHASE_CODE) | (interactions.event == ADD_TO_CART_CODE)) & (
        interactions.basket >= 0
    )
    if not mask.any():
        return {}
    _, basket_ids = np.unique(interactions.basket[mask], return_inverse=True)
    incidence = sp.csr_matrix(
        (np.ones(int(mask.sum()), dtype=np.float64), (basket_ids, interactions.item[mask])),
        shape=(int(basket_ids.max()) + 1, interactions.n_items),
    )
    incidence.sum_duplicates()
    incidence.data[:] = 1.0
    # Each basket weighs 1 / its visitor's baskets that day: a visitor counts once per pair a day.
    weighted = sp.csr_matrix(sp.diags(visit_weights(interactions, mask)) @ incidence)
    co = sp.csr_matrix(incidence.T @ weighted)
    co.setdiag(0)
    co.eliminate_zeros()
    co.sort_indices()
    counts = np.asarray(weighted.sum(axis=0)).ravel()
    result: dict[int, Ranked] = {}
    for item in range(interactions.n_items):
        start, stop = co.indptr[item], co.indptr[item + 1]
        if start == stop:
            continue
        neighbours = co.indices[start:stop]
        # Co-count damped by the neighbour's popularity, so best-sellers do not pair with everything.
        scores = co.data[start:stop] / np.sqrt(counts[neighbours] + 1.0)
        keep = available[neighbours]
        order = np.lexsort((neighbours[keep], -scores[keep]))[:k]
        if order.size:
            result[item] = [(int(neighbours[keep][i]), float(scores[keep][i])) for i in order]
    return result


def session_similarity(
    interactions: Interactions,
    *,
    shrink: float = SESSION_SHRINK,
    proximity: bool = SESSION_PROXIMITY,
    mask: npt.NDArray[np.bool_] | None = None,
) -> sp.csr_matrix:
    """Item x item cosine of co-occurrence in the same session, shrunk for rare pairs.

    ``|S_i & S_j| / (sqrt(|S_i| |S_j|) + shrink)`` where ``S_i`` is the set of sessions (the
    events' ``sessionId``) that touched item ``i``; events without a session (or outside
    ``mask``) add nothing. The diagonal is empty. Sparse: only pairs that share a session are
    stored. With ``proximity`` a pair counts by how close the two products were in the visit
    (`session_proximity`) instead of once per session.
    """
    if proximity:
        return shrunk(*session_proximity(interactions, mask=mask), shrink=shrink)
    return shrunk(*session_cooccurrence(interactions, mask=mask), shrink=shrink)


#: `session_cooccurrence` or `session_proximity`: (pairs, each item's norm).
SessionCount = Callable[..., tuple[sp.csr_matrix, npt.NDArray[np.float64]]]


def session_cooccurrence(
    interactions: Interactions,
    *,
    mask: npt.NDArray[np.bool_] | None = None,
    rows: Sequence[int] | None = None,
) -> tuple[sp.csr_matrix, npt.NDArray[np.float64]]:
    """How many sessions hold each pair of items (diagonal empty), and each item's sessions.

    ``rows`` computes only those items' rows (the others stay empty; the counts are every
    item's): choosing a shop's lists reads the rows of a few thousand products, and the whole
    matrix of a large shop would not fit beside the rest of the Train step."""
    n_items = interactions.n_items
    selected = interactions.basket >= 0
    if mask is not None:
        selected &= mask
    if not selected.any():
        return sp.csr_matrix((n_items, n_items), dtype=np.float64), np.zeros(n_items)
    _, session_ids = np.unique(interactions.basket[selected], return_inverse=True)
    incidence = sp.csr_matrix(
        (np.ones(int(selected.sum()), dtype=np.float64), (session_ids, interactions.item[selected])),
        shape=(int(session_ids.max()) + 1, n_items),
    )
    incidence.sum_duplicates()
    incidence.data[:] = 1.0
    # Each session weighs 1 / its visitor's sessions that day (`visit_weights`).
    weighted = sp.csr_matrix(sp.diags(visit_weights(interactions, selected)) @ incidence)
    counts = np.asarray(weighted.sum(axis=0), dtype=np.float64).ravel()
    if rows is None:
        co = sp.csr_matrix(incidence.T @ weighted)
    else:
        wanted = np.asarray(rows, dtype=np.int64)
        incidence_by_item = incidence.tocsc()
        co = _placed(sp.csr_matrix(incidence_by_item[:, wanted].T @ weighted), wanted, n_items)
    co.setdiag(0)
    co.eliminate_zeros()
    co.sort_indices()
    return co, counts


def _placed(part: sp.csr_matrix, rows: npt.NDArray[np.int64], n_items: int) -> sp.csr_matrix:
    """``part``'s i-th row as row ``rows[i]`` of an ``n_items``-row matrix (the rest empty)."""
    placement = sp.csr_matrix((np.ones(rows.size), (rows, np.arange(rows.size))), shape=(n_items, rows.size))
    return sp.csr_matrix(placement @ part)


def session_proximity(
    interactions: Interactions,
    *,
    mask: npt.NDArray[np.bool_] | None = None,
    rows: Sequence[int] | None = None,
) -> tuple[sp.csr_matrix, npt.NDArray[np.float64]]:
    """Session co-occurrence weighted by closeness: two products ``d`` steps apart in a visit
    (each product at its first step: a visit is the order its products first appear in) add
    ``1 / d`` times the visit's weight (`visit_weights`), up to ``PROXIMITY_WINDOW`` steps;
    symmetric, diagonal empty. The second value is each item's total weight (its row sum), the
    cosine's norm. ``rows``: as `session_cooccurrence`.

    Why: in a long visit (a catalogue browsed for an hour, a batch of ratings) what a visitor
    opens next is closer to what they just opened than to what they saw an hour ago, which plain
    co-occurrence (one count per visit) cannot tell apart. Which of the two a shop gets is
    chosen on its validation visits (`recs.training.fit.session_lists`).
    """
    n_items = interactions.n_items
    selected = interactions.basket >= 0
    if mask is not None:
        selected &= mask
    chosen = np.flatnonzero(selected)
    totals = np.zeros(n_items)
    if chosen.size == 0:
        return sp.csr_matrix((n_items, n_items), dtype=np.float64), totals
    order = chosen[np.lexsort((chosen, interactions.timestamp[chosen], interactions.basket[chosen]))]
    visit, item = interactions.basket[order], interactions.item[order]
    # Only a product's first step in a visit: a visit going back and forth between two products
    # would otherwise add to their pair at every step, so one client could outweigh many visitors.
    _, first_step = np.unique(visit * n_items + item, return_index=True)
    first_step.sort()
    visit, item = visit[first_step], item[first_step]
    # The visit's weight per step, in the same order (`np.unique` of the sorted visit ids).
    _, visit_index = np.unique(visit, return_inverse=True)
    step_weight = visit_weights(interactions, selected)[visit_index.ravel()]
    keep: npt.NDArray[np.bool_] | None = None
    if rows is not None:
        keep = np.zeros(n_items, dtype=np.bool_)
        keep[np.asarray(rows, dtype=np.int64)] = True
    # Each distance's pairs are summed into the running matrix before the next distance's are
    # made: the pairs of every distance at once would need several times the result's memory.
    co = sp.csr_matrix((n_items, n_items), dtype=np.float64)
    for distance in range(1, min(PROXIMITY_WINDOW, visit.size - 1) + 1):
        same = visit[distance:] == visit[:-distance]
        if not same.any():
            break  # no visit is longer than this
        first, second = item[:-distance][same], item[distance:][same]
        weight = step_weight[distance:][same] / distance
        # Every item's total, whichever rows are kept: the cosine divides by it.
        totals += np.bincount(first, weights=weight, minlength=n_items)
        totals += np.bincount(second, weights=weight, minlength=n_items)
        for a, b in ((first, second), (second, first)):
            w = weight
            if keep is not None:
                kept = keep[a]
                a, b, w = a[kept], b[kept], w[kept]
            pairs = sp.csr_matrix((w, (a, b)), shape=(n_items, n_items))
            co = sp.csr_matrix(co + pairs)
            del pairs
    co.sort_indices()
    return co, totals


def shrunk(co: sp.csr_matrix, counts: npt.NDArray[np.float64], *, shrink: float) -> sp.csr_matrix:
    """Session co-occurrence counts as shrunk cosines (`session_similarity`)."""
    similarity = co.copy()
    rows = np.repeat(np.arange(co.shape[0]), np.diff(co.indptr))
    similarity.data = co.data / (np.sqrt(counts[rows] * counts[co.indices]) + shrink)
    return similarity


def _row_top(matrix: sp.csr_matrix, row: int, k: int) -> dict[int, float]:
    """The ``k`` largest entries of one sparse row (item -> value)."""
    start, stop = matrix.indptr[row], matrix.indptr[row + 1]
    columns, values = matrix.indices[start:stop], matrix.data[start:stop]
    if columns.size > k:
        keep = np.argpartition(-values, k - 1)[:k]
        columns, values = columns[keep], values[keep]
    return dict(zip(columns.tolist(), values.tolist(), strict=True))


def _normalised(scores: dict[int, float], weight: float) -> dict[int, float]:
    top = max(scores.values(), default=0.0)
    if top <= 0 or weight <= 0:
        return {}
    return {item: weight * score / top for item, score in scores.items()}


def similar_items(
    confidence: sp.csr_matrix,
    model_neighbours: tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]] | None,
    k: int,
    available: npt.NDArray[np.bool_],
    *,
    min_count: int = 2,
    sessions: sp.csr_matrix | None = None,
    session_share: float = SESSION_SHARE,
    items: Sequence[int] | None = None,
    shopper_neighbours: ShopperNeighbours | None = None,
) -> dict[int, Ranked]:
    """Items shoppers interacted with together (cosine of co-occurrence, at least ``min_count``
    shared shoppers), blended with ``sessions`` when given, then the model's nearest neighbours
    to fill up to ``k``.

    Co-occurrence is what "people who viewed this also viewed" means and is exact for items
    with data; the model's neighbours generalize for items with little of it. With
    ``sessions`` (`session_similarity`), an item's score is ``session_share`` times its session
    similarity plus ``1 - session_share`` times its shopper-level cosine, each first divided by
    the list's best; an item with only one kind of evidence keeps that kind's list whatever the
    share. Filled neighbours score below every co-occurrence neighbour of the same list, so the
    order holds. ``items`` limits the work to those items' lists (all by default);
    ``model_neighbours`` None fills nothing. ``shopper_neighbours`` (`shopper_cooccurrence` of
    the same arguments) saves recomputing the shopper-level part when only ``sessions`` change.
    """
    queried = _queried(confidence, items)
    if queried.size == 0:
        return {}
    co_ids, co_scores = shopper_neighbours or shopper_cooccurrence(confidence, k, items, min_count=min_count)
    wanted = _wanted(confidence, k)
    result: dict[int, Ranked] = {}
    for row, item in enumerate(queried.tolist()):
        if sessions is None:
            ranked = _shopper_neighbours(co_ids[row], co_scores[row], k, available)
        else:
            ranked = _blended_neighbours(
                co_ids[row], co_scores[row], _row_top(sessions, item, wanted), session_share, k, available
            )
        if model_neighbours is not None:
            _fill_from_model(ranked, model_neighbours[0][item], model_neighbours[1][item], k, available)
        if ranked:
            result[item] = ranked
    return result


#: Each queried item's shopper-level neighbours: (ids, cosines), one row per item, -1 padded.
ShopperNeighbours = tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]


def shopper_cooccurrence(
    confidence: sp.csr_matrix, k: int, items: Sequence[int] | None = None, *, min_count: int = 2
) -> ShopperNeighbours:
    """The shopper-level part of `similar_items` for ``items`` (all by default), in their order."""
    queried = _queried(confidence, items)
    return similar_by_cooccurrence(confidence, _wanted(confidence, k), itemids=queried, min_count=min_count)


def _wanted(confidence: sp.csr_matrix, k: int) -> int:
    # Twice k leaves room for unavailable neighbours without an n_items-wide result.
    return min(2 * k, max(int(confidence.shape[1]) - 1, 1))


def _queried(confidence: sp.csr_matrix, items: Sequence[int] | None) -> npt.NDArray[np.int32]:
    n_items = confidence.shape[1]
    return np.arange(n_items, dtype=np.int32) if items is None else np.asarray(items, dtype=np.int32)


def _fill_from_model(
    ranked: Ranked,
    ids: npt.NDArray[np.int32],
    scores: npt.NDArray[np.float32],
    k: int,
    available: npt.NDArray[np.bool_],
) -> None:
    """Append the model's neighbours up to ``k``, below every co-occurrence neighbour."""
    seen = {other for other, _ in ranked}
    floor = ranked[-1][1] if ranked else 1.0
    for other, score in zip(ids.tolist(), scores.tolist(), strict=True):
        if len(ranked) >= k:
            break
        if other >= 0 and available[other] and other not in seen and score > 0:
            # Keep filled neighbours below the co-occurrence ones, in the model's order.
            ranked.append((other, float(floor * score / (1.0 + score))))
            seen.add(other)


def _shopper_neighbours(
    ids: npt.NDArray[np.int32], scores: npt.NDArray[np.float32], k: int, available: npt.NDArray[np.bool_]
) -> Ranked:
    ranked: Ranked = []
    for other, score in zip(ids.tolist(), scores.tolist(), strict=True):
        if other >= 0 and available[other] and len(ranked) < k:
            ranked.append((other, float(score)))
    return ranked


def _blended_neighbours(
    ids: npt.NDArray[np.int32],
    scores: npt.NDArray[np.float32],
    in_sessions: dict[int, float],
    session_share: float,
    k: int,
    available: npt.NDArray[np.bool_],
) -> Ranked:
    shopper = {o: float(s) for o, s in zip(ids.tolist(), scores.tolist(), strict=True) if o >= 0}
    # An item with evidence of one kind only (no session ids in a shop's events, a product
    # never seen in a visit with others) keeps the whole list from that kind.
    if not in_sessions or not shopper:
        session_share = 1.0 if in_sessions else 0.0
    blended = _normalised(shopper, 1.0 - session_share)
    for other, part in _normalised(in_sessions, session_share).items():
        blended[other] = blended.get(other, 0.0) + part
    eligible = [(other, score) for other, score in blended.items() if score > 0 and available[other]]
    eligible.sort(key=lambda pair: (-pair[1], pair[0]))
    return eligible[:k]


def list_reason(kind: str, key: str) -> Reason:
    """The contract's reason for an item of a non-personalized list."""
    if kind == "similar":
        return Reason.SIMILAR_ITEMS
    if kind == "boughtTogether":
        return Reason.BOUGHT_TOGETHER
    if kind == "trending":
        return Reason.TRENDING
    return Reason.POPULAR if key == ALL_CATEGORIES else Reason.CATEGORY_POPULAR
