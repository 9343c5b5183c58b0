"""compare_on_holdout: any scorers under the gate's protocol, with per-user NDCG for paired tests."""

from __future__ import annotations

import numpy as np
import pytest

from recs.training.evaluate.holdout import compare_on_holdout, evaluate_holdout, family_scorer
from recs.training.parameters import TrainingParameters
from recs.training.prepare.interactions import build_interactions
from recs.training.prepare.matrix import SECONDS_PER_DAY
from recs_tools.synthetic import build_config, generate_shop

PARAMS = TrainingParameters(als_threads=1)


def test_per_user_ndcg_matches_the_reported_means_and_the_gate_and_pairs_users() -> None:
    # Given the seeded test shop
    shop = generate_shop(build_config("test", seed=5))
    end = shop.config.now.timestamp()
    interactions = build_interactions(shop.events, start_ts=end - 365 * SECONDS_PER_DAY, end_ts=end)
    unavailable = np.zeros(interactions.n_items, dtype=bool)
    # When ALS is compared on the holdout, and the gate's own evaluation runs on the same data
    compared = compare_on_holdout(
        interactions,
        unavailable,
        PARAMS,
        end_ts=end,
        methods={"als": (family_scorer("als", PARAMS), True)},
    )
    report = evaluate_holdout(interactions, unavailable, PARAMS, end_ts=end, families=["als"])
    # Then every method has one NDCG per evaluated user, averaging to its reported NDCG
    assert compared.evaluated_users > 0
    for name in ("als", "popularity", "boughtMost"):
        per_user = compared.ndcg_per_user(name)
        assert per_user.shape == (compared.evaluated_users,)
        metrics = compared.on_interactions[name]
        assert metrics is not None
        assert per_user.mean() == pytest.approx(metrics["ndcg"])
    # and the gate's report gives the same numbers (one protocol)
    assert report.families["als"] == compared.on_interactions["als"]
    assert report.popularity == compared.on_interactions["popularity"]
    # and a method compared with itself differs by exactly zero
    itself = compared.difference("als", "als")
    assert (itself.mean, itself.low, itself.high) == (0.0, 0.0, 0.0)
    assert not itself.decided
