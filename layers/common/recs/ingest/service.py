"""POST /api/events: read the request, validate each event, deliver the valid ones, report the rest.

Valid events of a type the shop samples (`recs.ingest.sampling`) reach the lake only when they
are the one in N their rule keeps, stamped with ``sampleRate``; every valid event updates the
live session signal.

The order matters for "no loss": events are delivered to the lake (the record of truth) before
anything else, delivery either succeeds for every valid event or raises (the API answers 503 and
the client re-sends), and only then is the live session signal updated, whose failure is
reported but never fails the request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from recs.auth.policy import SubjectPolicy
from recs.contracts.events import EventsAccepted
from recs.ingest.crawlers import is_known_crawler
from recs.ingest.errors import NoValidEventsError
from recs.ingest.lake_records import encode_lines, to_lake_records
from recs.ingest.payload import IngestRequest, read_events
from recs.ingest.payload import parse_json_body as parse_json_body  # re-exported for other handlers
from recs.ingest.sampling import SamplingRules, sampled
from recs.ingest.session_signal import SessionSignal, SignalOutcome, SignalStatus
from recs.ingest.validation import (
    CheckedEvents,
    Rejection,
    TimeWindow,
    check_events,
    keep_callers_events,
    keep_declared_rates,
    refuse_all,
)
from recs.ports import EventSink
from recs.pseudonyms import Pseudonyms


@dataclass(frozen=True)
class IngestResult:
    accepted: int
    rejections: list[Rejection]
    rejected_count: int
    session: SignalOutcome
    #: Valid events left out of the lake by the shop's sampling rules (the session saw them).
    sampled_out: int = 0

    def response(self) -> EventsAccepted:
        return EventsAccepted(
            accepted=self.accepted,
            rejectedCount=self.rejected_count,
            rejected=[r.as_model() for r in self.rejections],
            sampledOut=self.sampled_out,
        )


class IngestService:
    def __init__(
        self,
        sink: EventSink,
        pseudonyms: Pseudonyms,
        session_signal: SessionSignal | None,
        *,
        window: TimeWindow,
        max_body_bytes: int,
        clock: Callable[[], datetime],
        callers: SubjectPolicy | None = None,
        sampling: SamplingRules | None = None,
    ) -> None:
        self._sink = sink
        self._callers = callers or SubjectPolicy.disabled()
        self._pseudonyms = pseudonyms
        self._session = session_signal
        self._window = window
        self._max_body_bytes = max_body_bytes
        self._clock = clock
        self._sampling = sampling or SamplingRules()

    def ingest(self, request: IngestRequest) -> IngestResult:
        """Store the request's valid events in the lake and report the invalid ones.

        Raises
        ------
        InvalidRequestError
            The request as a whole is unusable (400/413/415); nothing was stored.
        NoValidEventsError
            Not one event is valid (400); nothing was stored.
        UnauthorizedError
            Caller authorization is on, some event has a ``userId`` and the request carries no
            valid bearer token (401); nothing was stored.
        IssuerUnavailableError
            Such a token cannot be checked now (503); nothing was stored, the client re-sends.
        DeliveryError
            The lake did not take every event in time (503); the client must re-send.
        """
        raw_events, batch = read_events(request, self._max_body_bytes)
        now = self._clock()
        checked = check_events(raw_events, now, self._window)
        if is_known_crawler(request.user_agent):
            # A crawler running the tracker is not a shopper: nothing of it may count.
            checked = refuse_all(
                checked, "User-Agent", "is a known crawler's; its events are not stored", "crawler"
            )
        checked = self._only_the_callers(checked, request)
        checked = keep_declared_rates(checked, self._sampling)
        if not checked.valid:
            raise NoValidEventsError([r.as_model() for r in checked.rejections], checked.received, batch)
        records = to_lake_records(checked.valid, self._pseudonyms, now)
        kept = sampled(records, self._sampling)
        if kept:
            self._sink.put_records(encode_lines(kept))
        session = (
            self._session.record(records)
            if self._session is not None
            else SignalOutcome(SignalStatus.NOTHING_TO_DO)
        )
        return IngestResult(
            accepted=len(checked.valid),
            rejections=checked.rejections,
            rejected_count=checked.rejected_count,
            session=session,
            sampled_out=len(records) - len(kept),
        )

    def _only_the_callers(self, checked: CheckedEvents, request: IngestRequest) -> CheckedEvents:
        """With caller authorization on, an event about a user needs that user's bearer token:
        without a valid token nothing is stored (401), and events about another user than the
        token's are rejected one by one. Events without ``userId`` need no token."""
        if not self._callers.enabled or all(event.userId is None for event in checked.valid):
            return checked
        headers = {"authorization": request.authorization} if request.authorization else None
        caller = self._callers.bearer_caller(headers)
        return keep_callers_events(checked, caller.subject)
