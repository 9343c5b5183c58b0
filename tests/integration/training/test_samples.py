"""The training and prepare functions' sample payloads drive their handlers (as `sam local invoke -e`
would)."""

from __future__ import annotations

import pytest

from recs.store_layout import version_meta_key
from recs.training.errors import TrainingError
from recs_tools.local.stack import LocalStack
from tests.helpers import load_event
from tests.integration.training.support import model_row


def test_prepare_on_an_empty_lake_stops_the_run_with_a_named_error(stack: LocalStack) -> None:
    # Given no event in the lake / When the prepare sample is handled by the prepare function
    # Then the step fails with TrainingError (the Catch path records it)
    with pytest.raises(TrainingError, match="no usable events"):
        stack.invoke("PrepareFunction", load_event("prepare_scheduled_run"))


def test_the_training_function_refuses_the_prepare_step(stack: LocalStack) -> None:
    # Given the prepare sample sent to the training function, which has no pyarrow
    # When handled / Then it is refused by the request model, naming the step, before any work
    with pytest.raises(ValueError, match="prepare"):
        stack.invoke("TrainFunction", load_event("prepare_scheduled_run"))


def test_record_failure_marks_the_version_failed_and_words_the_alert(stack: LocalStack) -> None:
    # Given the Catch path's payload / When handled
    result = stack.invoke("TrainFunction", load_event("train_record_failure"))
    # Then the alert names the error and the version's META row says failed
    assert "MemoryError" in result["alert"]
    meta = model_row(stack, *version_meta_key(result["modelVersion"]))
    assert meta is not None
    assert meta["status"] == "failed"
    assert meta["error"] == "MemoryError"


def test_a_publish_shard_payload_is_validated_before_any_work(stack: LocalStack) -> None:
    # Given the shard sample with a shard name that is not a manifest name
    event = load_event("train_publish_shard")
    event["shard"]["name"] = "../../etc"
    # When handled / Then it is rejected by the request model, naming the field
    with pytest.raises(ValueError, match=r"shard\.name"):
        stack.invoke("TrainFunction", event)
