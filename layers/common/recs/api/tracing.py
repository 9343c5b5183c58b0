"""Powertools' Tracer for every function, free when tracing is switched off.

Even when disabled, `Tracer()` builds the X-Ray recorder: it imports the X-Ray SDK, creates a
botocore client for its sampler and opens the UDP socket of its emitter (about 17 ms of the
recommend function's cold import, measured by bench/serving.py, docs/serving.md), and every
request still enters the SDK's dummy segments. When POWERTOOLS_TRACE_DISABLED is set (the local
stack, tests, stages without X-Ray) the Tracer gets a provider that does nothing and imports
nothing; with tracing on it is the usual X-Ray provider.
"""

from __future__ import annotations

import contextlib
import numbers
import traceback
from collections.abc import AsyncGenerator, Generator, Sequence
from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment


class _NoSegment(BaseSegment):
    def close(self, end_time: int | None = None) -> None:
        return None

    def add_subsegment(self, subsegment: Any) -> None:
        return None

    def remove_subsegment(self, subsegment: Any) -> None:
        return None

    def put_annotation(self, key: str, value: str | numbers.Number | bool) -> None:
        return None

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        return None

    def add_exception(
        self, exception: BaseException, stack: list[traceback.StackSummary], remote: bool = False
    ) -> None:
        return None


class NoTracing(BaseProvider):
    """A tracing provider that records nothing and imports nothing."""

    @contextlib.contextmanager
    def in_subsegment(self, name: Any = None, **kwargs: Any) -> Generator[BaseSegment, None, None]:
        yield _NoSegment()

    @contextlib.asynccontextmanager
    async def in_subsegment_async(self, name: Any = None, **kwargs: Any) -> AsyncGenerator[BaseSegment, None]:
        yield _NoSegment()

    def put_annotation(self, key: str, value: str | numbers.Number | bool) -> None:
        return None

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        return None

    def patch(self, modules: Sequence[str]) -> None:
        return None

    def patch_all(self) -> None:
        return None


def make_tracer(*, disabled: bool) -> Tracer:
    """The function's Tracer: X-Ray when enabled, `NoTracing` when disabled."""
    if disabled:
        return Tracer(disabled=True, auto_patch=False, provider=NoTracing())
    return Tracer()
