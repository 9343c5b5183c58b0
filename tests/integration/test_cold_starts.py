"""Functions cold-start before the threads that could invoke them exist.

A cold start applies the function's environment to the whole process while its module
initialises. Inside a running execution it would race with the other branches' boto3 clients,
which walk the environment: a key removed mid-walk failed a publish shard with KeyError.
"""

from __future__ import annotations

import threading

import pytest

from recs_tools.local.functions import LocalFunction
from recs_tools.local.http import LocalApiServer
from recs_tools.local.stack import LocalStack


def test_the_training_machine_names_its_functions_and_no_serving_one(stack: LocalStack) -> None:
    # Given the local stack / When the functions its training machine invokes are looked up
    invoked = stack.functions_invoked_by("TrainingStateMachine")
    # Then they are the workflow's, found by the names and ARNs in its definition
    assert set(invoked) == {"PurgeFunction", "PrepareFunction", "TrainFunction", "PublishFunction"}
    assert "RecommendFunction" not in invoked


def test_starting_an_execution_cold_starts_its_functions_in_the_callers_thread(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a stack whose functions have not run yet, and a record of where each one loads
    loaded_in: dict[str, str] = {}
    original = LocalFunction._load

    def recording(self: LocalFunction) -> object:
        if not self.loaded:
            loaded_in[self.logical_id] = threading.current_thread().name
        return original(self)

    monkeypatch.setattr(LocalFunction, "_load", recording)
    invoked = stack.functions_invoked_by("TrainingStateMachine")
    assert not any(stack.function(name).loaded for name in invoked)
    # When a training execution starts (on an empty lake: it ends early, which is fine here)
    execution = stack.start_execution()
    # Then every function it could invoke was loaded before the call returned, by the caller
    assert {name: stack.function(name).loaded for name in invoked} == dict.fromkeys(invoked, True)
    assert loaded_in == dict.fromkeys(invoked, threading.current_thread().name)
    # And serving functions keep their cold start for their first request
    assert not stack.function("RecommendFunction").loaded
    stack.wait_execution(execution)


def test_the_local_api_cold_starts_its_functions_before_serving(stack: LocalStack) -> None:
    # Given a stack whose functions have not run yet
    routed = {route.function for route in stack.routes}
    trained = set(stack.functions_invoked_by("TrainingStateMachine"))
    assert not any(stack.function(name).loaded for name in routed | trained)
    # When the local API starts
    server = LocalApiServer(stack, port=0).start()
    try:
        # Then its routes' functions, and the training ones its local training route can start,
        # are loaded before any request thread could start
        assert all(stack.function(name).loaded for name in routed | trained)
    finally:
        server.stop()


def test_a_function_loads_once_when_two_threads_ask_at_once(stack: LocalStack) -> None:
    # Given one function and two threads that want it at the same moment
    function = stack.function("CatalogFunction")
    start = threading.Barrier(2)
    handlers: list[object] = []

    def first_invoke() -> None:
        start.wait()
        handlers.append(function.load())

    threads = [threading.Thread(target=first_invoke) for _ in range(2)]
    # When both load it
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then both get the same handler, from one module
    assert handlers[0] is handlers[1]
