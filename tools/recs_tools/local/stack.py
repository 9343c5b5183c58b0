"""Provision template.yaml's resources in moto and run them in-process.

`LocalStack` reads the template, creates each resource from the template's own properties
(table keys and TTL, buckets and lifecycle rules, the Firehose stream and its S3 destination,
the state machine definition with its substitutions, the functions with their environment),
routes Lambda invocations to the real handlers, and starts a real redis-server for the cache
when one is installed. The deployed stack and the local one therefore cannot drift: a change
to the template is a change to the local stack, and a resource type the local stack does not
know is an error, not a silent omission.
"""

from __future__ import annotations

import io
import json
import logging
import os
import threading
import time
import uuid
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote_plus

from recs_tools.checkout import repo_root
from recs_tools.local.auth import RouteAuthorizer, route_authorizers
from recs_tools.local.cfn import Resolver, load_template, parameter_defaults
from recs_tools.local.container import LocalContainerJobs, route_container_jobs
from recs_tools.local.firehose_conversion import convert_deliveries
from recs_tools.local.functions import LocalFunction
from recs_tools.local.gateway_events import build_http_api_event
from recs_tools.local.lambda_shim import route_lambda_invocations
from recs_tools.local.redis_server import RedisServer, redis_binary, start_redis
from recs_tools.local.spark import LocalSparkJobs, route_spark_jobs
from recs_tools.local.table_import import import_files_read_by_json

_log = logging.getLogger(__name__)

REGION = "eu-west-1"
ACCOUNT_ID = "123456789012"
STACK_NAME = "recs-local"
#: The local stand-in for the Secrets Manager value (never used outside the local stack).
LOCAL_PSEUDONYM_KEY = "local-only-pseudonym-key-0123456789abcdef"

MOTO_CONFIG: dict[str, Any] = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
    "core": {"reset_boto3_session": True},
}

#: Resource types that have no moto counterpart locally and what stands in for them (the
#: HttpApi is recs_tools.local.http, configured by `LocalStack._http_api`).
_LOCAL_STAND_INS = {
    "AWS::Serverless::LayerVersion": "the virtualenv: the recs package and its train and arrow extras",
    # moto has no composite alarms; their rules are pinned by tests/unit/deploy/test_template_alarms.py
    # and the metric alarms they combine are created like every other.
    "AWS::CloudWatch::CompositeAlarm": "nothing: moto has no composite alarms",
}


@dataclass
class HttpRoute:
    method: str
    path: str
    function: str  # logical id
    authorizer: RouteAuthorizer | None = None  # API Gateway's JWT authorizer or IAM authorization, if any


@dataclass
class StateMachine:
    logical_id: str
    arn: str
    definition: dict[str, Any]
    schedules: list[str]


@dataclass(frozen=True)
class S3Notification:
    bucket: str  # logical id
    prefix: str
    suffix: str
    function: str  # logical id

    def matches(self, bucket: str, key: str) -> bool:
        return bucket == self.bucket and key.startswith(self.prefix) and key.endswith(self.suffix)


@dataclass
class LocalStack:
    """The whole product on moto, in this process."""

    root: Path = field(default_factory=repo_root)
    parameter_overrides: dict[str, str] = field(default_factory=dict)
    use_redis: bool = True

    template: dict[str, Any] = field(init=False, default_factory=dict)
    resolver: Resolver = field(init=False)
    functions: dict[str, LocalFunction] = field(init=False, default_factory=dict)
    routes: list[HttpRoute] = field(init=False, default_factory=list)
    state_machines: dict[str, StateMachine] = field(init=False, default_factory=dict)
    physical: dict[str, str] = field(init=False, default_factory=dict)
    #: Per HttpApi (logical id): the routes its JWT authorizer or IAM authorization protects.
    http_authorizers: dict[str, dict[tuple[str, str], RouteAuthorizer]] = field(
        init=False, default_factory=dict
    )
    #: Functions S3 invokes on uploads (template `Events` of type S3), by bucket logical id.
    s3_notifications: list[S3Notification] = field(init=False, default_factory=list)
    redis: RedisServer | None = field(init=False, default=None)
    #: The EMR Serverless job runs of the state machine's Spark path (pyspark in local mode).
    spark_jobs: LocalSparkJobs = field(init=False)
    #: The AWS Batch jobs of the state machine's container path (the entry point, in-process).
    container_jobs: LocalContainerJobs = field(init=False, default_factory=LocalContainerJobs)
    cache_note: str = field(init=False, default="")
    _exit: ExitStack = field(init=False, default_factory=ExitStack)
    _clients: dict[str, Any] = field(init=False, default_factory=dict)
    _clients_lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    _started: bool = field(init=False, default=False)
    #: (bucket, its LoggingConfiguration): applied once every bucket policy is in place.
    _access_logging: list[tuple[str, Mapping[str, Any]]] = field(init=False, default_factory=list)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> LocalStack:
        if self._started:
            return self
        from moto import mock_aws

        self.template = load_template(self.root / "template.yaml")
        overrides = {"EnableCache": "false", **self.parameter_overrides}
        self.resolver = Resolver(
            region=REGION,
            account_id=ACCOUNT_ID,
            stack_name=STACK_NAME,
            parameters=parameter_defaults(self.template, overrides),
            mappings=self.template.get("Mappings", {}),
        )
        self.resolver.evaluate_conditions(self.template.get("Conditions", {}))
        self._exit.enter_context(_fake_credentials())
        self._exit.enter_context(mock_aws(config=MOTO_CONFIG))  # type: ignore[call-overload]
        # ImportTable (a large shop's publish): moto's, reading its files with the stdlib's json.
        self._exit.enter_context(import_files_read_by_json())
        # Firehose's record format conversion (moto's delivers records as they are).
        self._exit.enter_context(convert_deliveries(self._glue_columns))
        self._start_cache()
        self._provision()
        self._exit.enter_context(route_lambda_invocations(self.functions))
        self.spark_jobs = self._exit.enter_context(route_spark_jobs(LocalSparkJobs(self._client("s3"))))
        self._exit.enter_context(route_container_jobs(self.container_jobs))
        self._started = True
        return self

    def stop(self) -> None:
        self._exit.close()
        self._clients.clear()
        if self.redis is not None:
            self.redis.stop()
            self.redis = None
        self._started = False

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _start_cache(self) -> None:
        if not self.use_redis:
            self.cache_note = "cache disabled for this stack: serving runs on the null cache"
            return
        if redis_binary() is None:
            self.cache_note = "redis-server not found: serving runs without a cache (null cache)"
            _log.warning(self.cache_note)
            return
        self.redis = start_redis()
        self.cache_note = f"cache: redis-server at {self.redis.url} (stands in for ElastiCache)"

    # ------------------------------------------------------------------ provisioning
    def _client(self, service: str) -> Any:
        """One client per service for the stack's life: clients are thread-safe, while creating
        them on boto3's default session from several threads is not, and costs ~10 ms each."""
        import boto3

        with self._clients_lock:
            if service not in self._clients:
                self._clients[service] = boto3.client(service, region_name=REGION)
            return self._clients[service]

    def _provision(self) -> None:
        resources: dict[str, Any] = self.template["Resources"]
        ordered = sorted(resources.items(), key=lambda item: _ORDER.get(item[1]["Type"], 50))
        iam = self._client("iam")
        role = iam.create_role(
            RoleName=f"{STACK_NAME}-execution",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )
        self._role_arn = role["Role"]["Arn"]
        for logical_id, resource in ordered:
            condition = resource.get("Condition")
            if condition and not self.resolver.conditions[condition]:
                continue
            kind = resource["Type"]
            creator = _CREATORS.get(kind)
            if creator is None:
                if kind in _LOCAL_STAND_INS:
                    self.resolver.refs[logical_id] = f"local-{logical_id}"
                    continue
                raise NotImplementedError(
                    f"{logical_id}: resource type {kind} is not provisioned by the local stack; "
                    "teach recs_tools.local.stack about it so local and deployed stacks stay alike"
                )
            creator(self, logical_id, resource.get("Properties", {}))
        # Last: S3 accepts a bucket's access logging only once the log bucket's policy lets the
        # logging service write to it.
        s3 = self._client("s3")
        for bucket, access_logging in self._access_logging:
            s3.put_bucket_logging(
                Bucket=bucket,
                BucketLoggingStatus={
                    "LoggingEnabled": {
                        "TargetBucket": access_logging["DestinationBucketName"],
                        "TargetPrefix": access_logging.get("LogFilePrefix", ""),
                    }
                },
            )

    def _name(self, logical_id: str, lower: bool = False) -> str:
        name = f"{STACK_NAME}-{logical_id}"
        return name.lower() if lower else name

    def _secret(self, logical_id: str, props: Mapping[str, Any]) -> None:
        name = self._name(logical_id)
        arn = self._client("secretsmanager").create_secret(Name=name, SecretString=LOCAL_PSEUDONYM_KEY)["ARN"]
        self.resolver.refs[logical_id] = arn
        self.physical[logical_id] = arn

    def _table(self, logical_id: str, props: Mapping[str, Any]) -> None:
        props = self.resolver.resolve(props)
        name = props.get("TableName") or self._name(logical_id)
        kwargs: dict[str, Any] = {
            "TableName": name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes", "ProvisionedThroughput"):
            if key in props:
                kwargs[key] = props[key]
        ddb = self._client("dynamodb")
        description = ddb.create_table(**kwargs)["TableDescription"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl:
            ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        self.resolver.refs[logical_id] = name
        self.resolver.attributes[(logical_id, "Arn")] = description["TableArn"]
        self.physical[logical_id] = name

    def _bucket(self, logical_id: str, props: Mapping[str, Any]) -> None:
        props = self.resolver.resolve(props)
        name = props.get("BucketName") or self._name(logical_id, lower=True)
        s3 = self._client("s3")
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
        lifecycle = props.get("LifecycleConfiguration")
        if lifecycle:
            s3.put_bucket_lifecycle_configuration(
                Bucket=name,
                LifecycleConfiguration={"Rules": [_lifecycle_rule(r) for r in lifecycle["Rules"]]},
            )
        if "LoggingConfiguration" in props:
            self._access_logging.append((name, props["LoggingConfiguration"]))
        self.resolver.refs[logical_id] = name
        self.resolver.attributes[(logical_id, "Arn")] = f"arn:aws:s3:::{name}"
        self.physical[logical_id] = name

    def _bucket_policy(self, logical_id: str, props: Mapping[str, Any]) -> None:
        """The bucket's policy without its TLS-only deny: moto evaluates bucket policies, but its
        in-process calls never carry aws:SecureTransport, so that deny would refuse every request
        (AWS enforces it; tests/unit/deploy pins it in the template)."""
        props = self.resolver.resolve(props)
        document = dict(props["PolicyDocument"])
        document["Statement"] = [st for st in document["Statement"] if not _tls_only_deny(st)]
        self.resolver.refs[logical_id] = f"local-{logical_id}"
        if document["Statement"]:
            self._client("s3").put_bucket_policy(Bucket=props["Bucket"], Policy=json.dumps(document))

    def _role(self, logical_id: str, props: Mapping[str, Any]) -> None:
        props = self.resolver.resolve(props)
        arn = self._client("iam").create_role(
            RoleName=self._name(logical_id),
            AssumeRolePolicyDocument=json.dumps(props["AssumeRolePolicyDocument"]),
        )["Role"]["Arn"]
        self.resolver.refs[logical_id] = self._name(logical_id)
        self.resolver.attributes[(logical_id, "Arn")] = arn

    def _kms_key(self, logical_id: str, props: Mapping[str, Any]) -> None:
        props = self.resolver.resolve(props)
        kms = self._client("kms")
        key = kms.create_key(Description=props.get("Description", ""), Policy=json.dumps(props["KeyPolicy"]))
        key_id = key["KeyMetadata"]["KeyId"]
        if props.get("EnableKeyRotation"):
            kms.enable_key_rotation(KeyId=key_id)
        self.resolver.refs[logical_id] = key_id
        self.resolver.attributes[(logical_id, "Arn")] = key["KeyMetadata"]["Arn"]
        self.physical[logical_id] = key_id

    def _topic(self, logical_id: str, props: Mapping[str, Any]) -> None:
        props = self.resolver.resolve(props)
        name = self._name(logical_id)
        attributes = {"KmsMasterKeyId": str(props["KmsMasterKeyId"])} if "KmsMasterKeyId" in props else {}
        arn = self._client("sns").create_topic(Name=name, Attributes=attributes)["TopicArn"]
        self.resolver.refs[logical_id] = arn
        self.resolver.attributes[(logical_id, "TopicName")] = name
        self.physical[logical_id] = arn

    def _subscription(self, logical_id: str, props: Mapping[str, Any]) -> None:
        props = self.resolver.resolve(props)
        self._client("sns").subscribe(
            TopicArn=props["TopicArn"], Protocol=props["Protocol"], Endpoint=props["Endpoint"]
        )

    def _log_group(self, logical_id: str, props: Mapping[str, Any]) -> None:
        props = self.resolver.resolve(props)
        name = props.get("LogGroupName") or self._name(logical_id)
        logs = self._client("logs")
        logs.create_log_group(logGroupName=name)
        if "RetentionInDays" in props:
            logs.put_retention_policy(logGroupName=name, retentionInDays=int(props["RetentionInDays"]))
        self.resolver.refs[logical_id] = name
        self.resolver.attributes[(logical_id, "Arn")] = (
            f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{name}:*"
        )
        self.physical[logical_id] = name

    def _log_stream(self, logical_id: str, props: Mapping[str, Any]) -> None:
        props = self.resolver.resolve(props)
        self._client("logs").create_log_stream(
            logGroupName=props["LogGroupName"], logStreamName=props["LogStreamName"]
        )
        self.resolver.refs[logical_id] = props["LogStreamName"]
        self.physical[logical_id] = props["LogStreamName"]

    def _alarm(self, logical_id: str, props: Mapping[str, Any]) -> None:
        props = dict(self.resolver.resolve(props))
        name = props.pop("AlarmName", None) or self._name(logical_id)
        self._client("cloudwatch").put_metric_alarm(AlarmName=name, **props)
        self.resolver.refs[logical_id] = name
        self.physical[logical_id] = name

    def _dashboard(self, logical_id: str, props: Mapping[str, Any]) -> None:
        props = self.resolver.resolve(props)
        name = props.get("DashboardName") or self._name(logical_id)
        self._client("cloudwatch").put_dashboard(DashboardName=name, DashboardBody=props["DashboardBody"])
        self.resolver.refs[logical_id] = name
        self.physical[logical_id] = name

    def _glue_database(self, logical_id: str, props: Mapping[str, Any]) -> None:
        props = self.resolver.resolve(props)
        database = dict(props["DatabaseInput"])
        self._client("glue").create_database(DatabaseInput=database)
        self.resolver.refs[logical_id] = database["Name"]
        self.physical[logical_id] = database["Name"]

    def _glue_table(self, logical_id: str, props: Mapping[str, Any]) -> None:
        props = self.resolver.resolve(props)
        table = dict(props["TableInput"])
        self._client("glue").create_table(DatabaseName=props["DatabaseName"], TableInput=table)
        self.resolver.refs[logical_id] = f"{props['DatabaseName']}|{table['Name']}"
        self.physical[logical_id] = f"{props['DatabaseName']}.{table['Name']}"

    def _glue_columns(self, database: str, table: str) -> list[dict[str, str]]:
        """A Glue table's columns, as Firehose's conversion reads its schema."""
        found = self._client("glue").get_table(DatabaseName=database, Name=table)["Table"]
        return [dict(column) for column in found["StorageDescriptor"]["Columns"]]

    def _athena_workgroup(self, logical_id: str, props: Mapping[str, Any]) -> None:
        props = self.resolver.resolve(props)
        self._client("athena").create_work_group(
            Name=props["Name"],
            Description=props.get("Description", ""),
            Configuration=dict(props.get("WorkGroupConfiguration", {})),
        )
        self.resolver.refs[logical_id] = props["Name"]
        self.physical[logical_id] = props["Name"]

    def _emr_serverless_application(self, logical_id: str, props: Mapping[str, Any]) -> None:
        """The Spark engine's application (SparkMinInteractions > 0), in moto's EMR Serverless
        backend: its id and ARN are what the state machine's substitutions and the job role's
        trust policy name."""
        props = self.resolver.resolve(props)
        auto_start = props.get("AutoStartConfiguration", {})
        auto_stop = props.get("AutoStopConfiguration", {})
        kwargs: dict[str, Any] = {
            "name": props.get("Name") or self._name(logical_id),
            "releaseLabel": props["ReleaseLabel"],
            "type": props["Type"],
            "architecture": props.get("Architecture", "X86_64"),
            "autoStartConfiguration": {"enabled": bool(auto_start.get("Enabled", True))},
            "autoStopConfiguration": {
                "enabled": bool(auto_stop.get("Enabled", True)),
                "idleTimeoutMinutes": int(auto_stop.get("IdleTimeoutMinutes", 15)),
            },
        }
        if "MaximumCapacity" in props:
            capacity = props["MaximumCapacity"]
            kwargs["maximumCapacity"] = {"cpu": capacity["Cpu"], "memory": capacity["Memory"]}
        response = self._client("emr-serverless").create_application(**kwargs)
        # Ref is the application id (CloudFormation's), as GetAtt ApplicationId.
        self.resolver.refs[logical_id] = response["applicationId"]
        self.resolver.attributes[(logical_id, "ApplicationId")] = response["applicationId"]
        self.resolver.attributes[(logical_id, "Arn")] = response["arn"]
        self.physical[logical_id] = response["applicationId"]

    # The container engine (ContainerMinInteractions > 0): Batch runs no container locally
    # (recs_tools.local.container runs the job definition's command in-process), so its compute
    # environment, queue and network are names only; the job definition is kept, resolved.
    def _batch_name_only(self, logical_id: str, props: Mapping[str, Any]) -> None:
        self.resolver.refs[logical_id] = f"arn:aws:batch:{REGION}:{ACCOUNT_ID}:local/{self._name(logical_id)}"
        self.physical[logical_id] = self.resolver.refs[logical_id]

    def _security_group(self, logical_id: str, props: Mapping[str, Any]) -> None:
        self.resolver.refs[logical_id] = f"sg-local-{logical_id.lower()}"
        self.physical[logical_id] = self.resolver.refs[logical_id]

    def _batch_job_definition(self, logical_id: str, props: Mapping[str, Any]) -> None:
        props = self.resolver.resolve(props)
        name = props.get("JobDefinitionName") or self._name(logical_id)
        arn = f"arn:aws:batch:{REGION}:{ACCOUNT_ID}:job-definition/{name}:1"
        self.container_jobs.definitions[arn] = props["ContainerProperties"]
        self.resolver.refs[logical_id] = arn
        self.physical[logical_id] = arn

    def _delivery_stream(self, logical_id: str, props: Mapping[str, Any]) -> None:
        props = self.resolver.resolve(props)
        name = props.get("DeliveryStreamName") or self._name(logical_id)
        destination = dict(props["ExtendedS3DestinationConfiguration"])
        self._client("firehose").create_delivery_stream(
            DeliveryStreamName=name,
            DeliveryStreamType=props.get("DeliveryStreamType", "DirectPut"),
            ExtendedS3DestinationConfiguration=destination,
        )
        self.resolver.refs[logical_id] = name
        self.resolver.attributes[(logical_id, "Arn")] = (
            f"arn:aws:firehose:{REGION}:{ACCOUNT_ID}:deliverystream/{name}"
        )
        self.physical[logical_id] = name

    def _function(self, logical_id: str, props: Mapping[str, Any]) -> None:
        merged = _merge_globals(self.template.get("Globals", {}).get("Function", {}), props)
        # Events become routes (`_http_api`); DeploymentPreference is CodeDeploy's (SAM turns it
        # into a deployment group naming alarms created later): neither is the function's own.
        own = {k: v for k, v in merged.items() if k not in ("Events", "DeploymentPreference")}
        resolved = self.resolver.resolve(own)
        name = resolved.get("FunctionName") or self._name(logical_id)
        environment = {
            key: "" if value is None else str(value)
            for key, value in resolved.get("Environment", {}).get("Variables", {}).items()
        }
        environment.update(self._local_environment())
        if "CACHE_URL" in environment:
            environment["CACHE_URL"] = self.redis.url if self.redis else ""
        response = self._client("lambda").create_function(
            FunctionName=name,
            Runtime=resolved.get("Runtime", "python3.12"),
            Role=self._role_arn,
            Handler=resolved["Handler"],
            Code={"ZipFile": _placeholder_zip()},
            Timeout=int(resolved.get("Timeout", 3)),
            MemorySize=int(resolved.get("MemorySize", 128)),
            Environment={"Variables": environment},
        )
        self.functions[logical_id] = LocalFunction(
            logical_id=logical_id,
            physical_name=name,
            arn=response["FunctionArn"],
            code_dir=self.root / resolved["CodeUri"],
            handler=resolved["Handler"],
            environment=environment,
            memory_mb=int(resolved.get("MemorySize", 128)),
            timeout_seconds=int(resolved.get("Timeout", 3)),
        )
        self.resolver.refs[logical_id] = name
        self.resolver.attributes[(logical_id, "Arn")] = response["FunctionArn"]
        self.physical[logical_id] = name
        for event in (props.get("Events") or {}).values():
            if event.get("Type") == "S3":
                # moto does not invoke functions on uploads: `upload` does, as S3 would.
                source = event["Properties"]
                rules = source.get("Filter", {}).get("S3Key", {}).get("Rules", [])
                filters = {rule["Name"]: rule["Value"] for rule in rules}
                bucket = source["Bucket"]["Ref"]
                self.s3_notifications.append(
                    S3Notification(bucket, filters.get("prefix", ""), filters.get("suffix", ""), logical_id)
                )
            elif event.get("Type") == "HttpApi":
                route = event["Properties"]
                if "Auth" in route:
                    raise NotImplementedError(f"{logical_id}: per-event Auth is not emulated locally")
                method, path = route["Method"].upper(), route["Path"]
                api = (route.get("ApiId") or {}).get("Ref", "")
                authorizer = self.http_authorizers.get(api, {}).get((method, path))
                self.routes.append(HttpRoute(method, path, logical_id, authorizer))

    def _http_api(self, logical_id: str, props: Mapping[str, Any]) -> None:
        """The HttpApi is served by recs_tools.local.http; its JWT authorizer comes from the
        DefinitionBody's security requirements (conditions resolved, as CloudFormation would)."""
        if "Auth" in props:
            raise NotImplementedError(f"{logical_id}: the Auth property is not emulated locally")
        body = self.resolver.resolve(props.get("DefinitionBody") or {})
        self.http_authorizers[logical_id] = route_authorizers(body)
        self.resolver.refs[logical_id] = f"local-{logical_id}"

    def _local_environment(self) -> dict[str, str]:
        return {
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": os.environ.get("POWERTOOLS_METRICS_DISABLED", "false"),
            "POWERTOOLS_DEV": os.environ.get("POWERTOOLS_DEV", "false"),
        }

    def _state_machine(self, logical_id: str, props: Mapping[str, Any]) -> None:
        definition_text = (self.root / props["DefinitionUri"]).read_text(encoding="utf-8")
        substitutions = self.resolver.resolve(props.get("DefinitionSubstitutions", {}))
        for key, value in substitutions.items():
            definition_text = definition_text.replace("${" + key + "}", str(value))
        definition = json.loads(definition_text)
        name = self._name(logical_id)
        arn = self._client("stepfunctions").create_state_machine(
            name=name,
            definition=json.dumps(definition),
            roleArn=self._role_arn,
            type=props.get("Type", "STANDARD"),
        )["stateMachineArn"]
        schedules = [
            str(self.resolver.resolve(event["Properties"].get("ScheduleExpression")))
            for event in (props.get("Events") or {}).values()
            if event.get("Type") in ("Schedule", "ScheduleV2")
        ]
        self.state_machines[logical_id] = StateMachine(logical_id, arn, definition, schedules)
        self.resolver.refs[logical_id] = arn
        self.physical[logical_id] = arn

    # ------------------------------------------------------------------ using the stack
    def function(self, logical_id: str) -> LocalFunction:
        return self.functions[logical_id]

    def invoke(self, logical_id: str, event: Any) -> Any:
        """Invoke a function's handler directly (what `sam local invoke -e` does)."""
        return self.functions[logical_id].invoke(event)

    def upload(self, bucket_logical_id: str, key: str, body: bytes) -> list[Any]:
        """Put an object, then call the functions the template subscribes to it, with the
        notification S3 sends (moto stores the object but never invokes). Returns their results."""
        bucket = self.physical[bucket_logical_id]
        self._client("s3").put_object(Bucket=bucket, Key=key, Body=body)
        event = {
            "Records": [
                {
                    "eventVersion": "2.1",
                    "eventSource": "aws:s3",
                    "awsRegion": REGION,
                    "eventTime": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                    "eventName": "ObjectCreated:Put",
                    "userIdentity": {"principalId": "local"},
                    "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                    "responseElements": {"x-amz-request-id": "local", "x-amz-id-2": "local"},
                    "s3": {
                        "s3SchemaVersion": "1.0",
                        "configurationId": "local",
                        "bucket": {
                            "name": bucket,
                            "ownerIdentity": {"principalId": "local"},
                            "arn": f"arn:aws:s3:::{bucket}",
                        },
                        "object": {
                            "key": quote_plus(key),
                            "size": len(body),
                            "eTag": "local",
                            "sequencer": "0",
                        },
                    },
                }
            ]
        }
        return [
            self.invoke(notification.function, event)
            for notification in self.s3_notifications
            if notification.matches(bucket_logical_id, key)
        ]

    def post_events(self, body: Any, content_type: str = "application/json") -> dict[str, Any]:
        """POST /api/events through the real ingest handler, as API Gateway delivers it."""
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        event = build_http_api_event(
            method="POST",
            raw_path="/api/events",
            raw_query="",
            headers={"content-type": content_type},
            body=raw,
            route_path="/api/events",
            path_parameters={},
        )
        response: dict[str, Any] = self.invoke("IngestFunction", event)
        return response

    def cold_start(self, logical_ids: Iterable[str]) -> None:
        """Load these functions' modules now, in this thread.

        A cold start applies the function's environment to the process for the length of its
        module's initialisation (`patched_environ`). Done inside a running execution, it would
        race with the execution's other branches, whose boto3 clients walk the environment:
        a key removed mid-walk fails that branch with KeyError (States.Runtime under moto).
        """
        for logical_id in logical_ids:
            self.functions[logical_id].load()

    def functions_invoked_by(self, logical_id: str) -> list[str]:
        """The functions (logical ids) a state machine's definition names, by name or ARN."""
        named = set(_strings_in(self.state_machines[logical_id].definition))
        return [
            function_id
            for function_id, function in self.functions.items()
            if function.physical_name in named or function.arn in named
        ]

    def start_execution(self, logical_id: str = "TrainingStateMachine", payload: Any = None) -> str:
        """Start a state machine execution (EventBridge schedules never fire under moto)."""
        machine = self.state_machines[logical_id]
        self.cold_start(self.functions_invoked_by(logical_id))
        # EventBridge Scheduler names executions itself; moto needs an explicit, unique name.
        name = f"local-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
        response = self._client("stepfunctions").start_execution(
            stateMachineArn=machine.arn, name=name, input=json.dumps(payload or {"trigger": "local"})
        )
        execution_arn: str = response["executionArn"]
        return execution_arn

    def wait_execution(self, execution_arn: str, timeout_seconds: float = 600.0) -> dict[str, Any]:
        sfn = self._client("stepfunctions")
        deadline = time.monotonic() + timeout_seconds
        delay = 0.05
        while True:
            description: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
            if description["status"] != "RUNNING":
                return description
            if time.monotonic() > deadline:
                raise TimeoutError(f"execution {execution_arn} still running after {timeout_seconds} s")
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)

    def run_training(self, payload: Any = None, timeout_seconds: float = 600.0) -> dict[str, Any]:
        return self.wait_execution(self.start_execution(payload=payload), timeout_seconds)

    def execution_history(self, execution_arn: str) -> list[dict[str, Any]]:
        sfn = self._client("stepfunctions")
        events: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"executionArn": execution_arn}
        while True:
            page = sfn.get_execution_history(**kwargs)
            events.extend(page["events"])
            if not page.get("nextToken"):
                return events
            kwargs["nextToken"] = page["nextToken"]

    def client(self, service: str) -> Any:
        return self._client(service)


def _merge_globals(globals_: Mapping[str, Any], props: Mapping[str, Any]) -> dict[str, Any]:
    """SAM's Globals merge: maps merge (function wins), scalars and lists are replaced."""
    merged: dict[str, Any] = dict(globals_)
    for key, value in props.items():
        if key == "Environment" and "Environment" in merged:
            variables = {**merged["Environment"].get("Variables", {}), **value.get("Variables", {})}
            merged["Environment"] = {"Variables": variables}
        else:
            merged[key] = value
    return merged


def _tls_only_deny(statement: Mapping[str, Any]) -> bool:
    condition = statement.get("Condition", {})
    return statement.get("Effect") == "Deny" and "aws:SecureTransport" in condition.get("Bool", {})


def _lifecycle_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    """CloudFormation's lifecycle rule shape to the S3 API's."""
    converted: dict[str, Any] = {"ID": rule.get("Id", "rule"), "Status": rule.get("Status", "Enabled")}
    converted["Filter"] = {"Prefix": rule.get("Prefix", "")}
    if "ExpirationInDays" in rule:
        converted["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    if "NoncurrentVersionExpirationInDays" in rule:
        converted["NoncurrentVersionExpiration"] = {
            "NoncurrentDays": int(rule["NoncurrentVersionExpirationInDays"])
        }
    return converted


def _placeholder_zip() -> bytes:
    """moto needs a code package; the shim runs the real handler from CodeUri instead."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "app.py", "def lambda_handler(event, context):\n    raise RuntimeError('shim not active')\n"
        )
    return buffer.getvalue()


def _strings_in(value: Any) -> Iterator[str]:
    """Every string anywhere in a JSON document."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings_in(item)


class _fake_credentials:  # noqa: N801 - used as a context manager
    """moto intercepts every call, but botocore still wants credentials to sign with."""

    _VALUES: ClassVar[dict[str, str]] = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }

    def __enter__(self) -> None:
        self._saved = {key: os.environ.get(key) for key in self._VALUES}
        os.environ.update(self._VALUES)

    def __exit__(self, *exc: object) -> None:
        for key, old in self._saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


_CREATORS: dict[str, Any] = {
    "AWS::SecretsManager::Secret": LocalStack._secret,
    "AWS::KMS::Key": LocalStack._kms_key,
    "AWS::DynamoDB::Table": LocalStack._table,
    "AWS::S3::Bucket": LocalStack._bucket,
    "AWS::S3::BucketPolicy": LocalStack._bucket_policy,
    "AWS::IAM::Role": LocalStack._role,
    "AWS::SNS::Topic": LocalStack._topic,
    "AWS::SNS::Subscription": LocalStack._subscription,
    "AWS::KinesisFirehose::DeliveryStream": LocalStack._delivery_stream,
    "AWS::Logs::LogGroup": LocalStack._log_group,
    "AWS::Logs::LogStream": LocalStack._log_stream,
    "AWS::CloudWatch::Alarm": LocalStack._alarm,
    "AWS::CloudWatch::Dashboard": LocalStack._dashboard,
    "AWS::Glue::Database": LocalStack._glue_database,
    "AWS::Glue::Table": LocalStack._glue_table,
    "AWS::Athena::WorkGroup": LocalStack._athena_workgroup,
    "AWS::EMRServerless::Application": LocalStack._emr_serverless_application,
    "AWS::EC2::SecurityGroup": LocalStack._security_group,
    "AWS::Batch::ComputeEnvironment": LocalStack._batch_name_only,
    "AWS::Batch::JobQueue": LocalStack._batch_name_only,
    "AWS::Batch::JobDefinition": LocalStack._batch_job_definition,
    "AWS::Serverless::Function": LocalStack._function,
    "AWS::Serverless::HttpApi": LocalStack._http_api,
    "AWS::Serverless::StateMachine": LocalStack._state_machine,
}

#: Creation order: what others refer to first.
_ORDER = {
    "AWS::SecretsManager::Secret": 0,
    "AWS::KMS::Key": 1,
    "AWS::IAM::Role": 3,
    "AWS::DynamoDB::Table": 2,
    "AWS::S3::Bucket": 2,
    "AWS::S3::BucketPolicy": 3,
    "AWS::SNS::Topic": 3,
    "AWS::SNS::Subscription": 4,
    "AWS::KinesisFirehose::DeliveryStream": 5,
    "AWS::Logs::LogGroup": 2,
    "AWS::Logs::LogStream": 2,
    "AWS::CloudWatch::Alarm": 9,
    "AWS::CloudWatch::Dashboard": 9,
    # Before the IAM roles: the delivery stream's role names the database (its schema's).
    "AWS::Glue::Database": 2,
    "AWS::Glue::Table": 3,
    "AWS::Athena::WorkGroup": 4,
    # Before the IAM roles: the Spark job role's trust policy names the application's ARN.
    "AWS::EMRServerless::Application": 2,
    # The container engine: its job definition names the roles and the log group.
    "AWS::EC2::SecurityGroup": 2,
    "AWS::Batch::ComputeEnvironment": 3,
    "AWS::Batch::JobQueue": 4,
    "AWS::Batch::JobDefinition": 5,
    "AWS::Serverless::LayerVersion": 6,
    "AWS::Serverless::HttpApi": 6,
    "AWS::Serverless::Function": 7,
    "AWS::Serverless::StateMachine": 8,
}
