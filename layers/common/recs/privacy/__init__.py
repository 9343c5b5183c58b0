"""Privacy: preferences (opt-out), erasure and its receipts, and the purge that completes it.

`service` answers the privacy routes; `erasure` removes a visitor from the live stores at once;
`receipts` keeps the audit record of each erasure; `visitors`, `lake_purge` (with `lake_parquet`
for the lake's Parquet objects) and `purge` are the purge step that rewrites the event lake and
the model artifacts without erased shoppers (docs/privacy.md).
"""
