"""Merchandising rules: pin, boost, bury and block products at runtime (docs/serving.md, Rules).

`model` is the rule as the admin route takes it and the store keeps it; `admin` changes the
rules with an audit record of each change; serving applies the active ones
(`recs.serving.rules`).
"""
