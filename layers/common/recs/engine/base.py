"""A small recommender base in the spirit of benfred/implicit.

Every model exposes the same surface: ``fit`` on a user x item CSR of interaction
strengths, ``recommend`` for a batch of users (blockwise top-K with exclusions),
``similar_items`` and ``save``/``load`` to a plain ``.npz`` file read back with
``allow_pickle=False``, so an artifact from S3 can never execute code.
"""

from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod
from typing import IO, Any, ClassVar, Self

import numpy as np
from numpy.typing import NDArray

from recs.engine._typing import Csr, FloatArray, IntArray
from recs.engine.checks import check_csr, check_ids, item_mask
from recs.engine.similarity import similar_by_vectors
from recs.engine.topk import DEFAULT_BLOCK_ROWS, ScoreBlock, candidate_columns, topk_blockwise

PathOrFile = str | os.PathLike[str] | IO[bytes]
JsonScalar = str | int | float | bool | None

_MODEL_KEY = "__model__"
_PARAMS_KEY = "__params__"
_REGISTRY: dict[str, type[Recommender]] = {}


class NotFittedError(RuntimeError):
    """Raised when a model is used before ``fit`` (or ``load``)."""


class Recommender(ABC):
    """Common API of every model: fit, recommend, similar items, save and load.

    Subclasses set ``model_name`` (the tag written into saved files) and implement
    ``fit``, ``_scorer``, ``similar_items``, ``get_params`` and the two persistence hooks.
    """

    model_name: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.model_name:
            _REGISTRY[cls.model_name] = cls

    @abstractmethod
    def fit(self, user_items: Csr) -> Self:
        """Learn from a ``(n_users, n_items)`` float32 CSR of interaction strengths."""

    @property
    @abstractmethod
    def n_items(self) -> int:
        """Number of items the fitted model scores."""

    @abstractmethod
    def get_params(self) -> dict[str, JsonScalar]:
        """Hyperparameters, JSON-serialisable; recorded with every saved model."""

    @abstractmethod
    def _scorer(self, userids: IntArray, user_items: Csr, columns: IntArray | None) -> ScoreBlock:
        """Return ``f(start, stop)`` scoring users ``userids[start:stop]`` on ``columns``."""

    @abstractmethod
    def similar_items(self, itemids: Any, n: int = 10) -> tuple[IntArray, FloatArray]:
        """Return the ``n`` most similar items of each item in ``itemids`` (self excluded)."""

    @abstractmethod
    def _arrays(self) -> dict[str, NDArray[Any]]:
        """Fitted state as named arrays, for ``save``."""

    @classmethod
    @abstractmethod
    def _from_arrays(cls, params: dict[str, Any], arrays: dict[str, NDArray[Any]]) -> Self:
        """Rebuild a fitted model from ``get_params()`` and ``_arrays()`` output."""

    def recommend(
        self,
        userids: Any,
        user_items: Csr,
        n: int = 10,
        filter_already_liked: bool = True,
        filter_items: Any = None,
        *,
        block_rows: int = DEFAULT_BLOCK_ROWS,
        num_threads: int = 1,
    ) -> tuple[IntArray, FloatArray]:
        """Top-``n`` items for each user, best first.

        Parameters
        ----------
        userids
            User index or indices (rows of the training matrix).
        user_items
            ``(len(userids), n_items)`` float32 CSR: row ``j`` is the history of ``userids[j]``.
            Used to filter already-seen items and, for item-based models, to score.
        n
            Items per user.
        filter_already_liked
            Exclude the items in each user's row of ``user_items``.
        filter_items
            Items never to recommend (e.g. unavailable): ids or a boolean mask over items.
        block_rows
            Users scored at once (bounds memory).
        num_threads
            Blocks scored concurrently.

        Returns
        -------
        ids : IntArray
            ``(len(userids), n)`` item ids, ``-1`` padded when fewer items qualify.
        scores : FloatArray
            ``(len(userids), n)`` scores, ``-inf`` padded.
        """
        n_items = self.n_items
        users = check_ids(userids, self._n_rows_for_check(), "userids")
        check_csr(user_items, "user_items", (len(users), n_items))
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        columns = candidate_columns(item_mask(filter_items, n_items), n_items)
        return topk_blockwise(
            self._scorer(users, user_items, columns),
            len(users),
            n_items,
            n,
            columns=columns,
            exclude=user_items if filter_already_liked else None,
            block_rows=block_rows,
            num_threads=num_threads,
        )

    def _n_rows_for_check(self) -> int:
        """Upper bound for user ids; item-based models accept any non-negative id."""
        return np.iinfo(np.int32).max

    def save(self, file: PathOrFile) -> None:
        """Write the fitted model to an ``.npz`` file (no pickle).

        Parameters
        ----------
        file
            Path (``.npz`` is appended by numpy when missing) or a binary file object.
        """
        arrays: dict[str, NDArray[Any]] = {
            _MODEL_KEY: np.array(self.model_name),
            _PARAMS_KEY: np.array(json.dumps(self.get_params(), sort_keys=True)),
        }
        for key, value in self._arrays().items():
            if key in arrays:
                raise ValueError(f"array name {key!r} is reserved")
            arrays[key] = np.ascontiguousarray(value)
        # allow_pickle=False on both sides: an object array fails here rather than on load.
        np.savez(file, allow_pickle=False, **arrays)

    @classmethod
    def load(cls, file: PathOrFile) -> Self:
        """Read a model written by ``save``; refuses files of another model class.

        Parameters
        ----------
        file
            Path or binary file object.

        Returns
        -------
        Self
            The fitted model.

        Raises
        ------
        ValueError
            If the file is not a saved model or holds a different model class.
        """
        name, params, arrays = _read(file)
        if name != cls.model_name:
            raise ValueError(f"file holds a {name!r} model, not {cls.model_name!r}")
        return cls._from_arrays(params, arrays)


class MatrixFactorizationBase(Recommender):
    """Shared scoring for models that learn user and item factors (score = x_u . y_i)."""

    def __init__(self) -> None:
        self.user_factors: FloatArray | None = None
        self.item_factors: FloatArray | None = None

    def _factors(self) -> tuple[FloatArray, FloatArray]:
        if self.user_factors is None or self.item_factors is None:
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit() first")
        return self.user_factors, self.item_factors

    @property
    def n_items(self) -> int:
        """Number of items the fitted model scores."""
        return int(self._factors()[1].shape[0])

    @property
    def n_users(self) -> int:
        """Number of users the fitted model knows."""
        return int(self._factors()[0].shape[0])

    def _n_rows_for_check(self) -> int:
        return self.n_users

    def _scorer(self, userids: IntArray, user_items: Csr, columns: IntArray | None) -> ScoreBlock:
        x, y = self._factors()
        users = x[userids]
        candidates_t = np.ascontiguousarray((y if columns is None else y[columns]).T)

        def score(start: int, stop: int) -> FloatArray:
            return users[start:stop] @ candidates_t

        return score

    def similar_items(self, itemids: Any, n: int = 10) -> tuple[IntArray, FloatArray]:
        """Items whose factors have the highest cosine similarity, self excluded.

        Parameters
        ----------
        itemids
            Item index or indices.
        n
            Neighbours per item.

        Returns
        -------
        ids : IntArray
            ``(len(itemids), n)`` neighbour ids, ``-1`` padded.
        scores : FloatArray
            ``(len(itemids), n)`` cosine similarities, ``-inf`` padded.
        """
        _, y = self._factors()
        items = check_ids(itemids, y.shape[0], "itemids")
        return similar_by_vectors(y, n, itemids=items)

    def _arrays(self) -> dict[str, NDArray[Any]]:
        x, y = self._factors()
        return {"user_factors": x, "item_factors": y}


def load_model(file: PathOrFile) -> Recommender:
    """Load any model written by ``Recommender.save``, dispatching on its stored class tag.

    Parameters
    ----------
    file
        Path or binary file object.

    Returns
    -------
    Recommender
        The fitted model.

    Raises
    ------
    ValueError
        If the file is not a saved model or names an unknown model class.
    """
    name, params, arrays = _read(file)
    model_cls = _REGISTRY.get(name)
    if model_cls is None:
        raise ValueError(f"unknown model class {name!r}; known: {sorted(_REGISTRY)}")
    return model_cls._from_arrays(params, arrays)


def _read(file: PathOrFile) -> tuple[str, dict[str, Any], dict[str, NDArray[Any]]]:
    with np.load(file, allow_pickle=False) as npz:
        if _MODEL_KEY not in npz.files or _PARAMS_KEY not in npz.files:
            raise ValueError("not a saved recs model: missing model tag or parameters")
        name = str(npz[_MODEL_KEY])
        params = json.loads(str(npz[_PARAMS_KEY]))
        arrays = {key: npz[key] for key in npz.files if key not in (_MODEL_KEY, _PARAMS_KEY)}
    if not isinstance(params, dict):
        raise ValueError("not a saved recs model: parameters are not a JSON object")
    return name, params, arrays
