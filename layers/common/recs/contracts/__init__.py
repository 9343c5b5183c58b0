"""Pydantic models: the wire contracts (docs/architecture.md, The contracts)."""
