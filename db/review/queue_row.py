"""A row of the supervisor queue: one thing waiting for a decision.

The row type both halves of the queue build (``db.review.waiting`` for the
calls and requests, ``db.review.waiting_locks`` for the locks), and how many
rows of each kind the queue shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from verification.kinds import Outcome, QueueKind

# Rows of each kind the queue shows; older ones surface as newer ones are decided.
QUEUE_LIMIT = 50


@dataclass(frozen=True)
class LockingCall:
    """One of the calls that locked a tenant, as the supervisor picks it from a list."""

    call_id: int
    started_at: datetime
    agent: str
    outcome: Outcome | None
    misses: int


@dataclass(frozen=True)
class QueueRow:
    """One thing waiting for a supervisor; ``call_id`` is the request it opens, if any.

    For a locked tenant, ``calls`` are the calls that locked it, newest first
    (``call_id`` is the newest of them).
    """

    kind: QueueKind
    at: datetime
    call_id: int | None
    request_id: int | None
    tenant_id: int | None
    agent_id: int | None
    agent: str
    organization: str
    detail: str
    lock_id: int | None = None
    # A delivery parked as failed (``delivery_failed``): the row to retry.
    outbox_id: int | None = None
    calls: tuple[LockingCall, ...] = ()
