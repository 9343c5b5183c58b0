"""boto3 clients with explicit timeouts and botocore's standard retry mode.

boto3 is imported lazily so that importing an adapter module stays cheap on a cold start.
"""

from __future__ import annotations

from typing import Any


def client(
    service: str,
    *,
    connect_timeout: float = 2.0,
    read_timeout: float = 5.0,
    max_attempts: int = 4,
    max_pool_connections: int = 32,
) -> Any:
    """A boto3 client configured for Lambda: short timeouts, bounded 'standard' retries.

    'standard' mode retries throttling and transient errors with exponential backoff and jitter
    and a client-side retry quota, so a struggling service sees no retry storm.
    """
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"mode": "standard", "max_attempts": max_attempts},
        max_pool_connections=max_pool_connections,
    )
    return boto3.client(service, config=config)
