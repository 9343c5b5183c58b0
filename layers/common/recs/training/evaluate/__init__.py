"""Evaluate: the holdout (last visits) and its metrics against the baselines, and the
parameter search that uses it on validation visits."""
