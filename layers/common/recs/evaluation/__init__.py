"""Offline evaluation: time-based splits and ranking metrics over top-K id arrays."""

from recs.evaluation.metrics import (
    RankingReport,
    coverage_at_k,
    evaluate_topk,
    graded_ndcg_per_user,
    hit_matrix,
    ndcg_at_k,
    ndcg_per_user,
    precision_at_k,
    recall_at_k,
)
from recs.evaluation.split import (
    Interactions,
    Split,
    global_time_split,
    per_user_time_split,
    validation_split,
)
from recs.evaluation.uncertainty import PairedDifference, paired_bootstrap

__all__ = [
    "Interactions",
    "PairedDifference",
    "RankingReport",
    "Split",
    "coverage_at_k",
    "evaluate_topk",
    "global_time_split",
    "graded_ndcg_per_user",
    "hit_matrix",
    "ndcg_at_k",
    "ndcg_per_user",
    "paired_bootstrap",
    "per_user_time_split",
    "precision_at_k",
    "recall_at_k",
    "validation_split",
]
