"""The demo flow with personal data in the events, over HTTP: afterwards no store, log line,
metric or response holds a raw user, anonymous or session id, or any of the personal data."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest

from recs_tools.local.demo import run_demo
from recs_tools.local.http import LocalApiServer
from recs_tools.local.http_client import http_call
from recs_tools.local.stack import LocalStack
from tests.integration.privacy.stores import find, store_texts
from tests.integration.privacy.support import function_logs

PII_FIELDS = ("email", "phone", "name", "address", "ip")
PRODUCT_FIELDS = {"id", "score", "reason", "ruleId", "basedOn"}
RESPONSE_FIELDS = {
    "products",
    "modelVersion",
    "generatedAt",
    "source",
    "recommendationId",
    "variant",
    "experiment",
}


def test_the_demo_flow_leaves_no_raw_id_or_personal_data_anywhere(capsys: pytest.CaptureFixture[str]) -> None:
    # Given the demo flow (synthetic shop through the HTTP API, opt-outs, training) whose events
    # carry e-mail addresses, phone numbers, names, postal and IP addresses in 10% of the events
    # (also typed into search boxes), with every function logging at INFO and publishing metrics
    with LocalStack(parameter_overrides={"LogLevel": "INFO"}) as stack, function_logs(stack) as logs:
        api = LocalApiServer(stack, port=0).start()
        try:
            report = run_demo(stack, api.url, preset="test", seed=17, pii_fraction=0.1, log=lambda _: None)
            assert report.execution["status"] == "SUCCEEDED"
            shop = report.shop
            # When shoppers of every kind are served
            responses = [
                http_call(api.url, "GET", "/api/recommendations?" + urlencode(query))
                for query in (
                    {"userId": shop.users[0]},
                    {"userId": shop.opted_out_user_ids[0]},
                    {"anonId": next(iter(shop.anonymous_ids)), "context": "cart"},
                    {"userId": shop.users[1], "context": "product-page", "productId": shop.products[0].id},
                )
            ]
            texts = store_texts(stack)
        finally:
            api.stop()
    printed = capsys.readouterr()  # metrics (EMF documents) and anything else printed

    # Then the needles are the shop's raw ids and every personal value its events carried
    events: list[dict[str, Any]] = list(shop.events)
    needles = {
        *shop.users,
        *(a for a in shop.anonymous_ids if a),
        *{str(e["sessionId"]) for e in events if e.get("sessionId")},
        *{str(e[f]) for e in events for f in PII_FIELDS if e.get(f)},
    }
    personal = [e for e in events if e.get("email")]
    assert personal  # the shop did send personal data
    assert any(str(e["query"]).endswith(str(e["email"])) for e in personal if "query" in e)
    # And no store holds any of them: both tables, the cache, the lake, the artifacts, the workflow
    assert find(stack, needles, texts) == []
    # And no log line or metric (stdout and stderr of every function) holds any of them
    log_text = logs.getvalue() + printed.out + printed.err
    assert '"level":"INFO"' in log_text.replace(" ", "")  # INFO lines were written
    assert '"CloudWatchMetrics"' in log_text  # and metrics
    assert [needle for needle in needles if needle in log_text] == []
    # And the responses hold product ids, scores, reasons (with the rule that placed a product, or
    # the product it is based on) and the model version only
    for response in responses:
        assert response.status == 200
        assert set(response.body) <= RESPONSE_FIELDS
        products = response.body["products"]
        assert all(set(product) <= PRODUCT_FIELDS for product in products)
        assert all(set(p["basedOn"]) == {"productId", "relation"} for p in products if "basedOn" in p)
        assert [needle for needle in needles if needle in json.dumps(response.body)] == []
