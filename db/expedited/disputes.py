"""Disputes: any agent or supervisor, quoting a reference, stops expedited deprovisioning.

A dispute is recorded while the request is not final (``verification.cooling.
dispute_refusal`` judges it). It stops the request for good:
``db.expedited.cooling.finalize_due`` never marks a disputed request final. The
subscription goes back to waiting, with the deletion date it had before any
approval (the request's ``after``), and the request waits in the supervisor
queue as "Disputed" until a supervisor rejects it, which keeps the data
(``db.review.decisions``). The reason lives in the dispute row (purgeable);
the audit event carries ids only. The outbox's ``expedited.disputed`` event
and the admins' notice go out in the same transaction.

This module is also the home of the guessing limit on references: every
reference that leads to no disputable request gets the one answer
``NOT_DISPUTABLE`` and counts against the staff member in ``dispute_miss``
(with an ``expedited.dispute_missed`` event, ids and count only); past
``MAX_MISSES`` in ``MISS_WINDOW`` their disputes are refused before any lookup.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from db.audit.chain import append_event
from db.calls import subscription_facts
from db.delivery.notices import NoticeKind, day, disputed_notice, queue_notices
from db.delivery.outbox import EventType, enqueue
from db.engine import unit_of_work
from db.expedited.cooling import expedited_of
from db.models import Agent, CancellationRequest, Dispute, DisputeMiss, Subscription
from db.references import request_by_reference
from verification.cooling import dispute_refusal
from verification.errors import InputError
from verification.kinds import ExpeditedState

# Longest reason kept: a few sentences, not a transcript.
REASON_LIMIT = 2000
# The one answer for a reference that leads to no disputable request, whatever the
# reason (none, not expedited, final, disputed, rejected): so it tells nobody which exist.
NOT_DISPUTABLE = (
    "No disputable request has this reference: read it back to the caller. Only expedited "
    "deprovisioning that is not final, disputed or rejected can be disputed."
)
# References leading nowhere one staff member may type per window: a few misreadings,
# never a search of the billion references.
MAX_MISSES = 10
MISS_WINDOW = timedelta(minutes=15)
MISSED_EVENT = "expedited.dispute_missed"


class DisputeRefused(Exception):
    """A dispute cannot be recorded; the message says why, for the agent."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class DisputeResult:
    """A recorded dispute: which request it stopped, and the deletion date that stands."""

    dispute_id: int
    request_id: int
    call_id: int
    reference: str
    product_name: str
    kept_until: date | None

    @property
    def message(self) -> str:
        """What the desk says once the dispute is recorded."""
        return (
            f"{self.reference} ({self.product_name}) is stopped: it will not become final. "
            f"The data is kept until {day(self.kept_until)}; a supervisor reviews the dispute."
        )


def dispute_request(
    factory: sessionmaker[Session], actor_id: int, reference: str, reason: str, now: datetime
) -> DisputeResult:
    """Record a dispute of the request ``reference`` by the agent ``actor_id``.

    Raises ``DisputeRefused`` with the reason: an empty reason, a reference
    that is not one, or ``NOT_DISPUTABLE`` for every reference that leads to
    no disputable request (none, not expedited, already final, disputed or
    rejected), so the answer never tells which references exist. Each of
    those counts against the agent; past ``MAX_MISSES`` in ``MISS_WINDOW``
    every dispute of theirs is refused until the window ends.
    """
    why = reason.strip()
    if not why:
        raise DisputeRefused("Give the reason for the dispute.")
    if len(why) > REASON_LIMIT:
        raise DisputeRefused(f"Keep the reason under {REASON_LIMIT} characters.")
    with unit_of_work(factory) as session:
        # Locked first: one agent's attempts from several desks are counted one at a time.
        agent = session.get(Agent, actor_id, with_for_update=True)
        if agent is None or not agent.active:
            raise DisputeRefused("Only a signed-in agent or supervisor can dispute.")
        miss = session.get(DisputeMiss, agent.id, with_for_update=True)
        if miss is not None and miss.misses >= MAX_MISSES and now < miss.window_start + MISS_WINDOW:
            until = (miss.window_start + MISS_WINDOW).astimezone()
            raise DisputeRefused(
                f"Too many references led to no disputable request: try again after "
                f"{until:%H:%M}, or ask a supervisor."
            )
        try:
            request = request_by_reference(session, reference, for_update=True)
        except InputError as exc:
            raise DisputeRefused(str(exc)) from exc  # the typing only: nothing looked up
        if (
            request is None
            or not request.needs_approval
            or dispute_refusal(expedited_of(session, request), now) is not None
        ):
            _count_miss(session, agent, miss, now)
            result = None
        else:
            result = _record(session, agent, request, why, now)
    if result is None:  # raised once the miss is committed
        raise DisputeRefused(NOT_DISPUTABLE)
    return result


def _count_miss(session: Session, agent: Agent, miss: DisputeMiss | None, now: datetime) -> None:
    """One more reference that led nowhere; a window past its end starts again."""
    if miss is None:
        miss = DisputeMiss(agent_id=agent.id, misses=0, window_start=now)
        session.add(miss)
    elif now >= miss.window_start + MISS_WINDOW:
        miss.misses, miss.window_start = 0, now
    miss.misses += 1
    session.flush()
    append_event(
        session,
        actor=agent.username,
        type=MISSED_EVENT,
        payload={"agent_id": agent.id, "misses": miss.misses},
        at=now,
    )


def _record(
    session: Session, agent: Agent, request: CancellationRequest, why: str, now: datetime
) -> DisputeResult:
    """The dispute of a request proven disputable, with its event, webhook and notices."""
    subscription = session.get(Subscription, request.subscription_id, with_for_update=True)
    assert subscription is not None  # a foreign key
    kept_until = _kept_until(request.after)
    subscription.expedited = ExpeditedState.PENDING
    subscription.data_deletion_on = kept_until
    subscription.updated_at = now
    dispute = Dispute(request_id=request.id, agent_id=agent.id, reason=why, disputed_at=now)
    session.add(dispute)
    session.flush()
    append_event(
        session,
        actor=agent.username,
        type="expedited.disputed",
        payload={
            "dispute_id": dispute.id,
            "request_id": request.id,
            "call_id": request.call_id,
            "subscription_id": subscription.id,
            "data_deletion_on": kept_until.isoformat() if kept_until else None,
        },
        at=now,
    )
    facts = subscription_facts(subscription)
    enqueue(session, type=EventType.EXPEDITED_DISPUTED, request=request, facts=facts, now=now)
    notice = disputed_notice(
        reference=request.reference,
        product=subscription.product_name,
        at=now,
        kept_until=kept_until,
    )
    queue_notices(
        session,
        kind=NoticeKind.DISPUTED,
        request=request,
        notice=notice,
        actor=agent.username,
        now=now,
    )
    return DisputeResult(
        dispute_id=dispute.id,
        request_id=request.id,
        call_id=request.call_id,
        reference=request.reference,
        product_name=subscription.product_name,
        kept_until=kept_until,
    )


def _kept_until(after: str) -> date | None:
    """The deletion date the request left before any approval: the one a dispute restores."""
    stored = json.loads(after).get("data_deletion_on")
    return date.fromisoformat(stored) if isinstance(stored, str) else None
