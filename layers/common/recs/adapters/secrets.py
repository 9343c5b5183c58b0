"""The pseudonym key from Secrets Manager, cached by Powertools' parameters utility."""

from __future__ import annotations

from typing import Any


class SecretsManagerSource:
    def __init__(self, client: Any, max_age_seconds: int = 300) -> None:
        from aws_lambda_powertools.utilities.parameters import SecretsProvider

        self._provider = SecretsProvider(boto3_client=client)
        self._max_age = max_age_seconds

    def get_secret(self, secret_id: str) -> bytes:
        value = self._provider.get(secret_id, max_age=self._max_age)
        if isinstance(value, bytes):
            return value
        if isinstance(value, str):
            return value.encode("utf-8")
        raise TypeError(f"secret {secret_id} is neither text nor binary")
