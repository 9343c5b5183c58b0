"""Each shop's similar-items lists for the session path, chosen on validation visits replayed
through serving's own session source."""

from __future__ import annotations

import dataclasses

import numpy as np

from recs.config.recommend import RecommendSettings
from recs.serving.ranking import SESSION_RECENCY, SESSION_SEEDS
from recs.training.fit.session_lists import (
    RECENCIES,
    SEED_COUNTS,
    Prediction,
    choose_session_lists,
    hit_rate,
    next_item_predictions,
)
from recs.training.parameters import TrainingParameters
from recs.training.prepare.interactions import Interactions, build_interactions
from recs.training.prepare.matrix import SECONDS_PER_DAY
from recs.training.prepare.visits import last_visit_holdout
from recs_tools.synthetic import build_config, generate_shop
from tests.unit.training.conftest import EventFactory

PARAMS = TrainingParameters()


def _shop(seed: int = 6) -> Interactions:
    shop = generate_shop(build_config("test", seed=seed))
    end = shop.config.now.timestamp()
    return build_interactions(shop.events, start_ts=end - 400 * SECONDS_PER_DAY, end_ts=end)


def test_a_visit_gives_one_prediction_per_new_product_after_the_first(make_event: EventFactory) -> None:
    # Given one visit: a viewed, a clicked (one step), b, a again, c (not sold)
    events = [
        make_event("view", product="a", days_ago=1.0, session="s"),
        make_event("click", product="a", days_ago=0.999, session="s"),
        make_event("view", product="b", days_ago=0.998, session="s"),
        make_event("view", product="a", days_ago=0.997, session="s"),
        make_event("view", product="c", days_ago=0.996, session="s"),
    ]
    inter = build_interactions(events, start_ts=0, end_ts=4e9)
    item = {name: inter.items.index(name) for name in "abc"}
    allowed = np.ones(inter.n_items, dtype=np.bool_)
    allowed[item["c"]] = False
    # When the visit is replayed / Then only b is predicted (a returns, c is not sold), after a's click
    predictions = next_item_predictions(inter, np.ones(len(inter), dtype=np.bool_), allowed, PARAMS)
    assert predictions == [Prediction(((item["a"], "click"),), item["b"])]


def test_hit_rate_asks_the_session_source_then_popular() -> None:
    # Given lists: 0 -> 1, and popular 2; predictions of 1 and 2 after 0, and of 3 after 0
    similar = {0: [(1, 1.0)]}
    predictions = [
        Prediction(((0, "view"),), 1),
        Prediction(((0, "view"),), 2),
        Prediction(((0, "view"),), 3),
    ]
    # Then two of the three are in the answer (1 from the session source, 2 from the fill)
    assert hit_rate(predictions, similar, [(2, 10.0)]) == 2 / 3


def test_the_choice_never_reads_the_test_holdout() -> None:
    # Given a shop, and the same shop with every test-holdout interaction moved to other products
    inter = _shop()
    test = last_visit_holdout(inter, gap_minutes=PARAMS.visit_gap_minutes, fraction=PARAMS.holdout_fraction)
    items = inter.item.copy()
    items[test] = np.random.default_rng(1).integers(0, inter.n_items, size=int(test.sum()), dtype=np.int32)
    scrambled = dataclasses.replace(inter, item=items)
    unavailable = np.zeros(inter.n_items, dtype=np.bool_)
    # When both choose / Then the choice and every candidate's score are the same
    original = choose_session_lists(inter, unavailable, PARAMS)
    other = choose_session_lists(scrambled, unavailable, PARAMS)
    assert original.record["predictions"] > 0
    assert original == other


def test_without_sessions_the_configured_lists_stay(make_event: EventFactory) -> None:
    # Given events without any sessionId, one product each day
    events = [
        make_event("view", user=f"u{u}", product=f"p{d}", days_ago=d) for u in range(3) for d in range(4)
    ]
    inter = build_interactions(events, start_ts=0, end_ts=4e9)
    # When choosing / Then the configured share and shrink, saying why
    choice = choose_session_lists(inter, np.zeros(inter.n_items, dtype=np.bool_), PARAMS)
    assert (choice.share, choice.shrink) == (PARAMS.session_share, PARAMS.session_shrink)
    assert "skipped" in choice.record


def test_the_merge_of_the_session_source_is_chosen_on_the_chosen_lists() -> None:
    # Given a shop with visits
    inter = _shop()
    # When choosing
    choice = choose_session_lists(inter, np.zeros(inter.n_items, dtype=np.bool_), PARAMS)
    # Then every lists candidate (plain and by proximity) and every merge was scored, and the
    # chosen merge scored best of them (the configured one on a tie)
    record = choice.record
    assert any(name.endswith("proximity") for name in record["hitRateAt20"])
    merges = record["mergeHitRateAt20"]
    assert len(merges) == len(SEED_COUNTS) * len(RECENCIES)
    chosen = merges[f"seeds {choice.seeds}, recency {choice.recency:g}"]
    assert chosen == max(merges.values())
    configured = merges[f"seeds {PARAMS.session_seeds}, recency {PARAMS.session_recency:g}"]
    assert chosen > configured or (choice.seeds, choice.recency) == (
        PARAMS.session_seeds,
        PARAMS.session_recency,
    )
    # And the choice reads back as the parameters a version records
    assert record["chosen"] == choice.as_parameters()
    assert PARAMS.model_copy(update=choice.as_parameters()).session_seeds == choice.seeds


def test_the_choice_is_seeded_and_reproducible() -> None:
    # Given the same shop twice / When choosing twice / Then the same choice and record
    inter = _shop()
    unavailable = np.zeros(inter.n_items, dtype=np.bool_)
    assert choose_session_lists(inter, unavailable, PARAMS) == choose_session_lists(
        inter, unavailable, PARAMS
    )


def test_the_training_defaults_are_serving_defaults() -> None:
    # Given a version without learned constants, serving merges with its own defaults; a run
    # without visits to learn from keeps the training defaults: they must be the same values
    assert PARAMS.session_seeds == RecommendSettings.model_fields["session_seed_products"].default
    assert PARAMS.session_seeds == SESSION_SEEDS
    assert PARAMS.session_recency == SESSION_RECENCY
