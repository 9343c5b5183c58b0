"""Sampling rules: keep one in N events of a type in the lake, each kept one standing for N.

At scale views are most of the volume (Firehose, the lake, Prepare). A shop that sets
``SAMPLING_RULES='{"view": 4}'`` keeps one view in four in the lake; the kept ones carry
``sampleRate: 4`` and training counts each as four (`recs.training.prepare.matrix`). Which ones
are kept is decided by the eventId alone (`in_sample`: FNV-1a of its lower-case text, modulo N),
so the tracker (sdk/recs-tracker.js, option ``sampling``) and ingest make the same choice, a
re-sent event is kept or dropped like its first copy, and the choice cannot be steered by
re-rolling a random draw.

Every event still updates the visitor's live session signal: sampling thins the lake, not what
a shopper sees next. Purchases and carts are never sampled (`SAMPLEABLE`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from recs.contracts.events import EventType, LakeRecord

#: The event types a rule may thin: the frequent, individually weak signals.
SAMPLEABLE: frozenset[EventType] = frozenset({EventType.VIEW, EventType.CLICK, EventType.SEARCH})
#: The largest N a rule may set.
MAX_ONE_IN = 1000

_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193


def fnv1a_32(text: str) -> int:
    """FNV-1a, 32 bits, of the UTF-8 bytes of ``text`` (the tracker computes the same)."""
    value = _FNV_OFFSET
    for byte in text.encode():
        value = ((value ^ byte) * _FNV_PRIME) & 0xFFFFFFFF
    return value


def in_sample(event_id: str, one_in: int) -> bool:
    """Whether the event with this id is the one in ``one_in`` its rule keeps."""
    return one_in <= 1 or fnv1a_32(event_id.lower()) % one_in == 0


@dataclass(frozen=True)
class SamplingRules:
    """Event type -> N: keep one in N of that type in the lake."""

    one_in: Mapping[EventType, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for event_type, n in self.one_in.items():
            if event_type not in SAMPLEABLE:
                raise ValueError(f"{event_type.value} events cannot be sampled (only {_names(SAMPLEABLE)})")
            if not 1 <= n <= MAX_ONE_IN:
                raise ValueError(f"one in {n} {event_type.value} events: N must be 1 to {MAX_ONE_IN}")

    def rate(self, event_type: EventType) -> int:
        """N for this type (1: every event is kept)."""
        return self.one_in.get(event_type, 1)

    def keeps(self, event_type: EventType, event_id: str) -> bool:
        return in_sample(event_id, self.rate(event_type))


def sampled(records: list[LakeRecord], rules: SamplingRules) -> list[LakeRecord]:
    """The records the lake keeps, each of a sampled type stamped with its rule's N."""
    if not rules.one_in:
        return records
    kept: list[LakeRecord] = []
    for record in records:
        rate = rules.rate(record["eventType"])
        if rate == 1:
            kept.append(record)
        elif in_sample(record["eventId"], rate):
            kept.append({**record, "sampleRate": rate})
    return kept


def _names(types: frozenset[EventType]) -> str:
    return ", ".join(sorted(t.value for t in types))
