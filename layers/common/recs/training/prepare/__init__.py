"""Prepare: the window of events read from the lake, cleaned, indexed; the catalog and the
privacy exclusions; visits and the interaction matrix."""
