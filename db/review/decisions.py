"""Supervisor decisions: expedited deprovisioning, review notes, marking reviewed.

Each opens one unit of work and appends its audit event in it. A decision is
bound to the request hash the supervisor was shown (``seen_hash``); the new
deletion date comes from ``verification.policy_effects`` (``approve_expedited`` /
``reject_expedited``), never from here. Four-eyes: ``access.require_other_agent``.
A disputed request can only be rejected (which keeps the data and settles
the dispute), a final one not decided at all; an approval queues the admins'
notice with the time it becomes final (``db.delivery.notices``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.audit.chain import append_event
from db.calls import (
    decided,
    expedited_decided,
    get_call,
    store_facts,
    tampered,
)
from db.delivery.notices import NoticeKind, approved_notice, queue_notices
from db.delivery.outbox import DECISION_EVENTS, enqueue
from db.engine import unit_of_work
from db.models import Approval, Call, CancellationRequest, ReviewNote, Subscription
from db.review.access import ReviewRefused, reason_text, require_other_agent, require_supervisor
from db.review.detail import CallDetail, detail
from db.review.request_lines import DISPUTED_REFUSAL, open_dispute
from verification.cooling import final_time
from verification.kinds import Decision
from verification.policy import NotOffered


def decide_expedited(
    factory: sessionmaker[Session],
    actor_id: int,
    request_id: int,
    decision: Decision,
    reason: str,
    seen_hash: str,
    now: datetime,
) -> CallDetail:
    """Approve or reject an expedited deprovisioning request.

    ``seen_hash`` is the request hash the supervisor was shown: a request that
    changed since is refused, so nobody approves what they did not see. The
    supervisor must not be the agent who took the call. The new deletion date
    is the policy's (``db.calls.expedited_decided``), as the detail showed it.
    """
    text = reason_text(reason)
    with unit_of_work(factory) as session:
        supervisor = require_supervisor(session, actor_id)
        request = session.get(CancellationRequest, request_id, with_for_update=True)
        if request is None:
            raise ReviewRefused(f"There is no request {request_id}.")
        call = session.get(Call, request.call_id)
        assert call is not None  # a foreign key
        require_other_agent(call, supervisor, "You took this call: another supervisor must decide.")
        if not request.needs_approval:
            raise ReviewRefused("This request needs no approval.")
        if tampered(request) or _tampered_in_chain(session, call.id, request.id, now):
            raise ReviewRefused("This request does not match its hash: it cannot be decided.")
        current = request.request_hash
        if current != seen_hash:
            raise ReviewRefused("The request changed since you opened it: review it again.")
        if request.final_at is not None:
            raise ReviewRefused("This request is final: the data is being deleted.")
        dispute = open_dispute(session, request.id)
        if dispute is not None and decision is Decision.APPROVED:
            raise ReviewRefused(DISPUTED_REFUSAL)
        # A disputed request may be rejected even once approved: that is how
        # a supervisor settles the dispute and keeps the data.
        if dispute is None and session.scalar(
            select(CancellationRequest.id).where(CancellationRequest.id == request.id, decided())
        ):
            raise ReviewRefused("This request is already decided.")
        subscription = session.get(Subscription, request.subscription_id, with_for_update=True)
        assert subscription is not None  # a foreign key
        try:
            # A change voided any earlier decision, so the request waits again.
            outcome = expedited_decided(subscription, decision, now, request.cooling_off_until)
        except NotOffered as exc:
            raise ReviewRefused(str(exc)) from exc
        if dispute is not None:
            dispute.resolved_at = now
        store_facts(subscription, outcome, now)
        approval = Approval(
            request_id=request.id,
            request_hash=current,
            requester_id=call.agent_id,
            approver_id=supervisor.id,
            decision=decision,
            reason=text,
            decided_at=now,
        )
        session.add(approval)
        session.flush()
        deletion = subscription.data_deletion_on
        append_event(
            session,
            actor=supervisor.username,
            type=f"expedited.{decision.value}",
            payload={
                "approval_id": approval.id,
                "request_id": request.id,
                "call_id": call.id,
                "subscription_id": subscription.id,
                "request_hash": current,
                "data_deletion_on": deletion.isoformat() if deletion else None,
            },
            at=now,
        )
        enqueue(session, type=DECISION_EVENTS[decision], request=request, facts=outcome, now=now)
        if decision is Decision.APPROVED and deletion is not None:
            final_at = final_time(request.cooling_off_until or now, now)
            notice = approved_notice(
                reference=request.reference,
                product=subscription.product_name,
                approved_at=now,
                final_at=final_at,
                deleted_by=deletion,
            )
            queue_notices(
                session,
                kind=NoticeKind.APPROVED,
                request=request,
                notice=notice,
                actor=supervisor.username,
                now=now,
            )
        return detail(session, call.id, now)


def _tampered_in_chain(session: Session, call_id: int, request_id: int, now: datetime) -> bool:
    """Whether the request's hash differs from the one the chain recorded (``detail``)."""
    lines = detail(session, call_id, now).requests
    return any(r.tampered for r in lines if r.request_id == request_id)


def add_review_note(
    factory: sessionmaker[Session], actor_id: int, call_id: int, text: str, now: datetime
) -> CallDetail:
    """Attach a supervisor's note to a call."""
    body = text.strip()
    if not body:
        raise ReviewRefused("Write the note first.")
    with unit_of_work(factory) as session:
        supervisor = require_supervisor(session, actor_id)
        call = get_call(session, call_id)
        note = ReviewNote(call_id=call.id, author_id=supervisor.id, text=body, created_at=now)
        session.add(note)
        session.flush()
        append_event(
            session,
            actor=supervisor.username,
            type="review.note_added",
            payload={"call_id": call.id, "note_id": note.id},
            at=now,
        )
        return detail(session, call.id, now)


def mark_reviewed(
    factory: sessionmaker[Session], actor_id: int, call_id: int, now: datetime
) -> CallDetail:
    """Record that a supervisor reviewed a call; it leaves the queue.

    A review is a second pair of eyes, so nobody reviews a call they took.
    """
    with unit_of_work(factory) as session:
        supervisor = require_supervisor(session, actor_id)
        call = get_call(session, call_id, for_update=True)
        require_other_agent(
            call, supervisor, "You took this call: another supervisor must review it."
        )
        if call.reviewed_at is not None:
            raise ReviewRefused("This call is already reviewed.")
        call.reviewed_at = now
        call.reviewed_by_id = supervisor.id
        append_event(
            session,
            actor=supervisor.username,
            type="call.reviewed",
            payload={"call_id": call.id},
            at=now,
        )
        return detail(session, call.id, now)
