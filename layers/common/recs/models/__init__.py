"""Pydantic models: the contracts of ARCHITECTURE.md sections 2-4."""
