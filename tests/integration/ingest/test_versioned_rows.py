"""The conditional-write adapter of the session signal, against moto's DynamoDB."""

from __future__ import annotations

from typing import Any

import pytest

from recs.adapters.versioned_rows import DynamoVersionedRows
from recs.errors import StoreUnavailableError
from recs_tools.local.stack import LocalStack


def _rows(stack: LocalStack, client: Any = None) -> DynamoVersionedRows:
    return DynamoVersionedRows(
        stack.physical["StateTable"], client or stack.client("dynamodb"), sleep=lambda _: None
    )


def _row(n: int, version: int) -> dict[str, Any]:
    return {"pk": f"SESSION#v{n}", "sk": "RECENT", "d": "[]", "ver": version, "expiresAt": 1}


def test_writes_succeed_only_on_the_version_read(stack: LocalStack) -> None:
    # Given a new row written at version 1
    rows = _rows(stack)
    assert rows.put_many_if_version([_row(1, 1)], "ver", [0]) == [True]
    # When two writers both read version 1 and write version 2
    first = rows.put_many_if_version([{**_row(1, 2), "d": '["a"]'}], "ver", [1])
    second = rows.put_many_if_version([{**_row(1, 2), "d": '["b"]'}], "ver", [1])
    # Then only the first succeeds, and its content is kept
    assert (first, second) == ([True], [False])
    (item,) = rows.get_many([("SESSION#v1", "RECENT")])
    assert item is not None
    assert (item["d"], int(item["ver"])) == ('["a"]', 2)
    # And creating a row that already exists fails too
    assert rows.put_many_if_version([_row(1, 1)], "ver", [0]) == [False]


def test_many_rows_are_read_in_order_and_written_in_parallel(stack: LocalStack) -> None:
    # Given 150 rows written at once (more than one BatchGetItem)
    rows = _rows(stack)
    assert rows.put_many_if_version([_row(i, 1) for i in range(150)], "ver", [0] * 150) == [True] * 150
    # When they are read back with a missing key in the middle
    keys = [(f"SESSION#v{i}", "RECENT") for i in range(150)]
    found = rows.get_many([*keys[:75], ("SESSION#missing", "RECENT"), *keys[75:]])
    # Then each comes back in the order asked, None where absent
    assert [r["pk"] if r else None for r in found] == [k[0] for k in keys[:75]] + [None] + [
        k[0] for k in keys[75:]
    ]


class _Unprocessing:
    """Delegates to a real client, answering the first BatchGetItem with everything unprocessed."""

    def __init__(self, client: Any, rounds: int) -> None:
        self._client, self._rounds = client, rounds

    def batch_get_item(self, RequestItems: Any) -> dict[str, Any]:
        if self._rounds > 0:
            self._rounds -= 1
            return {"Responses": {}, "UnprocessedKeys": RequestItems}
        result: dict[str, Any] = self._client.batch_get_item(RequestItems=RequestItems)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_unprocessed_keys_are_retried_then_reported(stack: LocalStack) -> None:
    # Given a row, and a table that leaves keys unprocessed once
    _rows(stack).put_many_if_version([_row(1, 1)], "ver", [0])
    once = _rows(stack, _Unprocessing(stack.client("dynamodb"), rounds=1))
    # When read / Then the retry finds it
    assert once.get_many([("SESSION#v1", "RECENT")])[0] is not None
    # And a table that never processes them is reported as unavailable, not as an absent row
    never = _rows(stack, _Unprocessing(stack.client("dynamodb"), rounds=10))
    with pytest.raises(StoreUnavailableError):
        never.get_many([("SESSION#v1", "RECENT")])
