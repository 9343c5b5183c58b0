"""The one fault policy of the adapters: an AWS fault never leaves an adapter as a botocore type.

Domain code and handlers know two outcomes of a store call: it worked, or the store is
unavailable (`recs.errors.StoreUnavailableError`: serving falls back, an API answers 503 with
Retry-After, a workflow step is retried by Step Functions). botocore has already retried what it
retries (standard mode, per client: `recs.adapters.aws`), so whatever it raises is an outage.
A missing object is not an outage: `store_faults(..., missing_key=key)` turns S3's NoSuchKey
into `KeyError`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from recs.errors import StoreUnavailableError

T = TypeVar("T")


@contextmanager
def store_faults(store: str, *, missing_key: str | None = None) -> Iterator[None]:
    """Raise `StoreUnavailableError` naming `store` for any AWS fault inside the block; with
    `missing_key`, an absent object raises `KeyError(missing_key)` instead."""
    try:
        yield
    except ClientError as error:
        if missing_key is not None and _missing_object(error):
            raise KeyError(missing_key) from error
        raise StoreUnavailableError(f"{store}: {_name(error)}") from error
    except BotoCoreError as error:
        raise StoreUnavailableError(f"{store}: {_name(error)}") from error


def _missing_object(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound")


class FaultTranslatingClient:
    """A boto3 client whose calls raise `StoreUnavailableError` instead of botocore errors
    (for adapters that call the client directly, method by method)."""

    def __init__(self, client: Any, store: str) -> None:
        self._client = client
        self._store = store

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute
        return _translated(attribute, self._store)


def _translated(call: Callable[..., T], store: str) -> Callable[..., T]:
    def translated(*args: Any, **kwargs: Any) -> T:
        with store_faults(store):
            return call(*args, **kwargs)

    return translated


def _name(error: Exception) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code") or type(error).__name__)
    return type(error).__name__
