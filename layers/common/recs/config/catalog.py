"""Settings of the catalog function (the catalog feed: `recs.catalog.feed`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from recs.config.common import FunctionSettings


class CatalogSettings(FunctionSettings):
    client_profile: Literal["interactive", "batch"] = Field(
        default="batch", description="Timeouts and retries of the function's AWS clients."
    )
    artifact_bucket_name: str = Field(min_length=1, description="Bucket holding catalog/products.jsonl.")
    model_table_name: str = Field(min_length=1, description="Table serving reads (lists, availability).")
    catalog_list_length: int = Field(
        default=50, ge=1, le=500, description="Length of new-arrival and attribute-similar lists; 50."
    )
    catalog_ttl_days: int = Field(
        default=30, ge=1, description="The feed's lists expire after this (each upload writes new ones)."
    )
    catalog_max_new_products: int = Field(
        default=5_000,
        ge=1,
        description="New products given lists per upload (the newest first); default 5,000.",
    )
