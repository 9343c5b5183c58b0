"""Offline evaluation: time-based splits and ranking metrics over top-K id arrays."""

from recs.evaluation.metrics import (
    RankingReport,
    coverage_at_k,
    evaluate_topk,
    hit_matrix,
    ndcg_at_k,
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

__all__ = [
    "Interactions",
    "RankingReport",
    "Split",
    "coverage_at_k",
    "evaluate_topk",
    "global_time_split",
    "hit_matrix",
    "ndcg_at_k",
    "per_user_time_split",
    "precision_at_k",
    "recall_at_k",
    "validation_split",
]
