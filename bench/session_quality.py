"""Quality of the session path: next-item prediction for anonymous visitors, recs against the
session-based baselines of Ludewig & Jannach (2018).

    python -m bench --full --only session_quality    # three data sets, the full grids
    python -m bench --quick --only session_quality   # discovery-year and MovieLens, small grids
    python -m bench.session_quality [--quick]        # JSON to stdout

Data: the synthetic shop (`recs_tools.synthetic`, seed 23) presets ``discovery-year`` (the goal: few
repeat purchases, tastes matter) and ``grocery-year``, and MovieLens 100K (the ``ml-100k.inter``
file inside the installed ``recbole`` package, read in place) with each user's ratings cut into
sessions at 30-minute gaps. A session is a visitor's product events (view, click, add to cart,
purchase, search result click) under one ``sessionId`` in time order, re-sent copies dropped,
consecutive events on one product folded into one step; sessions of one step are dropped.

Protocol (Ludewig & Jannach 2018; Ludewig et al. 2019): a time split. Sessions starting in the
last N days are the test (30 days for discovery-year, 14 for grocery-year, 21 for MovieLens);
everything earlier trains, cut at the split. The last N days of the training part are the
validation set every method is tuned on; the test is scored once. For each evaluated session
and each step t >= 1 whose product is new to the session, every method predicts it from the
steps before it (with their event types): HR@20 and MRR@20 over the full catalog, no sampled
negatives (Krichene & Rendle 2020). The same rule for every method: the prefix's products are
never recommended (the product's session source leaves them out), so a step returning to one
is no prediction point; neither is a product the shop does not sell or that never occurred in
the training part.

recs, as it runs: a version trained on the training events with the shipped defaults
(`recs.training.build.train_version`, `user_lists`), published as training publishes it
(`recs.training.publish.publishing`) into an in-memory table, and each prediction is one request to
the real `recs.serving.service.RecommendService` after the visitor's session row was written
as ingestion merges it (`recs.ingest.session_signal.merge_recent`, its 20 products): the
homepage of an anonymous visitor (chain user, session, category-popular, popular, trending;
limit 20), whose signal holds the session's prefix only. "recs before session lists" is the
same request over shopper-level similar-items lists with 5 seeds weighted 1 / (1 + rank), the
path before this benchmark (with today's rule of leaving out every product of the signal).

Baselines (`bench.session_baselines`, numpy and scipy, no product code): popularity, item-kNN
(cosine of session co-occurrence with the prefix's last product, with a shrinkage) and V-SKNN
(k neighbours among the m most recent sessions sharing a product, the prefix weighted by
recency with a decay). Ties, and products without a score, are ranked by training popularity.
Each is tuned on validation over a grid whose best point must be interior (an axis whose best
value is on an edge is extended past it; `bench.session_tuning`).

The product's constants are one default for every shop, so they are tuned on the validation
sessions of both shops together (their predictions pooled; a quick run: discovery-year alone),
one group at a time, each group searched with the choices made before it: the similar-items
lists' session share and shrinkage (`recs.training.fit.lists`), the seeds' recency decay, the seed
count, then for signed-in shoppers the weight of the session against their own list on the
homepage (predicting the next product of their session) and the weight of their list when
re-ranking a product page's similar items (the next product after that page). A shipped value
moves only to a point of its grid that beats it decidedly on the pooled sessions (validation
HR@20 difference with a 95% paired-bootstrap interval above zero) and decidedly loses on no
single shop: a default does not move on noise, nor trade one kind of shop for another. Test
figures are for the shipped constants; the results record the grids, the differences and
whether validation chose the shipped values.

Each goal row compares means on the same test predictions with a 95% paired-bootstrap interval
over test sessions (a session's predictions are resampled together): "met" only when the whole
interval is above zero, "tie" when it straddles zero.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from bench.als_quality import movielens_path
from bench.environment import benchmark_main, log
from bench.figures import Figure, figure, goal_figure
from bench.session_baselines import (
    DECAYS,
    Scorer,
    TrainingSessions,
    item_knn_scorer,
    popularity_scorer,
    vsknn_scorer,
)
from bench.session_data import (
    Prediction,
    Scores,
    Session,
    TimeSplit,
    epoch_seconds,
    movielens_sessions,
    per_session,
    prediction_points,
    rank_in_list,
    rank_of_target,
    session_events,
    sessions_from_events,
    split_days_before,
)
from bench.session_product import ProductPath, Published, publish, shipped_options
from bench.session_tuning import Axis, GridResult, grid_search
from recs.evaluation import PairedDifference, paired_bootstrap
from recs.serving.service import ServingOptions
from recs.store_layout import list_row, similar_pk
from recs.training.fit import lists
from recs.training.fit.lists import list_reason
from recs.training.parameters import TrainingParameters
from recs.training.prepare.catalog import Catalog
from recs_tools.synthetic import build_config, generate_shop

SEED = 23
K = 20
AREA = "Quality: sessions (anonymous path)"
COMMAND = "python -m bench --only session_quality"
#: The data set of the first goal, always among those the product's constants are tuned on.
PRIMARY = "discovery-year"
#: Training with the shipped defaults, as a run with no settings of its own.
PARAMS = TrainingParameters()
#: The session constants before this benchmark first ran (commit f77d3f4): similar-items lists
#: from shopper-level co-occurrence only, 5 seeds weighted 1 / (1 + rank).
BEFORE = {"session_share": None, "session_seeds": 5, "session_recency": 1.0}

Answer = Callable[[Session, int], list[str]]
#: The key of a data set's per-prediction scores in `measure`'s result (dropped from the JSON).
MEASURED = "_measured"
#: The name of the pooled comparison among the per-shop ones.
POOLED = "pooled"


@dataclass(frozen=True)
class Dataset:
    """Sessions for the baselines and the protocol, the events the product trains on, and the
    last ``test_days`` (as many validation days before them) evaluated."""

    name: str
    sessions: list[Session]
    events: list[dict[str, Any]]  # what the product trains on
    catalog: Catalog
    end: float
    test_days: float


def load_shop(preset: str, test_days: float) -> Dataset:
    shop = generate_shop(build_config(preset, seed=SEED))
    catalog = Catalog.from_jsonl(json.dumps(product) for product in shop.catalog())
    events = shop.events
    return Dataset(
        preset, sessions_from_events(events), events, catalog, shop.config.now.timestamp(), test_days
    )


def load_movielens(test_days: float) -> Dataset:
    sessions = movielens_sessions(movielens_path())
    end = max(s.times[-1] for s in sessions) + 1.0
    return Dataset("movielens-100k", sessions, session_events(sessions), Catalog.absent(), end, test_days)


#: Data set -> its loader; the test days (as many for validation) give each thousands of test
#: predictions.
DATASETS: dict[str, Callable[[], Dataset]] = {
    "discovery-year": lambda: load_shop("discovery-year", 30.0),
    "grocery-year": lambda: load_shop("grocery-year", 14.0),
    "movielens-100k": lambda: load_movielens(21.0),
}


def datasets_for(quick: bool) -> list[str]:
    """Quick runs leave out grocery-year, the largest."""
    return [PRIMARY, "movielens-100k"] if quick else list(DATASETS)


# ---------------------------------------------------------------------------------- one task
@dataclass(frozen=True)
class Task:
    """One split: its training sessions (the baselines'), its training events (the product's)
    and the prediction points of its evaluated sessions."""

    split: TimeSplit
    data: TrainingSessions
    events: list[dict[str, Any]]
    catalog: Catalog
    points: list[Prediction]
    unsold: npt.NDArray[np.int64]

    @classmethod
    def build(cls, split: TimeSplit, dataset: Dataset) -> Task:
        data = TrainingSessions.build(split.train)
        catalog = dataset.catalog
        sold = {p for p in data.items if _sold(catalog, p)}
        unsold = np.array([data.index[p] for p in data.items if p not in sold], dtype=np.int64)
        events = [e for e in dataset.events if epoch_seconds(str(e["timestamp"])) < split.cutoff]
        return cls(split, data, events, catalog, prediction_points(split.evaluated, sold), unsold)

    def target(self, point: Prediction) -> tuple[Session, str]:
        session = self.split.evaluated[point.session]
        return session, session.items[point.position]

    def baseline(self, scorer: Scorer) -> Scores:
        """A baseline's rank of each target over the catalog, the prefix and unsold left out."""
        ranks: list[int | None] = []
        for point in self.points:
            session, target = self.target(point)
            prefix = self.data.encode(session.items[: point.position])
            excluded = np.unique(np.concatenate([prefix, self.unsold]))
            scores = scorer(prefix)
            ranks.append(rank_of_target(scores, self.data.index[target], self.data.popularity, excluded))
        return Scores.from_ranks(ranks, K)

    def served(self, answer: Answer, points: Sequence[Prediction] | None = None) -> Scores:
        """The target's position in what the product answered (None: not in its K products)."""
        ranks: list[int | None] = []
        for point in self.points if points is None else points:
            session, target = self.target(point)
            ranks.append(rank_in_list(answer(session, point.position), target))
        return Scores.from_ranks(ranks, K)

    def of_known_users(self, published: Published) -> list[Prediction]:
        """The points of sessions whose signed-in user has a list in the version."""
        return [p for p in self.points if self.split.evaluated[p.session].user in published.known_users]

    def describe(self) -> dict[str, Any]:
        steps = sum(len(s.items) - 1 for s in self.split.evaluated)
        return {
            "trainingSessions": len(self.split.train),
            "evaluatedSessions": len(self.split.evaluated),
            "stepsAfterTheFirst": steps,
            "predictions": len(self.points),
            "sessionsWithPredictions": len({p.session for p in self.points}),
            "products": self.data.n_items,
        }


def _sold(catalog: Catalog, product: str) -> bool:
    entry = catalog.entries.get(product)
    return not catalog.present or (entry is not None and entry.available)


def validation_key(scores: Scores) -> tuple[float, float]:
    """What tuning maximizes: HR@20, then MRR@20."""
    return round(scores.hr, 6), round(scores.mrr, 6)


@dataclass(frozen=True)
class Measured:
    """Per-prediction scores of every method; ``signed_in`` are the points of the ``recs_signed_in*``
    and ``recs_product_page*`` methods (sessions of users with a list), the rest use ``points``."""

    scores: dict[str, Scores]
    points: list[Prediction]
    signed_in: list[Prediction]

    def units(self, method: str) -> list[Prediction]:
        signed_in = method.startswith(("recs_signed_in", "recs_product_page"))
        return self.signed_in if signed_in else self.points

    def per_session(self, method: str, metric: str) -> npt.NDArray[np.float64]:
        scores = self.scores[method]
        values = scores.hits if metric == "hr" else scores.reciprocal_ranks
        return per_session(values, self.units(method))


# ---------------------------------------------------------------------------------- baselines
def iknn_axes(quick: bool) -> list[Axis]:
    return [Axis("shrink", (0.0, 20.0, 100.0) if quick else (0.0, 10.0, 50.0, 200.0), lower=0.0)]


def vsknn_axes(quick: bool, sessions: int) -> list[Axis]:
    k = (50, 200, 500) if quick else (50, 100, 200, 500)
    wanted = (500, 2000, 8000) if quick else (500, 1000, 2000, 5000)
    # More candidates than there are sessions is all of them: one such value is enough.
    m = tuple(sorted({min(value, sessions) for value in wanted}))
    return [
        Axis("k", k, lower=1, integer=True),
        Axis("m", m, lower=1, upper=max(sessions, 1), integer=True),
        Axis("decay", DECAYS, numeric=False),
    ]


def make_baseline(name: str, data: TrainingSessions, params: dict[str, Any]) -> Scorer:
    if name == "item_knn":
        return item_knn_scorer(data, float(params["shrink"]))
    if name == "v_sknn":
        return vsknn_scorer(data, k=int(params["k"]), m=int(params["m"]), decay=params["decay"])
    return popularity_scorer(data)


def tune_baselines(validation: Task, quick: bool) -> dict[str, GridResult]:
    grids = {"item_knn": iknn_axes(quick), "v_sknn": vsknn_axes(quick, len(validation.split.train))}
    tuned: dict[str, GridResult] = {}
    for name, axes in grids.items():
        began = time.perf_counter()

        def evaluate(params: dict[str, Any], method: str = name) -> tuple[float, float]:
            return validation_key(validation.baseline(make_baseline(method, validation.data, params)))

        tuned[name] = grid_search(axes, evaluate)
        log(f"  {name}: best {tuned[name].best} ({time.perf_counter() - began:.0f} s)")
    return tuned


# ---------------------------------------------------------------------------------- the product
def rebuild_similar(
    published: Published, *, share: float | None, shrink: float, proximity: bool = False
) -> None:
    """Replace the version's ``SIM#`` rows by lists built with other constants.

    The same `recs.training.fit.lists` calls as `train_version`, with other arguments; ``share``
    None builds them as before session co-occurrence (shopper-level cosine only). Requests see
    the new rows from the next `ProductPath.service` on.
    """
    trained, inputs = published.trained, published.list_inputs
    sessions = (
        None
        if share is None
        else lists.session_similarity(inputs.interactions, shrink=shrink, proximity=proximity)
    )
    similar = lists.similar_items(
        trained.signals.confidence,
        inputs.neighbours,
        trained.params.similar_k,
        inputs.available,
        sessions=sessions,
        session_share=lists.SESSION_SHARE if share is None else share,
    )
    reason = list_reason("similar", "").value
    for item in range(len(published.items)):
        entries = [(published.items[other], score, reason) for other, score in similar.get(item, [])]
        pk = similar_pk(published.items[item])
        if entries:
            published.model_table.put(list_row(pk, published.version, entries, "", 0))
        else:
            published.model_table.delete(pk, published.version)


def anonymous(path: ProductPath, options: ServingOptions, *, learned: bool = True) -> Answer:
    service = path.service(options, learned=learned)
    return lambda session, position: path.anonymous(service, session, position, K)


def known_homepage(path: ProductPath, options: ServingOptions, *, learned: bool = True) -> Answer:
    service = path.service(options, learned=learned)
    return lambda session, position: path.known_user_homepage(service, session, position, K)


def known_product_page(path: ProductPath, options: ServingOptions, *, learned: bool = True) -> Answer:
    service = path.service(options, learned=learned)
    return lambda session, position: path.known_user_product_page(service, session, position, K)


def list_axes(quick: bool) -> list[Axis]:
    share = (0.5, 0.75, 1.0) if quick else (0.0, 0.25, 0.5, 0.75, 1.0)
    shrink = (25.0, 100.0, 400.0) if quick else (0.0, 25.0, 100.0, 400.0)
    return [
        Axis("session_share", share, lower=0.0, upper=1.0),
        Axis("session_shrink", shrink, lower=0.0),
        Axis("session_proximity", (False, True), numeric=False),
    ]


def recency_axis(quick: bool) -> Axis:
    return Axis("session_recency", (0.0, 0.5, 1.0) if quick else (0.0, 0.25, 0.5, 1.0, 2.0), lower=0.0)


def seeds_axis(quick: bool) -> Axis:
    return Axis("session_seeds", (2, 5, 10) if quick else (1, 3, 5, 8, 12), lower=1, upper=20, integer=True)


def weight_axis(name: str, quick: bool) -> Axis:
    values = (0.0, 0.25, 0.5, 0.75, 1.0) if quick else (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)
    return Axis(name, values, lower=0.0, upper=1.0)


def with_constants(options: ServingOptions, constants: dict[str, Any]) -> ServingOptions:
    names = ("session_seeds", "session_recency", "session_weight", "rerank_weight")
    return replace(options, **{name: constants[name] for name in names if name in constants})


#: Compares two validation results of the same predictions: paired differences of HR@20 over
#: sessions, pooled and per shop (by name).
Judge = Callable[[Scores, Scores], dict[str, PairedDifference]]


def tune_group(
    axes: list[Axis], shipped: dict[str, Any], measure: Callable[[dict[str, Any]], Scores], judge: Judge
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Search one group of the product's constants on validation, and decide whether to move.

    One default serves every shop, and a default does not move on noise: the chosen point is
    the best of the grid (pooled HR@20, then MRR@20) whose pooled difference from the shipped
    values has a 95% paired-bootstrap interval above zero and whose interval is not below zero
    on any single shop; when no point qualifies the shipped values stay.
    """
    cache: dict[tuple[tuple[str, Any], ...], Scores] = {}

    def scores_of(params: dict[str, Any]) -> Scores:
        key = tuple(sorted(params.items()))
        if key not in cache:
            cache[key] = measure(params)
        return cache[key]

    grid = grid_search(axes, lambda params: validation_key(scores_of(params)))
    ranked = sorted(grid.trials, key=lambda trial: trial.score, reverse=True)
    chosen, judged = shipped, {}
    for trial in ranked:
        if trial.params == shipped:
            break  # nothing better than what ships qualified
        judged = judge(scores_of(trial.params), scores_of(shipped))
        worse_somewhere = any(d.high < 0 for name, d in judged.items() if name != POOLED)
        if judged[POOLED].low > 0 and not worse_somewhere:
            chosen = trial.params
            break
    if chosen is shipped:
        judged = judge(scores_of(grid.best), scores_of(shipped))
    shipped_scores = scores_of(shipped).as_dict()
    record = {
        **grid.as_dict(),
        "shipped": shipped,
        "shippedValidation": [shipped_scores["hr"], shipped_scores["mrr"]],
        "chosen": chosen,
        "chosenMinusShippedHr" if chosen is not shipped else "bestMinusShippedHr": {
            name: difference.as_dict() for name, difference in judged.items()
        },
    }
    return chosen, record


class ProductOnValidation:
    """The validation version of the product, answering under any set of its constants."""

    def __init__(self, validation: Task) -> None:
        self.validation = validation
        self.published = publish(
            validation.events,
            validation.catalog,
            end_ts=validation.split.cutoff,
            params=PARAMS,
            with_users=True,
        )
        self.path = ProductPath(self.published.model_table)
        self.known = validation.of_known_users(self.published)
        self._lists: tuple[float, float, bool] | None = None

    def points(self, page: str) -> list[Prediction]:
        return self.validation.points if page == "anonymous" else self.known

    def scores(self, constants: dict[str, Any], page: str) -> Scores:
        """Validation scores of ``page`` (anonymous, signed-in homepage, product page)."""
        lists_now = (constants["session_share"], constants["session_shrink"], constants["session_proximity"])
        if lists_now != self._lists:
            rebuild_similar(self.published, share=lists_now[0], shrink=lists_now[1], proximity=lists_now[2])
            self._lists = lists_now
        options = with_constants(shipped_options(), constants)
        answer = {"anonymous": anonymous, "homepage": known_homepage, "product-page": known_product_page}[
            page
        ]
        # The defaults are what is tuned here: the version's own learned constants are set aside.
        return self.validation.served(answer(self.path, options, learned=False), self.points(page))


class PooledValidation:
    """The validation versions of several shops, their predictions pooled: one default serves
    every kind of shop, so it is chosen on all of them together."""

    def __init__(self, validations: list[Task], names: list[str]) -> None:
        self.parts = [ProductOnValidation(validation) for validation in validations]
        self.names = names

    def points(self, page: str) -> list[Prediction]:
        return pooled_points([part.points(page) for part in self.parts])

    def scores(self, constants: dict[str, Any], page: str) -> Scores:
        parts = [part.scores(constants, page) for part in self.parts]
        return Scores(
            np.concatenate([p.hits for p in parts]), np.concatenate([p.reciprocal_ranks for p in parts])
        )

    def judge(self, page: str) -> Judge:
        return pooled_judge(self.names, [part.points(page) for part in self.parts])


def pooled_points(per_shop: list[list[Prediction]]) -> list[Prediction]:
    """Every shop's points in turn, sessions numbered apart (a bootstrap unit is one shop's session)."""
    pooled: list[Prediction] = []
    offset = 0
    for points in per_shop:
        pooled += [Prediction(p.session + offset, p.position) for p in points]
        offset += max((p.session for p in points), default=-1) + 1
    return pooled


def pooled_judge(names: list[str], per_shop: list[list[Prediction]]) -> Judge:
    """Paired HR@20 differences over validation sessions of scores pooled from ``per_shop``:
    pooled, and per shop."""
    pooled = pooled_points(per_shop)
    bounds = np.cumsum([0] + [len(points) for points in per_shop])

    def differences(ours: Scores, theirs: Scores) -> dict[str, PairedDifference]:
        result = {POOLED: _paired(ours.hits, theirs.hits, pooled)}
        for name, start, stop in zip(names, bounds[:-1], bounds[1:], strict=True):
            result[name] = _paired(ours.hits[start:stop], theirs.hits[start:stop], pooled[start:stop])
        return result

    return differences


def _paired(
    ours: npt.NDArray[np.float64], theirs: npt.NDArray[np.float64], points: list[Prediction]
) -> PairedDifference:
    return paired_bootstrap(per_session(ours, points), per_session(theirs, points), seed=SEED)


def product_groups(quick: bool) -> list[tuple[str, list[Axis], str]]:
    """The product's constants in the order they are tuned: (name, axes, page measured)."""
    return [
        ("lists", list_axes(quick), "anonymous"),
        ("seedRecency", [recency_axis(quick)], "anonymous"),
        ("seedCount", [seeds_axis(quick)], "anonymous"),
        ("sessionWeight", [weight_axis("session_weight", quick)], "homepage"),
        ("rerankWeight", [weight_axis("rerank_weight", quick)], "product-page"),
    ]


def tuned_on(quick: bool) -> list[str]:
    """The shops whose validation sessions choose the product's constants (quick: one)."""
    return [PRIMARY] if quick else [PRIMARY, "grocery-year"]


def tune_product(validations: list[Task], quick: bool) -> dict[str, Any]:
    """The product's constants chosen on validation one group at a time, each group searched
    with the choices made before it (lists first: the serving constants act on them)."""
    product = PooledValidation(validations, tuned_on(quick))
    shipped = shipped_constants()
    constants = dict(shipped)
    records: dict[str, Any] = {}
    for name, axes, page in product_groups(quick):

        def measure(params: dict[str, Any], page: str = page) -> Scores:
            return product.scores({**constants, **params}, page)

        names = tuple(axis.name for axis in axes)
        chosen, records[name] = tune_group(axes, _pick(constants, names), measure, product.judge(page))
        constants.update(chosen)
        log(f"  recs {name}: best {records[name]['best']}, chosen {chosen}")
    return {
        "tunedOn": tuned_on(quick),
        "chosen": constants,
        "shipped": shipped,
        "chosenIsShipped": constants == shipped,
        "validationPredictions": {page: len(product.points(page)) for page in ("anonymous", "homepage")},
        "grids": records,
    }


def _pick(values: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: values[name] for name in names}


def shipped_constants() -> dict[str, Any]:
    options = shipped_options()
    return {
        "session_share": lists.SESSION_SHARE,
        "session_shrink": lists.SESSION_SHRINK,
        "session_proximity": lists.SESSION_PROXIMITY,
        "session_seeds": options.session_seeds,
        "session_recency": options.session_recency,
        "session_weight": options.session_weight,
        "rerank_weight": options.rerank_weight,
    }


# ---------------------------------------------------------------------------------- test
def test_product(
    test: Task, dataset: Dataset, tuning: dict[str, Any]
) -> tuple[dict[str, Scores], list[Prediction], dict[str, Any]]:
    """recs on the test predictions: as shipped, as before this benchmark, with the constants
    validation chose when they differ, and in a shop the signed-in paths."""
    signed_in = dataset.catalog.present
    published = publish(
        test.events, dataset.catalog, end_ts=test.split.cutoff, params=PARAMS, with_users=signed_in
    )
    path = ProductPath(published.model_table)
    shipped = shipped_options()
    scores = {
        "recs": test.served(anonymous(path, shipped)),
        "recs_defaults": test.served(anonymous(path, shipped, learned=False)),
    }
    detail: dict[str, Any] = {
        "family": published.trained.family,
        "parameters": published.trained.params.recorded(),
    }
    known: list[Prediction] = []
    if signed_in:
        known = test.of_known_users(published)
        detail["knownUserPredictions"] = len(known)
        scores.update(signed_in_scores(test, path, shipped, known))
    if not tuning["chosenIsShipped"]:
        chosen = tuning["chosen"]
        rebuild_similar(
            published,
            share=chosen["session_share"],
            shrink=chosen["session_shrink"],
            proximity=chosen["session_proximity"],
        )
        scores["recs_tuned"] = test.served(anonymous(path, with_constants(shipped, chosen), learned=False))
    rebuild_similar(published, share=None, shrink=0.0)
    scores["recs_before"] = test.served(anonymous(path, with_constants(shipped, BEFORE), learned=False))
    return scores, known, detail


def signed_in_scores(
    test: Task, path: ProductPath, shipped: ServingOptions, known: list[Prediction]
) -> dict[str, Scores]:
    """The homepage and the product page of signed-in shoppers, and each without its blend."""
    return {
        "recs_signed_in": test.served(known_homepage(path, shipped), known),
        "recs_signed_in_own_list_only": test.served(
            known_homepage(path, replace(shipped, session_weight=0.0)), known
        ),
        "recs_signed_in_session_only": test.served(anonymous(path, shipped), known),
        "recs_product_page": test.served(known_product_page(path, shipped), known),
        "recs_product_page_not_reranked": test.served(
            known_product_page(path, replace(shipped, rerank_weight=0.0)), known
        ),
    }


def splits(dataset: Dataset) -> tuple[Task, Task]:
    """The validation task (the last test-days of the training part) and the test task."""
    test_split = split_days_before(dataset.sessions, dataset.end, dataset.test_days)
    validation_split = split_days_before(test_split.train, test_split.cutoff, dataset.test_days)
    return Task.build(validation_split, dataset), Task.build(test_split, dataset)


def measure(dataset: Dataset, quick: bool, tuning: dict[str, Any]) -> dict[str, Any]:
    """Tune the baselines on validation, then score every method once on the test predictions."""
    validation, test = splits(dataset)
    log(
        f"{dataset.name}: {len(dataset.sessions)} sessions; validation {len(validation.points)} "
        f"predictions, test {len(test.points)}"
    )
    tuned = tune_baselines(validation, quick)
    scores = {"popularity": test.baseline(popularity_scorer(test.data))}
    for name, grid in tuned.items():
        scores[name] = test.baseline(make_baseline(name, test.data, grid.best))
    product, known, detail = test_product(test, dataset, tuning)
    scores.update(product)
    for name, value in scores.items():
        log(f"  test {name}: HR@{K} {value.hr:.4f}, MRR@{K} {value.mrr:.4f}")
    return {
        "dataset": dataset.name,
        "testDays": dataset.test_days,
        "validation": validation.describe(),
        "test": test.describe(),
        "baselines": {name: grid.as_dict() for name, grid in tuned.items()},
        "recsTest": detail,
        "scores": {name: value.as_dict() for name, value in scores.items()},
        MEASURED: Measured(scores, test.points, known),
    }


# ---------------------------------------------------------------------------------- figures
LABELS = {
    "recs": "recs anonymous path (as shipped)",
    "recs_defaults": "recs with the default seeds and recency (not the shop's own)",
    "recs_tuned": "recs with the constants chosen on validation in this run",
    "recs_before": "recs before session lists (shopper-level lists, 5 seeds, 1/(1+rank))",
    "item_knn": "item-kNN (IKNN)",
    "v_sknn": "V-SKNN",
    "popularity": "popularity",
    "recs_signed_in": "recs homepage of signed-in shoppers (own list + session)",
    "recs_signed_in_own_list_only": "their own list only (session weight 0)",
    "recs_signed_in_session_only": "the anonymous path on the same predictions",
    "recs_product_page": "recs product page of signed-in shoppers (similar items re-ranked)",
    "recs_product_page_not_reranked": "similar items not re-ranked (rerank weight 0)",
}
METRICS = {"hr": f"HR@{K}", "mrr": f"MRR@{K}"}
UNITS_NOTE = "bootstrap units: test sessions"


def _goal(
    dataset: str, measured: Measured, ours: str, theirs: str, metric: str, goal: str, label: str | None = None
) -> Figure:
    return goal_figure(
        AREA,
        f"{dataset}: {METRICS[metric]}, {LABELS[ours]}",
        measured.per_session(ours, metric),
        measured.per_session(theirs, metric),
        baseline=label or LABELS[theirs],
        goal=goal,
        seed=SEED,
        note=UNITS_NOTE,
    )


def dataset_figures(result: dict[str, Any]) -> list[Figure]:
    name, measured = result["dataset"], result[MEASURED]
    scores = measured.scores
    rows: list[Figure] = []
    for metric in METRICS:
        best = max(("item_knn", "v_sknn"), key=lambda m: getattr(scores[m], metric))
        goal = ">= the best of item-kNN and V-SKNN"
        rows.append(
            _goal(name, measured, "recs", best, metric, goal, f"best of item-kNN and V-SKNN: {LABELS[best]}")
        )
    for metric in METRICS:
        rows.append(_goal(name, measured, "recs", "popularity", metric, ">= popularity"))
    rows.append(_goal(name, measured, "recs", "recs_before", "hr", ">= recs before session lists"))
    if "recs_signed_in" in scores:
        rows.append(
            _goal(name, measured, "recs_signed_in", "recs_signed_in_own_list_only", "hr", ">= own list only")
        )
        rows.append(
            _goal(name, measured, "recs_signed_in", "recs_signed_in_session_only", "hr", ">= session only")
        )
        rows.append(
            _goal(
                name,
                measured,
                "recs_product_page",
                "recs_product_page_not_reranked",
                "hr",
                ">= not re-ranked",
            )
        )
    # Every other method's own figures (recs's are in the goal rows above); popularity is their
    # baseline where they were scored on the same predictions.
    for method, value in scores.items():
        if method == "recs":
            continue
        compared = method != "popularity" and measured.units(method) is measured.points
        for metric, label in METRICS.items():
            rows.append(
                figure(
                    AREA,
                    f"{name}: {label}, {LABELS[method]}",
                    getattr(value, metric),
                    "",
                    baseline="popularity" if compared else None,
                    baseline_value=getattr(scores["popularity"], metric) if compared else None,
                    note=f"{len(measured.units(method)):,} test predictions",
                )
            )
    return rows


def constants_figures(tuning: dict[str, Any]) -> list[Figure]:
    """One row per tuned constant: the shipped value against the one validation chose."""
    where = " + ".join(tuning["tunedOn"])
    rows: list[Figure] = []
    for name, chosen in tuning["chosen"].items():
        shipped = tuning["shipped"][name]
        rows.append(
            figure(
                AREA,
                f"constant {name}, shipped",
                float(shipped),
                "",
                baseline=f"chosen on the validation sessions of {where} in this run",
                baseline_value=float(chosen),
                goal="= the value chosen on validation",
                met=shipped == chosen,
            )
        )
    return rows


# ---------------------------------------------------------------------------------- run
def run(quick: bool) -> dict[str, Any]:
    """Tune the product's constants and every baseline on validation, then score each method
    once on the test sessions of every data set.

    Parameters
    ----------
    quick
        discovery-year and MovieLens only (the product's constants on discovery-year's
        validation alone), and smaller starting grids (each still extended until its best
        point is interior).

    Returns
    -------
    dict
        ``figures``; the product's grids and chosen constants; per data set its split sizes,
        the baselines' grids and every method's test scores.
    """
    began = time.perf_counter()
    log(f"recs constants, tuned on the validation sessions of {', '.join(tuned_on(quick))}")
    tuning = tune_product([splits(DATASETS[name]())[0] for name in tuned_on(quick)], quick)
    tuning["seconds"] = round(time.perf_counter() - began, 1)
    results: dict[str, dict[str, Any]] = {}
    figures: list[Figure] = []
    for name in datasets_for(quick):
        began = time.perf_counter()
        result = measure(DATASETS[name](), quick, tuning)
        figures.extend(dataset_figures(result))
        result.pop(MEASURED)
        result["seconds"] = round(time.perf_counter() - began, 1)
        results[name] = result
    figures.extend(constants_figures(tuning))
    return {
        "command": COMMAND,
        "seeds": {"shops": SEED, "training": PARAMS.random_seed, "bootstrap": SEED},
        "figures": figures,
        "protocol": {
            "k": K,
            "split": "sessions starting in the last N days are the test; the N days before them validation",
            "predictionPoints": "each step t >= 1 whose product is new to the session, sold and trained on",
            "excluded": "the prefix's products and unsold products, for every method",
            "ties": "baselines rank ties (and unscored products) by training popularity, then index",
            "bootstrap": "95% paired bootstrap over test sessions, 2,000 resamples",
            "productRequest": f"GET homepage, anonId, limit {K} (RecommendService over the published rows)",
            "constants": "a shipped value changes only when validation HR@20 beats it with a paired "
            "interval above zero",
        },
        "recsTuning": tuning,
        "datasets": results,
    }


def main(argv: Sequence[str] | None = None) -> int:
    return benchmark_main(__doc__, lambda quick: run(quick=quick), argv)


if __name__ == "__main__":
    raise SystemExit(main())
