"""The unit `InteractionBuilder.add_block` takes: events of one or more lake objects as numpy
columns, made by `recs.training.prepare.columnar` (kept apart so that the builder never imports
pyarrow)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class EventBlock:
    """Usable events of one or more lake objects (or of a slice of one), in the order read.

    ``*_local`` columns index the block's own distinct ids (``users``, ``anons``, ``items``,
    ``sessions``; -1 for none), each listed in order of first appearance.

    Attributes
    ----------
    read, malformed, without_product
        Records read, records unusable, usable records naming no product.
    link_user, link_anon, link_time
        One entry per usable record carrying both a user id and an anonymous id.
    user_local, anon_local, item_local, session_local, event, micros, quantity, weight, key
        One entry per usable record naming a product (``micros``: its time in whole
        microseconds since the epoch; ``key``: its eventId's dedupe key,
        `recs.training.prepare.dedupe.event_keys`).
    categories
        The first category the block gives each product that has one.
    """

    read: int
    malformed: int
    without_product: int
    users: list[str]
    anons: list[str]
    items: list[str]
    sessions: list[str]
    categories: dict[str, str]
    link_user: npt.NDArray[np.int32]
    link_anon: npt.NDArray[np.int32]
    link_time: npt.NDArray[np.float64]
    user_local: npt.NDArray[np.int32]
    anon_local: npt.NDArray[np.int32]
    item_local: npt.NDArray[np.int32]
    session_local: npt.NDArray[np.int32]
    event: npt.NDArray[np.int8]
    micros: npt.NDArray[np.int64]
    quantity: npt.NDArray[np.float32]
    weight: npt.NDArray[np.float32]
    key: npt.NDArray[np.uint64]
