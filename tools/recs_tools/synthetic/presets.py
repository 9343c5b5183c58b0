"""Named shop sizes and shapes."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Final

from recs_tools.synthetic.config import ShopConfig

#: Preset name -> settings that differ from :class:`ShopConfig`'s defaults.
PRESETS: Final[MappingProxyType[str, MappingProxyType[str, Any]]] = MappingProxyType(
    {
        # Tiny: unit tests generate it in a fraction of a second.
        "test": MappingProxyType(
            {
                "n_users": 100,
                "n_anonymous": 40,
                "n_products": 60,
                "n_categories": 6,
                "n_favourite_categories": 2,
                "days": 14,
                "latent_dim": 8,
            }
        ),
        # A shop's first day: a few hundred events over the last hours (every request must
        # still answer 200 after its first training run; `recs demo --preset first-day`).
        "first-day": MappingProxyType(
            {
                "n_users": 60,
                "n_anonymous": 40,
                "n_products": 80,
                "n_categories": 6,
                "n_favourite_categories": 2,
                "days": 1,
                "trending_days": 1,
                "sessions_per_user_mean": 1.5,
                "latent_dim": 8,
            }
        ),
        # The local demo posts every event over HTTP (batches of 500) and trains in under two minutes.
        "demo": MappingProxyType(
            {
                "n_users": 1_500,
                "n_anonymous": 600,
                "n_products": 400,
                "n_categories": 16,
                "days": 30,
            }
        ),
        # Benchmarks: about two million events.
        "bench": MappingProxyType(
            {
                "n_users": 50_000,
                "n_anonymous": 20_000,
                "n_products": 5_000,
                "n_categories": 40,
                "n_favourite_categories": 4,
                "days": 60,
                "sessions_per_user_mean": 6.0,
                "latent_dim": 16,
            }
        ),
        # A year of a repeat-purchase grocery: weekly-ish baskets of staples (quality benchmarks).
        "grocery-year": MappingProxyType(
            {
                "n_users": 1_500,
                "n_anonymous": 400,
                "n_products": 800,
                "n_categories": 24,
                "n_favourite_categories": 5,
                "favourite_category_share": 0.6,
                "catalog_theme": "grocery",
                "price_median": 4.0,
                "days": 365,
                "trending_days": 7,
                "sessions_per_user_mean": 30.0,
                "sessions_per_user_dispersion": 2.0,
                "items_per_session_mean": 6.0,
                "session_focus": 0.3,
                "add_to_cart_rate": 0.5,
                "checkout_rate": 0.85,
                "search_rate": 0.2,
                "complement_rate": 0.25,
                "repurchase_rate": 0.55,
                "n_staples": 15,
                "repurchase_add_rate": 0.8,
                # Habits change over a year: a staple lasts about four months, then another
                # product of its category takes its place.
                "staple_lifetime_days": 60.0,
                "quantity_extra_mean": 0.8,
                "mean_event_gap_seconds": 20.0,
            }
        ),
        # A year of a discovery shop (fashion, electronics): few repeat purchases, tastes matter.
        "discovery-year": MappingProxyType(
            {
                "n_users": 3_000,
                "n_anonymous": 1_500,
                "n_products": 1_500,
                "n_categories": 30,
                "n_favourite_categories": 3,
                "days": 365,
                "trending_days": 7,
                "sessions_per_user_mean": 8.0,
                "items_per_session_mean": 5.0,
                "repurchase_rate": 0.01,
            }
        ),
        # Groceries: weekly baskets of staples bought again and again.
        "grocery": MappingProxyType(
            {
                "n_users": 1_000,
                "n_anonymous": 300,
                "n_products": 500,
                "n_categories": 24,
                "n_favourite_categories": 5,
                "favourite_category_share": 0.6,
                "catalog_theme": "grocery",
                "price_median": 4.0,
                "days": 60,
                "trending_days": 7,
                "sessions_per_user_mean": 7.0,
                "sessions_per_user_dispersion": 3.0,
                "items_per_session_mean": 6.0,
                "session_focus": 0.3,
                "add_to_cart_rate": 0.5,
                "checkout_rate": 0.85,
                "search_rate": 0.2,
                "complement_rate": 0.25,
                "repurchase_rate": 0.55,
                "n_staples": 12,
                "repurchase_add_rate": 0.8,
                "quantity_extra_mean": 0.8,
                "mean_event_gap_seconds": 20.0,
            }
        ),
    }
)


def preset_names() -> list[str]:
    """Names accepted by :func:`build_config`."""
    return sorted(PRESETS)


def build_config(preset: str = "demo", **overrides: Any) -> ShopConfig:
    """Configuration of a named preset, with overrides, validated.

    Parameters
    ----------
    preset
        One of :func:`preset_names` (``test``, ``first-day``, ``demo``, ``bench``, ``grocery``,
        ``grocery-year``, ``discovery-year``).
    **overrides
        Any :class:`ShopConfig` field, e.g. ``seed=7``, ``now=datetime(...)``, ``n_users=200``.

    Returns
    -------
    ShopConfig

    Raises
    ------
    KeyError
        If the preset is unknown.
    pydantic.ValidationError
        If an override is unknown or out of range.
    """
    if preset not in PRESETS:
        raise KeyError(f"unknown preset {preset!r}; choose one of {preset_names()}")
    return ShopConfig.model_validate({**PRESETS[preset], **overrides})
