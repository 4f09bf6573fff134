"""The outbox: events and notices, written in the transaction of the decision they report.

One home for: the event types and the webhook payload (documented by
``docs/webhook.schema.json``), the claim lease that lets two ``callgate
deliver`` workers run at once, and the retry rule (exponential backoff with
jitter, then parked as failed for a supervisor).

A worker claims due rows in one short transaction (``FOR UPDATE SKIP LOCKED``
on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` serializes claims) by stamping
them with a claim token and pushing ``next_attempt_at`` a lease ahead. It
sends outside any transaction, then records the result. A worker killed
mid-batch leaves its rows claimed; when the lease runs out they are due again
and another worker sends them, with the same ``Idempotency-Key``.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from db.audit.chain import append_event, canonical_payload
from db.engine import unit_of_work
from db.models import (
    OUTBOX_PENDING,
    AccountUser,
    CancellationRequest,
    OutboxChannel,
    OutboxEvent,
    OutboxState,
    Subscription,
    Tenant,
)
from verification.kinds import Decision
from verification.policy import Action, SubscriptionFacts

PAYLOAD_VERSION = 1
# The audit actor of the delivery worker.
WORKER_ACTOR = "system:deliver"
# Longest last-error text kept: enough for a status line, never a response body.
ERROR_LIMIT = 300


class EventType(StrEnum):
    """Every decision the billing system hears about (PRODUCT.md section 8)."""

    AUTO_RENEW_OFF = "subscription.auto_renew_off"
    CANCELED = "subscription.canceled"
    EXPEDITED_REQUESTED = "expedited.requested"
    EXPEDITED_APPROVED = "expedited.approved"
    EXPEDITED_REJECTED = "expedited.rejected"
    EXPEDITED_FINAL = "expedited.final"
    EXPEDITED_DISPUTED = "expedited.disputed"


# The events each desk action writes: a cancellation with expedited
# deprovisioning is two facts for the billing system.
_ACTION_EVENTS = {
    Action.AUTO_RENEW_OFF: (EventType.AUTO_RENEW_OFF,),
    Action.CANCEL_NOW: (EventType.CANCELED,),
    Action.EXPEDITED_DEPROVISIONING: (EventType.EXPEDITED_REQUESTED,),
    Action.CANCEL_NOW_WITH_EXPEDITED: (EventType.CANCELED, EventType.EXPEDITED_REQUESTED),
}


# The event a supervisor's decision on expedited deprovisioning writes.
DECISION_EVENTS = {
    Decision.APPROVED: EventType.EXPEDITED_APPROVED,
    Decision.REJECTED: EventType.EXPEDITED_REJECTED,
}


def action_events(action: Action) -> tuple[EventType, ...]:
    """The event types the agent desk enqueues for ``action``."""
    return _ACTION_EVENTS[action]


class NotRetryable(ValueError):
    """Only a delivery parked as failed can be retried; the message says why not."""


@dataclass(frozen=True)
class Claimed:
    """One row a worker holds: what to send, and to whom it was already sent."""

    outbox_id: int
    event_id: str
    type: str
    channel: OutboxChannel
    payload: str
    recipient_user_id: int | None
    acked: tuple[str, ...]
    attempts: int
    claim: str


@dataclass(frozen=True)
class AttemptResult:
    """What one attempt did: targets that answered 2xx, and the error if any did not.

    ``canceled`` is why the row is not to be sent at all (a code, no personal data).
    """

    acked: tuple[str, ...]
    error: str | None
    canceled: str | None = None


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long a row is retried before it is parked."""

    max_attempts: int
    base_seconds: int
    max_seconds: int
    lease: timedelta


# --- writing ------------------------------------------------------------------


def enqueue(
    session: Session,
    *,
    type: EventType,
    request: CancellationRequest,
    facts: SubscriptionFacts,
    now: datetime,
) -> OutboxEvent:
    """Write the webhook event for a decision on ``request``, in the caller's transaction.

    ``facts`` is the subscription as the decision left it: the effective dates
    come from it.
    """
    subscription = session.get(Subscription, request.subscription_id)
    assert subscription is not None  # a foreign key
    tenant = subscription.tenant
    event_id = str(uuid.uuid4())
    ends = service_ends_on(facts)
    payload = {
        "id": event_id,
        "type": type.value,
        "version": PAYLOAD_VERSION,
        "created_at": now.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "tenant_ref": tenant.ref,
        "product_name": subscription.product_name,
        "request_id": request.id,
        "request_hash": request.request_hash,
        "effective": {
            "service_ends_on": _iso(ends),
            "data_deletion_on": _iso(facts.data_deletion_on),
        },
        "subscription": {
            "status": facts.status.value,
            "auto_renew": facts.auto_renew,
            "expedited": facts.expedited.value,
        },
    }
    row = OutboxEvent(
        event_id=event_id,
        type=type.value,
        channel=OutboxChannel.WEBHOOK,
        tenant_ref=tenant.ref,
        product_name=subscription.product_name,
        request_id=request.id,
        service_ends_on=ends,
        data_deletion_on=facts.data_deletion_on,
        request_hash=request.request_hash,
        payload=canonical_payload(payload),
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def enqueue_notice(
    session: Session,
    *,
    type: str,
    tenant: Tenant,
    recipient: AccountUser,
    subject: str,
    body: str,
    now: datetime,
    request_id: int | None = None,
) -> OutboxEvent:
    """Write an e-mail notice to ``recipient``, in the caller's transaction.

    The address is not copied: the sender reads it from the account user when
    the notice leaves, so the outbox holds no contact data.
    """
    row = OutboxEvent(
        event_id=str(uuid.uuid4()),
        type=type,
        channel=OutboxChannel.EMAIL,
        tenant_ref=tenant.ref,
        request_id=request_id,
        recipient_user_id=recipient.id,
        payload=canonical_payload({"subject": subject, "body": body}),
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def service_ends_on(facts: SubscriptionFacts) -> date | None:
    """The day service ends after a decision: the cancellation, else the term end
    once auto-renew is off, else none (it renews)."""
    if facts.canceled_on is not None:
        return facts.canceled_on
    return None if facts.auto_renew else facts.term_end


# --- the worker's side ----------------------------------------------------------


def claim_due(
    factory: sessionmaker[Session],
    channels: tuple[OutboxChannel, ...],
    now: datetime,
    limit: int,
    lease: timedelta,
) -> tuple[Claimed, ...]:
    """Claim up to ``limit`` due rows of ``channels`` for one worker, oldest due first.

    The attempt is counted here, before sending, so a row that kills every
    worker that tries it still reaches the retry limit and is parked.
    """
    token = str(uuid.uuid4())
    with unit_of_work(factory) as session:
        rows = session.scalars(
            select(OutboxEvent)
            .where(
                text(OUTBOX_PENDING),
                OutboxEvent.next_attempt_at <= now,
                OutboxEvent.channel.in_(channels),
            )
            .order_by(OutboxEvent.next_attempt_at, OutboxEvent.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        claimed = []
        for row in rows:
            row.claim = token
            row.attempts += 1
            row.next_attempt_at = now + lease
            claimed.append(
                Claimed(
                    outbox_id=row.id,
                    event_id=row.event_id,
                    type=row.type,
                    channel=row.channel,
                    payload=row.payload,
                    recipient_user_id=row.recipient_user_id,
                    acked=tuple(json.loads(row.acked_targets)),
                    attempts=row.attempts,
                    claim=token,
                )
            )
        return tuple(claimed)


def record(
    factory: sessionmaker[Session],
    claimed: Claimed,
    outcome: AttemptResult,
    now: datetime,
    policy: RetryPolicy,
    jitter: float,
) -> OutboxState:
    """Record an attempt: delivered, due again after a backoff, or parked as failed.

    Acknowledgements are kept even when the lease ran out and another worker
    holds the row, so no target is sent an event again once it answered 2xx;
    the retry decision is left to the row's current holder then.
    """
    with unit_of_work(factory) as session:
        row = session.get(OutboxEvent, claimed.outbox_id, with_for_update=True)
        assert row is not None  # rows are never deleted
        acked = sorted(set(json.loads(row.acked_targets)) | set(outcome.acked))
        row.acked_targets = json.dumps(acked)
        if row.state is not OutboxState.PENDING:
            return row.state
        if outcome.canceled is not None and row.claim == claimed.claim:
            row.state = OutboxState.CANCELED
            row.claim = None
            row.last_error = f"not sent: {outcome.canceled}"[:ERROR_LIMIT]
            _audit(session, row, "outbox.canceled", now, reason=outcome.canceled)
        elif outcome.error is None:
            row.state = OutboxState.DELIVERED
            row.delivered_at = now
            row.claim = None
            row.last_error = ""
            _audit(session, row, "outbox.delivered", now)
        elif row.claim == claimed.claim:
            row.last_error = outcome.error[:ERROR_LIMIT]
            row.claim = None
            if row.attempts >= policy.max_attempts:
                row.state = OutboxState.FAILED
                _audit(session, row, "outbox.failed", now)
            else:
                row.next_attempt_at = now + retry_delay(row.attempts, policy, jitter)
        return row.state


def release(factory: sessionmaker[Session], claimed: tuple[Claimed, ...], now: datetime) -> None:
    """Hand back rows a stopping worker claimed but did not try: due now, attempt uncounted."""
    with unit_of_work(factory) as session:
        for item in claimed:
            row = session.get(OutboxEvent, item.outbox_id, with_for_update=True)
            if row is not None and row.claim == item.claim and row.state is OutboxState.PENDING:
                row.claim = None
                row.attempts -= 1
                row.next_attempt_at = now


def retry_delay(attempts: int, policy: RetryPolicy, jitter: float) -> timedelta:
    """The wait after the ``attempts``-th failed attempt.

    Exponential from ``base_seconds``, capped at ``max_seconds``, with "equal
    jitter": half the step is fixed and half random (``jitter`` in [0, 1)), so
    the wait always grows with the attempts yet workers do not retry in step.
    """
    step = min(policy.max_seconds, policy.base_seconds * 2 ** max(0, attempts - 1))
    return timedelta(seconds=step / 2 + jitter * step / 2)


# --- the supervisor's side --------------------------------------------------------


def retry_failed(session: Session, outbox_id: int, now: datetime) -> OutboxEvent:
    """Put a delivery parked as failed back in line, due now with a fresh retry budget.

    Raises ``NotRetryable`` for an unknown row or one that is not failed.
    """
    row = session.get(OutboxEvent, outbox_id, with_for_update=True)
    if row is None:
        raise NotRetryable(f"There is no delivery {outbox_id}.")
    if row.state is not OutboxState.FAILED:
        raise NotRetryable(f"This delivery is {row.state.value}, not failed.")
    row.state = OutboxState.PENDING
    row.attempts = 0
    row.next_attempt_at = now
    row.claim = None
    return row


def counts(factory: sessionmaker[Session]) -> dict[OutboxState, int]:
    """How many rows are in each state."""
    with factory() as session:
        rows = session.execute(
            select(OutboxEvent.state, func.count()).group_by(OutboxEvent.state)
        ).all()
    found = {state: int(count) for state, count in rows}
    return {state: found.get(state, 0) for state in OutboxState}


def _audit(session: Session, row: OutboxEvent, type_: str, now: datetime, **extra: str) -> None:
    payload: dict[str, object] = {
        "outbox_id": row.id,
        "event_id": row.event_id,
        "event_type": row.type,
        "attempts": row.attempts,
    }
    append_event(session, actor=WORKER_ACTOR, type=type_, payload=payload | extra, at=now)


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()
