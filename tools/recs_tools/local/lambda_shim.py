"""Route moto's Lambda invocations to the real handlers.

moto's Step Functions interpreter invokes Lambda tasks through moto's Lambda backend, which
without Docker only echoes the payload. This shim replaces `LambdaFunction.invoke` for the
functions the local stack registered: the handler runs in-process and its return value (or
its exception, in Lambda's error shape with `x-amz-function-error`) goes back to the state
machine, so Retry and Catch see the same error names as in AWS.

moto's Docker-less Lambda backend (`LambdaSimpleBackend`, selected by
``{"lambda": {"use_docker": False}}``) answers every invoke with the request body; the shim
replaces its `invoke` for the registered functions and leaves every other function alone.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from unittest import mock

from recs_tools.local.functions import LocalFunction, error_payload

_log = logging.getLogger(__name__)


@contextmanager
def route_lambda_invocations(functions: Mapping[str, LocalFunction]) -> Iterator[None]:
    """While active, invoking a registered function name runs its real handler."""
    from moto.awslambda_simple.models import LambdaSimpleBackend

    original = LambdaSimpleBackend.invoke
    by_name = {fn.physical_name: fn for fn in functions.values()}

    def invoke(
        self: Any,
        function_name: str,
        qualifier: str | None,
        body: Any,
        request_headers: Any,
        response_headers: Any,
    ) -> str | bytes | None:
        target = by_name.get(function_name_of(function_name))
        if target is None:
            return original(self, function_name, qualifier, body, request_headers, response_headers)
        event = json.loads(body) if body else {}
        try:
            result = target.invoke(event)
        except Exception as exc:  # Lambda reports any exception as a function error
            _log.info("function %s raised %s", target.logical_id, type(exc).__name__)
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps(error_payload(exc)).encode("utf-8")
        return json.dumps(result).encode("utf-8")

    with mock.patch.object(LambdaSimpleBackend, "invoke", invoke):
        yield


def function_name_of(name_or_arn: str) -> str:
    """`my-fn`, `arn:aws:lambda:region:account:function:my-fn[:qualifier]` -> `my-fn`."""
    if name_or_arn.startswith("arn:"):
        return name_or_arn.split(":")[6]
    return name_or_arn.split(":")[0]
