"""Scrubbing stored model versions: every layout that names visitors is rewritten without the
erased ones, consistently (ids and rows together), and an unknown layout holding one is an error."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import scipy.sparse as sp

from recs.engine import EASE, AlternatingLeastSquares, Popularity, UserKNN
from recs.engine.base import Recommender
from recs.training.fit.fitting import FittedModel
from recs.training.privacy import rows
from recs.training.privacy.artifact_scrub import ArtifactScrubber, ArtifactScrubError
from recs.training.publish import artifacts as paths
from recs.training.publish.artifacts import VersionArtifacts
from recs.training.publish.sparse_arrays import csr_arrays, csr_from
from recs_tools.memory_objects import MemoryObjects
from tests.unit.privacy.fakes import PSEUDONYMS

KEPT, ERASED, ANON = PSEUDONYMS.user("kept"), PSEUDONYMS.user("erased"), PSEUDONYMS.anon("browser")
VISITORS = [KEPT, ERASED, ANON]
ITEMS = ["sku_1", "sku_2", "sku_3", "sku_4"]
VERSION = "v20261126T030000Z-abc123"


def is_erased(pseudonym: str) -> bool:
    return pseudonym == ERASED


def version_store() -> tuple[MemoryObjects, AlternatingLeastSquares]:
    """A version as the pipeline leaves it before Cleanup (prepared/ and shards/ still there)."""
    store = MemoryObjects(
        {"catalog/products.jsonl": b'{"id": "sku_1", "category": "a", "available": true}\n'}
    )
    artifacts = VersionArtifacts(store, VERSION)
    confidence = sp.csr_matrix(np.array([[1, 2, 0, 0], [0, 3, 1, 0], [1, 0, 0, 4]], dtype=np.float32))
    model = AlternatingLeastSquares(factors=2, iterations=2, random_state=7).fit(confidence)
    artifacts.put_bytes(paths.MODEL, FittedModel("als", model).to_bytes())
    artifacts.put_json(paths.MODEL_IDS, {"users": VISITORS, "items": ITEMS})
    artifacts.put_json(paths.ACTIVE_USERS, [ERASED, KEPT])
    artifacts.put_json(paths.EVALUATION, {"ndcg": 0.4})
    artifacts.put_json(paths.PREPARED_IDS, {"users": VISITORS, "items": ITEMS, "itemCategory": [None] * 4})
    artifacts.put_arrays(
        paths.PREPARED_INTERACTIONS,
        user=np.array([0, 1, 1, 2, 2], dtype=np.int32),
        item=np.array([0, 1, 2, 0, 3], dtype=np.int32),
        event=np.zeros(5, dtype=np.int8),
        timestamp=np.arange(5, dtype=np.float64),
        quantity=np.ones(5, dtype=np.float32),
        basket=np.array([-1, 0, 0, 1, 1], dtype=np.int64),
        is_user=np.array([True, True, False]),
        unavailable=np.zeros(4, dtype=np.bool_),
    )
    assert model.user_factors is not None
    artifacts.put_arrays(
        paths.shard_key("users-00000"),
        users=np.array([KEPT, ERASED]),
        user_factors=model.user_factors[:2],
        **csr_arrays("exclude", confidence[:2]),
        **csr_arrays("purchases", confidence[:2]),
    )
    # A full publish's row hashes (recs.training.publish.changes), kept for later deltas.
    artifacts.put_arrays(
        paths.hashes_key("users-00000"),
        users=np.array([ERASED, KEPT]),
        lists=np.array([11, 12], dtype=np.uint64),
        purchases=np.array([0, 22], dtype=np.uint64),
    )
    return store, model


def test_every_layout_naming_visitors_is_rewritten_without_the_erased_one() -> None:
    # Given a version whose artifacts name the erased user
    store, model = version_store()
    assert model.user_factors is not None
    kept_row, anon_row = model.user_factors[0].copy(), model.user_factors[2].copy()
    # When the bucket is scrubbed
    outcome = ArtifactScrubber(store).scrub_all(is_erased)
    artifacts = VersionArtifacts(store, VERSION)
    # Then the erased pseudonym is in no object any more
    for key, data in store.objects.items():
        assert ERASED.encode() not in data, key
        if key.endswith(".npz"):
            with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
                assert not any(ERASED in str(arrays[name].tolist()) for name in arrays.files), key
    # And the model's user rows still line up with its ids (the other visitors' factors unchanged)
    ids = artifacts.get_json(paths.MODEL_IDS)["users"]
    scrubbed = FittedModel.from_bytes(artifacts.get_bytes(paths.MODEL)).model
    assert isinstance(scrubbed, AlternatingLeastSquares)
    assert scrubbed.user_factors is not None
    assert ids == [KEPT, ANON]
    np.testing.assert_array_equal(scrubbed.user_factors, np.stack([kept_row, anon_row]))
    assert artifacts.get_json(paths.ACTIVE_USERS) == [KEPT]
    # And the prepared interactions are renumbered: each remaining one keeps its visitor and item
    prepared = artifacts.get_arrays(paths.PREPARED_INTERACTIONS)
    visitors = artifacts.get_json(paths.PREPARED_IDS)["users"]
    assert [(visitors[u], ITEMS[i]) for u, i in zip(prepared["user"], prepared["item"], strict=True)] == [
        (KEPT, "sku_1"),
        (ANON, "sku_1"),
        (ANON, "sku_4"),
    ]
    assert prepared["is_user"].tolist() == [True, False]
    # And the shard keeps the kept user's row in every per-user array
    shard = artifacts.get_arrays(paths.shard_key("users-00000"))
    assert shard["users"].tolist() == [KEPT]
    assert csr_from(shard, "exclude").toarray().tolist() == [[1, 2, 0, 0]]
    np.testing.assert_array_equal(shard["user_factors"], kept_row[None, :])
    # And the row hashes keep the kept user's entry in each array
    hashes = artifacts.get_arrays(paths.hashes_key("users-00000"))
    assert (hashes["users"].tolist(), hashes["lists"].tolist(), hashes["purchases"].tolist()) == (
        [KEPT],
        [12],
        [22],
    )
    assert outcome.objects_rewritten == 7
    assert set(outcome.objects_by_visitor) == {ERASED}


def test_a_version_without_erased_visitors_is_left_alone() -> None:
    # Given a version / When nobody in it is erased
    store, _ = version_store()
    before = dict(store.objects)
    outcome = ArtifactScrubber(store).scrub_version(VERSION, lambda pseudonym: False)
    # Then nothing is rewritten
    assert outcome.objects_rewritten == 0
    assert store.objects == before


def test_an_unknown_artifact_holding_an_erased_visitor_stops_the_scrub() -> None:
    # Given an artifact of a layout the scrubber does not know, naming the erased user
    store, _ = version_store()
    store.objects[f"models/{VERSION}/model/recommendations.json"] = json.dumps({ERASED: ["sku_1"]}).encode()
    # When the bucket is scrubbed / Then it fails rather than report a complete erasure
    with pytest.raises(ArtifactScrubError, match=r"recommendations\.json"):
        ArtifactScrubber(store).scrub_all(is_erased)


def test_a_user_neighbours_model_loses_the_erased_users_row() -> None:
    # Given a version whose model is user-kNN (one row of interaction shares per visitor)
    store, _ = version_store()
    artifacts = VersionArtifacts(store, VERSION)
    confidence = sp.csr_matrix(np.array([[1, 2, 0, 0], [0, 3, 1, 0], [1, 0, 0, 4]], dtype=np.float32))
    artifacts.put_bytes(paths.MODEL, FittedModel("knn", UserKNN(neighbours=2).fit(confidence)).to_bytes())
    # When the erased visitor is scrubbed
    ArtifactScrubber(store).scrub_version(VERSION, is_erased)
    # Then the model keeps the other two visitors' rows, in step with its ids
    scrubbed = FittedModel.from_bytes(artifacts.get_bytes(paths.MODEL)).model
    assert isinstance(scrubbed, UserKNN)
    assert scrubbed.shares is not None
    assert artifacts.get_json(paths.MODEL_IDS)["users"] == [KEPT, ANON]
    np.testing.assert_allclose(scrubbed.shares.toarray(), [[1 / 3, 2 / 3, 0, 0], [0.2, 0, 0, 0.8]])


def test_an_import_file_loses_the_erased_users_items_and_keeps_the_others() -> None:
    # Given a version whose users' rows were written as an ImportTable file (gzip DynamoDB JSON),
    # the erased user's list and purchases among them
    import gzip

    store, _ = version_store()
    items = [
        {"pk": {"S": f"{prefix}{who}"}, "sk": {"S": f"V#{VERSION}"}, "d": {"S": '[["sku_1",1.0,null]]'}}
        for who in (ERASED, KEPT)
        for prefix in ("U#", "PURCHASED#")
    ]
    body = "\n".join(json.dumps({"Item": item}) for item in items)
    key = f"models/{VERSION}/{paths.import_key('users-00000')}"
    store.objects[key] = gzip.compress(body.encode())
    # When the bucket is scrubbed
    outcome = ArtifactScrubber(store).scrub_all(is_erased)
    # Then the file keeps the other user's two items, one a line, and is counted as rewritten
    lines = gzip.decompress(store.objects[key]).decode().splitlines()
    assert [json.loads(line)["Item"]["pk"]["S"] for line in lines] == [f"U#{KEPT}", f"PURCHASED#{KEPT}"]
    assert key in outcome.objects_by_visitor[ERASED]


def _saved(model: Recommender) -> bytes:
    buffer = io.BytesIO()
    model.save(buffer)
    return buffer.getvalue()


def _engine_model_tags() -> set[str]:
    """The class tags of every model the engine can save (`Recommender.model_name`)."""
    found: set[str] = set()
    classes: list[type[Recommender]] = list(Recommender.__subclasses__())
    while classes:
        cls = classes.pop()
        classes.extend(cls.__subclasses__())
        if cls.model_name:
            found.add(cls.model_name)
    return found


CONFIDENCE = sp.csr_matrix(np.array([[1, 2, 0, 0], [0, 3, 1, 0], [1, 0, 0, 4]], dtype=np.float32))


def test_the_scrub_knows_where_every_engine_model_keeps_its_user_rows() -> None:
    # Given every model class the engine saves
    # Then the scrub knows each one's user rows (dense, sparse, or none), by the arrays it saves
    known = set(rows.DENSE_USER_ROWS) | set(rows.CSR_USER_ROWS) | rows.NO_USER_ROWS
    assert _engine_model_tags() == known
    fitted = {
        "als": AlternatingLeastSquares(factors=2, iterations=1, random_state=7).fit(CONFIDENCE),
        "userknn": UserKNN(neighbours=2).fit(CONFIDENCE),
        "ease": EASE(l2=1.0).fit(CONFIDENCE),
        "popularity": Popularity().fit(CONFIDENCE),
    }
    assert set(fitted) == known
    user_rows = {tag: rows.model_user_rows(rows.read_npz(_saved(model))) for tag, model in fitted.items()}
    assert user_rows == {"als": 3, "userknn": 3, "ease": None, "popularity": None}


def test_a_model_without_user_rows_is_left_as_it_is_and_its_ids_lose_the_erased_visitor() -> None:
    # Given a version whose model is EASE (item weights only)
    store, _ = version_store()
    artifacts = VersionArtifacts(store, VERSION)
    model = _saved(EASE(l2=1.0).fit(CONFIDENCE))
    artifacts.put_bytes(paths.MODEL, model)
    # When the erased visitor is scrubbed
    outcome = ArtifactScrubber(store).scrub_version(VERSION, is_erased)
    # Then the model is not rewritten, and its ids are
    assert artifacts.get_bytes(paths.MODEL) == model
    assert artifacts.get_json(paths.MODEL_IDS)["users"] == [KEPT, ANON]
    assert artifacts.key(paths.MODEL) not in outcome.objects_by_visitor[ERASED]


def test_a_model_of_a_class_the_scrub_does_not_know_stops_it() -> None:
    # Given a version whose model.npz carries a class tag the scrub has no layout for
    store, _ = version_store()
    artifacts = VersionArtifacts(store, VERSION)
    artifacts.put_bytes(
        paths.MODEL, rows.write_npz({"__model__": np.array("bpr"), "user_factors": np.ones((3, 2))})
    )
    # When the erased visitor is scrubbed / Then it fails naming the object, rather than leave a row
    with pytest.raises(ArtifactScrubError, match=r"model\.npz: a 'bpr' model"):
        ArtifactScrubber(store).scrub_version(VERSION, is_erased)


def test_sparse_rows_are_selected_as_scipy_selects_them() -> None:
    # Given a seeded random CSR matrix, stored as arrays, and a random choice of rows to keep
    rng = np.random.default_rng(11)
    matrix = sp.random(40, 30, density=0.2, format="csr", dtype=np.float32, random_state=11)
    keep = rng.random(40) < 0.6
    # When the kept rows are selected with numpy alone
    kept = rows.csr_without_rows(
        csr_arrays("m", matrix), ("m_indptr", "m_indices", ("m_data",), "m_shape"), keep
    )
    # Then the matrix is the one scipy's row selection gives, the arrays' types unchanged
    assert (csr_from(kept, "m") != matrix[keep]).nnz == 0
    assert csr_from(kept, "m").shape == (int(keep.sum()), 30)
    assert kept["m_indptr"].dtype == matrix.indptr.dtype
    # And keeping every row or none is the whole matrix or an empty one
    everything = rows.csr_without_rows(
        csr_arrays("m", matrix), ("m_indptr", "m_indices", ("m_data",), "m_shape"), np.ones(40, bool)
    )
    assert (csr_from(everything, "m") != matrix).nnz == 0
    nothing = rows.csr_without_rows(
        csr_arrays("m", matrix), ("m_indptr", "m_indices", ("m_data",), "m_shape"), np.zeros(40, bool)
    )
    assert csr_from(nothing, "m").shape == (0, 30)
