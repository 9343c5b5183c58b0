"""POST /api/events: read the request, validate each event, deliver the valid ones, report the rest.

Valid events of a type the shop samples (`recs.ingest.sampling`) reach the lake only when they
are the one in N their rule keeps, stamped with ``sampleRate``; every valid event updates the
live session signal. With the per-visitor cap on (``VISITOR_EVENTS_PER_HOUR``), events past a
visitor's cap for the clock hour reach neither (`recs.ingest.session_signal`, `SessionSignal.admit`).

The order matters for "no loss": events are delivered to the lake (the record of truth) before
anything is written (with the cap on, the session rows are only read before), delivery either
succeeds for every valid event or raises (the API answers 503 and the client re-sends, and
nothing was counted against the cap), and only then is the live session signal updated, whose
failure is reported but never fails the request.
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
    #: Valid events left out of the lake and the session: their visitor reached its hourly cap.
    over_cap: int = 0

    def response(self) -> EventsAccepted:
        return EventsAccepted(
            accepted=self.accepted,
            rejectedCount=self.rejected_count,
            rejected=[r.as_model() for r in self.rejections],
            sampledOut=self.sampled_out,
            overCap=self.over_cap,
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
        # The visitors' session rows are read before delivery: they hold the per-visitor cap's
        # count (a store fault admits everything), and the write after delivery reuses the read.
        admission = self._session.admit(records) if self._session is not None else None
        within = admission.admitted if admission is not None else records
        kept = sampled(within, self._sampling)
        if kept:
            self._sink.put_records(encode_lines(kept))
        session = (
            self._session.write(admission)
            if self._session is not None and admission is not None
            else SignalOutcome(SignalStatus.NOTHING_TO_DO)
        )
        return IngestResult(
            accepted=len(checked.valid),
            rejections=checked.rejections,
            rejected_count=checked.rejected_count,
            session=session,
            sampled_out=len(within) - len(kept),
            over_cap=len(records) - len(within),
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
