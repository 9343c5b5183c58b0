"""Settings of the recommend function (environment variables, read once at cold start).

Structured settings (`FALLBACK_CHAINS`, `EXPERIMENTS`) are JSON, validated here: a bad chain or
experiment stops the cold start with a message naming it instead of serving something odd.
"""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from recs.config.auth import AuthSettings
from recs.config.common import CacheSettings, PseudonymSettings
from recs.serving.experiments import Experiment
from recs.serving.query import KNOWN_CONTEXTS
from recs.serving.ranking import DEFAULT_DIVERSITY_CAPS, SESSION_SEEDS
from recs.serving.sources import Chains


class RecommendSettings(CacheSettings, PseudonymSettings, AuthSettings):
    model_table_name: str = Field(min_length=3)
    state_table_name: str = Field(min_length=3)
    pointer_ttl_seconds: float = Field(
        default=15.0,
        ge=0,
        le=3600,
        description="How long the current-version pointer and the availability row are held in "
        "memory; a flip or an availability change reaches every container within this; default 15 s.",
    )
    fallback_chains: Chains = Field(
        default_factory=Chains,
        description='JSON {"homepage": [...], "product-page": [...], "cart": [...]}: the ordered '
        "sources of each context (docs/serving.md); default: the chains in recs.serving.sources.",
    )
    experiments: list[Experiment] = Field(
        default_factory=list,
        description="JSON list of experiments (name, contexts, variants with weights and chain "
        "overrides); default: none.",
    )
    exclude_purchased: bool = Field(
        default=True, description="Never recommend what the user bought (except buy-again); default on."
    )
    # Evaluated by bench/session_quality.py (run of 2026-12-05 on f77d3f4 plus this change) on
    # the pooled validation sessions of its discovery-year and grocery-year shops, next-product
    # HR@20 (docs/benchmarks.md, "Quality: sessions"): 8 seeds beat the former 5 by +0.001,
    # 95% CI [+0.0004, +0.002], on both shops. The session weight stays 0.4: 0.2 wins on the
    # pooled sessions (+0.041) only by what the grocery shop gains (its shoppers' own lists of
    # staples know their next product best) while the discovery shop decidedly loses (-0.022),
    # and one default serves both. No rerank weight beat 0.3 decidedly.
    session_seed_products: int = Field(
        default=SESSION_SEEDS,
        ge=0,
        le=20,
        description="Recent products whose neighbours feed `session`; default 8.",
    )
    session_weight: float = Field(
        default=0.4,
        ge=0,
        le=1,
        description="Weight of the live session against the user's precomputed list; default 0.4.",
    )
    rerank_weight: float = Field(
        default=0.3,
        ge=0,
        le=1,
        description="Weight of the user's list when re-ranking a product page's similar items; 0.3.",
    )
    new_arrivals_share: float = Field(
        default=0.1,
        ge=0,
        le=0.5,
        description="Share of a homepage list's slots given to new arrivals: products in the catalog "
        "that no model knows yet (the catalog feed's), at evenly spread places; 0 turns it off; "
        "default 0.1 (one in ten).",
    )
    diversity_caps: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULT_DIVERSITY_CAPS),
        description="Per context (homepage, product-page, cart), at most this many products of one "
        'category in a list before the other categories have had their turn, e.g. {"homepage": 3}; '
        "0 or absent = no cap. The default is the benchmark's choice (docs/serving.md, Diversity).",
    )
    session_cache_ttl_seconds: int = Field(
        default=60,
        ge=0,
        le=86_400,
        description="Lifetime of a cached session signal. Ingestion deletes the cached copy when it "
        "updates the row, so this only bounds staleness when that fails; 0 reads the signal from "
        "DynamoDB on every request that uses it; default 60 s.",
    )
    optout_cache_ttl_seconds: int = Field(
        default=600,
        ge=0,
        le=86_400,
        description="Lifetime of an opt-out flag serving copied into the cache (privacy writes the "
        "flag through on every change); default 10 min.",
    )
    memory_list_entries: int = Field(
        default=4096,
        ge=0,
        le=1_000_000,
        description="Non-personal lists held in each container's memory (LRU); default 4096.",
    )
    rules_cache_ttl_seconds: float = Field(
        default=30.0,
        ge=0,
        le=3600,
        description="How long each container serves the merchandising rules it read (docs/serving.md, "
        "Rules); a rule changed through the admin route acts everywhere within this; default 30 s.",
    )
    rules_retry_seconds: float = Field(
        default=5.0,
        ge=0,
        le=600,
        description="After a failed read of the rules, how long the last rules read serve before the "
        "next attempt; default 5 s.",
    )
    store_timeout_seconds: float = Field(
        default=0.5, gt=0, le=5, description="DynamoDB connect and read timeout; default 0.5 s."
    )
    store_max_attempts: int = Field(
        default=2, ge=1, le=5, description="DynamoDB attempts per call (standard retry mode); default 2."
    )

    @model_validator(mode="after")
    def _diversity_caps_name_contexts(self) -> Self:
        unknown = sorted(set(self.diversity_caps) - set(KNOWN_CONTEXTS))
        if unknown:
            raise ValueError(f"diversity_caps: unknown contexts {unknown}; known: {list(KNOWN_CONTEXTS)}")
        wrong = {c: v for c, v in self.diversity_caps.items() if not 0 <= v <= 100}
        if wrong:
            raise ValueError(f"diversity_caps: each cap is 0 (none) to 100, got {wrong}")
        return self

    @model_validator(mode="after")
    def _experiments_do_not_overlap(self) -> Self:
        covered: dict[str, str] = {}
        for experiment in self.experiments:
            for context in experiment.contexts:
                if context in covered:
                    raise ValueError(
                        f"experiments {covered[context]} and {experiment.name} both cover {context}"
                    )
                covered[context] = experiment.name
            for variant in experiment.variants:
                # Raises on an unsound chain, naming it.
                self.fallback_chains.merged(variant.chains)
        return self
