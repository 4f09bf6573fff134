"""The supervisor's hand on deliveries to the billing system: retrying a parked one.

The rule of what may be retried, and how, is ``db.delivery.outbox.retry_failed``; this
adds the supervisor check and the audit event. Parked rows reach the queue
through ``db.review.waiting``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from db.audit.chain import append_event
from db.delivery.outbox import NotRetryable, retry_failed
from db.engine import unit_of_work
from db.review.access import ReviewRefused, require_supervisor


def retry_delivery(
    factory: sessionmaker[Session], actor_id: int, outbox_id: int, now: datetime
) -> None:
    """Put a delivery parked as failed back in line, due now.

    The rule of what may be retried is ``db.delivery.outbox.retry_failed``.
    """
    with unit_of_work(factory) as session:
        supervisor = require_supervisor(session, actor_id)
        try:
            row = retry_failed(session, outbox_id, now)
        except NotRetryable as exc:
            raise ReviewRefused(str(exc)) from exc
        append_event(
            session,
            actor=supervisor.username,
            type="outbox.retried",
            payload={"outbox_id": row.id, "event_id": row.event_id},
            at=now,
        )
