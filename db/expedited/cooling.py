"""Expedited deprovisioning on its way to final: the stored facts, and marking it final.

``expedited_of`` reads what ``verification.cooling`` reasons about from the
rows (the latest decision on the request's current hash, its dispute, its
final time); ``finalize_due`` marks final every approved, undisputed request
whose cooling-off has run out, with its audit event and the outbox's
``expedited.final`` event in the same transaction. ``callgate deliver`` calls
it on every pass (``db.delivery.worker``). Two workers at once mark each request
final once: rows are claimed ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (and
checked again once held), and SQLite's ``BEGIN IMMEDIATE`` serializes them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from db.audit.chain import append_event
from db.calls import decided, subscription_facts
from db.delivery.outbox import EventType, enqueue
from db.engine import unit_of_work
from db.models import NEEDS_APPROVAL, Approval, CancellationRequest, Dispute, Subscription
from verification.cooling import Expedited, due_final
from verification.kinds import Decision, ExpeditedState

# The audit actor of the finalizing pass (the delivery worker runs it).
FINAL_ACTOR = "system:deliver"
# Requests marked final per transaction; the next pass takes the rest.
BATCH = 100


def expedited_of(session: Session, request: CancellationRequest) -> Expedited:
    """The request as ``verification.cooling`` sees it (fresh reads, not the session's cache)."""
    latest = session.execute(
        select(Approval.decision, Approval.decided_at)
        .where(Approval.request_id == request.id, Approval.request_hash == request.request_hash)
        .order_by(Approval.decided_at.desc(), Approval.id.desc())
        .limit(1)
    ).first()
    disputed_at = session.scalar(
        select(Dispute.disputed_at).where(Dispute.request_id == request.id)
    )
    approved = latest is not None and latest.decision is Decision.APPROVED
    return Expedited(
        requested_at=request.created_at,
        cooling_off_until=request.cooling_off_until or request.created_at,
        approved_at=latest.decided_at if approved and latest is not None else None,
        rejected=latest is not None and latest.decision is Decision.REJECTED,
        disputed_at=disputed_at,
        final_at=request.final_at,
    )


def finalize_due(factory: sessionmaker[Session], now: datetime) -> int:
    """Mark final every expedited request due at ``now``; how many were marked.

    Idempotent: a request final already is not selected again.
    """
    undisputed = ~select(Dispute.id).where(Dispute.request_id == CancellationRequest.id).exists()
    with unit_of_work(factory) as session:
        rows = session.scalars(
            select(CancellationRequest)
            .join(Subscription, Subscription.id == CancellationRequest.subscription_id)
            .where(
                text(NEEDS_APPROVAL),
                CancellationRequest.final_at.is_(None),
                CancellationRequest.cooling_off_until <= now,
                Subscription.expedited == ExpeditedState.APPROVED,
                decided(),
                undisputed,
            )
            .order_by(CancellationRequest.id)
            .limit(BATCH)
            .with_for_update(skip_locked=True, of=CancellationRequest)
        ).all()
        marked = 0
        for request in rows:
            # Read again once held: a dispute committed while this pass
            # waited changes no request row, so only a fresh read sees it.
            session.refresh(request)
            due_at = due_final(expedited_of(session, request), now)
            if due_at is None:
                continue
            # When callgate made it final and told the billing system: the
            # rule's time (``due_at``) may be earlier if no worker ran then.
            request.final_at = now
            subscription = session.get(Subscription, request.subscription_id)
            assert subscription is not None  # a foreign key
            append_event(
                session,
                actor=FINAL_ACTOR,
                type="expedited.final",
                payload={
                    "request_id": request.id,
                    "call_id": request.call_id,
                    "subscription_id": subscription.id,
                    "due_at": due_at.isoformat(),
                },
                at=now,
            )
            enqueue(
                session,
                type=EventType.EXPEDITED_FINAL,
                request=request,
                facts=subscription_facts(subscription),
                now=now,
            )
            marked += 1
        return marked
