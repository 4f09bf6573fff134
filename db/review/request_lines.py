"""A call's requests as a supervisor reads them: status, decisions, dates, dispute.

The one home of a request's standing on the supervisor desk: its status
counts only decisions on its current content, and none at all once it is
tampered (its stored content no longer hashes to its ``request_hash``, or
that hash is not the one the audit chain recorded when the request was made,
``_chained_hash``). While it waits, the deletion dates each decision would
set are the policy's (``db.calls.expedited_decided``), never computed here.
Stored before/after facts reach the screen as words and local times
(``_changes``), never as JSON values. ``db.review.detail`` puts these lines
into a call's detail.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.calls import action_label, expedited_decided, requests_of, tampered
from db.models import Agent, Approval, Dispute, Subscription
from db.review.timeline import TimelineEntry
from verification.cooling import final_time
from verification.kinds import Decision, ExpeditedState, RequestStatus, SubscriptionStatus

# What a supervisor may do with a disputed request, said wherever it is refused or shown.
DISPUTED_REFUSAL = (
    "This request is disputed: it can no longer become final. Reject it to keep the data."
)


@dataclass(frozen=True)
class DisputeLine:
    """A dispute of a request: who, when, why (the reason is purgeable), and if settled."""

    by: str
    at: datetime
    reason: str
    resolved_at: datetime | None


_STATUS_WORDS = {
    SubscriptionStatus.ACTIVE: "Active",
    SubscriptionStatus.EXPIRING: "Expiring (auto-renew off)",
    SubscriptionStatus.CANCELED: "Canceled",
    SubscriptionStatus.EXPIRED: "Expired",
}
_EXPEDITED_WORDS = {
    ExpeditedState.NONE: "not asked",
    ExpeditedState.PENDING: "waiting for a supervisor",
    ExpeditedState.APPROVED: "approved",
    ExpeditedState.REJECTED: "rejected",
}


@dataclass(frozen=True)
class ApprovalLine:
    """A decision on a request; ``valid`` is False once the request changed after it."""

    approver: str
    decision: Decision
    reason: str
    decided_at: datetime
    valid: bool


@dataclass(frozen=True)
class FactChange:
    """One fact of the subscription before and after a request, in words ("—" for none)."""

    label: str
    before: str
    after: str

    @property
    def changed(self) -> bool:
        """Whether the request changed this fact."""
        return self.before != self.after


@dataclass(frozen=True)
class RequestLine:
    """An action taken in the call, the subscription before and after, and its decisions.

    ``status`` counts only decisions on the request as it is now.
    ``request_hash`` is what a decision is bound to; ``tampered`` says the
    stored content no longer hashes to it, and then nobody can decide.
    While it waits, ``deleted_by_if_approved`` and ``kept_until_if_rejected``
    are the deletion dates each decision would set today, as
    ``verification.policy_effects`` computes them (None when no decision can be taken),
    and ``final_if_approved`` when an approval now would make it final
    (``verification.cooling``). ``reference`` is the number read to the
    caller; ``cooling_off_until`` and ``final_at`` are the request's own.
    ``checklist`` holds the points the agent ticked with the caller (every
    point of the action: the desk takes none with one unticked).
    """

    request_id: int
    subscription_id: int
    product_name: str
    action: str
    action_label: str
    needs_approval: bool
    request_hash: str
    tampered: bool
    changes: tuple[FactChange, ...]
    checklist: tuple[str, ...]
    status: RequestStatus
    approvals: tuple[ApprovalLine, ...]
    deleted_by_if_approved: date | None
    kept_until_if_rejected: date | None
    reference: str = ""
    cooling_off_until: datetime | None = None
    final_at: datetime | None = None
    final_if_approved: datetime | None = None
    dispute: DisputeLine | None = None


def request_lines(
    session: Session, call_id: int, now: datetime, events: Sequence[TimelineEntry]
) -> tuple[RequestLine, ...]:
    lines = []
    for request, subscription in requests_of(session, call_id):
        chained = _chained_hash(events, request.id)
        is_tampered = tampered(request) or chained not in (None, request.request_hash)
        # Against a tampered request no decision holds: the hash is what was decided on.
        current = "" if is_tampered else request.request_hash
        approvals = _approval_lines(session, request.id, current)
        valid = [a for a in approvals if a.valid]
        dispute = _dispute_line(session, request.id)
        if not request.needs_approval:
            status = RequestStatus.NO_APPROVAL_NEEDED
        elif request.final_at is not None:
            status = RequestStatus.FINAL
        elif dispute is not None and dispute.resolved_at is None:
            status = RequestStatus.DISPUTED
        elif valid:
            status = RequestStatus(valid[-1].decision.value)
        else:
            status = RequestStatus.WAITING
        waiting = status is RequestStatus.WAITING and not is_tampered
        until = request.cooling_off_until
        lines.append(
            RequestLine(
                request_id=request.id,
                subscription_id=request.subscription_id,
                product_name=subscription.product_name,
                action=request.action,
                action_label=action_label(request.action),
                needs_approval=request.needs_approval,
                request_hash=request.request_hash,
                tampered=is_tampered,
                changes=_changes(request.before, request.after),
                checklist=_checklist(request.checklist),
                status=status,
                approvals=approvals,
                deleted_by_if_approved=(
                    _deletion_on(subscription, Decision.APPROVED, now, until) if waiting else None
                ),
                kept_until_if_rejected=(
                    _deletion_on(subscription, Decision.REJECTED, now, until)
                    if waiting or status is RequestStatus.DISPUTED
                    else None
                ),
                reference=request.reference,
                cooling_off_until=until,
                final_at=request.final_at,
                final_if_approved=final_time(until, now) if waiting and until else None,
                dispute=dispute,
            )
        )
    return tuple(lines)


def _chained_hash(events: Sequence[TimelineEntry], request_id: int) -> str | None:
    """The request's hash as the chain recorded it when it was made (None: not recorded)."""
    for event in events:
        if not event.type.startswith("subscription."):
            continue
        payload = json.loads(event.payload)
        if payload.get("request_id") == request_id:
            found = payload.get("request_hash")
            return found if isinstance(found, str) else None
    return None


def _deletion_on(
    subscription: Subscription, decision: Decision, now: datetime, until: datetime | None
) -> date | None:
    """The data deletion date ``decision`` would set now (the policy's, never recomputed here)."""
    return expedited_decided(subscription, decision, now, until).data_deletion_on


def open_dispute(session: Session, request_id: int) -> Dispute | None:
    """The request's dispute no supervisor settled yet, if any."""
    return session.scalars(
        select(Dispute).where(Dispute.request_id == request_id, Dispute.resolved_at.is_(None))
    ).first()


def _dispute_line(session: Session, request_id: int) -> DisputeLine | None:
    row = session.execute(
        select(Dispute, Agent.username)
        .join(Agent, Agent.id == Dispute.agent_id)
        .where(Dispute.request_id == request_id)
    ).first()
    if row is None:
        return None
    dispute, username = row
    return DisputeLine(username, dispute.disputed_at, dispute.reason, dispute.resolved_at)


def _approval_lines(session: Session, request_id: int, current: str) -> tuple[ApprovalLine, ...]:
    rows = session.execute(
        select(Approval, Agent.username)
        .join(Agent, Agent.id == Approval.approver_id)
        .where(Approval.request_id == request_id)
        .order_by(Approval.decided_at, Approval.id)
    ).all()
    return tuple(
        ApprovalLine(
            approver=username,
            decision=approval.decision,
            reason=approval.reason,
            decided_at=approval.decided_at,
            valid=approval.request_hash == current,
        )
        for approval, username in rows
    )


# The request's stored facts, in the order a supervisor reads them, with their labels.
_FACT_LABELS = {
    "status": "Status",
    "auto_renew": "Auto-renew",
    "term_end": "Term ends",
    "canceled_at": "Canceled",
    "data_deletion_on": "Data deleted on",
    "expedited": "Expedited deletion",
}


def _changes(before_json: str, after_json: str) -> tuple[FactChange, ...]:
    """The stored before/after facts as words; keys this version does not know as they are."""
    before, after = json.loads(before_json), json.loads(after_json)
    keys = [*_FACT_LABELS, *(k for k in after if k not in _FACT_LABELS)]
    return tuple(
        FactChange(_FACT_LABELS.get(key, key), _word(key, before.get(key)), _word(key, after[key]))
        for key in keys
        if key in after
    )


def _word(key: str, value: object) -> str:
    """One stored fact as the desk says it: words, dates, local times to the minute."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "on" if value else "off"
    text = str(value)
    try:
        match key:
            case "status":
                return _STATUS_WORDS[SubscriptionStatus(text)]
            case "expedited":
                return _EXPEDITED_WORDS[ExpeditedState(text)]
            case "canceled_at":
                return f"{datetime.fromisoformat(text).astimezone():%Y-%m-%d %H:%M}"
    except ValueError:
        pass  # a value this version cannot read is shown as stored
    return text


def _checklist(stored: str) -> tuple[str, ...]:
    try:
        points = json.loads(stored)
    except ValueError:
        return ()
    return tuple(str(p) for p in points) if isinstance(points, list) else ()
