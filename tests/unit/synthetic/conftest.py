"""Shared, seeded synthetic shops (session-scoped: generating them is the slow part)."""

from __future__ import annotations

import pytest

from recs_tools.synthetic import SyntheticShop, build_config, generate_shop

SEED = 20_251_022


@pytest.fixture(scope="session")
def shop() -> SyntheticShop:
    """The tiny `test` preset, clean (no duplicates, no PII)."""
    return generate_shop(build_config("test", seed=SEED))


@pytest.fixture(scope="session")
def noisy_shop() -> SyntheticShop:
    """The `test` preset with re-sent duplicates and PII-carrying events injected."""
    return generate_shop(build_config("test", seed=SEED, duplicate_fraction=0.02, pii_fraction=0.03))


@pytest.fixture(scope="session")
def demo_shop() -> SyntheticShop:
    """The `demo` preset (big enough for statistical checks, still well under a second)."""
    return generate_shop(build_config("demo", seed=SEED))


@pytest.fixture(scope="session")
def grocery_shop() -> SyntheticShop:
    """A smaller `grocery` shop: heavy repurchase."""
    return generate_shop(build_config("grocery", seed=SEED, n_users=300, n_anonymous=50))
