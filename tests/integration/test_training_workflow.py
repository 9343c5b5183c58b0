"""The real state machine definition, executed by moto, with Lambda tasks on the real handler:
a full run, a crashed run, a refused run and a transient error that is retried."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
import redis

from recs.errors import StoreUnavailableError
from recs.store_layout import (
    ATTRIBUTES_PK,
    PRICE,
    cache_key,
    catalog_part_keys,
    category_map_payload,
    decode_attribute_map,
    popular_pk,
    user_pk,
    version_meta_key,
    version_sk,
)
from recs_tools.local.stack import LocalStack
from tests.helpers import body_of, load_event
from tests.integration.serving.world import with_query
from tests.integration.training.support import (
    artifact,
    artifact_keys,
    entered_states,
    ingest_shop,
    model_row,
    model_rows,
    pointer,
    train_pipeline,
    upload_catalog,
)


def test_a_scheduled_run_publishes_and_flips_the_pointer(stack: LocalStack) -> None:
    # Given a lake holding a small shop's events and the shop's catalog export
    shop = ingest_shop(stack)
    upload_catalog(stack, shop)
    # When the training state machine runs
    execution = stack.run_training()
    # Then it succeeds through every step, and the pointer names the new version
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    for state in ("Prepare", "Train", "Evaluate", "Gate", "Publish", "Flip", "Cleanup", "Done"):
        assert state in entered_states(stack, execution)
    current = pointer(stack)
    assert current is not None
    version = current["modelVersion"]
    output = json.loads(execution["output"])
    assert output["modelVersion"] == version
    assert output["gate"]["passed"]
    # And every known user in the window has a list of the version, stamped and expiring
    rows = [r for r in model_rows(stack) if r["sk"] == version_sk(version)]
    user_rows = [r for r in rows if r["pk"].startswith("U#")]
    assert len(user_rows) == output["stats"]["users"] > 0
    assert all(int(r["expiresAt"]) > int(output["endTs"]) for r in rows)
    kinds = {r["pk"].split("#")[0] for r in rows}
    assert kinds >= {"U", "SIM", "BT", "POP", "TREND", "CATALOG", "ATTRS"}
    # And the catalog's prices are in the version's attribute map (serving's price filters)
    prices = {str(p["id"]): float(p["price"]) for p in shop.catalog() if p.get("price")}  # type: ignore[arg-type]
    first = model_row(stack, ATTRIBUTES_PK, version_sk(version))
    assert first is not None
    parts = [first, *(model_row(stack, pk, sk) or {} for pk, sk in catalog_part_keys(first))]
    published = decode_attribute_map(category_map_payload(parts)).products
    assert {p: values[PRICE] for p, values in published.items()} == prices
    # And the version's META row records its parameters, weights and evaluation
    meta = model_row(stack, *version_meta_key(version))
    assert meta is not None
    assert meta["status"] == "published"
    assert json.loads(meta["weights"])["purchase"] == 5.0
    assert (
        json.loads(meta["evaluation"])["model"]["ndcg"] > json.loads(meta["evaluation"])["popularity"]["ndcg"]
    )
    # And the artifacts are stored without pickle, with the report; intermediates are gone
    prefix = f"models/{version}/"
    keys = artifact_keys(stack, prefix)
    for name in ("model/model.npz", "model/parameters.json", "model/ids.json", "evaluation.json"):
        assert prefix + name in keys
    assert not [k for k in keys if k.startswith((prefix + "prepared/", prefix + "shards/"))]
    # And the saved model is the family the search chose (the families are close on a shop this
    # small, so any may win), with that family's float32 arrays
    parameters = json.loads(artifact(stack, prefix + "model/parameters.json"))
    family = parameters["family"]
    fitted_arrays = {"als": "item_factors", "ease": "item_weights", "knn": "share_values"}
    assert family in fitted_arrays
    with np.load(io.BytesIO(artifact(stack, prefix + "model/model.npz")), allow_pickle=False) as model:
        assert str(model["__model__"]) == {"knn": "userknn"}.get(family, family)
        assert model[fitted_arrays[family]].dtype == np.float32
    # And the purchases every list leaves out are published for serving to filter, exactly when
    # the chosen parameters exclude them
    assert ("PURCHASED" in kinds) == parameters["training"]["exclude_purchased"]
    report = json.loads(artifact(stack, prefix + "evaluation.json"))
    assert report["gate"]["passed"]
    assert report["popularity"]["ndcg"] >= 0
    # And the cache holds the popular list and the most active users' lists of the new version
    assert stack.redis is not None
    cache = redis.Redis.from_url(stack.redis.url)
    assert cache.get(cache_key(version, popular_pk())) is not None
    active = json.loads(artifact(stack, prefix + "model/active_users.json"))
    assert cache.get(cache_key(version, user_pk(active[0]))) is not None
    # And shoppers are served from it
    served = stack.invoke("RecommendFunction", load_event("recommend_anonymous"))
    assert served["statusCode"] == 200
    assert body_of(served)["modelVersion"] == version
    # And a price filter serves only products in the range, the list full from the shop-wide lists
    low, high = np.percentile(list(prices.values()), [25, 75])
    event = with_query(load_event("recommend_anonymous"), minPrice=str(low), maxPrice=str(high))
    ranged = body_of(stack.invoke("RecommendFunction", event))
    assert len(ranged["products"]) == 5
    assert all(low <= prices[p["id"]] <= high for p in ranged["products"])


def test_the_next_run_searches_from_the_choice_of_the_version_serving(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a published version whose search chose its parameters
    ingest_shop(stack)
    assert stack.run_training()["status"] == "SUCCEEDED"
    first = pointer(stack)
    assert first is not None
    meta = model_row(stack, *version_meta_key(first["modelVersion"]))
    assert meta is not None
    chosen = json.loads(meta["chosen"])
    assert chosen["model_family"] in ("als", "ease", "knn")
    # When the next run trains (its search spied on)
    pipeline = train_pipeline(stack)
    starts: list[Any] = []
    real = pipeline._previous_choice

    def spy() -> Any:
        starts.append(real())
        return starts[-1]

    monkeypatch.setattr(pipeline, "_previous_choice", spy)
    execution = stack.run_training()
    # Then its search started from the serving version's choice, and the new version records its
    # own choice, the search's trials and the parameters the gate evaluated
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    assert starts == [chosen]
    version = pointer(stack)["modelVersion"]  # type: ignore[index]
    parameters = json.loads(artifact(stack, f"models/{version}/model/parameters.json"))
    assert parameters["search"]["trials"]
    assert parameters["search"]["validationUsers"] > 0
    report = json.loads(artifact(stack, f"models/{version}/evaluation.json"))
    assert report["parameters"]["model_family"] == parameters["family"]


def test_a_crashed_run_leaves_the_previous_version_serving(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a published version
    ingest_shop(stack)
    assert stack.run_training()["status"] == "SUCCEEDED"
    before = pointer(stack)
    assert before is not None

    # When the next run crashes in its train step
    def crash(job: dict[str, Any], **options: Any) -> dict[str, Any]:
        raise MemoryError("simulated crash")

    monkeypatch.setattr(train_pipeline(stack), "train", crash)
    execution = stack.run_training()
    # Then it fails through the Catch path (failure recorded, alert sent) and the pointer is unchanged
    assert execution["status"] == "FAILED"
    assert execution.get("error") == "TrainingFailed"
    assert {"RecordFailure", "NotifyFailure", "Failed"} <= set(entered_states(stack, execution))
    assert pointer(stack) == before
    failed = [r for r in model_rows(stack) if r["pk"].startswith("VERSION#") and r.get("status") == "failed"]
    assert [r["error"] for r in failed] == ["MemoryError"]
    # And shoppers are still served from the previous version
    served = stack.invoke("RecommendFunction", load_event("recommend_anonymous"))
    assert served["statusCode"] == 200
    assert body_of(served)["modelVersion"] == before["modelVersion"]


def test_a_model_the_gate_refuses_is_not_published(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a published version, then a gate that demands 100x popularity's NDCG
    ingest_shop(stack)
    assert stack.run_training()["status"] == "SUCCEEDED"
    before = pointer(stack)
    pipeline = train_pipeline(stack)
    monkeypatch.setattr(
        pipeline, "params", pipeline.params.model_copy(update={"gate_popularity_margin": 100.0})
    )
    # When the next run evaluates its model
    execution = stack.run_training()
    # Then the gate refuses it: recorded, notified, no personal list published, the old version
    # still serving personal lists
    assert execution["status"] == "FAILED"
    assert execution.get("error") == "QualityGateRefused"
    states = entered_states(stack, execution)
    assert {"PublishLists", "RecordRefusal", "NotifyRefusal", "Refused"} <= set(states)
    assert "Publish" not in states
    assert "Flip" not in states
    refused = [
        r for r in model_rows(stack) if r["pk"].startswith("VERSION#") and r.get("status") == "refused"
    ]
    assert len(refused) == 1
    assert "required margin" in refused[0]["reason"]
    version = refused[0]["pk"].removeprefix("VERSION#")
    after = pointer(stack)
    assert after is not None
    assert after["modelVersion"] == before["modelVersion"]  # type: ignore[index]
    # And popular and trending are refreshed: only shop-wide rows under the refused version, and
    # the pointer serves them from it
    assert after["listsVersion"] == version
    written = {r["pk"].split("#")[0] for r in model_rows(stack) if r["sk"] == version_sk(version)}
    assert written == {"POP", "TREND", "CATALOG"}
    assert not refused[0].get("listsError")


def test_a_new_shop_whose_first_run_is_refused_answers_200_in_every_context(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a new shop's events and a gate no model can pass
    ingest_shop(stack)
    pipeline = train_pipeline(stack)
    monkeypatch.setattr(
        pipeline, "params", pipeline.params.model_copy(update={"gate_popularity_margin": 100.0})
    )
    # When its first run is refused
    execution = stack.run_training()
    assert execution.get("error") == "QualityGateRefused"
    # Then the run's shop-wide lists serve (a lists-only version), and every context and identity
    # gets a full list instead of 503
    current = pointer(stack)
    assert current is not None
    assert current["listsOnly"] is True
    for sample in (
        "recommend_homepage",
        "recommend_anonymous",
        "recommend_no_identity",
        "recommend_product_page",
        "recommend_cart",
        "recommend_unknown_context",
    ):
        served = stack.invoke("RecommendFunction", load_event(sample))
        assert served["statusCode"] == 200, (sample, served["body"])
        assert len(body_of(served)["products"]) >= 5, sample


def test_the_serving_version_survives_60_days_of_refused_runs(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a published version (with its catalog's attribute map), then a gate no later model passes
    upload_catalog(stack, ingest_shop(stack))
    assert stack.run_training()["status"] == "SUCCEEDED"
    serving = str(pointer(stack)["modelVersion"])  # type: ignore[index]
    pipeline = train_pipeline(stack)
    monkeypatch.setattr(
        pipeline, "params", pipeline.params.model_copy(update={"gate_popularity_margin": 100.0})
    )
    start = pipeline.deps.clock()
    renew_days = pipeline.params.version_renew_days
    for days in (25, 50, 60):
        # When a refused run happens that many days later (the training clock moved)
        later = start + timedelta(days=days)
        monkeypatch.setattr(pipeline.deps, "clock", lambda later=later: later)
        assert stack.run_training().get("error") == "QualityGateRefused"
        # Then the serving version is still the one serving, and none of its rows (its META
        # included) expires within the renewal window: DynamoDB's TTL never reaches them
        assert pointer(stack)["modelVersion"] == serving  # type: ignore[index]
        rows = [r for r in model_rows(stack) if r["sk"] == version_sk(serving)]
        rows.append(model_row(stack, *version_meta_key(serving)) or {})
        assert len(rows) > 100
        assert {"CATALOG", "ATTRS"} <= {str(r.get("pk")) for r in rows}
        assert min(int(r["expiresAt"]) for r in rows) > (later + timedelta(days=renew_days)).timestamp()
    # And shoppers are served from it
    served = stack.invoke("RecommendFunction", load_event("recommend_anonymous"))
    assert served["statusCode"] == 200
    assert body_of(served)["modelVersion"] == serving


def test_a_transient_store_error_is_retried_and_the_run_succeeds(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an evaluate step whose first attempt meets an unavailable store
    ingest_shop(stack)
    pipeline = train_pipeline(stack)
    real = pipeline.evaluate
    attempts: list[int] = []

    def flaky(job: dict[str, Any]) -> dict[str, Any]:
        attempts.append(1)
        if len(attempts) == 1:
            raise StoreUnavailableError("throttled")
        result: dict[str, Any] = real(job)
        return result

    monkeypatch.setattr(pipeline, "evaluate", flaky)
    # When the workflow runs
    execution = stack.run_training()
    # Then the Retry policy ran the step again and the run succeeded
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    assert len(attempts) == 2
    failures = [e for e in stack.execution_history(execution["executionArn"]) if e["type"] == "TaskFailed"]
    assert [json.loads(e["taskFailedEventDetails"]["cause"])["errorType"] for e in failures] == [
        "StoreUnavailableError"
    ]
    assert pointer(stack) is not None
