"""The supervisor queue's lock kinds: locked tenants, user IDs and agents.

Each kind is one query, newest first and at most ``QUEUE_LIMIT`` rows.
Blind: a locked tenant's name is not shown while one of its calls is open and
unverified (``IN_PROGRESS``). A locked tenant's row names the calls that locked
it (``locking_calls``): its calls with a miss in the lock window before the
lock, after its last clearance. The queue is assembled by ``db.review.waiting``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from db.models import Agent, Call, ItemCheck, Tenant, UserIdLock
from db.review.queue_row import QUEUE_LIMIT, LockingCall, QueueRow
from verification.kinds import CallState, CheckResult, QueueKind

# Shown for a locked tenant while one of its calls is open and unverified.
IN_PROGRESS = "(a call is in progress)"
# The calls named on a locked tenant's row, newest first.
LOCKING_CALLS_LIMIT = 10


def locked_tenants(session: Session, window: timedelta) -> list[QueueRow]:
    last = aliased(Call)
    in_progress = (
        select(last.id)
        .where(last.tenant_id == Tenant.id, last.state.in_((CallState.OPEN, CallState.LOCKED)))
        .exists()
    )
    rows = session.execute(
        select(
            Tenant.id, Tenant.organization, Tenant.locked_at, Tenant.lock_cleared_at, in_progress
        )
        .where(Tenant.locked_at.is_not(None))
        .order_by(Tenant.locked_at.desc(), Tenant.id.desc())
        .limit(QUEUE_LIMIT)
    ).all()
    queued = []
    for tenant_id, organization, locked_at, cleared_at, open_call in rows:
        assert locked_at is not None  # the WHERE clause
        calls = locking_calls(session, tenant_id, locked_at, cleared_at, window)
        by = f" by {len(calls)} {'call' if len(calls) == 1 else 'calls'}" if calls else ""
        queued.append(
            QueueRow(
                kind=QueueKind.TENANT_LOCKED,
                at=locked_at,
                call_id=calls[0].call_id if calls else None,
                request_id=None,
                tenant_id=tenant_id,
                agent_id=None,
                agent="",
                organization=IN_PROGRESS if open_call else organization,
                detail=f"phone cancellation locked{by}",
                calls=calls,
            )
        )
    return queued


def locking_calls(
    session: Session,
    tenant_id: int,
    locked_at: datetime,
    cleared_at: datetime | None,
    window: timedelta,
) -> tuple[LockingCall, ...]:
    """The tenant's calls with a miss in the window before its lock, after its last clearance.

    Those are the misses and locked calls ``db.desk`` counted when it locked
    the tenant; a call refused at the lock afterwards has no miss and is not one.
    """
    since = locked_at - window
    if cleared_at is not None:
        since = max(since, cleared_at)
    # The tenant's calls (on its index), each checked for a miss in range by call id.
    missed = (
        select(ItemCheck.id)
        .where(
            ItemCheck.call_id == Call.id,
            ItemCheck.result == CheckResult.MISMATCH,
            ItemCheck.checked_at >= since,
            ItemCheck.checked_at <= locked_at,
        )
        .exists()
    )
    rows = session.execute(
        select(Call.id, Call.started_at, Agent.username, Call.outcome, Call.misses)
        .join(Agent, Agent.id == Call.agent_id)
        .where(Call.tenant_id == tenant_id, Call.started_at <= locked_at, missed)
        .order_by(Call.id.desc())
        .limit(LOCKING_CALLS_LIMIT)
    ).all()
    return tuple(LockingCall(*row) for row in rows)


def locked_user_ids(session: Session) -> list[QueueRow]:
    rows = session.scalars(
        select(UserIdLock)
        .where(UserIdLock.cleared_at.is_(None))
        .order_by(UserIdLock.locked_at.desc(), UserIdLock.id.desc())
        .limit(QUEUE_LIMIT)
    ).all()
    return [
        QueueRow(
            kind=QueueKind.USER_ID_LOCKED,
            at=lock.locked_at,
            call_id=None,
            request_id=None,
            tenant_id=None,
            agent_id=None,
            agent="",
            organization="(no account found)",
            detail=f"user ID {lock.masked} locked after repeated misses",
            lock_id=lock.id,
        )
        for lock in rows
    ]


def locked_agents(session: Session) -> list[QueueRow]:
    rows = session.execute(
        select(Agent.id, Agent.username, Agent.locked_at, Agent.failed_signins)
        .where(Agent.locked_at.is_not(None))
        .order_by(Agent.locked_at.desc(), Agent.id.desc())
        .limit(QUEUE_LIMIT)
    ).all()
    return [
        QueueRow(
            kind=QueueKind.AGENT_LOCKED,
            at=locked_at,
            call_id=None,
            request_id=None,
            tenant_id=None,
            agent_id=agent_id,
            agent=username,
            organization="",
            detail=f"{failures} failed sign-ins",
        )
        for agent_id, username, locked_at, failures in rows
        if locked_at is not None  # the WHERE clause; said again for the type checker
    ]
