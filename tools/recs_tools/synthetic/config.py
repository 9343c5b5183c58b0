"""Configuration of the synthetic shop generator."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

#: The fixed reference instant of every preset. A fixed default (rather than the wall clock) is what
#: makes "same seed => byte-identical output" hold across days; callers that need recent events (a demo
#: whose training window is relative to today) pass `now=` explicitly.
DEFAULT_NOW = datetime(2026, 11, 1, 0, 0, 0, tzinfo=UTC)

CatalogTheme = Literal["general", "grocery"]


class ShopConfig(BaseModel):
    """Size and behaviour knobs of a synthetic shop.

    Every rate is a probability in [0, 1]. Instances are immutable; derive variants with
    :func:`recs_tools.synthetic.build_config` (validated) rather than ``model_copy`` (not validated).

    Parameters
    ----------
    seed
        Seed of the ``numpy.random.Generator`` behind every random choice.
    now
        End of the event window (exclusive), timezone-aware; normalised to UTC. Every event
        timestamp falls within ``[now - days, now)``.
    days
        Length of the event window in days.
    n_products, n_categories
        Catalog size. Every category holds at least one product.
    catalog_theme
        Vocabulary of category names and search terms (``general`` or ``grocery``).
    popularity_exponent
        Zipf exponent ``s`` of the product popularity prior (``weight ~ 1 / rank**s``).
    price_median
        Median product price; category medians and product prices scatter log-normally around it.
    unavailable_fraction
        Fraction of products marked unavailable in the catalog (their past events remain).
    complements_per_product
        Complementary products per product (the "bought together" ground truth).
    trending_fraction, trending_days, trending_rate
        A few mid-popularity products get a burst of attention during the last ``trending_days``:
        there, each browsed item is replaced by a trending one with probability ``trending_rate``.
    n_users, n_anonymous
        Known (logged-in) shoppers and purely anonymous visitors.
    sessions_per_user_mean, sessions_per_user_dispersion
        Sessions per known user: ``1 + Poisson(Gamma)``, mean as given; a smaller dispersion
        (Gamma shape) gives a heavier tail of very active users.
    anonymous_sessions_mean
        Mean sessions of a purely anonymous visitor (short histories).
    items_per_session_mean, anonymous_items_per_session_mean
        Mean products viewed per session (known users / anonymous visitors).
    n_favourite_categories, favourite_category_share
        Each shopper has a few favourite categories that receive this share of their attention.
    session_focus
        Probability that an item in a session comes from the session's main category.
    latent_dim, taste_strength
        Dimension and weight of the latent taste vectors that shape choices within a category
        beyond popularity (the signal collaborative filtering has to find).
    n_segments, segment_cohesion
        Shoppers' tastes cluster around ``n_segments`` segment tastes; cohesion is the share of
        taste variance explained by the segment (1 = everyone in a segment is alike).
    item_individuality
        Share of a product's latent variance that is its own rather than its category's: higher
        values make shoppers disagree more within a category.
    anon_login_fraction
        Fraction of known users who first browse anonymously and then log in; the login session's
        events carry both ``anonId`` and ``userId``.
    opt_out_fraction
        Fraction of known users who opted out of recommendations (their events still exist).
    click_rate, add_to_cart_rate, checkout_rate, purchase_item_rate
        The funnel: P(click | view), P(add_to_cart | click), P(checkout | non-empty cart) per
        session and P(purchase | carted item, checkout).
    search_rate, search_click_rate, search_results
        P(a session starts with a search), P(a result is clicked) and the number of results shown.
    complement_rate, complement_add_rate
        P(a complement is shown after an add_to_cart) and P(it is added to the cart too).
    repurchase_rate, n_staples, repurchase_add_rate
        P(an item in a returning shopper's session is one of their staples), the number of staples
        per shopper and P(add_to_cart | staple viewed): high values model groceries and consumables
        bought again and again.
    staple_lifetime_days
        Mean time a staple stays one (exponential): then the shopper replaces it with another
        product of the same category (a new brand, a season's product, a changed habit). 0 keeps
        every shopper's staples for the whole window.
    quantity_extra_mean
        Mean of the extra units beyond one in an add_to_cart (Poisson).
    mean_event_gap_seconds
        Mean pause between two events of a session.
    duplicate_fraction
        Fraction of events re-sent with the same ``eventId`` (a client retry), off by default.
    pii_fraction
        Fraction of events carrying PII-like extra fields (and, on searches, an e-mail address in the
        query) that ingestion must strip; off by default.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int = Field(default=42, ge=0)
    now: AwareDatetime = DEFAULT_NOW
    days: int = Field(default=30, ge=1, le=3650)

    n_products: int = Field(default=400, ge=2, le=1_000_000)
    n_categories: int = Field(default=16, ge=1, le=10_000)
    catalog_theme: CatalogTheme = "general"
    popularity_exponent: float = Field(default=0.8, ge=0.0, le=3.0)
    price_median: float = Field(default=30.0, gt=0.0, le=100_000.0)
    unavailable_fraction: float = Field(default=0.05, ge=0.0, lt=1.0)
    complements_per_product: int = Field(default=2, ge=0, le=10)
    trending_fraction: float = Field(default=0.01, ge=0.0, le=0.5)
    trending_days: int = Field(default=3, ge=1)
    trending_rate: float = Field(default=0.06, ge=0.0, le=1.0)

    n_users: int = Field(default=1_500, ge=1, le=10_000_000)
    n_anonymous: int = Field(default=600, ge=0, le=10_000_000)
    sessions_per_user_mean: float = Field(default=4.0, ge=1.0, le=1_000.0)
    sessions_per_user_dispersion: float = Field(default=1.5, gt=0.0)
    anonymous_sessions_mean: float = Field(default=1.3, ge=1.0, le=100.0)
    items_per_session_mean: float = Field(default=4.0, ge=1.0, le=200.0)
    anonymous_items_per_session_mean: float = Field(default=3.0, ge=1.0, le=200.0)
    n_favourite_categories: int = Field(default=3, ge=1)
    favourite_category_share: float = Field(default=0.75, ge=0.0, le=1.0)
    session_focus: float = Field(default=0.7, ge=0.0, le=1.0)
    latent_dim: int = Field(default=12, ge=1, le=256)
    taste_strength: float = Field(default=4.0, ge=0.0, le=10.0)
    n_segments: int = Field(default=8, ge=1, le=10_000)
    segment_cohesion: float = Field(default=0.85, ge=0.0, le=1.0)
    item_individuality: float = Field(default=0.6, ge=0.0, le=1.0)
    anon_login_fraction: float = Field(default=0.15, ge=0.0, le=1.0)
    opt_out_fraction: float = Field(default=0.03, ge=0.0, le=1.0)

    click_rate: float = Field(default=0.35, ge=0.0, le=1.0)
    add_to_cart_rate: float = Field(default=0.25, ge=0.0, le=1.0)
    checkout_rate: float = Field(default=0.5, ge=0.0, le=1.0)
    purchase_item_rate: float = Field(default=0.92, ge=0.0, le=1.0)
    search_rate: float = Field(default=0.3, ge=0.0, le=1.0)
    search_click_rate: float = Field(default=0.7, ge=0.0, le=1.0)
    search_results: int = Field(default=12, ge=1, le=200)
    complement_rate: float = Field(default=0.35, ge=0.0, le=1.0)
    complement_add_rate: float = Field(default=0.5, ge=0.0, le=1.0)
    repurchase_rate: float = Field(default=0.02, ge=0.0, le=1.0)
    n_staples: int = Field(default=6, ge=1, le=1_000)
    repurchase_add_rate: float = Field(default=0.6, ge=0.0, le=1.0)
    staple_lifetime_days: float = Field(default=0.0, ge=0.0, le=100_000.0)
    quantity_extra_mean: float = Field(default=0.1, ge=0.0, le=100.0)
    mean_event_gap_seconds: float = Field(default=35.0, gt=0.0, le=3_600.0)

    duplicate_fraction: float = Field(default=0.0, ge=0.0, le=0.5)
    pii_fraction: float = Field(default=0.0, ge=0.0, le=1.0)

    @field_validator("now")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.n_categories > self.n_products:
            raise ValueError("n_categories must not exceed n_products (every category needs a product)")
        if self.n_favourite_categories > self.n_categories:
            raise ValueError("n_favourite_categories must not exceed n_categories")
        if self.trending_days > self.days:
            raise ValueError("trending_days must not exceed days")
        return self
