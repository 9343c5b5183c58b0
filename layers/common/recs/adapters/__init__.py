"""Adapters: the only modules that talk to AWS (boto3) or Redis (redis-py)."""
