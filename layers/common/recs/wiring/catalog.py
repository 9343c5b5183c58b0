"""Wiring of the catalog function: settings -> adapters -> the catalog feed."""

from __future__ import annotations

from recs.adapters import aws
from recs.adapters.s3 import S3ObjectStore
from recs.catalog.feed import CatalogFeed
from recs.config.catalog import CatalogSettings
from recs.wiring.common import table, utc_now


def catalog_feed(settings: CatalogSettings) -> CatalogFeed:
    return CatalogFeed(
        S3ObjectStore(settings.artifact_bucket_name, aws.client("s3", settings.clients)),
        table(settings.model_table_name, aws.client("dynamodb", settings.clients)),
        utc_now,
        list_length=settings.catalog_list_length,
        ttl_days=settings.catalog_ttl_days,
        max_new_products=settings.catalog_max_new_products,
    )
