"""What one served request logs: structured fields with pseudonyms only, never a raw id.

The handler adds these to its Powertools log line and turns the counts into EMF metrics;
keeping the field list here makes it testable that no raw identifier can slip in.
"""

from __future__ import annotations

from typing import Any

from recs.serving.service import Outcome


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
        "identity": outcome.identity,
        "visitor": outcome.visitor,
        "optedOut": outcome.opted_out,
        "personalized": outcome.personalized,
        "identityUnavailable": outcome.identity_unavailable,
    }
