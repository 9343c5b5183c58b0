"""Fit: the models and their signals (confidence, recency profile, buy-again), the item lists
(similar items, bought together, popular, trending, session lists) and top-K ranking."""
