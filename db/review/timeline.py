"""A call's timeline: the audit events whose payload names it.

Only the stretches of the chain when the call ran and when it was decided
on are read (``_stretches``), found by bisection on the sequence number, so
an old call costs what a new one does. Desks' clocks may disagree by up to
``CLOCK_SKEW``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from db.audit.chain import head
from db.models import Approval, AuditEvent, Call, CancellationRequest, Dispute, ReviewNote

# How far desks' clocks (which time audit events) may disagree; the timeline
# starts reading this long before the call began.
CLOCK_SKEW = timedelta(minutes=10)


@dataclass(frozen=True)
class TimelineEntry:
    """One audit event about the call."""

    seq: int
    at: datetime
    actor: str
    type: str
    payload: str


def timeline(session: Session, call: Call) -> tuple[TimelineEntry, ...]:
    """Audit events whose payload names this call.

    Payloads are canonical JSON (sorted keys, no spaces), so the key and value
    appear as ``"call_id":N`` followed by ``,`` or ``}``; the JSON is then
    checked, so a value that merely contains the text never slips in. Only
    the stretches of the chain when the call ran and when it was decided on
    (approvals, notes, review) are read, so an old call costs what a new one does.
    Events recorded in the session's transaction are chained first (by
    ``head``, which bounds the stretches), so a decision's own event is in
    the timeline it returns.
    """
    marker = f'"call_id":{call.id}'
    stretches = or_(
        *(
            and_(AuditEvent.seq >= first, AuditEvent.seq < end)
            for first, end in _stretches(session, call)
        )
    )
    rows = session.execute(
        select(AuditEvent)
        .where(
            stretches,
            or_(
                AuditEvent.payload.contains(marker + ",", autoescape=True),
                AuditEvent.payload.endswith(marker + "}", autoescape=True),
            ),
        )
        .order_by(AuditEvent.seq)
    ).scalars()
    return tuple(
        TimelineEntry(event.seq, event.occurred_at, event.actor, event.type, event.payload)
        for event in rows
        if json.loads(event.payload).get("call_id") == call.id
    )


def _stretches(session: Session, call: Call) -> list[tuple[int, int]]:
    """Sequence ranges ``[first, end)`` around the call and every later decision on it."""
    decided = session.scalars(
        select(Approval.decided_at)
        .join(CancellationRequest, CancellationRequest.id == Approval.request_id)
        .where(CancellationRequest.call_id == call.id)
    ).all()
    noted = session.scalars(select(ReviewNote.created_at).where(ReviewNote.call_id == call.id))
    disputed = session.scalars(
        select(Dispute.disputed_at)
        .join(CancellationRequest, CancellationRequest.id == Dispute.request_id)
        .where(CancellationRequest.call_id == call.id)
    ).all()
    # Marked final by the delivery worker, hours or days after the call.
    final = session.scalars(
        select(CancellationRequest.final_at).where(
            CancellationRequest.call_id == call.id, CancellationRequest.final_at.is_not(None)
        )
    ).all()
    spans = [(call.started_at, call.ended_at)]
    later = (*decided, *noted, *disputed, *final, call.reviewed_at)
    spans += [(moment, moment) for moment in later if moment]
    end_of_chain = head(session)[0] + 1
    ranges = sorted(
        (
            _first_seq_since(session, begin - CLOCK_SKEW),
            end_of_chain if end is None else _first_seq_since(session, end + CLOCK_SKEW),
        )
        for begin, end in spans
    )
    merged = [ranges[0]]
    for first, end in ranges[1:]:
        if first <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((first, end))
    return merged


def _first_seq_since(session: Session, moment: datetime) -> int:
    """The first event not older than ``moment``, by bisection on the sequence number.

    Events are appended in time order (within ``CLOCK_SKEW``), so the search
    reads a few dozen rows by primary key instead of the whole chain.
    """
    low, high = 1, head(session)[0] + 1
    while low < high:
        middle = (low + high) // 2
        at = session.scalar(select(AuditEvent.occurred_at).where(AuditEvent.seq == middle))
        if at is not None and at < moment:
            low = middle + 1
        else:
            high = middle
    return low
