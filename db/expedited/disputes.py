"""Disputes: any agent or supervisor, quoting a reference, stops expedited deprovisioning.

A dispute is recorded while the request is not final (``verification.cooling.
dispute_refusal`` says why not otherwise). It stops the request for good:
``db.expedited.cooling.finalize_due`` never marks a disputed request final. The
subscription goes back to waiting, with the deletion date it had before any
approval (the request's ``after``), and the request waits in the supervisor
queue as "Disputed" until a supervisor rejects it, which keeps the data
(``db.review.decisions``). The reason lives in the dispute row (purgeable);
the audit event carries ids only. The outbox's ``expedited.disputed`` event
and the admins' notice go out in the same transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session, sessionmaker

from db.audit.chain import append_event
from db.calls import subscription_facts
from db.delivery.notices import NoticeKind, day, disputed_notice, queue_notices
from db.delivery.outbox import EventType, enqueue
from db.engine import unit_of_work
from db.expedited.cooling import expedited_of
from db.models import Agent, Dispute, Subscription
from db.references import request_by_reference
from verification.cooling import dispute_refusal
from verification.errors import InputError
from verification.kinds import ExpeditedState

# Longest reason kept: a few sentences, not a transcript.
REASON_LIMIT = 2000


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

    Raises ``DisputeRefused`` with the reason: a reference that is not one or
    names no request, a request that is no expedited deprovisioning, one
    already final, disputed or rejected, an empty reason.
    """
    why = reason.strip()
    if not why:
        raise DisputeRefused("Give the reason for the dispute.")
    if len(why) > REASON_LIMIT:
        raise DisputeRefused(f"Keep the reason under {REASON_LIMIT} characters.")
    with unit_of_work(factory) as session:
        agent = session.get(Agent, actor_id)
        if agent is None or not agent.active:
            raise DisputeRefused("Only a signed-in agent or supervisor can dispute.")
        try:
            request = request_by_reference(session, reference, for_update=True)
        except InputError as exc:
            raise DisputeRefused(str(exc)) from exc
        if request is None:
            raise DisputeRefused("No request has this reference: read it back to the caller.")
        if not request.needs_approval:
            raise DisputeRefused(
                "Only expedited deprovisioning can be disputed: this request deletes no "
                "data early. A supervisor can look at it from the request list."
            )
        refusal = dispute_refusal(expedited_of(session, request), now)
        if refusal is not None:
            raise DisputeRefused(f"Not disputed: {refusal}.")
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
