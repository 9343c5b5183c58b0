"""The cost model's arithmetic (recs_tools.deploy.cost): what drives each figure, and its report."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from recs_tools.checkout import repo_root
from recs_tools.deploy.cost import (
    DAYS_PER_MONTH,
    SCALES,
    Assumptions,
    Prices,
    container_run_seconds,
    delivery_bytes,
    from_benchmarks,
    import_line_bytes,
    import_saving,
    max_container_interactions,
    monthly_cost,
    prepare_container_run_seconds,
    prepare_decode_rate,
    prepare_engine,
    prepare_peak_gb,
    prepare_run_seconds,
    publish,
    publish_saving,
    report,
    spark_vcpu_seconds,
    traffic,
    train_peak_mib,
    train_run_seconds,
    training_engine,
    training_rates,
    update_doc,
    user_row_bytes,
    write_units,
)
from recs_tools.local.cfn import load_template

A, P = Assumptions(), Prices()
#: Prepare within the prepare function at every size these tests price (its memory aside).
LIGHT_PREPARE = replace(A, prepare_peak_bytes_per_event=1.0)
PREPARE_CONTAINER_ROW = "AWS Batch on Fargate (Prepare, past one Lambda)"
SPARK_ROW = "EMR Serverless (Spark ALS, past one large machine)"
CONTAINER_ROW = "AWS Batch on Fargate (Train and Evaluate, past one Lambda)"
IMPORT_ROW = "DynamoDB ImportTable (users' rows, with ImportTableMinUsers)"


def test_traffic_follows_the_per_user_assumptions() -> None:
    t = traffic(1_000, A)
    assert t.recommend == 1_000 * A.recommendation_requests_per_mau
    assert t.event_posts == 1_000 * A.events_per_mau / A.events_per_post
    assert t.api == t.recommend + t.event_posts + t.privacy


def test_a_user_row_is_measured_from_the_writer_and_billed_per_started_kb() -> None:
    # Given rows of 100 and 10 items / Then the longer row costs more write units, 1 KB each
    assert user_row_bytes(A) > user_row_bytes(replace(A, top_k=10))
    assert write_units(1) == 1
    assert write_units(1024) == 1
    assert write_units(1025) == 2


def test_the_api_price_drops_after_300_million_requests() -> None:
    # Given a scale whose API traffic crosses 300M requests a month
    big = 20_000_000
    requests = traffic(big, A).api
    assert requests > 300e6
    # Then the API line is the first tier's price plus the cheaper rest
    expected = 300 * P.http_api_per_million + (requests / 1e6 - 300) * P.http_api_per_million_after_300m
    assert monthly_cost(big, A, P)["API Gateway HTTP API"] == pytest.approx(expected)


def test_the_cache_adds_its_own_lines_and_cuts_dynamodb_reads() -> None:
    without = monthly_cost(1_000_000, A, P)
    with_cache = monthly_cost(1_000_000, A, P, cache=True)
    assert set(with_cache) - set(without) == {
        "ElastiCache Serverless (Valkey)",
        "VPC interface endpoints (3)",
        "NAT gateways (with AuthIssuerUrl; the VPC's own)",
    }
    dynamodb = "DynamoDB on demand (reads, writes, storage + PITR)"
    assert with_cache[dynamodb] < without[dynamodb]


def test_writing_only_changed_lists_saves_in_proportion_to_the_unchanged_share() -> None:
    # Given the full publish and publishes of half and a fifth of the lists
    full = publish(1_000_000, A)
    half = publish(1_000_000, A, changed_share=0.5)
    assert half.write_units == pytest.approx(full.write_units / 2)
    # Then the saving grows as fewer lists change, and nothing is saved when all change
    assert publish_saving(1_000_000, A, P, 1.0) == pytest.approx(0.0)
    assert 0 < publish_saving(1_000_000, A, P, 0.5) < publish_saving(1_000_000, A, P, 0.2)


def test_cost_grows_with_users_but_less_than_proportionally() -> None:
    totals = [sum(monthly_cost(m, A, P).values()) for m in SCALES]
    assert totals == sorted(totals)
    assert totals[-1] / totals[0] < SCALES[-1] / SCALES[0]


def test_the_alarm_count_priced_is_the_templates() -> None:
    # Given template.yaml's alarms / Then the model prices one alarm metric per metric they watch
    resources = load_template(repo_root() / "template.yaml")["Resources"]
    watched = composites = 0
    for resource in resources.values():
        if resource["Type"] == "AWS::CloudWatch::Alarm":
            metrics = resource["Properties"].get("Metrics")
            watched += sum("MetricStat" in m for m in metrics) if metrics else 1
        composites += resource["Type"] == "AWS::CloudWatch::CompositeAlarm"
    assert watched == A.alarm_metrics
    # And one composite alarm price per composite alarm
    assert composites == A.composite_alarms


def test_the_report_has_a_row_per_service_and_the_totals() -> None:
    text = report(SCALES, A, P)
    assert "| **total, no cache** |" in text
    assert "| Firehose |" in text
    assert "10,000,000 MAU" in text


def test_a_scale_beyond_the_measured_training_limit_is_marked_as_needing_the_scale_path() -> None:
    # Given the report at 10k, 1M and 10M MAU (one list per MAU)
    text = report(SCALES, A, P)
    header = text.splitlines()[0]
    # Then the scales past one Lambda are starred and explained: 10M past the users the Train
    # step was measured at, 1M past the prepare function's memory at Prepare's peak per event
    assert "10,000,000 MAU* |" in header
    assert prepare_engine(1e6, A) == "container"
    assert "1,000,000 MAU* |" in header
    assert "10,000 MAU |" in header
    assert f"over the prepare function's {A.prepare_memory_gb:g} GB" in text
    # And with a Prepare that fits the function, only the Train step's limit stars a scale
    light = report(SCALES, LIGHT_PREPARE, P).splitlines()[0]
    assert "1,000,000 MAU |" in light
    assert "the Spark engine fits the ALS on EMR Serverless" in text
    assert f"{A.max_trainable_users:,.0f} users the Train step was measured" in text


def test_sizes_past_one_large_machine_pay_for_spark_and_only_those() -> None:
    # Given one size within one Train step, one within one large machine and one past both
    within, machine = A.max_trainable_users / 2, A.max_trainable_users * 10
    past = max_container_interactions(A) / A.interactions_per_user * 2
    # Then only the largest pays EMR Serverless, in proportion to its vCPU-seconds
    for size in (within, machine):
        assert monthly_cost(size, A, P)[SPARK_ROW] == 0.0
    spark = monthly_cost(past, A, P)[SPARK_ROW]
    hours = A.training_runs_per_month * spark_vcpu_seconds(past, A) / 3600
    assert spark == pytest.approx(hours * (P.emr_serverless_vcpu_hour + 4 * P.emr_serverless_gb_hour))
    # And a run's vCPU-seconds are both parts' iterations at the measured unit and the cluster factor
    entries = past * A.share_of_mau_with_lists * A.interactions_per_user
    assert spark_vcpu_seconds(past, A) == pytest.approx(
        2 * entries / 1e6 * A.als_iterations * A.spark_core_seconds_per_iteration_per_million_entries * 2.0
    )


def test_sizes_past_one_lambda_within_one_large_machine_pay_for_a_fargate_task_instead_of_train_lambda() -> (
    None
):
    # Given a size past one Train step but within the container's memory and timeout (its
    # Prepare on the function)
    a = LIGHT_PREPARE
    size = a.max_trainable_users * 5
    assert training_engine(size, a) == "container"
    assert prepare_engine(size, a) == "lambda"
    # Then each run pays one Fargate task of the template's size for its start, the search and
    # Train and Evaluate at the measured rate
    seconds = a.container_start_seconds + a.search_budget_seconds + train_run_seconds(size, a)
    assert container_run_seconds(size, a) == pytest.approx(seconds)
    task = seconds / 3600 * (16 * P.fargate_vcpu_hour + 120 * P.fargate_gb_hour)
    costs = monthly_cost(size, a, P)
    assert costs[CONTAINER_ROW] == pytest.approx(a.training_runs_per_month * task)
    # And the training function no longer pays for Train and Evaluate (the same size on Lambda
    # would: its GB-seconds are what the container took over)
    on_lambda = monthly_cost(size, replace(a, container_memory_gb=1.0), P)
    assert on_lambda[CONTAINER_ROW] == 0.0
    lambda_saved = on_lambda["Lambda (requests + GB-s)"] - costs["Lambda (requests + GB-s)"]
    assert lambda_saved == pytest.approx(
        a.training_runs_per_month * a.train_memory_gb * train_run_seconds(size, a) * P.lambda_gb_second
    )
    # And sizes within one Lambda pay no task
    assert monthly_cost(a.max_trainable_users, a, P)[CONTAINER_ROW] == 0.0


def test_one_large_machine_holds_what_its_memory_and_timeout_allow() -> None:
    # Given the template's task (120 GB) and Train's measured peak per million interactions
    by_memory = 120 * 1024 * 0.9 / A.train_peak_mib_per_million_interactions * 1e6
    by_time = (
        (14_400 - A.container_start_seconds - A.search_budget_seconds)
        / A.train_seconds_per_million_interactions
        * 1e6
    )
    # Then the container holds the smaller of the two, and the engines follow the sizes in order
    assert max_container_interactions(A) == pytest.approx(min(by_memory, by_time))
    limit_users = max_container_interactions(A) / A.interactions_per_user
    assert training_engine(A.max_trainable_users, A) == "lambda"
    assert training_engine(limit_users * 0.99, A) == "container"
    assert training_engine(limit_users * 1.01, A) == "spark"


def test_importing_the_users_rows_replaces_their_writes_with_the_import_price() -> None:
    # Given a size whose users' rows are imported (ImportTableMinUsers at or below it)
    size = 1_000_000.0
    imported = replace(A, import_table_min_users=size)
    run = publish(size, A)
    # Then each run pays ImportTable per GB of the import files' uncompressed DynamoDB JSON
    costs = monthly_cost(size, imported, P)
    gb = run.user_lists * import_line_bytes(A) / 1024**3
    assert costs[IMPORT_ROW] == pytest.approx(A.training_runs_per_month * gb * 0.15)
    # And writes no user rows: the DynamoDB line drops by their write units
    dropped = (
        monthly_cost(size, A, P)["DynamoDB on demand (reads, writes, storage + PITR)"]
        - costs["DynamoDB on demand (reads, writes, storage + PITR)"]
    )
    units = A.training_runs_per_month * run.user_lists * write_units(user_row_bytes(A))
    assert dropped == pytest.approx(units / 1e6 * P.dynamodb_write_units_per_million)
    # And the import line is the writer's own (a user's row in DynamoDB JSON is larger than the item)
    assert import_line_bytes(A) > user_row_bytes(A)
    # And the default stack (ImportTableMinUsers 0) never imports; a smaller shop does not either
    assert monthly_cost(size, A, P)[IMPORT_ROW] == 0.0
    assert monthly_cost(size / 10, imported, P)[IMPORT_ROW] == 0.0
    assert import_saving(size, A, P) == pytest.approx(
        sum(monthly_cost(size, A, P).values())
        - sum(monthly_cost(size, replace(A, import_table_min_users=1), P).values())
    )


def test_access_logs_the_alerts_key_and_the_nat_of_a_cached_stack_checking_tokens_are_priced() -> None:
    # Given a month at 1M MAU without and with the cache
    plain, cached = monthly_cost(1e6, A, P), monthly_cost(1e6, A, P, cache=True)
    # Then S3's access logs and the alerts key are priced in both, NAT gateways (one per AZ, the
    # VPC's own, needed to fetch the issuer's keys) only with the cache
    assert "S3 server access logs (storage)" in plain
    assert plain["KMS (the alerts key)"] == P.kms_key_month
    nat = [name for name in cached if name.startswith("NAT gateways")]
    assert nat
    assert not [name for name in plain if name.startswith("NAT gateways")]
    assert cached[nat[0]] >= A.availability_zones * 730 * P.nat_gateway_hour


def test_the_publish_memory_priced_is_the_templates() -> None:
    # Given template.yaml's publish function / Then the model prices its memory for user shards
    resources = load_template(repo_root() / "template.yaml")["Resources"]
    assert resources["PublishFunction"]["Properties"]["MemorySize"] / 1024 == A.publish_memory_gb


def test_prepare_is_priced_on_its_own_function_with_the_templates_memory() -> None:
    # Given template.yaml's prepare and training functions / Then the model prices their memory
    resources = load_template(repo_root() / "template.yaml")["Resources"]
    assert resources["PrepareFunction"]["Properties"]["MemorySize"] / 1024 == A.prepare_memory_gb
    assert resources["TrainFunction"]["Properties"]["MemorySize"] / 1024 == A.train_memory_gb
    # And Prepare's GB-seconds are a daily run's (the new day decoded, the kept days read), on its own memory
    a = LIGHT_PREPARE
    halved = replace(a, prepare_memory_gb=a.prepare_memory_gb / 2)
    lambda_line = "Lambda (requests + GB-s)"
    saved = monthly_cost(1e6, a, P)[lambda_line] - monthly_cost(1e6, halved, P)[lambda_line]
    window_events = traffic(1e6, a).events * a.training_window_days / DAYS_PER_MONTH
    day_events = traffic(1e6, a).events / DAYS_PER_MONTH
    # (a shop of 1M monthly users delivers less than the objects of the main decode rate)
    assert delivery_bytes(day_events, a) < a.prepare_measured_object_bytes
    prepare_seconds = (
        day_events / a.prepare_small_objects_events_per_second
        + (window_events - day_events) / a.prepare_kept_events_per_second
    )
    expected = a.training_runs_per_month * a.prepare_memory_gb / 2 * prepare_seconds * P.lambda_gb_second
    assert saved == pytest.approx(expected)


def test_a_shop_of_small_deliveries_is_priced_at_the_small_objects_decode_rate(tmp_path: Path) -> None:
    # Given a prepare_speed result whose smaller first run also read a small shop's objects
    result: dict[str, Any] = {
        "firstRuns": [
            {
                "events": 10,
                "parquet": {"eventsPerCpuSecond": 500_000, "peakBytesPerEvent": 50.0},
                "smallObjects": {"parquet": {"eventsPerCpuSecond": 200_000, "peakBytesPerEvent": 52.0}},
            },
            {
                "events": 40,
                "lakeBytesPerEvent": {"ndjson": 354.0, "parquet": 34.4},
                "parquet": {"eventsPerCpuSecond": 600_000, "peakBytesPerEvent": 40.0},
            },
        ],
        "incremental": [
            {"events": 1_000, "newDayEvents": 100, "baseSeconds": 0.5, "keptBytesPerEvent": 50.0}
        ],
    }
    path = tmp_path / "prepare_speed.json"
    path.write_text(json.dumps(result), encoding="utf-8")
    measured = from_benchmarks(path)
    assert measured.prepare_small_objects_events_per_second == 200_000
    # When shops of a few sizes are priced
    # Then one whose minute deliveries hold less JSON than the measured objects decodes at the
    # small objects' rate, one whose deliveries hold more at the main rate
    per_minute_at_objects = measured.prepare_measured_object_bytes / measured.lake_bytes_per_event
    day_at_objects = per_minute_at_objects * 86_400 / measured.firehose_buffer_seconds
    assert delivery_bytes(day_at_objects, measured) == pytest.approx(measured.prepare_measured_object_bytes)
    assert prepare_decode_rate(day_at_objects * 0.9, measured) == 200_000
    assert prepare_decode_rate(day_at_objects * 1.1, measured) == 600_000
    # And a daily run's decoding is priced at the shop's rate
    kept = measured.prepare_kept_events_per_second
    assert prepare_run_seconds(1e6, 1e5, measured) == pytest.approx(1e5 / 200_000 + 9e5 / kept)
    # And a result from before small objects were measured prices every size at the main rate
    del result["firstRuns"][0]["smallObjects"]
    path.write_text(json.dumps(result), encoding="utf-8")
    assert prepare_decode_rate(1.0, from_benchmarks(path)) == 600_000


def test_prepares_rates_come_from_the_benchmark_result(tmp_path: Path) -> None:
    # Given a prepare_speed result: first runs over the Parquet lake (beside the NDJSON lake's),
    # and two next runs after 27 kept days
    ndjson = {"eventsPerCpuSecond": 150_000, "peakBytesPerEvent": 99.0}
    result = {
        "firstRuns": [
            {"events": 10, "parquet": {"eventsPerCpuSecond": 100, "peakBytesPerEvent": 300.0}},
            {
                "events": 40,
                "lakeBytesPerEvent": {"ndjson": 354.0, "parquet": 34.4},
                "parquet": {"eventsPerCpuSecond": 400_000, "peakBytesPerEvent": 120.5},
                "columnar": ndjson,
            },
        ],
        "incremental": [
            {"events": 1_000, "newDayEvents": 100, "baseSeconds": 0.5, "keptBytesPerEvent": 50.0},
            {"events": 1_300, "newDayEvents": 400, "baseSeconds": 0.4, "keptBytesPerEvent": 52.0},
        ],
    }
    path = tmp_path / "prepare_speed.json"
    path.write_text(json.dumps(result), encoding="utf-8")
    # When the cost model reads it
    measured = from_benchmarks(path)
    # Then the decode rate is the largest first run's over the Parquet lake, the kept rate the kept
    # events over the base runs' time
    assert measured.prepare_decoded_events_per_second == 400_000
    assert measured.prepare_kept_events_per_second == 2_000
    assert measured.kept_day_bytes_per_event == 51.0
    # And Prepare's peak memory per event is the largest first run's over the Parquet lake
    assert measured.prepare_peak_bytes_per_event == 120.5
    # And the lake stores what Parquet measured per event, not the JSON ingest sends
    assert measured.lake_stored_bytes_per_event == 34.4
    # And a daily run decodes one day and reads the rest of the window from the kept days
    seconds = prepare_run_seconds(1_000_000, 10_000, measured)
    assert seconds == pytest.approx(10_000 / 400_000 + 990_000 / 2_000)


def test_a_prepare_result_without_the_parquet_lake_is_refused(tmp_path: Path) -> None:
    # Given a prepare_speed result from before the Parquet lake (first runs over NDJSON only)
    result = {
        "firstRuns": [{"events": 40, "columnar": {"eventsPerCpuSecond": 400_000, "peakBytesPerEvent": 40.0}}],
        "incremental": [
            {"events": 1_000, "newDayEvents": 100, "baseSeconds": 0.5, "keptBytesPerEvent": 50.0}
        ],
    }
    path = tmp_path / "prepare_speed.json"
    path.write_text(json.dumps(result), encoding="utf-8")
    # When the cost model reads it / Then it refuses, rather than price a lake a deployment no longer has
    with pytest.raises(ValueError, match="Parquet lake"):
        from_benchmarks(path)


def test_a_size_whose_whole_train_step_overran_is_not_trainable_in_one_lambda(tmp_path: Path) -> None:
    # Given a training_scale result whose largest size's bound is under 900 s (100 + 300 + 100)
    # but whose whole Train step, run under its deadline, was measured over it
    seconds = {
        "train_version": 100.0,
        "evaluate": 10.0,
        "rank_all_users": 10.0,
        "search_fit": 50.0,
        "session_choice": 100.0,
    }
    rows = [
        {
            "stage": "model",
            "users": users,
            "interactions": users * 40,
            "seconds": {**seconds, **extra},
            "searchBudgetSeconds": 300.0,
            "peakRssMiB": 100.0,
        }
        for users, extra in ((100_000, {}), (400_000, {"train_step": 905.0}))
    ]
    # When the largest trainable size is read / Then the measured step decides: the smaller size
    assert training_rates({"steps": rows})[2] == 100_000


@pytest.mark.parametrize(
    ("steps_peak", "whole_step_peak"),
    [(10_338.0, None), (3_000.0, 10_300.0)],
    ids=["its largest step", "its whole Train step"],
)
def test_a_size_whose_memory_outgrew_the_function_is_not_trainable_in_one_lambda(
    steps_peak: float, whole_step_peak: float | None
) -> None:
    # Given two sizes within 900 s, the larger one's largest step (each in its own process) or its
    # whole Train step (search, session choice, fit) peaking over 10 GiB
    seconds = {"train_version": 10.0, "evaluate": 1.0, "rank_all_users": 1.0, "search_fit": 5.0}

    def size(users: int, peak: float, step_peak: float | None) -> dict[str, object]:
        row: dict[str, object] = {
            "stage": "model",
            "users": users,
            "interactions": users * 40,
            "seconds": seconds,
            "searchBudgetSeconds": 300.0,
            "peakRssMiB": peak,
        }
        return row if step_peak is None else {**row, "trainStep": {"peakRssMiB": step_peak}}

    rows = [size(400_000, 3_000.0, whole_step_peak and 3_500.0), size(1_000_000, steps_peak, whole_step_peak)]
    # When the largest trainable size is read / Then it is the smaller one
    assert training_rates({"steps": rows})[2] == 400_000


def test_the_containers_peak_is_the_larger_of_the_largest_steps_and_the_whole_train_steps() -> None:
    # Given a size whose steps peaked at 7,000 MiB at most, and whose whole Train step at 7,800
    row = {"peakRssMiB": 7_000.0, "trainStep": {"peakRssMiB": 7_800.0}}
    # When the container's peak is read / Then it is the whole step's; without one, the steps'
    assert train_peak_mib(row) == 7_800.0
    assert train_peak_mib({"peakRssMiB": 7_000.0}) == 7_000.0


def test_thetraining_rates_and_the_largest_size_come_from_the_training_benchmark(tmp_path: Path) -> None:
    # Given a training_scale result of two sizes: the larger one's Train step, search budget spent
    # (400 s fitting, the 300 s budget, 250 s choosing the session lists), over one Lambda's 900 s
    def model(users: int, train: float, fit: float, session: float) -> dict[str, object]:
        seconds = {
            "train_version": train,
            "evaluate": 10.0,
            "rank_all_users": users / 1e4,
            "search_fit": fit,
            "session_choice": session,
        }
        return {
            "stage": "model",
            "users": users,
            "interactions": users * 40,
            "seconds": seconds,
            "searchBudgetSeconds": 300.0,
            "peakRssMiB": users * 40 / 1e6 * 250.0,
        }

    training = {
        "steps": [{"stage": "parse"}, model(100_000, 50.0, 20.0, 20.0), model(1_000_000, 400.0, 200.0, 250.0)]
    }
    prepare = {
        "firstRuns": [
            {
                "lakeBytesPerEvent": {"parquet": 34.4},
                "parquet": {"eventsPerCpuSecond": 500_000, "peakBytesPerEvent": 100.0},
            }
        ],
        "incremental": [
            {"events": 1_000_000, "newDayEvents": 100_000, "baseSeconds": 0.5, "keptBytesPerEvent": 40.0}
        ],
    }
    (tmp_path / "t.json").write_text(json.dumps(training), encoding="utf-8")
    (tmp_path / "p.json").write_text(json.dumps(prepare), encoding="utf-8")
    # When the cost model reads them
    measured = from_benchmarks(tmp_path / "p.json", tmp_path / "t.json")
    # Then the rates are the largest size's, and the largest size trained in one Lambda is the smaller one
    assert measured.train_seconds_per_million_interactions == pytest.approx((400.0 + 10.0) / 40.0)
    assert measured.topk_seconds_per_million_users == pytest.approx(100.0)
    assert measured.max_trainable_users == 100_000
    # And Train's peak memory per million interactions and the search budget are the largest size's
    assert measured.train_peak_mib_per_million_interactions == pytest.approx(250.0)
    assert measured.search_budget_seconds == 300.0
    # And a scale beyond it trains in the container in the report's engine row (it fits one task)
    text = report((10_000, 1_000_000), measured, P)
    assert (
        "| engine | one Lambda per step | one Fargate task (AWS Batch) for Train and Evaluate, "
        "Lambdas for the rest; Prepare in the training container too (a Fargate task of its own) |" in text
    )


def test_the_doc_update_replaces_the_tables_and_keeps_the_prose_around_them() -> None:
    # Given a doc with old tables between prose
    old = "| assumption | value |\n| x | 1 |\n\n| list price (USD) | value |\n| y | 2 |"
    new = "| assumption | value |\n| x | 3 |\n\n| list price (USD) | value |\n| y | 4 |"
    doc = f"intro\n\n| service | old |\n|---|\n\n**Prices.** prose\n\n{old}\n\nafter\n"
    # When the tables are replaced
    text = update_doc(doc, "| service | new |", new)
    # Then the new tables stand where the old ones stood, the prose untouched
    assert text == f"intro\n\n| service | new |\n\n**Prices.** prose\n\n{new}\n\nafter\n"


def test_prepare_leaves_the_function_for_the_container_past_its_time_or_memory_and_is_priced_there() -> None:
    # Given Prepare's peak memory per event and its rates
    day = traffic(1e6, A).events / DAYS_PER_MONTH
    assert prepare_peak_gb(1e6, A) == pytest.approx(
        day * A.training_window_days * A.prepare_peak_bytes_per_event / 1024**3
    )
    # Then a window within the function's memory and 900 s prepares there, pays no task
    assert prepare_engine(1e4, A) == "lambda"
    assert monthly_cost(1e4, A, P)[PREPARE_CONTAINER_ROW] == 0.0
    # And a window past the function's memory (but within the task's) prepares in the container,
    # which each run pays for: its start and a daily run at the measured rates
    assert prepare_peak_gb(1e6, A) > A.prepare_memory_gb
    assert prepare_engine(1e6, A) == "container"
    seconds = A.container_start_seconds + prepare_run_seconds(day * A.training_window_days, day, A)
    assert prepare_container_run_seconds(1e6, A) == pytest.approx(seconds)
    task = seconds / 3600 * (16 * P.fargate_vcpu_hour + 120 * P.fargate_gb_hour)
    assert monthly_cost(1e6, A, P)[PREPARE_CONTAINER_ROW] == pytest.approx(A.training_runs_per_month * task)
    # And a window past the function's 900 s alone goes the same way
    slow = replace(LIGHT_PREPARE, prepare_kept_events_per_second=1_000.0)
    assert prepare_engine(1e6, slow) == "container"
    # And past the task's memory (or a first run past its 2 h attempt) nothing is built, as the
    # engine row says
    assert prepare_peak_gb(1e7, A) > A.container_memory_gb * A.container_memory_headroom
    assert prepare_engine(1e7, A) == "beyond"
    assert "Prepare past one Lambda and past one training container" in report((1e7,), A, P)
    first_too_slow = replace(
        LIGHT_PREPARE, prepare_decoded_events_per_second=1_000.0, prepare_kept_events_per_second=1_000.0
    )
    assert prepare_engine(1e6, first_too_slow) == "beyond"
    assert monthly_cost(1e7, A, P)[PREPARE_CONTAINER_ROW] == 0.0
