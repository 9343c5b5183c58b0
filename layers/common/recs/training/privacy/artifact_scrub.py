"""Removing erased visitors from the stored model versions (`models/<version>/`, layout in
`recs.training.publish.artifacts`).

Where a version names visitors (pseudonyms only):

=================================  ===========================================================
``model/ids.json``                 one pseudonym per model row ...
``model/model.npz``                ... and ALS's user factors or user-kNN's user rows, one row
                                   each (EASE keeps none)
``model/active_users.json``        the users whose lists Flip caches
``prepared/ids.json``              visitors of the prepared interactions ...
``prepared/interactions.npz``      ... and the interactions, by visitor index (intermediate)
``shards/users-NNNNN.npz``         each publish shard's users and their rows (intermediate)
``hashes/users-NNNNN.npz``         a full publish's users and their row hashes
``import/users-NNNNN.json.gz``     a shard's users' rows as an ImportTable file (intermediate:
                                   left by a run that failed, or read by Flip's own scrub)
=================================  ===========================================================

Each is rewritten without the erased visitors (rows removed, indices renumbered), the model and
the shards' sparse matrices as the arrays they are stored as (`recs.training.privacy.rows`: the
purge function has numpy, not scipy), the rest through the (de)serialization the pipeline uses.
Prepare's decoded lake days (``prepared/days/``, `recs.training.prepare.days`) are not rewritten
but deleted, by `forget_prepared_days`, for every day whose lake objects the purge changed: they
are a copy of those objects. Every other object of the bucket (other artifacts, ``catalog/``,
``publish-results/``, the decoded days, which are stored uncompressed for this) is searched for
pseudonyms: one that holds an erased visitor in a layout this module does not know is an error,
so an erasure is never reported complete while a copy is left behind.
"""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from recs.ports import ObjectStore
from recs.privacy.visitors import VISITOR_TOKEN
from recs.store_layout import prepared_day_prefix, purchased_pk, user_pk
from recs.training.privacy import rows as stored_rows
from recs.training.publish import artifacts as paths
from recs.training.publish.artifacts import VersionArtifacts

MODELS_PREFIX = "models/"
IsErased = Callable[[str], bool]
#: Per-interaction columns of ``prepared/interactions.npz`` (`TrainingPipeline.prepare`).
_INTERACTION_COLUMNS = ("user", "item", "event", "timestamp", "quantity", "basket", "weight")


class ArtifactScrubError(RuntimeError):
    """An artifact holds an erased visitor and could not be scrubbed."""


@dataclass
class ScrubOutcome:
    """What a scrub rewrote; `objects_by_visitor` (erased pseudonym -> keys) stays in memory."""

    objects_rewritten: int = 0
    objects_by_visitor: dict[str, set[str]] = field(default_factory=dict)

    def rewrote(self, key: str, visitors: Iterable[str]) -> None:
        self.objects_rewritten += 1
        for visitor in visitors:
            self.objects_by_visitor.setdefault(visitor, set()).add(key)

    def merge(self, other: ScrubOutcome) -> None:
        self.objects_rewritten += other.objects_rewritten
        for visitor, keys in other.objects_by_visitor.items():
            self.objects_by_visitor.setdefault(visitor, set()).update(keys)


class ArtifactScrubber:
    """Scrubs the artifact bucket (every version) or one version."""

    def __init__(self, store: ObjectStore) -> None:
        self._store = store

    def scrub_all(self, is_erased: IsErased) -> ScrubOutcome:
        outcome = ScrubOutcome()
        by_version: dict[str, list[str]] = {}
        others: list[str] = []
        for key in self._store.list_keys(""):
            if key.startswith(MODELS_PREFIX) and key.count("/") >= 2:
                by_version.setdefault(key.split("/", 2)[1], []).append(key)
            else:
                others.append(key)
        for version, keys in sorted(by_version.items()):
            outcome.merge(self._scrub(VersionArtifacts(self._store, version), keys, is_erased))
        for key in others:
            self._sweep(key, is_erased)
        return outcome

    def forget_prepared_days(self, days: Iterable[str]) -> int:
        """Delete Prepare's decoded copies of these lake days (``YYYY/MM/DD``)."""
        keys = [key for day in days for key in self._store.list_keys(prepared_day_prefix(day))]
        return self._store.delete(keys) if keys else 0

    def scrub_version(self, version: str, is_erased: IsErased) -> ScrubOutcome:
        artifacts = VersionArtifacts(self._store, version)
        return self._scrub(artifacts, list(self._store.list_keys(artifacts.prefix)), is_erased)

    # ------------------------------------------------------------------ one version
    def _scrub(self, artifacts: VersionArtifacts, keys: list[str], is_erased: IsErased) -> ScrubOutcome:
        outcome = ScrubOutcome()
        names = {key.removeprefix(artifacts.prefix) for key in keys}
        handled: set[str] = set()
        if paths.MODEL_IDS in names:
            self._model(artifacts, paths.MODEL in names, is_erased, outcome)
            handled |= {paths.MODEL_IDS, paths.MODEL}
        if paths.ACTIVE_USERS in names:
            self._active_users(artifacts, is_erased, outcome)
            handled.add(paths.ACTIVE_USERS)
        if paths.PREPARED_IDS in names:
            self._prepared(artifacts, paths.PREPARED_INTERACTIONS in names, is_erased, outcome)
            handled |= {paths.PREPARED_IDS, paths.PREPARED_INTERACTIONS}
        for name in sorted(names - handled):
            if name.startswith("shards/users-") and name.endswith(".npz"):
                self._shard(artifacts, name, is_erased, outcome)
            elif name.startswith("hashes/users-") and name.endswith(".npz"):
                self._hashes(artifacts, name, is_erased, outcome)
            elif name.startswith(paths.IMPORT + "users-") and name.endswith(".json.gz"):
                self._import_file(artifacts, name, is_erased, outcome)
            else:
                self._sweep(artifacts.key(name), is_erased)
        return outcome

    def _model(
        self, artifacts: VersionArtifacts, has_model: bool, is_erased: IsErased, outcome: ScrubOutcome
    ) -> None:
        ids = artifacts.get_json(paths.MODEL_IDS)
        users: list[str] = ids["users"]
        gone, keep = _erased_among(users, is_erased)
        if not gone:
            return
        if has_model:
            model = stored_rows.read_npz(artifacts.get_bytes(paths.MODEL))
            try:
                rows = stored_rows.model_user_rows(model)
            except stored_rows.UnknownModelError as error:
                raise ArtifactScrubError(f"{artifacts.key(paths.MODEL)}: {error}") from error
            if rows is not None:
                if rows != len(users):
                    raise ArtifactScrubError(
                        f"{artifacts.key(paths.MODEL)}: {rows} user rows for {len(users)} ids"
                    )
                model = stored_rows.model_without_rows(model, keep)
                artifacts.put_bytes(paths.MODEL, stored_rows.write_npz(model))
                outcome.rewrote(artifacts.key(paths.MODEL), gone)
        ids["users"] = _kept(users, keep)
        artifacts.put_json(paths.MODEL_IDS, ids)
        outcome.rewrote(artifacts.key(paths.MODEL_IDS), gone)

    def _active_users(self, artifacts: VersionArtifacts, is_erased: IsErased, outcome: ScrubOutcome) -> None:
        active: list[str] = artifacts.get_json(paths.ACTIVE_USERS)
        gone, keep = _erased_among(active, is_erased)
        if gone:
            artifacts.put_json(paths.ACTIVE_USERS, _kept(active, keep))
            outcome.rewrote(artifacts.key(paths.ACTIVE_USERS), gone)

    def _prepared(
        self, artifacts: VersionArtifacts, has_interactions: bool, is_erased: IsErased, outcome: ScrubOutcome
    ) -> None:
        ids = artifacts.get_json(paths.PREPARED_IDS)
        users: list[str] = ids["users"]
        gone, keep = _erased_among(users, is_erased)
        if not gone:
            return
        if has_interactions:
            arrays = artifacts.get_arrays(paths.PREPARED_INTERACTIONS)
            if arrays["is_user"].shape[0] != len(users):
                raise ArtifactScrubError(
                    f"{artifacts.key(paths.PREPARED_INTERACTIONS)}: visitor count mismatch"
                )
            rows = keep[arrays["user"]]
            renumber = np.cumsum(keep) - 1
            for column in _INTERACTION_COLUMNS:
                if column in arrays:  # "weight" only when the window holds sampled events
                    arrays[column] = arrays[column][rows]
            arrays["user"] = renumber[arrays["user"]].astype(np.int32)
            arrays["is_user"] = arrays["is_user"][keep]
            artifacts.put_arrays(paths.PREPARED_INTERACTIONS, **arrays)
            outcome.rewrote(artifacts.key(paths.PREPARED_INTERACTIONS), gone)
        ids["users"] = _kept(users, keep)
        artifacts.put_json(paths.PREPARED_IDS, ids)
        outcome.rewrote(artifacts.key(paths.PREPARED_IDS), gone)

    def _shard(
        self, artifacts: VersionArtifacts, name: str, is_erased: IsErased, outcome: ScrubOutcome
    ) -> None:
        arrays = artifacts.get_arrays(name)
        users = [str(u) for u in arrays["users"].tolist()]
        gone, keep = _erased_among(users, is_erased)
        if not gone:
            return
        scrubbed: dict[str, Any] = dict(arrays)
        for key in arrays:
            if key.endswith("_indptr"):
                # A sparse matrix as `recs.training.publish.sparse_arrays` stores it.
                matrix = key.removesuffix("_indptr")
                parts = (f"{matrix}_indptr", f"{matrix}_indices", (f"{matrix}_data",), f"{matrix}_shape")
                scrubbed = stored_rows.csr_without_rows(scrubbed, parts, keep)
            elif key in ("users", "user_factors"):
                scrubbed[key] = arrays[key][keep]
        artifacts.put_arrays(name, **scrubbed)
        outcome.rewrote(artifacts.key(name), gone)

    def _hashes(
        self, artifacts: VersionArtifacts, name: str, is_erased: IsErased, outcome: ScrubOutcome
    ) -> None:
        """A full publish's row hashes: one entry per user in every array."""
        arrays = artifacts.get_arrays(name)
        users = [str(u) for u in arrays["users"].tolist()]
        gone, keep = _erased_among(users, is_erased)
        if gone:
            artifacts.put_arrays(name, **{key: array[keep] for key, array in arrays.items()})
            outcome.rewrote(artifacts.key(name), gone)

    def _import_file(
        self, artifacts: VersionArtifacts, name: str, is_erased: IsErased, outcome: ScrubOutcome
    ) -> None:
        """An ImportTable file (one ``{"Item": ...}`` a line): the erased users' items left out."""
        lines = gzip.decompress(artifacts.get_bytes(name)).decode().splitlines()
        kept: list[str] = []
        gone: set[str] = set()
        for line in lines:
            visitor = _visitor_of_item(json.loads(line)["Item"]["pk"]["S"])
            if visitor is not None and is_erased(visitor):
                gone.add(visitor)
            else:
                kept.append(line)
        if gone:
            artifacts.put_bytes(name, gzip.compress("\n".join(kept).encode(), compresslevel=5))
            outcome.rewrote(artifacts.key(name), sorted(gone))

    # ------------------------------------------------------------------ everything else
    def _sweep(self, key: str, is_erased: IsErased) -> None:
        """Fail when an object the scrubber does not know holds an erased visitor."""
        data = self._store.get(key)
        text = _npz_strings(data) if key.endswith(".npz") else _text(data)
        if any(is_erased(token) for token in set(VISITOR_TOKEN.findall(text))):
            raise ArtifactScrubError(f"{key} holds an erased visitor in a layout the purge cannot rewrite")


def _visitor_of_item(pk: str) -> str | None:
    """The pseudonym a users' row is keyed by (``U#<p>``, ``PURCHASED#<p>``), else None."""
    for prefix in (user_pk(""), purchased_pk("")):
        if pk.startswith(prefix):
            return pk.removeprefix(prefix)
    return None


def _erased_among(users: Sequence[str], is_erased: IsErased) -> tuple[list[str], npt.NDArray[np.bool_]]:
    """The erased ids among `users`, and the mask of those kept (one `is_erased` call each)."""
    keep = np.array([not is_erased(u) for u in users], dtype=np.bool_)
    return [u for u, kept in zip(users, keep.tolist(), strict=True) if not kept], keep


def _kept(users: Sequence[str], keep: npt.NDArray[np.bool_]) -> list[str]:
    return [u for u, kept in zip(users, keep.tolist(), strict=True) if kept]


def _text(data: bytes) -> str:
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data.decode("utf-8", errors="replace")


def _npz_strings(data: bytes) -> str:
    """The text of an npz's string arrays (numeric arrays are skipped without being read)."""
    parts: list[str] = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            with archive.open(info) as member:
                version = np.lib.format.read_magic(member)
                if version == (1, 0):
                    dtype: np.dtype[Any] | None = np.lib.format.read_array_header_1_0(member)[2]
                elif version == (2, 0):
                    dtype = np.lib.format.read_array_header_2_0(member)[2]
                else:
                    dtype = None  # a newer header: read the array to know
            if dtype is None or dtype.kind in ("U", "S"):
                with archive.open(info) as member:
                    array = np.lib.format.read_array(member, allow_pickle=False)
                if array.dtype.kind in ("U", "S"):
                    parts.extend(str(value) for value in array.ravel().tolist())
    return "\n".join(parts)
