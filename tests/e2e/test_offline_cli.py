"""`recs train --events FILE --out DIR`: the offline contract (docs/architecture.md), run as a command."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from recs_tools.synthetic import build_config, generate_shop, write_jsonl


def _recs(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed console script (`recs = recs_tools.cli:main`), else the module."""
    script = shutil.which("recs", path=str(Path(sys.executable).parent))
    command = [script] if script else [sys.executable, "-m", "recs_tools.cli"]
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, timeout=300, check=False, env=_env()
    )


def _env() -> dict[str, str]:
    import os

    return {**os.environ, "PYTHONWARNINGS": "ignore"}


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def shop_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Any]:
    shop = generate_shop(build_config("test", seed=5))
    folder = tmp_path_factory.mktemp("shop")
    write_jsonl(shop.iter_events(), folder / "events.jsonl")
    write_jsonl(shop.catalog(), folder / "catalog.jsonl")
    return folder / "events.jsonl", folder / "catalog.jsonl", shop


def test_train_writes_the_four_outputs_with_raw_user_ids(
    shop_files: tuple[Path, Path, Any], tmp_path: Path
) -> None:
    # Given a shop's events (raw ids, docs/architecture.md Events) and its catalog
    events, catalog, shop = shop_files
    # When the offline command trains on them
    result = _recs("train", "--events", str(events), "--catalog", str(catalog), "--out", str(tmp_path))
    # Then it succeeds and writes the four files
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "evaluation.json",
        "popular.json",
        "recommendations.jsonl",
        "similar_items.jsonl",
    ]
    # And there is one line per known user, by the raw id given, with contract-shaped products
    recommendations = _lines(tmp_path / "recommendations.jsonl")
    users_in_events = {e["userId"] for e in shop.events if e.get("userId")}
    assert Counter(r["userId"] for r in recommendations) == Counter(users_in_events)
    vocabulary = {"similar-users", "similar-items", "buy-again"}
    unavailable = {p.id for p in shop.products if not p.available}
    first = recommendations[0]
    assert first["modelVersion"].startswith("offline-")
    assert first["generatedAt"].endswith("Z")
    for line in recommendations:
        ids = [p["id"] for p in line["products"]]
        assert len(ids) == len(set(ids))
        assert not unavailable & set(ids)
        assert {p["reason"] for p in line["products"]} <= vocabulary
    # And similar items and popular lists name products with their reasons
    similar = _lines(tmp_path / "similar_items.jsonl")
    assert {s["productId"] for s in similar} <= {p.id for p in shop.products}
    assert all(p["reason"] == "similar-items" for s in similar for p in s["products"])
    popular = json.loads((tmp_path / "popular.json").read_text())
    assert popular["products"]
    assert all(p["reason"] == "popular" for p in popular["products"])
    assert all(p["reason"] == "category-popular" for ps in popular["byCategory"].values() for p in ps)
    # And the evaluation compares the model with popularity and bought-most on each shopper's
    # last visit, with the search that chose the parameters
    evaluation = json.loads((tmp_path / "evaluation.json").read_text())
    assert evaluation["model"]["ndcg"] > evaluation["popularity"]["ndcg"]
    assert evaluation["holdout"]["protocol"] == "each known user's last visit held out"
    assert evaluation["holdout"]["evaluatedUsers"] > 0
    assert evaluation["search"]["fits"] >= 1
    assert evaluation["parameters"]["event_weights"]["purchase"] == 5.0


def test_train_reads_parquet_too(shop_files: tuple[Path, Path, Any], tmp_path: Path) -> None:
    # Given the same events as a Parquet file
    import pyarrow as pa
    import pyarrow.parquet as pq

    events, _, shop = shop_files
    rows = _lines(events)
    columns = sorted({k for row in rows for k in row})
    table = pa.Table.from_pylist([{c: row.get(c) for c in columns} for row in rows])
    parquet = tmp_path / "events.parquet"
    pq.write_table(table, parquet)
    # When trained from it
    result = _recs("train", "--events", str(parquet), "--out", str(tmp_path / "out"))
    # Then every known user has a line, as from JSONL
    assert result.returncode == 0, result.stderr
    users = {r["userId"] for r in _lines(tmp_path / "out" / "recommendations.jsonl")}
    assert users == {e["userId"] for e in shop.events if e.get("userId")}


def test_bad_input_exits_2_with_a_message(tmp_path: Path) -> None:
    # Given a missing file and a bad parameter
    missing = _recs("train", "--events", str(tmp_path / "none.jsonl"), "--out", str(tmp_path))
    (tmp_path / "e.jsonl").write_text("{}\n")
    bad = _recs(
        "train", "--events", str(tmp_path / "e.jsonl"), "--out", str(tmp_path), "--param", "als_factors=0"
    )
    # Then both exit 2 naming the problem
    assert missing.returncode == 2
    assert "no such file" in missing.stderr
    assert bad.returncode == 2
    assert "als_factors" in bad.stderr
