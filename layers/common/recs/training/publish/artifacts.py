"""Where a version's artifacts live in the artifact bucket, and how they are (de)serialized.

Only numpy ``.npz`` (read with ``allow_pickle=False``) and JSON are used, so no artifact can
execute code when loaded. Layout under ``models/<version>/``:

=================================  ===========================================================
``prepared/interactions.npz``      the window's interactions (columns) and item availability
``prepared/ids.json``              visitor ids, item ids and categories of those columns (and the
                                   catalog's categories, brands and prices)
``model/model.npz``                the fitted engine model (`recs.engine` format: factors or
                                   EASE weights, with its hyperparameters)
``model/ids.json``                 visitor id per model row, item id per model column
``model/item_side.npz``            what ranking needs of the items: factors or EASE weights,
                                   item ids, availability (read by every publish shard)
``model/parameters.json``          the run's parameters, the engine's, the family, weights
``model/item_lists.json.gz``       similar items, bought together, popular, trending
``model/active_users.json``        the most active users (their lists are cached on flip)
``shards/manifest.json``           the publish shards (the Distributed Map's ItemReader input)
``shards/users-NNNNN.npz``         one shard's users and what ranking them needs
``published/<shard>.json``         written by a shard after all its rows are stored
``hashes/users-NNNNN.npz``         a full publish's users and row hashes per shard (the base
                                   later runs' deltas compare against)
``import/users-NNNNN.json.gz``     a shard's users' rows as an ImportTable file (gzip DynamoDB
                                   JSON), when the run imports them into a table of its own
``evaluation.json``                the holdout report and the gate's decision
``spark/``                         the Spark path only: the job, its input (``input/<part>.
                                   parquet``), its factors (``factors/<part>/<side>/``) and
                                   those as matrices (``factors.npz``)
``container/evaluated.json``       the container path only: the document the training
                                   container's train and evaluate ended with
=================================  ===========================================================

``prepared/``, ``shards/``, ``spark/``, ``container/`` and ``import/`` are intermediate and
removed by the cleanup step.
"""

from __future__ import annotations

import gzip
import io
import json
from typing import Any

import numpy as np

from recs.ports import ObjectStore
from recs.store_layout import MODEL_IDS_ARTIFACT, version_prefix


def prefix(version: str) -> str:
    return version_prefix(version)


PREPARED_INTERACTIONS = "prepared/interactions.npz"
PREPARED_IDS = "prepared/ids.json"
MODEL = "model/model.npz"
MODEL_IDS = MODEL_IDS_ARTIFACT
ITEM_SIDE = "model/item_side.npz"
PARAMETERS = "model/parameters.json"
ITEM_LISTS = "model/item_lists.json.gz"
ACTIVE_USERS = "model/active_users.json"
SHARD_MANIFEST = "shards/manifest.json"
EVALUATION = "evaluation.json"
SPARK_JOB = "spark/als_job.py"
SPARK_INPUT = "spark/input"
SPARK_FACTORS = "spark/factors"
SPARK_FACTORS_ARRAYS = "spark/factors.npz"
#: The document the training container's train + evaluate ended with (`ContainerResult` reads it).
CONTAINER_RESULT = "container/evaluated.json"
IMPORT = "import/"
INTERMEDIATE = ("prepared/", "shards/", "spark/", "container/", IMPORT)


def spark_input_key(part: str) -> str:
    return f"{SPARK_INPUT}/{part}.parquet"


def spark_factors_prefix(part: str, side: str) -> str:
    return f"{SPARK_FACTORS}/{part}/{side}/"


def hashes_key(name: str) -> str:
    """A full publish's row hashes of one users' shard (what the next deltas compare against)."""
    return f"hashes/{name}.npz"


def import_key(name: str) -> str:
    """A users' shard's rows as an ImportTable file."""
    return f"{IMPORT}{name}.json.gz"


def shard_key(name: str) -> str:
    return f"shards/{name}.npz"


def published_key(name: str) -> str:
    return f"published/{name}.json"


class VersionArtifacts:
    """Read and write one version's artifacts."""

    def __init__(self, store: ObjectStore, version: str) -> None:
        self.store = store
        self.version = version
        self.prefix = prefix(version)

    def key(self, name: str) -> str:
        return self.prefix + name

    def put_json(self, name: str, payload: Any) -> None:
        self.store.put(
            self.key(name), json.dumps(payload, separators=(",", ":")).encode(), "application/json"
        )

    def get_json(self, name: str) -> Any:
        return json.loads(self.store.get(self.key(name)))

    def put_json_gz(self, name: str, payload: Any) -> None:
        data = gzip.compress(json.dumps(payload, separators=(",", ":")).encode(), compresslevel=5)
        self.store.put(self.key(name), data, "application/gzip")

    def get_json_gz(self, name: str) -> Any:
        return json.loads(gzip.decompress(self.store.get(self.key(name))))

    def put_bytes(self, name: str, data: bytes) -> None:
        self.store.put(self.key(name), data)

    def get_bytes(self, name: str) -> bytes:
        return self.store.get(self.key(name))

    def put_arrays(self, name: str, **arrays: Any) -> None:
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        self.store.put(self.key(name), buffer.getvalue())

    def get_arrays(self, name: str) -> dict[str, Any]:
        with np.load(io.BytesIO(self.store.get(self.key(name))), allow_pickle=False) as data:
            return {field: data[field] for field in data.files}

    def list(self, folder: str) -> list[str]:
        return list(self.store.list_keys(self.key(folder)))

    def refresh(self, names: tuple[str, ...]) -> int:
        """Write objects back unchanged, so the bucket's age-based lifecycle starts over for a
        version that still serves (its renewal reads them). Returns how many were rewritten."""
        present = [name for name in names if self.exists(name)]
        for name in present:
            self.store.put(self.key(name), self.store.get(self.key(name)))
        return len(present)

    def exists(self, name: str) -> bool:
        return self.key(name) in set(self.store.list_keys(self.key(name)))

    def delete_folders(self, folders: tuple[str, ...]) -> int:
        keys = [key for folder in folders for key in self.list(folder)]
        return self.store.delete(keys) if keys else 0
