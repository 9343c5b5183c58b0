"""template.yaml's production settings: API, ingestion, storage, secrets, tracing and network."""

from __future__ import annotations

from typing import Any

_FUNCTION = "AWS::Serverless::Function"


def _of_type(resources: dict[str, Any], kind: str) -> dict[str, Any]:
    return {name: r for name, r in resources.items() if r["Type"] == kind}


def test_cors_allows_only_the_shops_origins_from_a_comma_delimited_parameter(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    # Given the HttpApi's OpenAPI body and the AllowedOrigins parameter
    api = resources["HttpApi"]["Properties"]
    cors = api["DefinitionBody"]["x-amazon-apigateway-cors"]
    parameter = template["Parameters"]["AllowedOrigins"]
    # Then the origins come from the parameter, resolved by CloudFormation in the body (SAM's
    # CorsConfiguration would resolve it at transform time, as one string), never "*" by default
    assert "CorsConfiguration" not in api
    assert cors["allowOrigins"] == {"Ref": "AllowedOrigins"}
    assert set(cors["allowMethods"]) >= {"GET", "POST", "PUT", "OPTIONS"}
    # The signed anonymous id travels in a header of its own (never in a URL)
    assert "x-recs-visitor" in cors["allowHeaders"]
    assert parameter["Type"] == "CommaDelimitedList"
    assert "*" not in parameter["Default"].split(",")


def test_every_route_is_throttled_and_the_privacy_routes_harder(resources: dict[str, Any]) -> None:
    # Given the HttpApi's stage settings and the privacy function's routes
    api = resources["HttpApi"]["Properties"]
    privacy_routes = {
        f"{event['Properties']['Method'].upper()} {event['Properties']['Path']}"
        for event in resources["PrivacyFunction"]["Properties"]["Events"].values()
    }
    # Then every route has a default rate and burst, and each privacy route its own, except
    # issuing anonymous ids, which every new browser calls once (the default, like events)
    assert api["DefaultRouteSettings"]["ThrottlingRateLimit"] == {"Ref": "ApiThrottlingRateLimit"}
    assert api["DefaultRouteSettings"]["ThrottlingBurstLimit"] == {"Ref": "ApiThrottlingBurstLimit"}
    assert "POST /api/visitors" in privacy_routes
    assert {"POST /api/visitor/export", "GET /api/visitor/exports/{receiptId}"} <= privacy_routes
    assert set(api["RouteSettings"]) == privacy_routes - {"POST /api/visitors"}
    for settings in api["RouteSettings"].values():
        assert settings["ThrottlingRateLimit"] == {"Ref": "PrivacyThrottlingRateLimit"}


def test_api_access_logs_carry_no_raw_ids_and_expire(resources: dict[str, Any]) -> None:
    # Given the API's access log settings
    access = resources["HttpApi"]["Properties"]["AccessLogSettings"]
    group = resources[access["DestinationArn"]["Fn::GetAtt"][0]]
    # Then the format names routes, not paths or query strings (they hold raw user ids), and
    # no source IP; the group keeps them only for the stage's retention
    assert "$context.routeKey" in access["Format"]
    for raw in ("$context.path", "$context.identity.sourceIp", "querystring"):
        assert raw not in access["Format"]
    assert group["Properties"]["RetentionInDays"]["Fn::FindInMap"][0] == "StageSettings"


def test_firehose_buffers_compresses_partitions_by_hour_and_separates_errors(
    resources: dict[str, Any],
) -> None:
    # Given the delivery stream's S3 destination
    destination = resources["EventDeliveryStream"]["Properties"]["ExtendedS3DestinationConfiguration"]
    # Then it buffers, converts to Snappy-compressed Parquet (the object itself uncompressed, as
    # conversion requires), writes under events/ in Firehose's UTC YYYY/MM/DD/HH layout (no
    # custom expression in the prefix) and sends failures to their own dated prefix
    assert destination["BufferingHints"]["IntervalInSeconds"] >= 60
    assert destination["BufferingHints"]["SizeInMBs"] >= 64
    assert destination["CompressionFormat"] == "UNCOMPRESSED"
    conversion = destination["DataFormatConversionConfiguration"]
    assert conversion["Enabled"] is True
    assert conversion["OutputFormatConfiguration"]["Serializer"]["ParquetSerDe"]["Compression"] == "SNAPPY"
    assert destination["Prefix"] == "events/"
    assert destination["ErrorOutputPrefix"].startswith("errors/")
    assert "!{timestamp:yyyy/MM/dd}" in destination["ErrorOutputPrefix"]
    # And logs its delivery errors to a group of its own, kept as long as the stage's logs
    logging = destination["CloudWatchLoggingOptions"]
    assert logging == {
        "Enabled": True,
        "LogGroupName": {"Ref": "FirehoseLogGroup"},
        "LogStreamName": {"Ref": "FirehoseDeliveryLogStream"},
    }
    group = resources["FirehoseLogGroup"]["Properties"]
    assert group["RetentionInDays"] == {
        "Fn::FindInMap": ["StageSettings", {"Ref": "Stage"}, "LogRetentionDays"]
    }


def test_buckets_are_encrypted_private_and_raw_events_expire_after_the_retention_parameter(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    # Given every bucket of the stack
    buckets = _of_type(resources, "AWS::S3::Bucket")
    assert set(buckets) == {"EventLakeBucket", "ArtifactBucket", "AccessLogBucket", "ExportBucket"}
    for bucket in buckets.values():
        props = bucket["Properties"]
        # Then each is encrypted at rest and blocks every kind of public access
        rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}
        assert set(props["PublicAccessBlockConfiguration"].values()) == {True}
        assert len(props["PublicAccessBlockConfiguration"]) == 4
    # And the lake's raw events expire after RawEventRetentionDays
    rules = {
        r["Prefix"]: r for r in buckets["EventLakeBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    }
    assert rules["events/"]["ExpirationInDays"] == {"Ref": "RawEventRetentionDays"}
    assert rules["events/"]["Status"] == "Enabled"
    assert template["Parameters"]["RawEventRetentionDays"]["Type"] == "Number"
    # And shoppers' data exports expire after ExportRetentionDays (a week by default, a month at most)
    (export_rule,) = buckets["ExportBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert export_rule["Prefix"] == "exports/"
    assert export_rule["ExpirationInDays"] == {"Ref": "ExportRetentionDays"}
    assert export_rule["Status"] == "Enabled"
    retention = template["Parameters"]["ExportRetentionDays"]
    assert (retention["Default"], retention["MinValue"], retention["MaxValue"]) == (7, 1, 30)


def test_tables_are_on_demand_with_ttl_point_in_time_recovery_and_encryption(
    resources: dict[str, Any],
) -> None:
    # Given every DynamoDB table of the stack
    tables = _of_type(resources, "AWS::DynamoDB::Table")
    assert set(tables) == {"ModelTable", "StateTable"}
    for table in tables.values():
        props = table["Properties"]
        # Then each is on demand, expires rows by expiresAt, can be restored, is encrypted
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        assert props["SSESpecification"]["SSEEnabled"] is True
        # And backups of erased rows age out with the stage's logs (the erasure promise), and
        # a shared stage's tables cannot be deleted by mistake (dev's can, to tear it down)
        assert props["PointInTimeRecoverySpecification"]["RecoveryPeriodInDays"] == {
            "Fn::FindInMap": ["StageSettings", {"Ref": "Stage"}, "LogRetentionDays"]
        }
        assert props["DeletionProtectionEnabled"] == {"Fn::If": ["IsDev", False, True]}
        assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"


def test_every_bucket_refuses_requests_without_tls(resources: dict[str, Any]) -> None:
    # Given every bucket and every bucket policy of the stack
    buckets = set(_of_type(resources, "AWS::S3::Bucket"))
    policies = _of_type(resources, "AWS::S3::BucketPolicy").values()
    covered = set()
    for policy in policies:
        (statement,) = [
            st for st in policy["Properties"]["PolicyDocument"]["Statement"] if st["Effect"] == "Deny"
        ]
        # Then each denies every action to anyone over plain HTTP, on the bucket and its objects
        assert statement["Effect"] == "Deny"
        assert statement["Principal"] == "*"
        assert statement["Action"] == "s3:*"
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert len(statement["Resource"]) == 2
        covered.add(policy["Properties"]["Bucket"]["Ref"])
    assert covered == buckets


def test_both_data_buckets_log_their_accesses_to_a_private_bucket_kept_as_long_as_the_logs(
    resources: dict[str, Any],
) -> None:
    # Given the lake, the artifact bucket and the access-log bucket
    lake, artifacts = resources["EventLakeBucket"], resources["ArtifactBucket"]
    logs = resources["AccessLogBucket"]
    # Then both data buckets send their S3 server access logs there, each under its own prefix
    prefixes = set()
    for bucket in (lake, artifacts):
        logging = bucket["Properties"]["LoggingConfiguration"]
        assert logging["DestinationBucketName"] == {"Ref": "AccessLogBucket"}
        prefixes.add(logging["LogFilePrefix"])
    assert len(prefixes) == 2
    # And the log bucket is SSE-S3 (the only encryption log delivery accepts), owner-enforced,
    # and expires its logs with the stage's log retention (the erasure promise's window)
    props = logs["Properties"]
    rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    (expiry,) = props["LifecycleConfiguration"]["Rules"]
    assert expiry["ExpirationInDays"] == {
        "Fn::FindInMap": ["StageSettings", {"Ref": "Stage"}, "LogRetentionDays"]
    }
    # And only S3's logging service of this account may write to it
    (grant,) = [
        st
        for st in resources["AccessLogBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
        if st["Effect"] == "Allow"
    ]
    assert grant["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert grant["Action"] == "s3:PutObject"
    assert grant["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_the_pseudonymization_key_is_a_generated_secret_every_function_reads_by_reference(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    # Given the secret and the functions' shared environment
    secret = resources["PseudonymSecret"]
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    # Then the key is generated by Secrets Manager (never a template value) and referenced by id
    assert secret["Type"] == "AWS::SecretsManager::Secret"
    assert "SecretString" not in secret["Properties"]
    assert secret["Properties"]["GenerateSecretString"]["PasswordLength"] >= 32
    assert variables["PSEUDONYM_SECRET_ID"] == {"Ref": "PseudonymSecret"}
    # And it survives a stack deletion or a replacement: a new key would un-link every stored
    # pseudonym, opt-out and erasure tombstone
    assert secret["DeletionPolicy"] == secret["UpdateReplacePolicy"] == "Retain"


def test_functions_and_the_workflow_are_traced_and_the_workflow_logs_without_job_data(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    # Given the functions' globals and the training state machine
    machine = resources["TrainingStateMachine"]["Properties"]
    logging = machine["Logging"]
    group = resources[logging["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]]
    # Then every function and the workflow send X-Ray traces
    assert template["Globals"]["Function"]["Tracing"] == "Active"
    assert all("Tracing" not in f["Properties"] for f in _of_type(resources, _FUNCTION).values())
    assert machine["Tracing"] == {"Enabled": True}
    # And the workflow logs every transition, without the documents the steps pass each other,
    # to a vended-logs group that expires with the stage
    assert logging["Level"] == "ALL"
    assert logging["IncludeExecutionData"] is False
    assert group["Properties"]["LogGroupName"]["Fn::Sub"].startswith("/aws/vendedlogs/states/")
    assert "RetentionInDays" in group["Properties"]


def test_the_serverless_cache_has_usage_limits_from_parameters(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    # Given the cache and its parameters
    limits = resources["Cache"]["Properties"]["CacheUsageLimits"]
    # Then what it may store and process is bounded by the deployer (past it: evictions and
    # throttling, with serving falling back to DynamoDB), with defaults
    assert limits == {
        "DataStorage": {"Maximum": {"Ref": "CacheMaxDataStorageGB"}, "Unit": "GB"},
        "ECPUPerSecond": {"Maximum": {"Ref": "CacheMaxEcpuPerSecond"}},
    }
    assert template["Parameters"]["CacheMaxDataStorageGB"]["Default"] == 5
    assert template["Parameters"]["CacheMaxEcpuPerSecond"]["Default"] == 20000


def test_the_network_exists_only_with_the_cache_and_creates_no_nat(resources: dict[str, Any]) -> None:
    # Given the network resources and the functions' VPC settings
    network_kinds = {"AWS::EC2::SecurityGroup", "AWS::EC2::VPCEndpoint", "AWS::ElastiCache::ServerlessCache"}
    # (The training container's security group is in ContainerVpcId, with the container engine:
    # tests/unit/deploy/test_template_container.py.)
    network = {
        name: r
        for name, r in resources.items()
        if r["Type"] in network_kinds and r.get("Condition") != "ContainerEnabled"
    }
    endpoints = _of_type(resources, "AWS::EC2::VPCEndpoint")
    # Then every one of them is created only when the cache is (endpoints: and when asked for)
    assert network
    conditions = {r.get("Condition") for r in network.values()}
    assert conditions == {
        "CacheEnabled",
        "MakeDynamoDbEndpoint",
        "MakeS3Endpoint",
        "MakeSecretsManagerEndpoint",
        "MakeFirehoseEndpoint",
        "MakeLambdaEndpoint",
        "MakeInterfaceEndpoints",
    }
    assert not [r for r in resources.values() if r["Type"] in {"AWS::EC2::NatGateway", "AWS::EC2::VPC"}]
    # And DynamoDB and S3 are reached through gateway endpoints on the subnets' route tables
    gateways = {
        r["Properties"]["ServiceName"]["Fn::Sub"].rsplit(".", 1)[-1]
        for r in endpoints.values()
        if r["Properties"]["VpcEndpointType"] == "Gateway"
    }
    assert gateways == {"dynamodb", "s3"}
    for endpoint in endpoints.values():
        if endpoint["Properties"]["VpcEndpointType"] == "Gateway":
            assert endpoint["Properties"]["RouteTableIds"] == {"Ref": "CacheRouteTableIds"}
    # And a function joins the VPC only when the cache exists
    for function in _of_type(resources, _FUNCTION).values():
        vpc = function["Properties"].get("VpcConfig")
        if vpc is not None:
            assert vpc["Fn::If"][0] == "CacheEnabled"
            assert vpc["Fn::If"][2] == {"Ref": "AWS::NoValue"}
