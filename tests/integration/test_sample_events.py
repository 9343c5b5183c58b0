"""The sample events drive the handlers in-process (the same files `sam local invoke -e` takes)."""

from __future__ import annotations

import json

from recs import lake_format
from recs_tools.local.sample_events import sample_events
from recs_tools.local.stack import LocalStack
from tests.helpers import EVENTS_DIR, body_of, load_event, sample_event_names


def test_committed_samples_match_their_generator() -> None:
    # Given the generator of events/ / Then every committed file is exactly what it produces
    generated = sample_events()
    assert sorted(generated) == sample_event_names()
    for name, event in generated.items():
        assert json.loads((EVENTS_DIR / f"{name}.json").read_text(encoding="utf-8")) == json.loads(
            json.dumps(event)
        )


def test_bad_limit_answers_400_naming_the_field(stack: LocalStack) -> None:
    # Given the sample request with limit=abc / When the recommend function handles it
    response = stack.invoke("RecommendFunction", load_event("recommend_bad_limit"))
    # Then it is a 400 whose body names `limit`
    assert response["statusCode"] == 400
    assert [e["field"] for e in body_of(response)["errors"]] == ["limit"]


def test_before_the_first_model_recommendations_answer_503(stack: LocalStack) -> None:
    # Given no training has run / When a shopper asks
    response = stack.invoke("RecommendFunction", load_event("recommend_homepage"))
    # Then the service says it is degraded, with a Retry-After
    assert response["statusCode"] == 503
    assert "Retry-After" in response["headers"] or "retry-after" in response["headers"]


def test_a_view_event_lands_in_the_lake(stack: LocalStack) -> None:
    # Given the sample view event / When the ingest function handles it
    response = stack.invoke("IngestFunction", load_event("ingest_view"))
    # Then it is accepted and one record is in the lake, with a pseudonymous user id
    assert response["statusCode"] == 202
    s3 = stack.client("s3")
    bucket = stack.physical["EventLakeBucket"]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert len(keys) == 1
    assert keys[0].startswith("events/")
    # (Firehose converts each delivery to Parquet: one object, one row)
    (record,) = lake_format.records(s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read())
    assert record["eventType"] == "view"
    assert record["userId"].startswith("u_")
    assert "user_000001" not in json.dumps(record)


def test_privacy_samples_set_and_read_the_preference(stack: LocalStack) -> None:
    # Given the opt-out sample / When it is handled, then the status sample
    put = stack.invoke("PrivacyFunction", load_event("privacy_opt_out"))
    status = stack.invoke("PrivacyFunction", load_event("privacy_status"))
    # Then the preference reads back as opted out
    assert put["statusCode"] == 200
    assert body_of(status)["preferences"] == {"recommendations": False}


def test_admin_samples_put_list_audit_and_remove_a_rule(stack: LocalStack) -> None:
    # Given the admin samples (requests IAM authorization let through)
    put = stack.invoke("AdminFunction", load_event("admin_put_rule"))
    bad = stack.invoke("AdminFunction", load_event("admin_put_rule_bad_window"))
    listed = stack.invoke("AdminFunction", load_event("admin_list_rules"))
    deleted = stack.invoke("AdminFunction", load_event("admin_delete_rule"))
    changes = stack.invoke("AdminFunction", load_event("admin_rule_changes"))
    # Then the rule is stored by the role's session, the bad window named, and both changes audited
    assert put["statusCode"] == 200
    assert body_of(put)["updatedBy"] == "arn:aws:sts::123456789012:assumed-role/merchandising/jane"
    assert bad["statusCode"] == 400
    assert [e["field"] for e in body_of(bad)["errors"]] == ["endsAt"]
    assert [rule["id"] for rule in body_of(listed)["rules"]] == ["spring-pin"]
    assert deleted["statusCode"] == 204
    assert [c["action"] for c in body_of(changes)["changes"]] == ["delete", "put"]
