"""Every knob of a training run, with its default and why it has that default.

The training function reads these from its environment (``recs.config.train.TrainSettings``
inherits this model, so each field is an environment variable of the same name, upper-cased);
the offline command takes them from ``--param KEY=VALUE`` and ``--params FILE``. Every run
records the values it used in the version's metadata and artifacts.

Defaults of the model hyperparameters were picked with the tuning command
(``recs tune``, ``docs/training.md``) on the synthetic shop's ``demo`` and ``grocery`` presets.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from recs.models.events import DEFAULT_EVENT_WEIGHTS, EventType

ModelFamily = Literal["als", "ease", "auto"]
Confidence = Literal["linear", "log"]


class TrainingParameters(BaseModel):
    """What a training run does; see ``docs/training.md`` for each field in context."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # ------------------------------------------------------------------ data
    training_window_days: int = Field(default=90, ge=1, le=3650, description="Days of events read.")
    holdout_days: float = Field(
        default=3.0, gt=0, description="The last days of the window held out to evaluate (and gate)."
    )
    event_weights: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_EVENT_WEIGHTS),
        description="eventType -> confidence weight (JSON object in the environment).",
    )
    half_life_days: float = Field(
        default=30.0, ge=0, description="Time decay: an event's weight halves every this many days; 0 = none."
    )

    # ------------------------------------------------------------------ model
    model_family: ModelFamily = Field(
        default="auto",
        description="als | ease | auto (EASE only when the catalog is small and it wins on validation).",
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
    ease_l2: float = Field(default=200.0, gt=0)
    ease_max_items: int = Field(
        default=5_000, ge=0, description="`auto` considers EASE only up to this many items (n² memory)."
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
        default=4.0, ge=0, description="Weight of the buy-again signal against the model's scores; 0 = off."
    )

    # ------------------------------------------------------------------ evaluation and gate
    evaluation_k: int = Field(default=10, ge=1, le=100)
    evaluation_max_users: int = Field(
        default=20_000, ge=1, description="Holdout users evaluated (a seeded sample beyond this)."
    )
    gate_popularity_margin: float = Field(
        default=0.0,
        ge=0,
        description="The model's NDCG must exceed popularity's by this relative margin (0 = just beat it).",
    )
    gate_max_regression: float = Field(
        default=0.2,
        ge=0,
        le=1,
        description="Refuse when the lift over popularity falls more than this share below the current one.",
    )

    # ------------------------------------------------------------------ publish
    shard_users: int = Field(default=20_000, ge=1, description="Users per publish shard (Map item).")
    version_ttl_days: int = Field(default=30, ge=1, description="Rows of a version expire after this.")
    cache_warm_users: int = Field(
        default=1_000, ge=0, description="Lists of the most active users put in the cache on flip."
    )

    @field_validator("event_weights", mode="before")
    @classmethod
    def _weights_from_json(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

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

    @model_validator(mode="after")
    def _holdout_inside_window(self) -> TrainingParameters:
        if self.holdout_days * 2 >= self.training_window_days:
            raise ValueError("holdout_days must be less than half of training_window_days")
        return self

    def training_parameters(self) -> TrainingParameters:
        """Just the training knobs (subclasses such as the function settings carry more)."""
        return TrainingParameters.model_validate(
            {name: getattr(self, name) for name in TrainingParameters.model_fields}
        )

    def recorded(self) -> dict[str, Any]:
        """The values as stored with a model version (JSON-ready)."""
        return self.training_parameters().model_dump(mode="json")
