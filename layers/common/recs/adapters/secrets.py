"""The pseudonym key from Secrets Manager, cached by Powertools' parameters utility.

Its faults leave as `StoreUnavailableError` (`recs.adapters.faults`): Powertools wraps AWS
errors in its own `GetParameterError`, botocore's may surface too.
"""

from __future__ import annotations

from typing import Any

from recs.adapters.faults import store_faults
from recs.errors import StoreUnavailableError


class SecretsManagerSource:
    def __init__(self, client: Any, max_age_seconds: int = 300) -> None:
        from aws_lambda_powertools.utilities.parameters import SecretsProvider

        self._provider = SecretsProvider(boto3_client=client)
        self._max_age = max_age_seconds

    def get_secret(self, secret_id: str) -> bytes:
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

        try:
            with store_faults("secrets manager"):
                value = self._provider.get(secret_id, max_age=self._max_age)
        except GetParameterError as error:
            cause = type(error.__cause__ or error).__name__
            raise StoreUnavailableError(f"secrets manager: {cause}") from error
        if isinstance(value, bytes):
            return value
        if isinstance(value, str):
            return value.encode("utf-8")
        raise TypeError(f"secret {secret_id} is neither text nor binary")
