"""The supervisor queue: everything waiting for a decision, kind by kind, in SQL.

The queue's SQL lives here and in ``db.review.waiting_locks`` (the lock
kinds): each kind is one query on a partial index whose WHERE clause
``db.models`` declares (``NEEDS_APPROVAL``, ``UNREVIEWED_FAILED``,
``UNREVIEWED_MISSES``, ``EARLY_CANCELLATION``, ``OUTBOX_FAILED``,
``DISPUTE_OPEN``), newest first and at most ``QUEUE_LIMIT`` rows; an expedited
request waits until it has a decision for its current content
(``db.calls.decided``). ``queue`` puts the kinds together in their order.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session, aliased, sessionmaker

from db.calls import decided
from db.models import (
    DISPUTE_OPEN,
    EARLY_CANCELLATION,
    NEEDS_APPROVAL,
    OUTBOX_FAILED,
    UNREVIEWED_FAILED,
    UNREVIEWED_MISSES,
    UNREVIEWED_MISSES_SQLITE,
    Agent,
    Call,
    CancellationRequest,
    Dispute,
    OutboxEvent,
    Subscription,
    Tenant,
)
from db.review.access import require_supervisor
from db.review.queue_row import QUEUE_LIMIT, QueueRow
from db.review.waiting_locks import locked_agents, locked_tenants, locked_user_ids
from verification.kinds import Outcome, QueueKind
from verification.session import Limits

_ENDINGS = {Outcome.ABANDONED: "the caller hung up", Outcome.ESCALATED: "transferred"}


def queue(
    factory: sessionmaker[Session],
    actor_id: int,
    window_hours: int = Limits.tenant_lock_window_hours,
) -> tuple[QueueRow, ...]:
    """Everything that needs a decision, grouped by kind, newest first in each.

    ``window_hours`` is the desk's tenant lock window (``Settings``): the
    misses that locked a tenant are looked for that long before its lock.
    """
    with factory() as session:
        require_supervisor(session, actor_id)
        return (
            *_waiting_expedited(session),
            *locked_tenants(session, timedelta(hours=window_hours)),
            *locked_user_ids(session),
            *locked_agents(session),
            *_failed_verifications(session),
            *_ended_with_misses(session),
            *_early_cancellations(session),
            *_failed_deliveries(session),
            *_disputes(session),
        )


def _waiting_expedited(session: Session) -> list[QueueRow]:
    rows = session.execute(
        select(CancellationRequest, Call.agent_id, Agent.username, Tenant, Subscription)
        .join(Call, Call.id == CancellationRequest.call_id)
        .join(Agent, Agent.id == Call.agent_id)
        .join(Subscription, Subscription.id == CancellationRequest.subscription_id)
        .join(Tenant, Tenant.id == Subscription.tenant_id)
        .where(
            text(NEEDS_APPROVAL),
            ~decided(),
            # A disputed request waits as "Disputed", with what can be done about it.
            ~select(Dispute.id).where(Dispute.request_id == CancellationRequest.id).exists(),
        )
        .order_by(CancellationRequest.created_at.desc(), CancellationRequest.id.desc())
        .limit(QUEUE_LIMIT)
    ).all()
    return [
        QueueRow(
            kind=QueueKind.EXPEDITED,
            at=request.created_at,
            call_id=request.call_id,
            request_id=request.id,
            tenant_id=tenant.id,
            agent_id=agent_id,
            agent=username,
            organization=tenant.organization,
            detail=f"approve: {subscription.product_name}",
        )
        for request, agent_id, username, tenant, subscription in rows
    ]


def _failed_verifications(session: Session) -> list[QueueRow]:
    rows = session.execute(
        select(Call.id, Call.started_at, Call.agent_id, Agent.username, Tenant.organization)
        .join(Agent, Agent.id == Call.agent_id)
        .outerjoin(Tenant, Tenant.id == Call.tenant_id)
        .where(text(UNREVIEWED_FAILED))
        .order_by(Call.started_at.desc(), Call.id.desc())
        .limit(QUEUE_LIMIT)
    ).all()
    return [
        QueueRow(
            kind=QueueKind.FAILED_VERIFICATION,
            at=started_at,
            call_id=call_id,
            request_id=None,
            tenant_id=None,
            agent_id=agent_id,
            agent=username,
            organization=organization or "(no account found)",
            detail="verification failed",
        )
        for call_id, started_at, agent_id, username, organization in rows
    ]


def _misses_waiting(session: Session) -> str:
    """The predicate of ``ix_call_unreviewed_misses``, as this database uses that index."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    return UNREVIEWED_MISSES_SQLITE if sqlite else UNREVIEWED_MISSES


def _ended_with_misses(session: Session) -> list[QueueRow]:
    rows = session.execute(
        select(
            Call.id,
            Call.started_at,
            Call.agent_id,
            Call.misses,
            Call.outcome,
            Agent.username,
            Tenant.organization,
        )
        .join(Agent, Agent.id == Call.agent_id)
        .outerjoin(Tenant, Tenant.id == Call.tenant_id)
        .where(text(_misses_waiting(session)))
        .order_by(Call.started_at.desc(), Call.id.desc())
        .limit(QUEUE_LIMIT)
    ).all()
    return [
        QueueRow(
            kind=QueueKind.ENDED_WITH_MISSES,
            at=row.started_at,
            call_id=row.id,
            request_id=None,
            tenant_id=None,
            agent_id=row.agent_id,
            agent=row.username,
            organization=row.organization or "(no account found)",
            detail=f"{row.misses} {'miss' if row.misses == 1 else 'misses'}, then "
            + _ENDINGS.get(row.outcome, "ended"),
        )
        for row in rows
    ]


def _early_cancellations(session: Session) -> list[QueueRow]:
    rows = session.execute(
        select(
            CancellationRequest.id.label("request_id"),
            CancellationRequest.created_at,
            Call.id.label("call_id"),
            Call.agent_id,
            Agent.username,
            Tenant.id.label("tenant_id"),
            Tenant.organization,
            Subscription.product_name,
        )
        .join(Call, Call.id == CancellationRequest.call_id)
        .join(Agent, Agent.id == Call.agent_id)
        .join(Subscription, Subscription.id == CancellationRequest.subscription_id)
        .join(Tenant, Tenant.id == Subscription.tenant_id)
        .where(text(EARLY_CANCELLATION), Call.reviewed_at.is_(None))
        .order_by(CancellationRequest.created_at.desc(), CancellationRequest.id.desc())
        .limit(QUEUE_LIMIT)
    ).all()
    return [
        QueueRow(
            kind=QueueKind.EARLY_CANCELLATION,
            at=row.created_at,
            call_id=row.call_id,
            request_id=row.request_id,
            tenant_id=row.tenant_id,
            agent_id=row.agent_id,
            agent=row.username,
            organization=row.organization,
            detail=f"review: {row.product_name}",
        )
        for row in rows
    ]


def _failed_deliveries(session: Session) -> list[QueueRow]:
    # The failed rows alone first: their WHERE repeats the partial index's predicate verbatim.
    failed = aliased(
        OutboxEvent,
        select(OutboxEvent)
        .where(text(OUTBOX_FAILED))
        .order_by(OutboxEvent.created_at.desc(), OutboxEvent.id.desc())
        .limit(QUEUE_LIMIT)
        .subquery(),
    )
    rows = session.execute(
        select(failed, Call.id, Call.agent_id, Agent.username, Tenant.id, Tenant.organization)
        .outerjoin(CancellationRequest, CancellationRequest.id == failed.request_id)
        .outerjoin(Call, Call.id == CancellationRequest.call_id)
        .outerjoin(Agent, Agent.id == Call.agent_id)
        .outerjoin(Tenant, Tenant.ref == failed.tenant_ref)
        .order_by(failed.created_at.desc(), failed.id.desc())
    ).all()
    return [
        QueueRow(
            kind=QueueKind.DELIVERY_FAILED,
            at=event.created_at,
            call_id=call_id,
            request_id=event.request_id,
            tenant_id=tenant_id,
            agent_id=agent_id,
            agent=username or "",
            organization=organization or "",
            detail=f"{event.type}: {event.last_error}",
            outbox_id=event.id,
        )
        for event, call_id, agent_id, username, tenant_id, organization in rows
    ]


def _disputes(session: Session) -> list[QueueRow]:
    # The open disputes alone first: their WHERE repeats the partial index's predicate verbatim.
    open_ = aliased(
        Dispute,
        select(Dispute)
        .where(text(DISPUTE_OPEN))
        .order_by(Dispute.disputed_at.desc(), Dispute.id.desc())
        .limit(QUEUE_LIMIT)
        .subquery(),
    )
    rows = session.execute(
        select(
            open_.disputed_at,
            CancellationRequest.id,
            CancellationRequest.reference,
            Call.id,
            Call.agent_id,
            Agent.username,
            Tenant.id,
            Tenant.organization,
            Subscription.product_name,
        )
        .join(CancellationRequest, CancellationRequest.id == open_.request_id)
        .join(Call, Call.id == CancellationRequest.call_id)
        .join(Agent, Agent.id == Call.agent_id)
        .join(Subscription, Subscription.id == CancellationRequest.subscription_id)
        .join(Tenant, Tenant.id == Subscription.tenant_id)
        .order_by(open_.disputed_at.desc(), open_.id.desc())
    ).all()
    return [
        QueueRow(
            kind=QueueKind.DISPUTED,
            at=at,
            call_id=call_id,
            request_id=request_id,
            tenant_id=tenant_id,
            agent_id=agent_id,
            agent=username,
            organization=organization,
            # What the supervisor can do, in the row itself.
            detail=f"{reference} {product}: stopped; reject to keep the data",
        )
        for (
            at,
            request_id,
            reference,
            call_id,
            agent_id,
            username,
            tenant_id,
            organization,
            product,
        ) in rows
    ]
