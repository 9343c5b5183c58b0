"""Monthly cost model of a deployed stack, by service, at a given number of monthly active users.

    python -m recs_tools.deploy.cost                 # the tables of docs/deploy.md (10k to 100M MAU)
    python -m recs_tools.deploy.cost --mau 250000    # one scale

Every figure is arithmetic on the `Assumptions` (traffic per MAU, sizes, the stack's settings)
and the `Prices` below, so the documented numbers are generated, never typed. The prices are
AWS's published on-demand list prices for eu-west-1 in USD as the author knew them (no free
tier, no savings plans); this machine has no internet access to check them, so re-check them
on aws.amazon.com/pricing before relying on a figure. Row sizes are measured with the code that
writes the rows (recs.store_layout).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from recs.store_layout import encode_items, list_row
from recs_tools.checkout import repo_root

#: The committed results the measured assumptions come from (python -m bench --full --only
#: prepare_speed training_scale).
PREPARE_RESULTS = ("bench", "results", "prepare_speed.json")
TRAINING_RESULTS = ("bench", "results", "training_scale.json")
SPARK_RESULTS = ("bench", "results", "spark_quality.json")
HOURS_PER_MONTH = 730.0
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600
DAYS_PER_MONTH = 30.4
KB = 1024
GB = 1024**3


@dataclass(frozen=True)
class Prices:
    """USD list prices, eu-west-1 unless marked (us-east-1) in the field's comment."""

    lambda_requests_per_million: float = 0.20
    lambda_gb_second: float = 0.0000166667  # x86_64
    snapstart_cache_gb_second: float = 0.0000015046  # Python SnapStart cache (us-east-1)
    snapstart_restore_gb: float = 0.0001397998  # per GB restored (us-east-1)
    http_api_per_million: float = 1.11  # first 300M requests a month
    http_api_per_million_after_300m: float = 1.00
    dynamodb_write_units_per_million: float = 0.7068  # on demand
    dynamodb_read_units_per_million: float = 0.1415  # on demand
    dynamodb_storage_gb_month: float = 0.283
    dynamodb_pitr_gb_month: float = 0.2264
    s3_standard_gb_month: float = 0.023
    s3_put_per_thousand: float = 0.005
    s3_get_per_thousand: float = 0.0004
    firehose_ingested_gb: float = 0.031  # Direct PUT, each record rounded up to 5 KB
    # JSON to Parquet (the lake's record format conversion), per GB ingested, in the same 5 KB steps.
    firehose_format_conversion_gb: float = 0.018  # (us-east-1)
    step_functions_per_thousand_transitions: float = 0.025
    valkey_serverless_gb_hour: float = 0.0837  # ElastiCache Serverless for Valkey (us-east-1 0.084)
    valkey_serverless_per_million_ecpu: float = 0.0023  # (us-east-1)
    interface_endpoint_az_hour: float = 0.011
    interface_endpoint_gb: float = 0.01
    cloudwatch_logs_ingested_gb: float = 0.57
    cloudwatch_logs_stored_gb_month: float = 0.03
    cloudwatch_metric_month: float = 0.30
    cloudwatch_alarm_metric_month: float = 0.10
    cloudwatch_composite_alarm_month: float = 0.50
    kms_key_month: float = 1.00  # the alerts topic's customer managed key (requests: a few a day)
    nat_gateway_hour: float = 0.048  # per NAT gateway (one per AZ)
    nat_gateway_gb: float = 0.048  # data processed
    cloudwatch_dashboard_month: float = 3.00
    xray_traces_per_million: float = 5.00
    secrets_manager_secret_month: float = 0.40
    secrets_manager_per_10k_calls: float = 0.05
    data_transfer_out_gb: float = 0.09
    emr_serverless_vcpu_hour: float = 0.052624  # x86_64 (us-east-1)
    emr_serverless_gb_hour: float = 0.0057785  # (us-east-1)
    # AWS Batch adds nothing to the Fargate task it runs (Linux, x86_64, per second, 1 min minimum).
    fargate_vcpu_hour: float = 0.04656
    fargate_gb_hour: float = 0.00511
    # ImportTable: per GB of uncompressed source data (the import files' DynamoDB JSON), most regions.
    dynamodb_import_gb: float = 0.15


@dataclass(frozen=True)
class Assumptions:
    """What one monthly active user (MAU) causes, and the stack's settings that drive cost."""

    recommendation_requests_per_mau: float = 20.0  # 4 visits x 5 pages showing a list
    events_per_mau: float = 60.0  # views, clicks, carts, purchases, searches
    events_per_post: float = 5.0  # the shop's tracker batches events
    privacy_requests_per_mau: float = 0.01
    # Lambda: memory (template.yaml) and mean billed duration per invocation (assumed).
    recommend_memory_gb: float = 1.0
    recommend_ms: float = 12.0
    ingest_memory_gb: float = 1.0
    ingest_ms: float = 25.0
    privacy_memory_gb: float = 0.5
    privacy_ms: float = 40.0
    cold_start_share: float = 0.001  # SnapStart restores per recommend request
    # DynamoDB per request (eventually consistent reads of rows up to 4 KB are 0.5 read units).
    recommend_read_units: float = 1.5  # user or session row, preference, shop-wide list
    ingest_read_units: float = 1.0  # preference and session rows (BatchGetItem)
    ingest_write_units: float = 1.0  # the session row: under 1 KB up to about 15 products (100: 6 units)
    # Training: daily, over training_window_days; every list rewritten each run (no skipping).
    training_runs_per_month: float = DAYS_PER_MONTH
    training_window_days: float = 90.0
    share_of_mau_with_lists: float = 1.0
    products_per_mau: float = 0.02  # catalog size: 10k MAU -> 200 products, 10M -> 200k (capped)
    max_products: float = 500_000
    top_k: int = 100  # items per user list (recs.training.parameters)
    similar_k: int = 50  # items per similar / bought-together list
    product_id_chars: int = 10  # e.g. sku_123456
    version_ttl_days: float = 30.0  # rows of a version stay this long (TTL)
    shard_users: float = 20_000.0
    # The largest size the Train step was measured at, inside one Lambda's 900 s with its search
    # budget spent (docs/training.md, Scale; docs/benchmarks.md, Training scale): beyond it, the
    # column prices a deployment that needs the scale path, not today's training.
    max_trainable_users: float = 1_000_000.0
    train_memory_gb: float = 10.0
    # Prepare runs on its own function (template.yaml PrepareFunction: pyarrow does not fit beside
    # scipy), with the training function's memory and the same measured throughput.
    prepare_memory_gb: float = 10.0
    # User shards publish on their own function (template.yaml PublishFunction, 1,769 MB: one
    # vCPU); top-K was measured on this 2-core machine, so a shard ranks about 2x slower there.
    publish_memory_gb: float = 1769 / 1024
    publish_cpu_factor: float = 2.0
    # Prepare, measured by bench/prepare_speed.py (`from_benchmarks` reads its committed result,
    # over the lake as Firehose writes it now: Parquet objects): a day's lake objects decoded per
    # CPU second, the kept days read from Parquet (and the window's interactions built) per
    # second, and the kept copy's bytes per event. A daily run decodes one day and reads the rest
    # of the window from the kept days (docs/training.md, Prepare).
    prepare_decoded_events_per_second: float = 500_000.0
    # The same over a small shop's deliveries (objects of 256 KiB of JSON, the smaller first run's
    # lake cut finely): Firehose closes an object every buffer interval however little it holds,
    # so a shop whose interval's JSON is less than the objects the rate above was measured on
    # (8 MiB) is priced at this one (conservative for deliveries between the two sizes).
    prepare_small_objects_events_per_second: float = 250_000.0
    prepare_measured_object_bytes: float = float(8 << 20)
    firehose_buffer_seconds: float = 60.0  # template.yaml BufferingHints.IntervalInSeconds
    prepare_kept_events_per_second: float = 2_000_000.0
    kept_day_bytes_per_event: float = 60.0
    # Prepare's peak memory per event of the window (its largest measured first run: the window's
    # interactions are all held at once), and PrepareInContainer's attempt limit: what decides
    # whether one training container can prepare a window past one Lambda's 900 s.
    prepare_peak_bytes_per_event: float = 111.4
    prepare_container_timeout_seconds: float = 7_140.0
    train_seconds_per_million_interactions: float = (124.2 + 66.7) / 40.0  # train + evaluate
    topk_seconds_per_million_users: float = 62.9
    rows_written_per_second: float = 1_000.0  # per publish invocation (assumed)
    # The Spark engine (beyond max_trainable_users): measured core-seconds of one ALS iteration
    # per million matrix entries in local mode (bench/spark_quality.py), times an assumed factor
    # for a cluster's shuffles and executor starts, with EMR Serverless's 4 GB per vCPU; each run
    # fits two parts (the window and the holdout's training part) of ``als_iterations`` each.
    spark_core_seconds_per_iteration_per_million_entries: float = 5.3
    spark_cluster_overhead: float = 2.0  # assumed
    spark_gb_per_vcpu: float = 4.0
    als_iterations: int = 15
    # The container engine (past one Lambda, within one large machine): template.yaml's default
    # task (Fargate's largest, ContainerVcpu / ContainerMemoryMiB) for at most TrainInContainer's
    # timeout. Train's peak memory per million interactions is measured at the largest size
    # (bench/training_scale.py); that it grows in proportion beyond it is assumed, as is keeping
    # a tenth of the task's memory free. Time is priced at the measured rate of the 2-thread
    # benchmark (more vCPUs shorten it: conservative) plus the search budget and a task start.
    container_vcpu: float = 16.0
    container_memory_gb: float = 120.0
    container_timeout_seconds: float = 14_400.0
    container_memory_headroom: float = 0.9  # assumed
    container_start_seconds: float = 120.0  # assumed: Fargate placement and the image pull
    train_peak_mib_per_million_interactions: float = 226.6
    search_budget_seconds: float = 300.0  # recs.training.parameters tuning_budget_seconds
    # ImportTable publishing (template.yaml ImportTableMinUsers; 0, its default, never imports):
    # a run with at least this many users imports their rows into a table of its own instead of
    # writing them (the item lists are still written). The table's storage is priced as the
    # model table's (assumed: a version's rows, kept while it serves).
    import_table_min_users: float = 0.0
    purge_seconds_per_run: float = 10.0
    purge_memory_gb: float = 2.9375  # 3008 MB
    interactions_per_user: float = 40.0
    # Storage.
    lake_bytes_per_event: float = 354.0  # as ingest sends it to Firehose (JSON; docs/training.md)
    # What the lake stores per event: Firehose's Parquet (Snappy) of those records, measured by
    # bench/prepare_speed.py on its lake (`from_benchmarks`).
    lake_stored_bytes_per_event: float = 34.4
    raw_event_retention_days: float = 400.0
    artifact_bytes_per_list: float = 1_500.0  # a version's lists and factors in S3
    artifact_retention_days: float = 60.0
    session_row_bytes: float = 500.0
    # Observability.
    log_bytes_per_recommend: float = 900.0  # the served line and the platform's report line
    log_bytes_per_ingest: float = 600.0
    log_retention_days: float = 30.0
    # EMF metrics x dimension combinations: (context, source, variant) about 120, latency by cache
    # outcome 6, the recommend function's whole-service counts 5, VersionsPublished 1,
    # SearchStoppedByDeadline 1.
    custom_metrics: float = 133.0
    access_log_bytes_per_request: float = 350.0  # one S3 server access log record
    alarm_metrics: float = 40.0  # metrics watched by template.yaml's alarms
    composite_alarms: float = 2.0  # template.yaml's burn-rate alarms
    xray_reservoir_per_month: float = SECONDS_PER_MONTH  # 1 trace a second, then 5%
    xray_sampled_share: float = 0.05
    response_bytes: float = 1_500.0
    secret_reads_per_million_requests: float = 20.0  # one per new container
    # The optional cache (EnableCache=true).
    cache_hit_rate: float = 0.8
    cached_share_of_user_lists: float = 0.2
    cache_minimum_gb: float = 0.1
    ecpu_per_recommend: float = 3.0
    interface_endpoints: float = 3.0  # Secrets Manager, Firehose, Lambda (gateway endpoints are free)
    availability_zones: float = 2.0
    # With the cache and caller authorization: the subnets' NAT gateways (yours: the stack makes none).
    nat_gb_per_month: float = 1.0  # the issuer's discovery and keys, fetched hourly per container


def user_row_bytes(a: Assumptions) -> int:
    """A user's top-K row as training writes it (recs.store_layout.list_row), in bytes."""
    return _row_bytes(a.top_k, a.product_id_chars, "U#" + "p" * 43)


def product_row_bytes(a: Assumptions) -> int:
    return _row_bytes(a.similar_k, a.product_id_chars, "SIM#" + "s" * a.product_id_chars)


def _row_bytes(k: int, id_chars: int, pk: str) -> int:
    items = [("s" * id_chars, 0.12345, "similar-users") for _ in range(k)]
    row = list_row(pk, "v20261126T030000-abcdef", items, "2026-11-26T03:00:00Z", 1_800_000_000)
    assert row["d"] == encode_items(items)
    return sum(len(str(key)) + len(str(value)) for key, value in row.items())


def write_units(row_bytes: float) -> int:
    """DynamoDB bills a write per started KB."""
    return max(1, math.ceil(row_bytes / KB))


@dataclass(frozen=True)
class Traffic:
    recommend: float
    event_posts: float
    events: float
    privacy: float

    @property
    def api(self) -> float:
        return self.recommend + self.event_posts + self.privacy


def traffic(mau: float, a: Assumptions) -> Traffic:
    events = mau * a.events_per_mau
    return Traffic(
        recommend=mau * a.recommendation_requests_per_mau,
        event_posts=events / a.events_per_post,
        events=events,
        privacy=mau * a.privacy_requests_per_mau,
    )


@dataclass(frozen=True)
class Publish:
    """One training run's publish: rows, write units and seconds."""

    user_lists: float
    product_lists: float
    write_units: float
    seconds: float


def publish(mau: float, a: Assumptions, changed_share: float = 1.0) -> Publish:
    """The rows a run writes; `changed_share` models writing only the lists that changed."""
    users = mau * a.share_of_mau_with_lists
    products = min(mau * a.products_per_mau, a.max_products)
    user_lists = users * changed_share
    # Similar items and bought together per product, and the user's PURCHASED row (small).
    product_lists = 2 * products * changed_share
    units = (
        user_lists * write_units(user_row_bytes(a))
        + product_lists * write_units(product_row_bytes(a))
        + users * changed_share
    )
    seconds = (user_lists * 2 + product_lists) / a.rows_written_per_second
    return Publish(user_lists, product_lists, units, seconds)


def train_run_seconds(mau: float, a: Assumptions) -> float:
    """The Train and Evaluate steps of one run at the measured rate, the parameter search aside."""
    interactions = mau * a.share_of_mau_with_lists * a.interactions_per_user
    return interactions / 1e6 * a.train_seconds_per_million_interactions


def max_container_interactions(a: Assumptions) -> float:
    """The most interactions one training container holds: its memory (less the headroom) at
    Train's measured peak per interaction, and Train and Evaluate within the task's timeout."""
    by_memory = (
        a.container_memory_gb * 1024 * a.container_memory_headroom / a.train_peak_mib_per_million_interactions
    )
    seconds = a.container_timeout_seconds - a.container_start_seconds - a.search_budget_seconds
    by_time = seconds / a.train_seconds_per_million_interactions
    return min(by_memory, by_time) * 1e6


def training_engine(mau: float, a: Assumptions) -> str:
    """What trains this size (the stack's thresholds set accordingly): the training function up to
    the users one Train step was measured to handle, then the training container while the window
    fits one large machine (ContainerMinInteractions), then Spark (SparkMinInteractions)."""
    users = mau * a.share_of_mau_with_lists
    if users <= a.max_trainable_users:
        return "lambda"
    if users * a.interactions_per_user <= max_container_interactions(a):
        return "container"
    return "spark"


def trains_on_spark(mau: float, a: Assumptions) -> bool:
    """Whether the size needs the Spark engine: past what one large machine holds."""
    return training_engine(mau, a) == "spark"


def trains_in_container(mau: float, a: Assumptions) -> bool:
    return training_engine(mau, a) == "container"


def container_run_seconds(mau: float, a: Assumptions) -> float:
    """One run's training container: its start, the search budget, Train and Evaluate."""
    return a.container_start_seconds + a.search_budget_seconds + train_run_seconds(mau, a)


def container_run_cost(mau: float, a: Assumptions, p: Prices, seconds: float | None = None) -> float:
    """USD of one run's Fargate task (AWS Batch bills nothing on top), per second, 1 min minimum:
    Train and Evaluate's, or a task of ``seconds``."""
    hours = max(60.0, container_run_seconds(mau, a) if seconds is None else seconds) / 3600
    return hours * (a.container_vcpu * p.fargate_vcpu_hour + a.container_memory_gb * p.fargate_gb_hour)


def import_line_bytes(a: Assumptions) -> int:
    """A user's row as an ImportTable file line (recs.adapters.dynamodb_import, uncompressed: what
    ImportTable bills), in bytes."""
    import gzip

    from recs.adapters.dynamodb_import import DynamoListsTables

    items = [("s" * a.product_id_chars, 0.12345, "similar-users") for _ in range(a.top_k)]
    row = list_row("U#" + "p" * 43, "v20261126T030000-abcdef", items, "2026-11-26T03:00:00Z", 1_800_000_000)
    return len(gzip.decompress(DynamoListsTables(None, "bucket").import_file([row])))


def imports_users(mau: float, a: Assumptions) -> bool:
    users = mau * a.share_of_mau_with_lists
    return a.import_table_min_users > 0 and users >= a.import_table_min_users


def spark_vcpu_seconds(mau: float, a: Assumptions) -> float:
    """vCPU-seconds of one run's Spark job: both parts, every iteration, the cluster factor."""
    entries = mau * a.share_of_mau_with_lists * a.interactions_per_user
    return (
        2 * entries / 1e6 * a.als_iterations
        * a.spark_core_seconds_per_iteration_per_million_entries * a.spark_cluster_overhead
    )  # fmt: skip


def prepare_fits_one_lambda(mau: float, a: Assumptions) -> bool:
    """A daily Prepare within the function's 900 s, and the window within its memory (less the
    headroom kept free, as for the container) at Prepare's measured peak per event."""
    in_time = prepare_daily_seconds(mau, a) <= LAMBDA_SECONDS
    return in_time and prepare_peak_gb(mau, a) <= a.prepare_memory_gb * a.container_memory_headroom


def events_per_day(mau: float, a: Assumptions) -> float:
    return traffic(mau, a).events / DAYS_PER_MONTH


def events_in_window(mau: float, a: Assumptions) -> float:
    return events_per_day(mau, a) * a.training_window_days


def prepare_peak_gb(mau: float, a: Assumptions) -> float:
    """Prepare's peak memory at the measured bytes per event of the window (assumed to grow in
    proportion beyond the largest size measured)."""
    return events_in_window(mau, a) * a.prepare_peak_bytes_per_event / GB


def prepare_engine(mau: float, a: Assumptions) -> str:
    """Where Prepare runs (PrepareContainerMinLakeBytes set accordingly): the prepare function
    while a daily run fits its 900 s; then the training container while the window fits the
    task's memory (less the headroom) at Prepare's measured peak per event and a first run over
    the window its attempt limit; beyond that, nothing built ("beyond")."""
    if prepare_fits_one_lambda(mau, a):
        return "lambda"
    first_run = a.container_start_seconds + prepare_first_run_seconds(mau, a)
    fits_memory = prepare_peak_gb(mau, a) <= a.container_memory_gb * a.container_memory_headroom
    if fits_memory and first_run <= a.prepare_container_timeout_seconds:
        return "container"
    return "beyond"


def prepare_first_run_seconds(mau: float, a: Assumptions) -> float:
    """A first Prepare over the window (one vCPU): every lake event decoded, at the rate of the
    shop's deliveries (`prepare_decode_rate`)."""
    return events_in_window(mau, a) / prepare_decode_rate(events_per_day(mau, a), a)


def prepare_container_run_seconds(mau: float, a: Assumptions) -> float:
    """One daily Prepare in the training container: its start and the run."""
    return a.container_start_seconds + prepare_daily_seconds(mau, a)


def prepare_daily_seconds(mau: float, a: Assumptions) -> float:
    """One daily Prepare over the shop's window (one vCPU), wherever it runs (`prepare_run_seconds`)."""
    return prepare_run_seconds(events_in_window(mau, a), events_per_day(mau, a), a)


_ENGINES = {
    "lambda": "one Lambda per step",
    "container": "one Fargate task (AWS Batch) for Train and Evaluate, Lambdas for the rest",
    "spark": "Spark (EMR Serverless) for ALS, Lambdas for the rest",
}


def engine(mau: float, a: Assumptions) -> str:
    """What trains this size: one Lambda per step, one large machine for Train and Evaluate, Spark
    for the factorization, or beyond them (a Prepare past one Lambda)."""
    trains = _ENGINES[training_engine(mau, a)]
    where = prepare_engine(mau, a)
    if where == "lambda":
        return trains
    if where == "container":
        return f"{trains}; Prepare in the training container too (a Fargate task of its own)"
    return (
        f"{trains}; Prepare past one Lambda and past one training container "
        f"({prepare_peak_gb(mau, a):,.0f} GB at its measured peak per event; not built)"
    )


def fits_one_lambda(mau: float, a: Assumptions) -> bool:
    """Whether today's workflow trains this size: the Train step's users within what was measured,
    and a daily Prepare within one invocation."""
    return mau * a.share_of_mau_with_lists <= a.max_trainable_users and prepare_fits_one_lambda(mau, a)


def prepare_run_seconds(window_events: float, day_events: float, a: Assumptions) -> float:
    """One daily Prepare: the day that closed since the last run decoded from the lake's objects,
    the other days of the window read from their kept Parquet."""
    new = min(day_events, window_events)
    return new / prepare_decode_rate(day_events, a) + (window_events - new) / a.prepare_kept_events_per_second


def delivery_bytes(day_events: float, a: Assumptions) -> float:
    """The JSON one Firehose delivery of a shop of ``day_events`` a day holds: a buffer interval's."""
    return day_events / 86_400.0 * a.firehose_buffer_seconds * a.lake_bytes_per_event


def prepare_decode_rate(day_events: float, a: Assumptions) -> float:
    """Lake events decoded per CPU second for a shop of ``day_events`` a day: the small objects'
    rate where its deliveries are smaller than the objects the main rate was measured on."""
    if delivery_bytes(day_events, a) >= a.prepare_measured_object_bytes:
        return a.prepare_decoded_events_per_second
    return min(a.prepare_small_objects_events_per_second, a.prepare_decoded_events_per_second)


def monthly_cost(
    mau: float, a: Assumptions, p: Prices, *, cache: bool = False, changed_share: float = 1.0
) -> dict[str, float]:
    """USD per month by service (cache: the EnableCache=true additions)."""
    t = traffic(mau, a)
    run = publish(mau, a, changed_share)
    runs = a.training_runs_per_month
    products = min(mau * a.products_per_mau, a.max_products)
    users = mau * a.share_of_mau_with_lists
    window_events = events_in_window(mau, a)
    interactions = users * a.interactions_per_user
    shards = math.ceil(users / a.shard_users) + 1

    invocations = t.recommend + t.event_posts + t.privacy + runs * (6 + shards)
    # The prepare function: the new day decoded, the rest of the window read from the kept days;
    # a window past it prepares in the training container instead (priced with Batch below).
    prepares_in_container = prepare_engine(mau, a) == "container"
    prepare_seconds = 0.0 if prepares_in_container else prepare_daily_seconds(mau, a)
    # The train function: train, evaluate, and the item shard's writes.
    # Train and Evaluate on the training function, unless the training container runs them.
    container = trains_in_container(mau, a)
    train_seconds = (
        0.0 if container else interactions / 1e6 * a.train_seconds_per_million_interactions
    ) + run.product_lists / a.rows_written_per_second
    # The publish function: each user shard ranks its users and writes their rows.
    # (An imported run's shards write import files instead of rows: priced as writing, assumed.)
    publish_seconds = (
        users / 1e6 * a.topk_seconds_per_million_users * a.publish_cpu_factor
        + run.user_lists * 2 / a.rows_written_per_second
    )
    gb_seconds = (
        t.recommend * a.recommend_memory_gb * a.recommend_ms / 1000
        + t.event_posts * a.ingest_memory_gb * a.ingest_ms / 1000
        + t.privacy * a.privacy_memory_gb * a.privacy_ms / 1000
        + runs
        * (
            a.prepare_memory_gb * prepare_seconds
            + a.train_memory_gb * train_seconds
            + a.publish_memory_gb * publish_seconds
            + a.purge_memory_gb * a.purge_seconds_per_run
        )
    )
    lambda_cost = invocations / 1e6 * p.lambda_requests_per_million + gb_seconds * p.lambda_gb_second
    snapstart = (
        a.recommend_memory_gb * SECONDS_PER_MONTH * p.snapstart_cache_gb_second
        + t.recommend * a.cold_start_share * a.recommend_memory_gb * p.snapstart_restore_gb
    )

    first_tier = min(t.api, 300e6)
    api = (
        first_tier / 1e6 * p.http_api_per_million
        + (t.api - first_tier) / 1e6 * p.http_api_per_million_after_300m
    )

    read_share = (1 - a.cache_hit_rate) if cache else 1.0
    read_units = t.recommend * a.recommend_read_units * read_share + t.event_posts * a.ingest_read_units
    imported = imports_users(mau, a)
    # An imported run writes no user rows (ImportTable loads them), its other rows as usual.
    run_units = run.write_units - (run.user_lists * write_units(user_row_bytes(a)) if imported else 0.0)
    write_units_month = t.event_posts * a.ingest_write_units + runs * run_units
    version_gb = (users * user_row_bytes(a) + 2 * products * product_row_bytes(a)) / GB
    stored_gb = version_gb * a.version_ttl_days * (runs / DAYS_PER_MONTH) + mau * a.session_row_bytes / GB
    dynamodb = (
        read_units / 1e6 * p.dynamodb_read_units_per_million
        + write_units_month / 1e6 * p.dynamodb_write_units_per_million
        + stored_gb * (p.dynamodb_storage_gb_month + p.dynamodb_pitr_gb_month)
    )

    lake_gb = t.events * a.lake_stored_bytes_per_event / GB
    lake_stored = lake_gb * a.raw_event_retention_days / DAYS_PER_MONTH
    artifacts_stored = (users + 2 * products) * a.artifact_bytes_per_list / GB * a.artifact_retention_days + (
        window_events * a.kept_day_bytes_per_event / GB
    )
    objects_written = SECONDS_PER_MONTH / 60 + runs * (2 * shards + 50)
    # A run reads the new day's lake objects (2 an hour) and one kept file per other day.
    objects_read = runs * (24 * 2 + a.training_window_days + 4 * shards)
    s3 = (
        (lake_stored + artifacts_stored) * p.s3_standard_gb_month
        + objects_written / 1000 * p.s3_put_per_thousand
        + objects_read / 1000 * p.s3_get_per_thousand
    )
    # One log record per request to the two buckets, kept as long as the stage's logs; S3 delivers
    # the log objects without request charges, so storage is the cost.
    access_logs_stored = (
        (objects_written + objects_read)
        * a.access_log_bytes_per_request
        / GB
        * a.log_retention_days
        / DAYS_PER_MONTH
    )

    record_bytes = a.events_per_post * a.lake_bytes_per_event
    billed_kb = math.ceil(record_bytes / (5 * KB)) * 5
    firehose = (
        t.event_posts * billed_kb * KB / GB * (p.firehose_ingested_gb + p.firehose_format_conversion_gb)
    )

    transitions = runs * (25 + 4 * shards)
    step_functions = transitions / 1000 * p.step_functions_per_thousand_transitions

    log_gb = (t.recommend * a.log_bytes_per_recommend + t.event_posts * a.log_bytes_per_ingest) / GB
    traces = (
        min(t.api, a.xray_reservoir_per_month)
        + max(0.0, t.api - a.xray_reservoir_per_month) * a.xray_sampled_share
    )
    cloudwatch = (
        log_gb * p.cloudwatch_logs_ingested_gb
        + log_gb * a.log_retention_days / DAYS_PER_MONTH * p.cloudwatch_logs_stored_gb_month
        + a.custom_metrics * p.cloudwatch_metric_month
        + a.alarm_metrics * p.cloudwatch_alarm_metric_month
        + a.composite_alarms * p.cloudwatch_composite_alarm_month
        + p.cloudwatch_dashboard_month
    )
    costs = {
        "Lambda (requests + GB-s)": lambda_cost,
        "Lambda SnapStart (recommend)": snapstart,
        "API Gateway HTTP API": api,
        "DynamoDB on demand (reads, writes, storage + PITR)": dynamodb,
        "S3 (lake, artifacts, requests)": s3,
        "S3 server access logs (storage)": access_logs_stored * p.s3_standard_gb_month,
        "Firehose": firehose,
        "Step Functions": step_functions,
        "CloudWatch (logs, metrics, alarms, dashboard)": cloudwatch,
        "X-Ray traces": traces / 1e6 * p.xray_traces_per_million,
        "KMS (the alerts key)": p.kms_key_month,
        "Secrets Manager": p.secrets_manager_secret_month
        + t.api / 1e6 * a.secret_reads_per_million_requests / 1e4 * p.secrets_manager_per_10k_calls,
        "Data transfer out (responses)": t.recommend * a.response_bytes / GB * p.data_transfer_out_gb,
        "DynamoDB ImportTable (users' rows, with ImportTableMinUsers)": (
            runs * run.user_lists * import_line_bytes(a) / GB * p.dynamodb_import_gb if imported else 0.0
        ),
        "AWS Batch on Fargate (Train and Evaluate, past one Lambda)": (
            runs * container_run_cost(mau, a, p) if container else 0.0
        ),
        "AWS Batch on Fargate (Prepare, past one Lambda)": (
            runs * container_run_cost(mau, a, p, prepare_container_run_seconds(mau, a))
            if prepares_in_container
            else 0.0
        ),
        "EMR Serverless (Spark ALS, past one large machine)": (
            runs
            * spark_vcpu_seconds(mau, a)
            / 3600
            * (p.emr_serverless_vcpu_hour + a.spark_gb_per_vcpu * p.emr_serverless_gb_hour)
            if trains_on_spark(mau, a)
            else 0.0
        ),
    }
    if cache:
        cached_gb = max(a.cache_minimum_gb, version_gb * a.cached_share_of_user_lists)
        ecpus = t.recommend * a.ecpu_per_recommend + t.event_posts
        costs["ElastiCache Serverless (Valkey)"] = (
            cached_gb * HOURS_PER_MONTH * p.valkey_serverless_gb_hour
            + ecpus / 1e6 * p.valkey_serverless_per_million_ecpu
        )
        endpoint_gb = (t.event_posts * record_bytes) / GB
        costs[f"VPC interface endpoints ({a.interface_endpoints:g})"] = (
            a.interface_endpoints * a.availability_zones * HOURS_PER_MONTH * p.interface_endpoint_az_hour
            + endpoint_gb * p.interface_endpoint_gb
        )
        costs["NAT gateways (with AuthIssuerUrl; the VPC's own)"] = (
            a.availability_zones * HOURS_PER_MONTH * p.nat_gateway_hour
            + a.nat_gb_per_month * p.nat_gateway_gb
        )
    return costs


def publish_saving(mau: float, a: Assumptions, p: Prices, changed_share: float) -> float:
    """USD a month saved by writing only the share `changed_share` of the lists each run."""
    full = monthly_cost(mau, a, p)
    partial = monthly_cost(mau, a, p, changed_share=changed_share)
    return sum(full.values()) - sum(partial.values())


def import_saving(mau: float, a: Assumptions, p: Prices) -> float:
    """USD a month saved (negative: spent) by importing the users' rows (ImportTableMinUsers at or
    below this size) instead of writing them."""
    imported = replace(a, import_table_min_users=1.0)
    return sum(monthly_cost(mau, a, p).values()) - sum(monthly_cost(mau, imported, p).values())


# ---------------------------------------------------------------------------- report
SCALES = (10_000, 100_000, 1_000_000, 10_000_000, 100_000_000)
#: One Lambda invocation's limit (template.yaml TrainFunction Timeout, the Train step's
#: deadline): a step longer than this needs the scale path.
LAMBDA_SECONDS = 900.0
#: The training function's memory (template.yaml TrainFunction MemorySize).
LAMBDA_MIB = 10_240.0
CHANGED_SHARES = (0.5, 0.2)


def _money(value: float) -> str:
    return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"


def report(scales: Sequence[float], a: Assumptions, p: Prices) -> str:
    """The markdown tables of docs/deploy.md."""
    without = [monthly_cost(m, a, p) for m in scales]
    with_cache = [monthly_cost(m, a, p, cache=True) for m in scales]
    beyond = [m for m in scales if not fits_one_lambda(m, a)]
    header = "| service | " + " | ".join(f"{m:,.0f} MAU{'*' if m in beyond else ''}" for m in scales) + " |"
    rule = "|---|" + "---:|" * len(scales)
    lines = [header, rule]
    for service in with_cache[0]:
        values = [c.get(service) for c in with_cache]
        in_base = service in without[0]
        label = service if in_base else f"{service} (EnableCache=true only)"
        lines.append(f"| {label} | " + " | ".join(_money(v or 0.0) for v in values) + " |")
    lines.append(
        "| **total, no cache** | " + " | ".join(f"**{_money(sum(c.values()))}**" for c in without) + " |"
    )
    lines.append(
        "| **total, EnableCache=true** | "
        + " | ".join(f"**{_money(sum(c.values()))}**" for c in with_cache)
        + " |"
    )
    lines.append(
        "| USD per 1,000 MAU, no cache | "
        + " | ".join(_money(sum(c.values()) / m * 1000) for c, m in zip(without, scales, strict=True))
        + " |"
    )
    if beyond:
        named = [f"{m:,.0f}" for m in beyond]
        sizes = " and ".join([", ".join(named[:-1]), named[-1]] if len(named) > 1 else named)
        lines += [
            "",
            f"\\* At {sizes} MAU a step outgrows one Lambda: more shoppers with lists than the "
            f"{a.max_trainable_users:,.0f} users the Train step was measured to handle in one Lambda "
            f"(within {LAMBDA_SECONDS:,.0f} s and {LAMBDA_MIB / 1024:g} GiB) "
            f"(docs/training.md, Scale), or a daily Prepare over {LAMBDA_SECONDS:,.0f} s or over the "
            f"prepare function's {a.prepare_memory_gb:g} GB at its measured peak per event (below). "
            "Past the first, Train and Evaluate run in the training container (AWS Batch on one "
            f"{a.container_vcpu:g} vCPU / {a.container_memory_gb:g} GB Fargate task) up to "
            f"{max_container_interactions(a):,.0f} interactions (the task's memory at Train's measured "
            "peak per interaction, within its timeout), and the Spark engine fits the ALS on EMR "
            "Serverless beyond (priced above from the measured Spark unit, below). Past the prepare "
            "function, Prepare runs in a training container task of its own "
            "(PrepareContainerMinLakeBytes) while the window fits the task's memory at Prepare's "
            "measured peak per event and a first run its 2 h attempt; beyond that, Prepare past one "
            "machine is not built (the engine row says where each size prepares and trains; such a "
            "column prices Prepare on the function).",
        ]
    lines += [
        "",
        "Writing only the lists that changed (DynamoDB writes and publish time; USD a month saved):",
        "",
    ]
    lines.append("| lists changed per run | " + " | ".join(f"{m:,.0f} MAU" for m in scales) + " |")
    lines.append(rule)
    for share in CHANGED_SHARES:
        lines.append(
            f"| {share:.0%} | " + " | ".join(_money(publish_saving(m, a, p, share)) for m in scales) + " |"
        )
    lines += [
        "",
        "Publishing the users' rows by ImportTable (ImportTableMinUsers at or below the size) instead "
        "of writing them (USD a month saved; negative: more):",
        "",
        "| | " + " | ".join(f"{m:,.0f} MAU" for m in scales) + " |",
        rule,
        "| importing every run | " + " | ".join(_money(import_saving(m, a, p)) for m in scales) + " |",
    ]
    lines += ["", "Per training run at each scale:", ""]
    lines.append("| | " + " | ".join(f"{m:,.0f} MAU" for m in scales) + " |")
    lines.append(rule)
    runs = [publish(m, a) for m in scales]
    lines.append(
        "| lists written | " + " | ".join(f"{r.user_lists + r.product_lists:,.0f}" for r in runs) + " |"
    )
    lines.append("| DynamoDB write units | " + " | ".join(f"{r.write_units:,.0f}" for r in runs) + " |")
    lines.append("| engine | " + " | ".join(engine(m, a) for m in scales) + " |")
    lines.append(
        "| Spark ALS, vCPU-hours a run (both parts) | "
        + " | ".join(
            f"{spark_vcpu_seconds(m, a) / 3600:,.1f}" if trains_on_spark(m, a) else "-" for m in scales
        )
        + " |"
    )
    lines.append(
        "| training container, task-hours a run (Fargate) | "
        + " | ".join(
            f"{container_run_seconds(m, a) / 3600:,.2f}" if trains_in_container(m, a) else "-" for m in scales
        )
        + " |"
    )
    lines.append(
        "| Prepare, a daily run (s, one vCPU) | "
        + " | ".join(f"{prepare_daily_seconds(m, a):,.0f}" for m in scales)
        + " |"
    )
    lines.append(
        "| Prepare, peak memory (GB, at its measured bytes per event) | "
        + " | ".join(f"{prepare_peak_gb(m, a):,.1f}" for m in scales)
        + " |"
    )
    lines.append(
        "| Train and Evaluate steps, without the search (s) | "
        + " | ".join(f"{train_run_seconds(m, a):,.0f}" for m in scales)
        + " |"
    )
    lines.append(
        "| publish shards (top-K of 20,000 users each, in parallel) | "
        + " | ".join(f"{math.ceil(m * a.share_of_mau_with_lists / a.shard_users):,}" for m in scales)
        + " |"
    )
    lines.append(
        "| Prepare, the first run over the window (s, one vCPU) | "
        + " | ".join(f"{prepare_first_run_seconds(m, a):,.0f}" for m in scales)
        + " |"
    )
    lines += [
        "",
        "The engine, Prepare's rates and the Train and Evaluate rate are measured (bench/prepare_speed.py "
        "and bench/training_scale.py, docs/benchmarks.md; the parameter search adds up to its budget). "
        f"Prepare: "
        f"{a.prepare_decoded_events_per_second:,.0f} lake events decoded from Parquet objects "
        f"({a.prepare_small_objects_events_per_second:,.0f} from a small shop's objects of 256 KiB of "
        "JSON, the rate of every size whose minute deliveries are smaller than the "
        f"{a.prepare_measured_object_bytes / 2**20:g} MiB objects the first was measured on) and "
        f"{a.prepare_kept_events_per_second:,.0f} read from the kept days per CPU second; a daily run "
        "decodes the day that closed and reads the rest of the window from its kept copies; it holds "
        f"{a.prepare_peak_bytes_per_event:g} bytes per event of the window at its peak (the largest "
        "measured first run; assumed to grow in proportion). "
        "Spark ALS: "
        f"{a.spark_core_seconds_per_iteration_per_million_entries:,} core-seconds per iteration per "
        "million entries, measured in local mode (bench/spark_quality.py), times an assumed "
        f"{a.spark_cluster_overhead:g} for a cluster's shuffles and executor starts; a run fits the "
        f"window and the holdout's training part, {a.als_iterations} iterations each. "
        f"Training container: Train's peak memory {a.train_peak_mib_per_million_interactions:,} MiB per "
        "million interactions at the largest measured size (bench/training_scale.py: the larger of the "
        "largest step's and the whole Train step's, each in a fresh process), assumed to grow "
        f"in proportion, with {1 - a.container_memory_headroom:.0%} of the task's memory kept free; a "
        f"run is the task's start ({a.container_start_seconds:g} s, assumed), the search budget and "
        "Train and Evaluate at the measured rate. ImportTable bills the import files' uncompressed "
        f"DynamoDB JSON: {import_line_bytes(a):,} bytes per user's row (recs.adapters.dynamodb_import).",
        "",
        f"Row sizes (recs.store_layout.list_row): a user's top-{a.top_k} row {user_row_bytes(a):,} bytes "
        f"({write_units(user_row_bytes(a))} write units), a similar-items row of {a.similar_k} "
        f"{product_row_bytes(a):,} bytes ({write_units(product_row_bytes(a))} write units).",
    ]
    return "\n".join(lines)


def from_benchmarks(
    path: Path | None = None, training: Path | None = None, spark: Path | None = None
) -> Assumptions:
    """`Assumptions` with the measured figures of the committed benchmarks, so that the tables are
    generated from measurements, never typed: Prepare's rates and kept bytes (``prepare_speed``:
    its largest first run over the Parquet lake, the lake a deployment has since Firehose's record
    format conversion, and its runs after a new day), the Train, Evaluate and top-K
    throughputs and the largest size trained within one Lambda (``training_scale``), and the
    Spark engine's cost per iteration (``spark_quality``)."""
    result = json.loads((path or repo_root().joinpath(*PREPARE_RESULTS)).read_text(encoding="utf-8"))
    scale = json.loads((training or repo_root().joinpath(*TRAINING_RESULTS)).read_text(encoding="utf-8"))
    spark_result = json.loads((spark or repo_root().joinpath(*SPARK_RESULTS)).read_text(encoding="utf-8"))
    (spark_cost,) = [d["iterationCost"] for d in spark_result["datasets"].values() if d.get("iterationCost")]
    spark_unit = float(spark_cost["coreSecondsPerIterationPerMillionEntries"])
    if "parquet" not in result["firstRuns"][-1]:
        raise ValueError(
            "the prepare_speed result has no first run over the Parquet lake (it predates it): "
            "rerun python -m bench --full --only prepare_speed"
        )
    first = result["firstRuns"][-1]["parquet"]
    lake_sizes = result["firstRuns"][-1]["lakeBytesPerEvent"]
    small_objects = [row["smallObjects"]["parquet"] for row in result["firstRuns"] if "smallObjects" in row]
    small_rate = (
        float(small_objects[-1]["eventsPerCpuSecond"])
        if small_objects
        # A result from before small objects were measured: the main rate, as priced then.
        else float(first["eventsPerCpuSecond"])
    )
    next_runs = result["incremental"]
    kept_events = [row["events"] - row["newDayEvents"] for row in next_runs]
    train, topk, max_users = training_rates(scale)
    largest = max((row for row in scale["steps"] if row["stage"] == "model"), key=lambda row: row["users"])
    return replace(
        Assumptions(),
        prepare_decoded_events_per_second=float(first["eventsPerCpuSecond"]),
        prepare_small_objects_events_per_second=small_rate,
        prepare_kept_events_per_second=round(
            sum(kept_events) / sum(float(row["baseSeconds"]) for row in next_runs)
        ),
        kept_day_bytes_per_event=round(
            statistics.median(float(row["keptBytesPerEvent"]) for row in next_runs), 1
        ),
        prepare_peak_bytes_per_event=float(first["peakBytesPerEvent"]),
        lake_stored_bytes_per_event=float(lake_sizes["parquet"]),
        train_seconds_per_million_interactions=train,
        topk_seconds_per_million_users=topk,
        max_trainable_users=max_users,
        train_peak_mib_per_million_interactions=round(
            train_peak_mib(largest) / (largest["interactions"] / 1e6), 1
        ),
        search_budget_seconds=float(largest.get("searchBudgetSeconds", Assumptions.search_budget_seconds)),
        spark_core_seconds_per_iteration_per_million_entries=spark_unit,
    )


def train_peak_mib(row: dict[str, Any]) -> float:
    """The training container's peak at a measured size: the larger of the largest step's own
    peak and the whole Train step's (where it ran). The container runs Train, then Evaluate, in one
    process, and each frees what it built before the next starts (`Pipeline.train_in_container`)."""
    return max(float(row["peakRssMiB"]), float(row.get("trainStep", {}).get("peakRssMiB", 0.0)))


def train_step_bound(seconds: dict[str, float], budget: float) -> float:
    """The Train step's length with its search spending its whole budget, from a size's timings:
    ``train_version``, the session path's choice, and the search, which starts no fit that (as
    long as its longest so far) would end past its budget, so lasts the budget or its first fit
    (``search_fit``), whichever is longer. A later fit longer than every earlier one can still
    overrun the budget: ``train_step``, the whole step run under its deadline, is the check."""
    return seconds["train_version"] + max(budget, seconds["search_fit"]) + seconds.get("session_choice", 0.0)


def training_rates(result: dict[str, Any]) -> tuple[float, float, float]:
    """From the largest measured size: Train + Evaluate seconds per million interactions, top-K
    seconds per million users, and the most users whose Train step, search budget spent, stayed
    within one Lambda: its time (the bound, and the whole step where it was run) and its peak
    memory (the largest step's, each step in a fresh process, and the whole Train step's where it
    was run)."""
    models = sorted((row for row in result["steps"] if row["stage"] == "model"), key=lambda row: row["users"])
    largest = models[-1]
    seconds = largest["seconds"]
    fitting = [
        row["users"]
        for row in models
        if "search_fit" in row["seconds"]
        and train_step_bound(row["seconds"], float(row.get("searchBudgetSeconds", 0.0))) <= LAMBDA_SECONDS
        and row["seconds"].get("train_step", 0.0) <= LAMBDA_SECONDS
        and train_peak_mib(row) <= LAMBDA_MIB
    ]
    return (
        round((seconds["train_version"] + seconds["evaluate"]) / (largest["interactions"] / 1e6), 3),
        round(seconds["rank_all_users"] / (largest["users"] / 1e6), 2),
        float(max(fitting)) if fitting else 0.0,
    )


def assumptions_table(a: Assumptions, p: Prices) -> str:
    lines = ["| assumption | value |", "|---|---:|"]
    lines += [f"| {f.name} | {getattr(a, f.name):,} |" for f in fields(a)]
    lines += ["", "| list price (USD) | value |", "|---|---:|"]
    lines += [f"| {f.name} | {getattr(p, f.name)} |" for f in fields(p)]
    return "\n".join(lines)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mau", type=float, action="append", help="monthly active users (repeatable)")
    parser.add_argument("--assumptions", action="store_true", help="also print every assumption and price")
    parser.add_argument(
        "--changed-share", type=float, default=None, help="model writing only this share of lists"
    )
    parser.add_argument(
        "--update-doc",
        type=Path,
        default=None,
        metavar="FILE",
        help="rewrite the cost tables and the assumptions in FILE (docs/deploy.md) instead of printing",
    )


def update_doc(text: str, tables: str, assumptions: str) -> str:
    """``text`` with its cost tables (from ``| service |`` to ``**Prices.**``) and its assumptions
    and prices tables (up to the blank line after the prices) replaced."""
    start, end = text.index("| service | "), text.index("**Prices.**")
    text = text[:start] + tables.strip() + "\n\n" + text[end:]
    first = text.index("| assumption | value |")
    prices = text.index("| list price (USD) | value |", first)
    last = text.find("\n\n", prices)
    return text[:first] + assumptions.strip() + (text[last:] if last >= 0 else "\n")


def run(args: argparse.Namespace) -> int:
    a, p = from_benchmarks(), Prices()
    scales = tuple(args.mau) if args.mau else SCALES
    if args.update_doc is not None:
        doc: Path = args.update_doc
        doc.write_text(
            update_doc(doc.read_text(encoding="utf-8"), report(scales, a, p), assumptions_table(a, p)),
            encoding="utf-8",
        )
        print(f"updated the cost tables of {doc}")
        return 0
    if args.changed_share is not None:
        for mau in scales:
            print(
                f"{mau:,.0f} MAU, {args.changed_share:.0%} of lists changed: saves "
                f"{_money(publish_saving(mau, a, p, args.changed_share))} USD a month"
            )
    print(report(scales, a, p))
    if args.assumptions:
        print()
        print(assumptions_table(a, p))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m recs_tools.deploy.cost", description=__doc__.split("\n\n")[0]
    )
    configure(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
