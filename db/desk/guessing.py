"""Misses across calls: hanging up and calling again buys no new guesses.

The one home of the cross-call counts (PRODUCT.md section 4 "Attempts").
After every miss, the tenant's misses over every call and every agent in
the window (``_tenant_misses``) and, for a stated user ID that matches no
account, that user ID's misses (``_user_id_misses``) are handed to
``verification.session.miss_lock_time``; when it says so, the tenant or the
stated user ID is locked for phone cancellation until a supervisor clears it
(``db.review.decisions``). A locked tenant or user ID takes no more items
(``refuse_locked``): nothing is checked, so nothing more can be learned.
A guess takes its tenant's row lock before it is judged (``hold_tenant``; an
item check takes it with the call's, ``db.calls.call_to_check``), so the lock
it checks and the count it adds are one step: guesses racing from several
desks at once never pass ``tenant_max_misses`` either.

A locked user ID is kept only as a SHA-256 of its normalized form and a
masked copy for the supervisor's queue, never in clear.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from db.audit.chain import append_event
from db.calls import tenant_locked
from db.models import AccountUser, Call, CodeTry, ItemCheck, Tenant, UserIdLock
from db.policy import protection_of
from verification.errors import InputError
from verification.kinds import CheckResult, Item
from verification.session import miss_lock_time
from verification.userid import mask_user_id

TENANT_LOCKED = "this account is locked for phone cancellation: transfer the caller to a supervisor"
USER_ID_LOCKED = (
    "this user ID is locked for phone cancellation after repeated misses: "
    "transfer the caller to a supervisor"
)


def user_id_key(normalized: str) -> str:
    """The key a stated user ID is locked under (never the value itself)."""
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()


def hold_tenant(session: Session, call: Call) -> Tenant | None:
    """The call's tenant, its row locked until the guess about to be judged is counted.

    Without it two desks could both read the tenant unlocked, both judge a
    guess, and both count it past the limit.
    """
    if call.tenant_id is None:
        return None
    # populate_existing: the tenant may already be in the session (read with the
    # call), and only the values read under the lock are the ones to judge by.
    return session.get(Tenant, call.tenant_id, with_for_update=True, populate_existing=True)


def refuse_locked(session: Session, tenant: Tenant | None, normalized_user_id: str | None) -> None:
    """Raise ``InputError`` when the call's tenant or the stated user ID is locked."""
    if tenant is not None and tenant_locked(tenant):
        raise InputError(TENANT_LOCKED)
    if normalized_user_id is not None and _live_lock(session, user_id_key(normalized_user_id)):
        raise InputError(USER_ID_LOCKED)


def after_miss(
    session: Session,
    call: Call,
    item: Item | None,
    normalized: str,
    actor: str,
    now: datetime,
) -> None:
    """Count a new miss of ``call`` across calls and lock what it takes past the limit.

    ``item`` None is a wrong one-time code (``db.desk.stepup``): a miss of the
    tenant like any other.
    """
    if call.tenant_id is not None:
        # Serializes the count of one tenant's misses across desks.
        tenant = session.get(Tenant, call.tenant_id, with_for_update=True)
        if tenant is not None and not tenant_locked(tenant):
            _maybe_lock_tenant(session, tenant, call, actor, now)
    if item is Item.USER_ID and normalized and not _is_account(session, normalized):
        _maybe_lock_user_id(session, normalized, call, actor, now)


def _maybe_lock_tenant(
    session: Session, tenant: Tenant, call: Call, actor: str, now: datetime
) -> None:
    window = protection_of(session).limits
    since = _since(now, window.tenant_lock_window_hours, tenant.lock_cleared_at)
    times = session.scalars(
        select(ItemCheck.checked_at)
        .join(Call, Call.id == ItemCheck.call_id)
        .where(
            Call.tenant_id == tenant.id,
            ItemCheck.result == CheckResult.MISMATCH,
            ItemCheck.checked_at >= since,
        )
    ).all()
    wrong_codes = session.scalars(
        select(CodeTry.tried_at)
        .join(Call, Call.id == CodeTry.call_id)
        .where(Call.tenant_id == tenant.id, CodeTry.matched.is_(False), CodeTry.tried_at >= since)
    ).all()
    locked_at = miss_lock_time([*times, *wrong_codes], tenant.lock_cleared_at, now, window)
    if locked_at is None:
        return
    tenant.locked_at = locked_at
    append_event(
        session,
        actor=actor,
        type="tenant.locked",
        payload={"tenant_id": tenant.id, "call_id": call.id, "cause": "misses"},
        at=now,
    )


def _maybe_lock_user_id(
    session: Session, normalized: str, call: Call, actor: str, now: datetime
) -> None:
    key = user_id_key(normalized)
    if _live_lock(session, key) is not None:
        return
    window = protection_of(session).limits
    cleared_at = session.scalar(
        select(func.max(UserIdLock.cleared_at)).where(UserIdLock.key == key)
    )
    since = _since(now, window.tenant_lock_window_hours, cleared_at)
    times = session.scalars(
        select(ItemCheck.checked_at).where(
            ItemCheck.item == Item.USER_ID,
            ItemCheck.result == CheckResult.MISMATCH,
            ItemCheck.normalized == normalized,
            ItemCheck.checked_at >= since,
        )
    ).all()
    locked_at = miss_lock_time(times, cleared_at, now, window)
    if locked_at is None:
        return
    lock = UserIdLock(key=key, masked=mask_user_id(normalized), locked_at=locked_at)
    session.add(lock)
    session.flush()
    append_event(
        session,
        actor=actor,
        type="user_id.locked",
        payload={"lock_id": lock.id, "call_id": call.id},
        at=now,
    )


def _live_lock(session: Session, key: str) -> UserIdLock | None:
    return session.scalars(_live_locks(), {"key": key}).first()


@cache  # built once, on first use: every stated user ID reads it
def _live_locks() -> Select[UserIdLock]:
    return (
        select(UserIdLock)
        .where(UserIdLock.key == bindparam("key"), UserIdLock.cleared_at.is_(None))
        .limit(1)
    )


def _is_account(session: Session, normalized: str) -> bool:
    # An inactive account is a miss like an unknown one (db.desk.verify), and counts as one.
    found = session.scalar(
        select(AccountUser.id).where(
            AccountUser.user_id == normalized, AccountUser.active.is_(True)
        )
    )
    return found is not None


def _since(now: datetime, hours: int, cleared_at: datetime | None) -> datetime:
    start = now - timedelta(hours=hours)
    return start if cleared_at is None else max(start, cleared_at)
