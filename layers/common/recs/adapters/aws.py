"""boto3 clients with explicit timeouts and botocore's standard retry mode.

boto3 is imported lazily so that importing an adapter module stays cheap on a cold start.
"""

from __future__ import annotations

from typing import Any, Protocol


class Profile(Protocol):
    @property
    def connect_timeout(self) -> float: ...

    @property
    def read_timeout(self) -> float: ...

    @property
    def max_attempts(self) -> int: ...

    @property
    def max_pool_connections(self) -> int: ...


def client(
    service: str, profile: Profile, *, signature_version: str | None = None, **overrides: float
) -> Any:
    """A boto3 client with the timeouts and retries of a named profile (`recs.config.common`:
    interactive or batch); `overrides` names a deliberate exception (e.g. no botocore retries
    where the caller retries within its own budget).

    'standard' mode retries throttling and transient errors with exponential backoff and jitter
    and a client-side retry quota, so a struggling service sees no retry storm.
    """
    import boto3
    from botocore.config import Config

    settings = {
        "connect_timeout": profile.connect_timeout,
        "read_timeout": profile.read_timeout,
        "max_attempts": profile.max_attempts,
        "max_pool_connections": profile.max_pool_connections,
        **overrides,
    }
    config = Config(
        connect_timeout=settings["connect_timeout"],
        read_timeout=settings["read_timeout"],
        retries={"mode": "standard", "max_attempts": int(settings["max_attempts"])},
        max_pool_connections=int(settings["max_pool_connections"]),
        **({"signature_version": signature_version} if signature_version else {}),
    )
    return boto3.client(service, config=config)
