"""The local stack is built from template.yaml's own resource properties."""

from __future__ import annotations

import json
import logging

import pytest

from recs_tools.checkout import repo_root
from recs_tools.local.cfn import load_template
from recs_tools.local.stack import LocalStack

TEMPLATE = load_template(repo_root() / "template.yaml")


def _props(logical_id: str) -> dict:  # type: ignore[type-arg]
    props: dict = TEMPLATE["Resources"][logical_id]["Properties"]  # type: ignore[type-arg]
    return props


@pytest.mark.parametrize("logical_id", ["ModelTable", "StateTable"])
def test_tables_have_the_templates_keys_and_ttl(stack: LocalStack, logical_id: str) -> None:
    # Given the local stack / When a table is described
    ddb = stack.client("dynamodb")
    name = stack.physical[logical_id]
    table = ddb.describe_table(TableName=name)["Table"]
    ttl = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    # Then its keys and TTL are the template's
    assert table["KeySchema"] == _props(logical_id)["KeySchema"]
    assert ttl["AttributeName"] == _props(logical_id)["TimeToLiveSpecification"]["AttributeName"]
    assert ttl["TimeToLiveStatus"] == "ENABLED"


def test_buckets_carry_the_templates_lifecycle_rules(stack: LocalStack) -> None:
    # Given the event lake bucket
    rules = stack.client("s3").get_bucket_lifecycle_configuration(Bucket=stack.physical["EventLakeBucket"])[
        "Rules"
    ]
    # Then its lifecycle rules are the template's (raw events: the RawEventRetentionDays parameter)
    expected = {
        r["Id"]: int(stack.resolver.resolve(r["ExpirationInDays"]))
        for r in _props("EventLakeBucket")["LifecycleConfiguration"]["Rules"]
    }
    assert {r["ID"]: r["Expiration"]["Days"] for r in rules} == expected


@pytest.mark.parametrize("logical_id", ["EventLakeBucket", "ArtifactBucket"])
def test_data_buckets_log_their_accesses_to_the_templates_log_bucket(
    stack: LocalStack, logical_id: str
) -> None:
    # Given a data bucket of the local stack
    s3 = stack.client("s3")
    # When its access logging is read back
    logging = s3.get_bucket_logging(Bucket=stack.physical[logical_id])["LoggingEnabled"]
    # Then it is the template's: the access-log bucket (whose policy S3 required first), its prefix
    assert logging["TargetBucket"] == stack.physical["AccessLogBucket"]
    assert logging["TargetPrefix"] == _props(logical_id)["LoggingConfiguration"]["LogFilePrefix"]
    policy = json.loads(s3.get_bucket_policy(Bucket=stack.physical["AccessLogBucket"])["Policy"])
    assert [st["Sid"] for st in policy["Statement"]] == ["S3ServerAccessLogDelivery"]


def test_firehose_delivers_into_the_lake_with_the_templates_prefix(stack: LocalStack) -> None:
    # Given the delivery stream
    description = stack.client("firehose").describe_delivery_stream(
        DeliveryStreamName=stack.physical["EventDeliveryStream"]
    )["DeliveryStreamDescription"]
    destination = description["Destinations"][0]["ExtendedS3DestinationDescription"]
    # Then it writes to the lake bucket under the template's prefix
    assert destination["BucketARN"].endswith(stack.physical["EventLakeBucket"])
    assert (
        destination["Prefix"] == _props("EventDeliveryStream")["ExtendedS3DestinationConfiguration"]["Prefix"]
    )


def test_state_machine_is_the_definition_file_with_substitutions(stack: LocalStack) -> None:
    # Given the deployed (local) state machine
    machine = stack.state_machines["TrainingStateMachine"]
    described = json.loads(
        stack.client("stepfunctions").describe_state_machine(stateMachineArn=machine.arn)["definition"]
    )
    raw = (repo_root() / _props("TrainingStateMachine")["DefinitionUri"]).read_text(encoding="utf-8")
    # Then it is the file with every ${...} substitution replaced by a local ARN
    assert "${" not in json.dumps(described)
    assert described["StartAt"] == json.loads(raw)["StartAt"]
    assert described["States"]["Train"]["Parameters"]["FunctionName"] == stack.functions["TrainFunction"].arn
    assert (
        described["States"]["Prepare"]["Parameters"]["FunctionName"] == stack.functions["PrepareFunction"].arn
    )
    assert machine.schedules == ["cron(0 3 * * ? *)"]


def test_http_routes_come_from_the_function_events(stack: LocalStack) -> None:
    # Then every HttpApi event of every function is a local route
    routes = {(r.method, r.path): r.function for r in stack.routes}
    assert routes[("GET", "/api/recommendations")] == "RecommendFunction"
    assert routes[("POST", "/api/events")] == "IngestFunction"
    assert routes[("PUT", "/api/users/{userId}/preferences")] == "PrivacyFunction"


def test_lambda_invocations_run_the_real_handler(stack: LocalStack) -> None:
    # Given the prepare function and its step, which fails for lack of data
    lam = stack.client("lambda")
    payload = {"step": "prepare", "job": {"executionName": "t", "startedAt": "2026-01-01T00:00:00Z"}}
    # When it is invoked through the Lambda API (as Step Functions does)
    response = lam.invoke(FunctionName=stack.physical["PrepareFunction"], Payload=json.dumps(payload))
    body = json.loads(response["Payload"].read())
    # Then the real handler ran (not moto's echo) and its error has Lambda's shape
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "TrainingError"
    assert "no usable events" in body["errorMessage"]


def test_functions_get_their_environment_from_the_template(stack: LocalStack) -> None:
    # Given the ingest function
    env = stack.function("IngestFunction").environment
    # Then its variables are the template's, resolved to local resources
    assert env["DELIVERY_STREAM_NAME"] == stack.physical["EventDeliveryStream"]
    assert env["STATE_TABLE_NAME"] == stack.physical["StateTable"]
    assert env["POWERTOOLS_SERVICE_NAME"] == "ingest"
    assert env["CACHE_URL"].startswith("redis://127.0.0.1:")


def test_without_redis_the_cache_url_is_empty(stack_without_cache: LocalStack) -> None:
    # Given a stack started without a cache
    env = stack_without_cache.function("RecommendFunction").environment
    # Then the functions run on the null cache, and the stack says so
    assert env["CACHE_URL"] == ""
    assert "null cache" in stack_without_cache.cache_note


def test_each_stack_logs_at_its_own_level_in_a_shared_process() -> None:
    # Given a stack whose functions logged at WARNING, started first in this process
    with LocalStack(parameter_overrides={"LogLevel": "WARNING"}, use_redis=False) as quiet:
        assert not quiet.function("RecommendFunction").module.logger.isEnabledFor(logging.INFO)
    # When a second stack starts with LogLevel INFO (in Lambda: another container)
    with LocalStack(parameter_overrides={"LogLevel": "INFO"}, use_redis=False) as verbose:
        logger = verbose.function("RecommendFunction").module.logger
        # Then its function logs INFO lines, although Powertools configures a service's logger
        # only once per process
        assert logger.isEnabledFor(logging.INFO)


def test_the_stack_keeps_one_client_per_service(stack: LocalStack) -> None:
    # Given the local stack / When a service's client is asked for twice
    first, second = stack.client("s3"), stack.client("s3")
    # Then it is the same client (thread-safe to share; creating one costs ~10 ms), one per service
    assert first is second
    assert stack.client("dynamodb") is not first
