"""Load the functions declared in template.yaml and call their handlers in-process.

Each function's module is loaded from its `CodeUri` and `Handler`, exactly as Lambda does,
with that function's environment applied while the module initialises (its cold start). A
fresh module object per stack means a fresh cold start per stack.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from aws_lambda_powertools import Logger

_ENV_LOCK = threading.RLock()


@contextmanager
def patched_environ(values: Mapping[str, str]) -> Iterator[None]:
    """Apply environment variables for the duration of a block (module initialisation).

    Not safe beside other threads that read the environment: removing a key on the way out
    races with any thread walking ``os.environ.items()`` (urllib's proxy lookup does, on every
    boto3 client), which then raises KeyError. Callers cold-start functions before threads that
    could invoke them start (`LocalStack.cold_start`).
    """
    with _ENV_LOCK:
        saved = {key: os.environ.get(key) for key in values}
        os.environ.update(values)
        try:
            yield
        finally:
            for key, old in saved.items():
                if old is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = old


@dataclass
class LambdaContext:
    """The parts of the Lambda context object that handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    timeout_seconds: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"
    _started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self._started)) * 1000))


@dataclass
class LocalFunction:
    logical_id: str
    physical_name: str
    arn: str
    code_dir: Path
    handler: str
    environment: dict[str, str]
    memory_mb: int
    timeout_seconds: int
    _module: ModuleType | None = None
    _handler: Callable[[Any, Any], Any] | None = None
    _loading: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def loaded(self) -> bool:
        return self._handler is not None

    def load(self) -> Callable[[Any, Any], Any]:
        """Import the handler module (once per stack), as a Lambda cold start would."""
        if self._handler is not None:  # warm: every invoke asks, and takes no lock
            return self._handler
        with self._loading:
            return self._load()

    def _load(self) -> Callable[[Any, Any], Any]:
        if self._handler is None:
            module_name, attribute = self.handler.rsplit(".", 1)
            path = self.code_dir / (module_name.replace(".", "/") + ".py")
            unique = f"_recs_local_{self.logical_id}_{uuid.uuid4().hex[:8]}"
            spec = importlib.util.spec_from_file_location(unique, path)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot load {path} for {self.logical_id}")
            module = importlib.util.module_from_spec(spec)
            # Registered like any import, so pydantic can resolve the module's annotations.
            sys.modules[unique] = module
            with patched_environ(self.environment):
                spec.loader.exec_module(module)
            _apply_log_level(module, self.environment.get("POWERTOOLS_LOG_LEVEL"))
            self._module = module
            self._handler = getattr(module, attribute)
        return self._handler

    @property
    def module(self) -> ModuleType:
        self.load()
        assert self._module is not None
        return self._module

    def context(self) -> LambdaContext:
        return LambdaContext(
            function_name=self.physical_name,
            memory_limit_in_mb=self.memory_mb,
            invoked_function_arn=self.arn,
            timeout_seconds=self.timeout_seconds,
        )

    def invoke(self, event: Any) -> Any:
        """Call the handler with a JSON round-trip of the event, as Lambda would."""
        handler = self.load()
        payload = json.loads(json.dumps(event))
        return handler(payload, self.context())


def _apply_log_level(module: ModuleType, level: str | None) -> None:
    """Give the module's Powertools loggers this function's log level.

    In Lambda every container is a fresh process. Here stacks share one: Powertools configures
    the logger of a service name once per process and ignores the level of later instances, so
    without this a second stack would log at the first one's level.
    """
    if not level:
        return
    for value in vars(module).values():
        if isinstance(value, Logger):
            value.setLevel(level)


def error_payload(exc: BaseException) -> dict[str, Any]:
    """The body Lambda returns for an unhandled exception; Step Functions reads `errorType`."""
    return {
        "errorType": type(exc).__name__,
        "errorMessage": str(exc),
        "stackTrace": traceback.format_exception(exc)[-5:],
    }
