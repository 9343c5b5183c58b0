"""What one served request logs: structured fields with pseudonyms only, never a raw id.

The handler adds these to its Powertools log line and turns the counts into EMF metrics;
keeping the field list here makes it testable that no raw identifier can slip in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from recs.serving.service import Outcome


@dataclass(frozen=True)
class MetricPoint:
    """One EMF metric of a served request (the handler hands it to Powertools)."""

    name: str
    unit: Literal["Count", "Milliseconds"]
    value: float


def served_dimensions(fields: dict[str, Any]) -> dict[str, str]:
    """One EMF document per request, by context, serving tier and variant: fallback rates and
    the impression counts behind CTR per variant (docs/serving.md)."""
    return {
        "context": str(fields["context"]),
        "source": str(fields["source"]),
        "variant": str(fields["variant"] or "none"),
    }


def served_metrics(outcome: Outcome, fields: dict[str, Any]) -> list[MetricPoint]:
    stats = outcome.stats
    points = [
        MetricPoint("Served", "Count", 1),
        MetricPoint("CacheHits", "Count", stats.cache_hits),
        MetricPoint("CacheMisses", "Count", stats.cache_misses),
    ]
    # Faults are counted when they happen (a missing data point sums as zero).
    if stats.cache_errors:
        points.append(MetricPoint("CacheErrors", "Count", stats.cache_errors))
    if stats.store_errors:
        points.append(MetricPoint("StoreErrors", "Count", stats.store_errors))
    if outcome.new_arrivals:
        # Products no model knew yet, served (their share per list: NewArrivals / Served / limit).
        points.append(MetricPoint("NewArrivals", "Count", outcome.new_arrivals))
    if outcome.ruled:
        # Products a merchandising rule placed or moved.
        points.append(MetricPoint("RuledProducts", "Count", outcome.ruled))
    points.append(MetricPoint("Latency", "Milliseconds", float(fields["latencyMs"])))
    return points


def service_total_metrics(outcome: Outcome, *, caller_unverified: bool = False) -> list[MetricPoint]:
    """Counts of the whole service (no dimension but the service), the alarms' numerators and
    denominators: every request served (200), signed-in shoppers' requests and those of them served nothing
    personal (a fallback: no model rows, a store fault; opted-out shoppers are not counted), the
    requests whose token could not be checked, and store errors."""
    points = [MetricPoint("Requests", "Count", 1)]
    if outcome.identity == "user" and not outcome.opted_out:
        points.append(MetricPoint("UserRequests", "Count", 1))
        points.append(MetricPoint("UserFallbacks", "Count", 0 if outcome.personalized else 1))
    if caller_unverified:
        points.append(MetricPoint("CallersUnverified", "Count", 1))
    if outcome.stats.store_errors:
        points.append(MetricPoint("StoreErrors", "Count", outcome.stats.store_errors))
    if outcome.rules_unavailable:
        # Served without fresh rules (the last ones read, or none): the rules row is unreadable.
        points.append(MetricPoint("RulesUnavailable", "Count", 1))
    return points


def served_fields(outcome: Outcome, latency_ms: float) -> dict[str, Any]:
    response, stats = outcome.response, outcome.stats
    return {
        "context": outcome.context,
        "source": response.source,
        "sources": outcome.sources_used,
        "experiment": response.experiment,
        "variant": response.variant,
        "modelVersion": response.modelVersion,
        "recommendationId": response.recommendationId,
        "cache": stats.cache_outcome,
        "cacheHits": stats.cache_hits,
        "cacheMisses": stats.cache_misses,
        "cacheErrors": stats.cache_errors,
        "cacheRoundTrips": stats.cache_round_trips,
        "memoryHits": stats.memory_hits,
        "storeReads": stats.store_reads,
        "storeErrors": stats.store_errors,
        "latencyMs": round(latency_ms, 3),
        "returned": len(response.products),
        "newArrivals": outcome.new_arrivals,
        "ruled": outcome.ruled,
        "rulesUnavailable": outcome.rules_unavailable,
        "identity": outcome.identity,
        "visitor": outcome.visitor,
        "optedOut": outcome.opted_out,
        "personalized": outcome.personalized,
        "identityUnavailable": outcome.identity_unavailable,
    }
