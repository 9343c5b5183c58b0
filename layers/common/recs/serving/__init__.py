"""Serving GET /api/recommendations (issue 5): cache -> DynamoDB -> fallbacks."""
