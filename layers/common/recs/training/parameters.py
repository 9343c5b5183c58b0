"""Every knob of a training run, with its default and why it has that default.

The training function reads these from its environment (``recs.config.train.TrainSettings``
inherits this model, so each field is an environment variable of the same name, upper-cased);
the offline command takes them from ``--param KEY=VALUE`` and ``--params FILE``. Every run
records the values it used in the version's metadata and artifacts.

Each run searches the model family, its key hyperparameters and the buy-again mix on a
validation split (``auto_tune``, `recs.training.evaluate.search`), starting from these values. The
searched ones are the proposal of a recorded ``recs tune`` run on data the quality benchmark
never tests on (``make tune-defaults``, ``bench/results/tune_defaults.json``); a unit test
keeps them equal.
"""

from __future__ import annotations

import json
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

from recs.contracts.events import DEFAULT_EVENT_WEIGHTS, EventType

ModelFamily = Literal["als", "ease", "knn", "auto"]
Confidence = Literal["linear", "log"]
RepeatScope = Literal["purchase", "all"]


class TrainingParameters(BaseModel):
    """What a training run does; see ``docs/training.md`` for each field in context."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # ------------------------------------------------------------------ data
    training_window_days: int = Field(
        default=400,
        ge=1,
        le=3650,
        description="Days of events read: the lake's retention (RawEventRetentionDays), so no shopper "
        "with history in the lake falls back to popular because their history is old; time decay "
        "and the recency of each shopper's profile weigh old events down instead.",
    )
    visit_gap_minutes: float = Field(
        default=30.0,
        gt=0,
        description="Events without a sessionId belong to one visit while less than this apart.",
    )
    holdout_fraction: float = Field(
        default=0.2,
        gt=0,
        lt=1,
        description="A shopper with a single visit has this last share of it held out to evaluate.",
    )
    event_weights: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_EVENT_WEIGHTS),
        description="eventType -> confidence weight (JSON object in the environment).",
    )
    half_life_days: float = Field(
        default=60.0,
        ge=0,
        description="Time decay of the model's input: an event's weight halves every this many days "
        "before the run; 0 = none.",
    )

    # ------------------------------------------------------------------ model
    model_family: ModelFamily = Field(
        default="auto",
        description="als | ease | knn | auto (the search picks among the families eligible for the "
        "shop's size: EASE up to ease_max_items products, user neighbours up to knn_max_users users).",
    )
    als_factors: int = Field(default=32, ge=1, le=1024)
    als_regularization: float = Field(default=1.0, ge=0)
    als_alpha: float = Field(default=1.0, ge=0, description="Confidence slope: c = 1 + alpha * f(w).")
    als_confidence: Confidence = Field(default="linear", description="f(w) = w (linear) or log(1 + w/eps).")
    als_epsilon: float = Field(default=1.0, gt=0)
    als_iterations: int = Field(default=15, ge=1, le=200)
    als_cg_steps: int = Field(default=3, ge=1, le=20)
    als_threads: int = Field(default=0, ge=0, le=64, description="Solver threads; 0 = every CPU.")
    random_seed: int = Field(default=42, ge=0, description="Seeds every random choice of a run.")
    ease_l2: float = Field(default=500.0, gt=0)
    ease_max_items: int = Field(
        default=5_000, ge=0, description="`auto` considers EASE only up to this many items (n² memory)."
    )
    knn_neighbours: int = Field(
        default=100, ge=1, le=5_000, description="Neighbours a user-kNN score averages over."
    )
    knn_max_users: int = Field(
        default=50_000,
        ge=0,
        description="`auto` considers user neighbours only up to this many users (each scored user is "
        "compared with all of them).",
    )
    profile_half_life: float = Field(
        default=0.25,
        ge=0,
        le=10,
        description="Recency of a shopper's profile when scoring: the weight of a product halves every "
        "this share of the shopper's own history (by the last time they touched it); 0 = off.",
    )

    session_share: float = Field(
        default=1.0,
        ge=0,
        le=1,
        description="Share of session co-occurrence (products seen in one visit) in similar-items "
        "lists, against shopper-level co-occurrence. Learned per shop on validation visits; the "
        "default (chosen by bench/session_quality.py on its two shops' validation sessions) is "
        "where a run without sessions to learn from stays.",
    )
    session_shrink: float = Field(
        default=400.0,
        ge=0,
        description="Added to the session cosine's denominator: pairs seen in few sessions count "
        "less. Learned per shop with session_share.",
    )
    session_proximity: bool = Field(
        default=False,
        description="Session co-occurrence counts each pair by how close the two products were in "
        "the visit (1 / steps apart) instead of once per visit. Learned per shop with session_share.",
    )
    session_seeds: int = Field(
        default=8,
        ge=1,
        le=20,
        description="Recent products whose similar items feed the session source (at most the 20 "
        "the session signal keeps). Learned per shop on validation visits and published with the "
        "version: serving uses it instead of its own default (RecommendSettings.session_seed_products).",
    )
    session_recency: float = Field(
        default=1.0,
        ge=0,
        le=4,
        description="How fast older recent products fade in the session source: the seed at "
        "recency rank r weighs 1 / (1 + r) ** this. Learned and published with session_seeds.",
    )

    # ------------------------------------------------------------------ self-tuning
    auto_tune: bool = Field(
        default=True,
        description="Each run searches the family, its key hyperparameters and the buy-again mix on "
        "a validation split (never the test holdout), starting from these values.",
    )
    tuning_budget_seconds: float = Field(
        default=300.0,
        ge=0,
        description="Wall-clock budget of the search: it starts no fit that, as long as its longest so far, "
        "would end past it.",
    )
    tuning_max_fits: int = Field(default=24, ge=1, le=500, description="At most this many model fits.")
    tuning_max_users: int = Field(
        default=10_000, ge=1, description="Validation users scored per fit (a seeded sample beyond this)."
    )

    # ------------------------------------------------------------------ engine
    spark_min_interactions: int = Field(
        default=0,
        ge=0,
        description="Train on Spark (EMR Serverless, the stack's SparkEngine) when the window holds "
        "at least this many interactions; 0 = always on the training Lambda.",
    )
    container_min_interactions: int = Field(
        default=0,
        ge=0,
        description="Train in the training container (AWS Batch on Fargate, the stack's "
        "ContainerEngine: the same code on one large machine) when the window holds at least this "
        "many interactions and fewer than SPARK_MIN_INTERACTIONS; 0 = never.",
    )
    spark_blocks: int = Field(
        default=0, ge=0, le=10_000, description="Spark ALS user and item blocks; 0 = Spark's default."
    )

    # ------------------------------------------------------------------ lists
    top_k: int = Field(default=100, ge=1, le=500, description="Items stored per user.")
    similar_k: int = Field(default=50, ge=1, le=500, description="Items per similar / bought-together list.")
    list_k: int = Field(default=100, ge=1, le=1000, description="Items per popular / trending list.")
    trending_days: float = Field(default=7.0, gt=0, description="Recent period that trending compares.")
    exclude_purchased: bool = Field(
        default=True, description="Leave purchased products out of a user's list (unless bought again)."
    )
    buy_again_min_rate: float = Field(
        default=0.2,
        ge=0,
        le=1,
        description="A product is a buy-again product when at least this share of its buyers repurchase it.",
    )
    buy_again_min_buyers: int = Field(default=3, ge=1, description="... and at least this many bought it.")
    buy_again_weight: float = Field(
        default=4.0,
        ge=0,
        description="Weight of a shopper's own purchase history (the repeat model) against the "
        "collaborative model's normalized scores; 0 = off. Learned per shop by the search.",
    )
    repeat_personal: float = Field(
        default=2.0,
        ge=0,
        le=4,
        description="How strongly each shopper's own repeat rate scales the buy-again weight: "
        "weight x (shopper's rate / shop's rate) ** this; 0 = the same weight for everyone.",
    )
    repeat_scope: RepeatScope = Field(
        default="purchase",
        description="What the repeat model counts: purchase (buying again), or all (every weighted "
        "event: coming back to what one looked at). Learned per shop by the search.",
    )
    repeat_decay: float = Field(
        default=0.95,
        gt=0,
        le=1,
        description="Weight of a basket in the repeat model: this to the power of how many of the "
        "shopper's baskets came after it (1 = every basket counts the same).",
    )

    # ------------------------------------------------------------------ evaluation and gate
    evaluation_k: int = Field(default=10, ge=1, le=100)
    evaluation_max_users: int = Field(
        default=20_000, ge=1, description="Holdout users evaluated (a seeded sample beyond this)."
    )
    gate_popularity_margin: float = Field(
        default=0.0,
        gt=-1,
        description="The model's NDCG must exceed popularity's by this relative margin (0 = just beat "
        "it; 0.1 = by 10%; -0.1 = a model within 10% of popularity still passes).",
    )
    gate_max_regression: float = Field(
        default=0.2,
        ge=0,
        le=1,
        description="Refuse when the lift over popularity falls more than this share below the current one.",
    )

    # ------------------------------------------------------------------ publish
    shard_users: int = Field(default=20_000, ge=1, description="Users per publish shard (Map item).")
    publish_changes_only: bool = Field(
        default=False,
        description="Write only the users' rows that changed since the last full publish (the base); "
        "serving reads the base's row of everyone else (docs/training.md, Publish). Off by default: "
        "measured, nearly every list changes from one day's run to the next (bench/publish_changes.py).",
    )
    full_publish_days: int = Field(
        default=7,
        ge=1,
        description="Publish every row again (a new base) when the base is this many days old.",
    )
    import_table_min_users: int = Field(
        default=0,
        ge=0,
        description="A run with at least this many users imports their lists into a DynamoDB table "
        "of its own (ImportTable from S3) instead of writing them into the model table; 0 never does "
        "(docs/training.md, Publish).",
    )
    import_table_keep_days: int = Field(
        default=7,
        ge=1,
        description="A version's imported table is deleted this many days after it was created, "
        "unless it serves (its rollback window).",
    )
    import_warm_read_units: int = Field(
        default=0,
        ge=0,
        description="Warm throughput (read units per second) an imported table gets before the "
        "pointer names it, for the first requests' load; 0 asks for none (a new on-demand table "
        "serves up to 12,000 at once).",
    )
    version_ttl_days: int = Field(default=30, ge=1, description="Rows of a version expire after this.")
    version_renew_days: int = Field(
        default=7,
        ge=1,
        description="A run that does not flip renews the serving version's rows when they would "
        "expire within this many days, so a serving version never expires.",
    )
    cache_warm_users: int = Field(
        default=1_000, ge=0, description="Lists of the most active users put in the cache on flip."
    )

    @field_validator("event_weights", mode="before")
    @classmethod
    def _weights_from_json(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    @field_validator("import_warm_read_units")
    @classmethod
    def _warm_at_least_the_default(cls, value: int) -> int:
        # DynamoDB refuses warm throughput below what a new on-demand table already has.
        if 0 < value < 12_000:
            raise ValueError("must be 0 (none) or at least 12000 read units per second")
        return value

    @field_validator("event_weights")
    @classmethod
    def _known_event_types(cls, value: dict[str, float]) -> dict[str, float]:
        known = {t.value for t in EventType}
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValueError(f"unknown event types {unknown}; known: {sorted(known)}")
        if any(w < 0 for w in value.values()):
            raise ValueError("event weights must be >= 0")
        if not any(w > 0 for w in value.values()):
            raise ValueError("at least one event weight must be > 0")
        return value

    def training_parameters(self) -> TrainingParameters:
        """Just the training knobs (subclasses such as the function settings carry more)."""
        return TrainingParameters.model_validate(
            {name: getattr(self, name) for name in TrainingParameters.model_fields}
        )

    def recorded(self) -> dict[str, Any]:
        """The values as stored with a model version (JSON-ready)."""
        return self.training_parameters().model_dump(mode="json")


# ---------------------------------------------------------------------- per-stage slices
# Each stage declares the fields it reads as a read-only view; `TrainingParameters` satisfies them
# all, and mypy refuses a stage that reads a field outside its slice. The parameter search still
# copies the whole point (`model_copy`): it tunes across stages at once.


class FitParameters(Protocol):
    """What fitting a model family reads (`recs.training.fit.fitting`)."""

    @property
    def als_alpha(self) -> float: ...

    @property
    def als_cg_steps(self) -> int: ...

    @property
    def als_confidence(self) -> Literal["linear", "log"]: ...

    @property
    def als_epsilon(self) -> float: ...

    @property
    def als_factors(self) -> int: ...

    @property
    def als_iterations(self) -> int: ...

    @property
    def als_regularization(self) -> float: ...

    @property
    def als_threads(self) -> int: ...

    @property
    def ease_l2(self) -> float: ...

    @property
    def ease_max_items(self) -> int: ...

    @property
    def knn_max_users(self) -> int: ...

    @property
    def knn_neighbours(self) -> int: ...

    @property
    def model_family(self) -> Literal["als", "ease", "knn", "auto"]: ...

    @property
    def random_seed(self) -> int: ...


class SignalParameters(Protocol):
    """What scoring signals read: confidence, recency profile, buy-again (`recs.training.fit.signals`)."""

    @property
    def buy_again_min_buyers(self) -> int: ...

    @property
    def buy_again_min_rate(self) -> float: ...

    @property
    def buy_again_weight(self) -> float: ...

    @property
    def event_weights(self) -> dict[str, float]: ...

    @property
    def exclude_purchased(self) -> bool: ...

    @property
    def half_life_days(self) -> float: ...

    @property
    def profile_half_life(self) -> float: ...

    @property
    def repeat_decay(self) -> float: ...

    @property
    def repeat_personal(self) -> float: ...

    @property
    def repeat_scope(self) -> Literal["purchase", "all"]: ...

    @property
    def visit_gap_minutes(self) -> float: ...


class SessionListParameters(Protocol):
    """What choosing a shop's session lists reads (`recs.training.fit.session_lists`)."""

    @property
    def event_weights(self) -> dict[str, float]: ...

    @property
    def holdout_fraction(self) -> float: ...

    @property
    def random_seed(self) -> int: ...

    @property
    def session_share(self) -> float: ...

    @property
    def session_shrink(self) -> float: ...

    @property
    def session_proximity(self) -> bool: ...

    @property
    def session_seeds(self) -> int: ...

    @property
    def session_recency(self) -> float: ...

    @property
    def similar_k(self) -> int: ...

    @property
    def visit_gap_minutes(self) -> float: ...


class EvaluationParameters(FitParameters, SignalParameters, Protocol):
    """What the holdout and the gate read (`recs.training.evaluate.holdout`), beside fitting and signals."""

    @property
    def evaluation_k(self) -> int: ...

    @property
    def evaluation_max_users(self) -> int: ...

    @property
    def event_weights(self) -> dict[str, float]: ...

    @property
    def gate_max_regression(self) -> float: ...

    @property
    def gate_popularity_margin(self) -> float: ...

    @property
    def holdout_fraction(self) -> float: ...

    @property
    def random_seed(self) -> int: ...

    @property
    def visit_gap_minutes(self) -> float: ...
