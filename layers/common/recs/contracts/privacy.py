"""The privacy routes' bodies: a shopper's preferences, their status, an erasure request and its
receipt (docs/privacy.md; the generated spec is docs/openapi.json)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from recs.contracts.events import Identifier

#: Anonymous ids one erasure request may name (the purge finds the others linked to them).
MAX_ANONYMOUS_IDS = 20


class Preferences(BaseModel):
    model_config = ConfigDict(extra="forbid")
    recommendations: bool = Field(description="false opts the shopper out of personalized results.")


class PreferencesBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    preferences: Preferences


class PreferencesSet(BaseModel):
    preferences: Preferences
    updatedAt: str
    personalizedRowsRemoved: int = Field(description="Stored personal lists removed by an opt-out.")


class ErasureRef(BaseModel):
    receiptId: str
    status: str


class PrivacyStatus(BaseModel):
    preferences: Preferences
    updatedAt: str | None
    erasure: ErasureRef | None = Field(description="The shopper's latest erasure, if any.")


class ErasureBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    anonIds: list[Identifier] = Field(
        default_factory=list,
        max_length=MAX_ANONYMOUS_IDS,
        description="Anonymous ids of the shopper's browsers (e.g. this one's) to erase with them; "
        "others linked to them in the event history are found by the purge.",
    )


class ErasureReceipt(BaseModel):
    receiptId: str
    status: str = Field(description="pending (live stores cleared) or completed (every store).")
    requestedAt: str
    completedAt: str | None = None
    removed: dict[str, int] = Field(description="What was removed, by kind.")


class ExportReceipt(BaseModel):
    receiptId: str
    status: str = Field(
        description="pending (being written), ready (download it), failed (request a new export) "
        "or expired (its lifetime is over: 410)."
    )
    requestedAt: str
    expiresAt: str = Field(description="When the export is deleted (the bucket's lifecycle rule).")
    completedAt: str | None = None
    url: str | None = Field(
        default=None, description="When ready: a presigned GET URL of the export (JSON), valid briefly."
    )
    urlExpiresAt: str | None = Field(default=None, description="When `url` stops working.")


class AnonymousId(BaseModel):
    anonId: str = Field(
        description="A signed anonymous id (`v1.<id>.<signature>`): send it as `anonId` with events and "
        "recommendation requests, and in the `X-Recs-Visitor` header to the `/api/visitor/...` routes. "
        "A secret of its holder: never put it in a path or a log."
    )
