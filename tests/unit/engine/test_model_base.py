"""Save/load round-trips without pickle, dispatch by tag and input guards."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from recs.engine import (
    EASE,
    AlternatingLeastSquares,
    NotFittedError,
    Popularity,
    Recommender,
    UserKNN,
    load_model,
)
from recs.engine._typing import Csr


@pytest.mark.parametrize(
    "model",
    [
        AlternatingLeastSquares(factors=3, iterations=2, random_state=5),
        EASE(l2=10.0),
        Popularity(),
        UserKNN(neighbours=3),
    ],
    ids=["als", "ease", "popularity", "userknn"],
)
def test_save_load_round_trip_without_pickle(model: Recommender, small_random: Csr, tmp_path: Path) -> None:
    # Given a fitted model
    model.fit(small_random)
    expected = model.recommend(np.arange(5), small_random[:5], n=4)
    path = tmp_path / "model.npz"
    # When it is saved and loaded back (np.load with allow_pickle=False under the hood)
    model.save(path)
    loaded = load_model(path)
    # Then it is the same class with the same parameters and recommendations
    assert type(loaded) is type(model)
    assert loaded.get_params() == model.get_params()
    got = loaded.recommend(np.arange(5), small_random[:5], n=4)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])
    # And every stored array loads with pickling disabled
    with np.load(path, allow_pickle=False) as npz:
        for key in npz.files:
            assert npz[key].dtype != object


def test_class_load_refuses_another_model(small_random: Csr) -> None:
    # Given a saved popularity model in memory
    buffer = io.BytesIO()
    Popularity().fit(small_random).save(buffer)
    buffer.seek(0)
    # When it is loaded as EASE / Then ValueError names both classes
    with pytest.raises(ValueError, match="popularity"):
        EASE.load(buffer)


def test_load_refuses_files_that_are_not_models(tmp_path: Path) -> None:
    # Given an npz without the model tag
    path = tmp_path / "other.npz"
    np.savez(path, data=np.arange(3))
    # When / Then loading it fails clearly
    with pytest.raises(ValueError, match="not a saved recs model"):
        load_model(path)


def test_load_refuses_pickled_content(tmp_path: Path) -> None:
    # Given a file whose parameters were smuggled in as a pickled object array
    path = tmp_path / "evil.npz"
    np.savez(path, __model__=np.array("popularity"), __params__=np.array([{"weighted": False}], dtype=object))
    assert zipfile.is_zipfile(path)
    # When / Then numpy refuses to unpickle it
    with pytest.raises(ValueError, match="pickle"):
        load_model(path)


def test_unfitted_models_raise_not_fitted() -> None:
    # Given unfitted models / When used / Then NotFittedError
    with pytest.raises(NotFittedError):
        AlternatingLeastSquares().similar_items([0])
    with pytest.raises(NotFittedError):
        EASE().recommend([0], sp.csr_matrix((1, 3), dtype=np.float32))


def test_recommend_accepts_a_boolean_item_mask(small_random: Csr) -> None:
    # Given a fitted ALS model and a mask hiding all but three items
    model = AlternatingLeastSquares(factors=3, iterations=2).fit(small_random)
    mask = np.ones(small_random.shape[1], dtype=bool)
    mask[[1, 2, 3]] = False
    empty = sp.csr_matrix((2, small_random.shape[1]), dtype=np.float32)
    # When recommending 5 items
    ids, _ = model.recommend([0, 1], empty, n=5, filter_items=mask)
    # Then only the three available items appear, then padding
    assert set(ids[:, :3].ravel().tolist()) <= {1, 2, 3}
    assert np.all(ids[:, 3:] == -1)


def test_als_similar_items_excludes_self(small_random: Csr) -> None:
    # Given a fitted ALS model / When neighbours of three items are asked
    model = AlternatingLeastSquares(factors=4, iterations=2).fit(small_random)
    ids, scores = model.similar_items([0, 5, 9], n=3)
    # Then none is its own neighbour and scores are cosines
    assert not (ids == np.array([[0], [5], [9]])).any()
    assert np.all(scores <= 1.0 + 1e-6)
