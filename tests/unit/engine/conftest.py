"""Shared synthetic data for the model tests: small, seeded, with a known answer."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.typing import NDArray

from recs.engine._typing import Csr

Clustered = tuple[Csr, NDArray[np.int64], NDArray[np.int64]]


def clustered_interactions(
    n_clusters: int = 4,
    users_per_cluster: int = 30,
    items_per_cluster: int = 20,
    in_cluster_rate: float = 0.35,
    noise_rate: float = 0.01,
    seed: int = 7,
) -> Clustered:
    """Users in cluster c mostly interact with the items of cluster c (planted rank-c structure).

    Returns the float32 canonical CSR, each user's cluster and each item's cluster.
    """
    rng = np.random.default_rng(seed)
    user_cluster = np.repeat(np.arange(n_clusters), users_per_cluster)
    item_cluster = np.repeat(np.arange(n_clusters), items_per_cluster)
    same = user_cluster[:, None] == item_cluster[None, :]
    prob = np.where(same, in_cluster_rate, noise_rate)
    dense = (rng.random(prob.shape) < prob).astype(np.float32)
    # Strengths 1..5 like the shop's event weights.
    dense *= rng.integers(1, 6, size=dense.shape).astype(np.float32)
    matrix = sp.csr_matrix(dense)
    matrix.sort_indices()
    return matrix, user_cluster, item_cluster


@pytest.fixture
def clustered() -> Clustered:
    return clustered_interactions()


@pytest.fixture
def small_random() -> Csr:
    matrix = sp.random(60, 40, density=0.15, format="csr", dtype=np.float32, random_state=3)
    matrix.data = (matrix.data * 4 + 1).astype(np.float32)
    matrix.sort_indices()
    return matrix
