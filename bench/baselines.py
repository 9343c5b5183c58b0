"""The baselines, metrics and grid tuning of `bench.product_quality`, independent of the product.

Only numpy, scipy, implicit and threadpoolctl: none of the product's training, model or
evaluation code, so a bug there cannot flatter the product by showing up on both sides.
Every method returns the top `K` item indices of each user asked for, filled up from the most
popular items when its own scores run out, so every user gets a full list from every method.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from bench.datasets import SECONDS_PER_DAY, EventTable, Floats, Ints, Mask

K = 10
#: The number of ALS sweeps every implicit fit makes (not tuned: more never hurts ALS much).
ALS_ITERATIONS = 15
#: Users scored per batch of dense scores (bounds memory on 68k-item catalogs).
USERS_PER_BATCH = 256

#: (users) -> their top-K item indices, one row per user, -1 where nothing is left to recommend.
Recommend = Callable[[Ints], Ints]


# ---------------------------------------------------------------------------------- metrics
def ranking_metrics(ranked: Ints, relevant: Sequence[Ints], k: int = K) -> dict[str, Floats]:
    """Per-user NDCG@k, recall@k and hit rate@k with binary relevance.

    ``ranked[i]`` is user i's list (best first; -1 pads); NDCG's ideal DCG counts
    ``min(k, |relevant|)`` hits; recall divides the hits by ``|relevant|``. Users with nothing
    relevant score 0 on all three (the splits never produce them).
    """
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    ndcg = np.zeros(len(relevant))
    recall = np.zeros(len(relevant))
    hit = np.zeros(len(relevant))
    for row, wanted in enumerate(relevant):
        if wanted.size == 0:
            continue
        top = ranked[row, :k]
        hits = np.isin(top, wanted) & (top >= 0)
        ideal = discounts[: min(k, wanted.size)].sum()
        ndcg[row] = float(discounts[: top.size][hits].sum() / ideal)
        recall[row] = float(hits.sum() / wanted.size)
        hit[row] = float(hits.any())
    return {"ndcg": ndcg, "recall": recall, "hit": hit}


def mean_metrics(per_user: dict[str, Floats]) -> dict[str, float]:
    return {name: round(float(values.mean()), 5) if values.size else 0.0 for name, values in per_user.items()}


# ---------------------------------------------------------------------------------- training data
@dataclass(frozen=True)
class TrainingData:
    """What every baseline learns from: the training rows as user x item matrices.

    ``weights`` holds the weighted interaction counts w (the sum of the event weights of each
    user and item); ``seen`` its binary pattern; ``baskets_bought`` the number of distinct
    baskets (or days, without baskets) in which the user bought the item, and ``last_bought``
    the time of the latest such purchase.
    """

    n_users: int
    n_items: int
    weights: sp.csr_matrix
    seen: sp.csr_matrix
    baskets_bought: sp.csr_matrix
    last_bought: sp.csr_matrix
    popularity: Floats
    popular_order: Ints
    cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


def training_data(table: EventTable, rows: Mask) -> TrainingData:
    shape = (table.n_users, table.n_items)
    user, item = table.user[rows], table.item[rows]
    weights = sp.csr_matrix((table.weight[rows], (user, item)), shape=shape, dtype=np.float64)
    weights.sum_duplicates()
    seen = weights.copy()
    seen.data[:] = 1.0
    popularity = np.asarray(seen.sum(axis=0), dtype=np.float64).ravel()
    # Most popular first; equal counts by item index, so the order never depends on a sort's mood.
    popular_order = np.lexsort((np.arange(table.n_items), -popularity)).astype(np.int64)

    bought = rows & table.purchase
    day = np.floor(table.timestamp[bought] / SECONDS_PER_DAY).astype(np.int64)
    # Without baskets (MovieLens), each day with a purchase counts as one shopping trip.
    occasion = np.where(table.basket[bought] >= 0, table.basket[bought], -1 - day)
    triples = np.unique(np.stack([table.user[bought], table.item[bought], occasion], axis=1), axis=0)
    baskets_bought = sp.csr_matrix(
        (np.ones(len(triples)), (triples[:, 0], triples[:, 1])), shape=shape, dtype=np.float64
    )
    baskets_bought.sum_duplicates()
    baskets_bought.sort_indices()
    # Summing duplicates would add times up: keep the latest of each (user, item) instead.
    last_bought = _max_duplicates(table.user[bought], table.item[bought], table.timestamp[bought], shape)
    return TrainingData(
        n_users=table.n_users,
        n_items=table.n_items,
        weights=weights,
        seen=seen,
        baskets_bought=baskets_bought,
        last_bought=last_bought,
        popularity=popularity,
        popular_order=popular_order,
    )


def _max_duplicates(user: Ints, item: Ints, value: Floats, shape: tuple[int, int]) -> sp.csr_matrix:
    key = user * shape[1] + item
    order = np.lexsort((value, key))
    last_of_key = np.ones(order.size, dtype=np.bool_)
    last_of_key[:-1] = key[order][1:] != key[order][:-1]
    chosen = order[last_of_key]
    latest = sp.csr_matrix((value[chosen], (user[chosen], item[chosen])), shape=shape, dtype=np.float64)
    latest.sort_indices()
    return latest


# ---------------------------------------------------------------------------------- lists
def top_k_with_fill(
    scores: npt.NDArray[np.floating[Any]],
    users: Ints,
    data: TrainingData,
    *,
    exclude_seen: bool,
    k: int = K,
) -> Ints:
    """Each row's best ``k`` items by score (-inf: no opinion), then the most popular ones.

    Equal scores go to the lower item index. Items the user has seen are skipped when
    ``exclude_seen``, in the score part and in the fill alike.
    """
    scores = np.array(scores, dtype=np.float64)
    seen_rows = data.seen[users]
    if exclude_seen:
        scores[seen_rows.nonzero()] = -np.inf
    width = min(k, scores.shape[1])
    candidates = np.argpartition(-scores, width - 1, axis=1)[:, :width]
    ranked = np.full((len(users), k), -1, dtype=np.int64)
    for row in range(len(users)):
        chosen = candidates[row][np.isfinite(scores[row, candidates[row]])]
        chosen = chosen[np.lexsort((chosen, -scores[row, chosen]))]
        ranked[row, : chosen.size] = chosen
        if chosen.size < k:
            skip = set(chosen.tolist())
            if exclude_seen:
                skip.update(seen_rows.indices[seen_rows.indptr[row] : seen_rows.indptr[row + 1]].tolist())
            ranked[row] = _filled(ranked[row], chosen.size, data.popular_order, skip)
    return ranked


def _filled(row: Ints, used: int, order: Ints, skip: set[int]) -> Ints:
    position = used
    for item in order.tolist():
        if position == row.size:
            break
        if item not in skip:
            row[position] = item
            position += 1
    return row


def in_batches(users: Ints, score: Callable[[Ints], Ints]) -> Ints:
    """``score`` over slices of users (dense scores of 68k items x all users would not fit)."""
    parts = [score(users[s : s + USERS_PER_BATCH]) for s in range(0, users.size, USERS_PER_BATCH)]
    return np.concatenate(parts) if parts else np.zeros((0, K), dtype=np.int64)


# ---------------------------------------------------------------------------------- baselines
def popularity(data: TrainingData, exclude_seen: bool) -> Recommend:
    """Distinct training users per product, the same list for everyone."""

    def recommend(users: Ints) -> Ints:
        def batch(part: Ints) -> Ints:
            none = np.full((part.size, data.n_items), -np.inf)
            return top_k_with_fill(none, part, data, exclude_seen=exclude_seen)

        return in_batches(users, batch)

    return recommend


def bought_most(data: TrainingData) -> Recommend:
    """The user's products by the number of baskets they bought them in (ties: the most
    recently bought first), then the most popular ones."""

    def recommend(users: Ints) -> Ints:
        ranked = np.full((users.size, K), -1, dtype=np.int64)
        counts, last = data.baskets_bought, data.last_bought
        for row, user in enumerate(users.tolist()):
            # Both matrices hold the same (user, item) pairs in the same sorted order.
            span = slice(counts.indptr[user], counts.indptr[user + 1])
            items, bought, when = counts.indices[span], counts.data[span], last.data[span]
            mine = items[np.lexsort((items, -when, -bought))][:K]
            ranked[row, : mine.size] = mine
            ranked[row] = _filled(ranked[row], mine.size, data.popular_order, set(mine.tolist()))
        return ranked

    return recommend


def item_knn(data: TrainingData, neighbours: int, exclude_seen: bool, largest: int = 0) -> Recommend:
    """Cosine item-item similarity on the binary matrix, each item keeping its ``neighbours``
    most similar items; a user's score of an item is the sum of its similarities to the
    user's items (Deshpande & Karypis 2004).

    ``largest``: the largest size a grid will ask for, so the neighbours are ranked once.
    """
    similar = _pruned_similarity(data, neighbours, largest)

    def recommend(users: Ints) -> Ints:
        def batch(part: Ints) -> Ints:
            scores = np.asarray((data.seen[part] @ similar).todense(), dtype=np.float64)
            scores[scores <= 0.0] = -np.inf  # no similar item bought: popularity decides
            return top_k_with_fill(scores, part, data, exclude_seen=exclude_seen)

        return in_batches(users, batch)

    return recommend


def _pruned_similarity(data: TrainingData, neighbours: int, largest: int = 0) -> sp.csr_matrix:
    """Rows of the cosine similarity keeping their ``neighbours`` largest entries.

    The full neighbour ranking is computed once per training data (for the largest size asked
    so far) and cut for each size, so tuning the size costs one similarity computation.
    """
    ranked: tuple[int, npt.NDArray[np.int32], npt.NDArray[np.float32]] | None = data.cache.get("knn")
    if ranked is None or ranked[0] < neighbours:
        size = max(neighbours, largest, 2 * (ranked[0] if ranked else 0))
        ranked = (size, *_nearest(data.seen, min(size, data.n_items - 1)))
        data.cache["knn"] = ranked
    _, indices, values = ranked
    keep = min(neighbours, indices.shape[1])
    rows = np.repeat(np.arange(data.n_items), keep)
    kept = values[:, :keep].ravel()
    positive = kept > 0
    return sp.csr_matrix(
        (kept[positive], (rows[positive], indices[:, :keep].ravel()[positive])),
        shape=(data.n_items, data.n_items),
    )


def _nearest(
    seen: sp.csr_matrix, size: int, block: int = 512
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]:
    """Each item's ``size`` most cosine-similar other items, best first (in item blocks)."""
    n_items = seen.shape[1]
    norms = np.sqrt(np.asarray(seen.sum(axis=0), dtype=np.float64).ravel())
    inverse = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    by_item = seen.T.tocsr()
    # 32-bit: at 68k items and a few hundred neighbours each, these are the largest arrays here.
    indices = np.zeros((n_items, size), dtype=np.int32)
    values = np.zeros((n_items, size), dtype=np.float32)
    for start in range(0, n_items, block):
        stop = min(start + block, n_items)
        overlap = (by_item[start:stop] @ seen).toarray().astype(np.float32)
        cosine = overlap * inverse[start:stop, None].astype(np.float32) * inverse[None, :].astype(np.float32)
        cosine[np.arange(stop - start), np.arange(start, stop)] = -np.inf  # not its own neighbour
        best = np.argpartition(-cosine, size - 1, axis=1)[:, :size]
        best_values = np.take_along_axis(cosine, best, axis=1)
        order = np.lexsort((best, -best_values), axis=1)
        indices[start:stop] = np.take_along_axis(best, order, axis=1)
        values[start:stop] = np.maximum(np.take_along_axis(best_values, order, axis=1), 0.0)
    return indices, values


def ease(data: TrainingData, l2: float, exclude_seen: bool) -> Recommend:
    """EASE (Steck 2019) from its closed form in dense float64 numpy, on the binary matrix:
    B = I - P diagMat(1 / diag(P)) with P = (X'X + l2 I)^-1, zero diagonal."""
    gram: Floats | None = data.cache.get("gram")
    if gram is None:
        gram = np.asarray((data.seen.T @ data.seen).todense(), dtype=np.float64)
        data.cache["gram"] = gram
    regularized = gram + l2 * np.eye(data.n_items)
    inverse = np.linalg.inv(regularized)
    weights = inverse / -np.diag(inverse)
    np.fill_diagonal(weights, 0.0)

    def recommend(users: Ints) -> Ints:
        def batch(part: Ints) -> Ints:
            scores = np.asarray(data.seen[part] @ weights, dtype=np.float64)
            empty = np.asarray(data.seen[part].sum(axis=1)).ravel() == 0
            scores[empty] = -np.inf  # nothing to go on: popularity decides
            return top_k_with_fill(scores, part, data, exclude_seen=exclude_seen)

        return in_batches(users, batch)

    return recommend


def implicit_als(
    data: TrainingData, factors: int, regularization: float, a: float, seed: int
) -> Callable[[bool], Recommend]:
    """implicit 0.7.2's CPU ALS (conjugate gradient, float32), fitted once.

    Hu, Koren & Volinsky's confidence is ``c = 1 + a * w``; implicit uses ``alpha * value`` as
    the confidence of a stored entry, so it gets the matrix of ``1 + a * w`` and ``alpha=1``:
    the same model. Returns a maker of the recommender with or without the seen items, so the
    "filter seen" axis of a grid costs no second fit.
    """
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped, unused-ignore]

    confidence = data.weights.copy().astype(np.float32)
    confidence.data = (1.0 + a * confidence.data).astype(np.float32)
    with threadpool_limits(limits=1, user_api="blas"):  # implicit's own advice
        model = AlternatingLeastSquares(
            factors=factors,
            regularization=regularization,
            alpha=1.0,
            iterations=ALS_ITERATIONS,
            use_cg=True,
            dtype=np.float32,
            random_state=seed,
            num_threads=0,
            calculate_training_loss=False,
        )
        model.fit(confidence, show_progress=False)
    user_factors = np.asarray(model.user_factors, dtype=np.float32)
    item_factors = np.asarray(model.item_factors, dtype=np.float32)

    def maker(exclude_seen: bool) -> Recommend:
        def recommend(users: Ints) -> Ints:
            def batch(part: Ints) -> Ints:
                return top_k_with_fill(
                    user_factors[part] @ item_factors.T, part, data, exclude_seen=exclude_seen
                )

            return in_batches(users, batch)

        return recommend

    return maker


# ---------------------------------------------------------------------------------- tuning
@dataclass(frozen=True)
class Axis:
    """One hyperparameter of a grid.

    A ``numeric`` axis is extended by one geometric step past whichever end holds the best
    point (``integer`` rounds the new value; ``lowest``/``highest`` bound it); other axes
    (e.g. "filter seen") are tried as given.
    """

    name: str
    values: tuple[Any, ...]
    numeric: bool = True
    integer: bool = False
    lowest: float | None = None
    highest: float | None = None


@dataclass(frozen=True)
class Tuning:
    """The outcome of `tune_interior`: the best point, every trial and where the best lies."""

    best: dict[str, Any]
    best_score: float
    trials: list[dict[str, Any]]
    axes: dict[str, list[Any]]
    extensions: int
    edges: list[str]

    @property
    def interior(self) -> bool:
        return not self.edges

    def as_dict(self) -> dict[str, Any]:
        return {
            "best": self.best,
            "validationNdcg": round(self.best_score, 5),
            "interior": self.interior,
            "axesOnEdge": self.edges,
            "extensions": self.extensions,
            "finalGrid": self.axes,
            "trials": self.trials,
        }


def tune_interior(
    axes: Sequence[Axis],
    objective: Callable[[dict[str, Any]], float],
    max_extensions: int = 3,
    log: Callable[[str], None] | None = None,
) -> Tuning:
    """Maximise ``objective`` over the grid, widening it until its best point is interior.

    Every point of the (possibly widened) product grid is evaluated once, in the order of
    ``itertools.product`` over ``axes`` (so an axis listed last varies fastest: callers put
    axes that need no refit there). While the best point sits on an end of a numeric axis, that
    axis gets one more value beyond it (the ratio of its two outermost values), at most
    ``max_extensions`` times; a numeric axis still at an end afterwards is reported in
    ``edges``. Equal scores keep the earlier point.
    """
    values = {axis.name: list(axis.values) for axis in axes}
    scores: dict[tuple[Any, ...], float] = {}
    trials: list[dict[str, Any]] = []
    extensions = 0
    while True:
        for point in itertools.product(*(values[axis.name] for axis in axes)):
            if point in scores:
                continue
            params = dict(zip(values, point, strict=True))
            scores[point] = float(objective(params))
            trials.append({"params": params, "validationNdcg": round(scores[point], 5)})
        best_point = max(scores, key=lambda p: (scores[p], -list(scores).index(p)))
        best = dict(zip(values, best_point, strict=True))
        edges = [axis for axis in axes if _at_edge(axis, values[axis.name], best[axis.name])]
        if not edges or extensions >= max_extensions:
            break
        widened = False
        for axis in edges:
            beyond = _step_beyond(axis, values[axis.name], best[axis.name])
            if beyond is not None:
                values[axis.name] = sorted([*values[axis.name], beyond])
                widened = True
        if not widened:
            break
        extensions += 1
        if log is not None:
            log(f"    widening {', '.join(a.name for a in edges)} around {best}")
    return Tuning(
        best=best,
        best_score=scores[best_point],
        trials=trials,
        axes=values,
        extensions=extensions,
        edges=[_describe_edge(axis, values[axis.name], best[axis.name]) for axis in edges],
    )


def _describe_edge(axis: Axis, values: list[Any], best: Any) -> str:
    """E.g. ``neighbours=1 (grid 1..400, the axis bound)``."""
    bound = best in (axis.lowest, axis.highest)
    return f"{axis.name}={best} (grid {min(values)}..{max(values)}{', the axis bound' if bound else ''})"


def _at_edge(axis: Axis, values: list[Any], best: Any) -> bool:
    return axis.numeric and len(values) > 1 and best in (min(values), max(values))


def _step_beyond(axis: Axis, values: list[Any], best: Any) -> float | int | None:
    """One geometric step past ``best`` (an end of ``values``), or None at the axis's bound."""
    ordered = sorted(values)
    if best == ordered[0]:
        candidate = ordered[0] * ordered[0] / ordered[1]
        if axis.lowest is not None:
            candidate = max(candidate, axis.lowest)
    else:
        candidate = ordered[-1] * ordered[-1] / ordered[-2]
        if axis.highest is not None:
            candidate = min(candidate, axis.highest)
    # Six significant digits: 0.01, not 0.010000000000000002, in the results.
    result: float | int = round(candidate) if axis.integer else float(f"{candidate:.6g}")
    if axis.integer and result in ordered:
        # Rounding can land on the end itself (small integers): move one unit instead.
        result = ordered[0] - 1 if best == ordered[0] else ordered[-1] + 1
        bounded = (axis.lowest is None or result >= axis.lowest) and (
            axis.highest is None or result <= axis.highest
        )
        if not bounded:
            return None
    if result in ordered or (isinstance(result, float) and not math.isfinite(result)):
        return None
    return result
