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

A user ID that matches no account but is on a domain one tenant holds on
file (its ``tenant_domain`` rows, or the domain of its users' user IDs) is
a miss of that tenant too (``domain_tenant``, ``_domain_misses``): otherwise
guessing the user ID itself, a new address each time, never locked
anything. A domain several tenants hold names none of them, or one
caller's guesses at a mail provider's addresses would lock them all.

A locked user ID is kept only as a SHA-256 of its normalized form and a
masked copy for the supervisor's queue, never in clear.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, false, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from db.audit.chain import append_event
from db.calls import tenant_locked
from db.models import AccountUser, Call, CodeTry, ItemCheck, Tenant, TenantDomain, UserIdLock
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


class LockedRefusal(InputError):
    """Refused because a lock holds: the call can only be transferred to a supervisor."""


def refuse_locked(session: Session, tenant: Tenant | None, normalized_user_id: str | None) -> None:
    """Raise ``LockedRefusal`` when the call's tenant or the stated user ID is locked."""
    if tenant is not None and tenant_locked(tenant):
        raise LockedRefusal(TENANT_LOCKED)
    if normalized_user_id is not None and _live_lock(session, user_id_key(normalized_user_id)):
        raise LockedRefusal(USER_ID_LOCKED)
    if normalized_user_id is not None and _domain_locked(session, normalized_user_id):
        # Every user ID on a locked tenant's domain, right or wrong: which one
        # exists is what the guesses were after.
        raise LockedRefusal(TENANT_LOCKED)


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
        named = domain_tenant(session, normalized.rpartition("@")[2])
        if named is not None and named != call.tenant_id:
            tenant = session.get(Tenant, named, with_for_update=True)
            if tenant is not None and not tenant_locked(tenant):
                _maybe_lock_tenant(session, tenant, call, actor, now)


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
    times = [*times, *_domain_misses(session, tenant, since)]
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


def domain_tenant(session: Session, domain: str) -> int | None:
    """The one tenant holding ``domain`` on file, or None (no tenant, or several)."""
    if not domain:
        return None
    held = set(session.scalars(select(TenantDomain.tenant_id).where(TenantDomain.domain == domain)))
    held.update(
        session.scalars(
            select(AccountUser.tenant_id).where(_on_domain(AccountUser.user_id, domain)).distinct()
        )
    )
    return held.pop() if len(held) == 1 else None


def _domain_locked(session: Session, normalized: str) -> bool:
    """Whether ``normalized`` is on a domain only a tenant locked now holds.

    Read from the locked tenants (few, by the index on ``locked_at``), so the
    user ID of every call pays one small statement.
    """
    locked = [t.id for t in session.scalars(_locked_tenants()) if tenant_locked(t)]
    if not locked:
        return False
    domain = normalized.rpartition("@")[2]
    holder = session.scalar(
        select(TenantDomain.tenant_id)
        .where(TenantDomain.tenant_id.in_(locked), TenantDomain.domain == domain)
        .limit(1)
    ) or session.scalar(
        select(AccountUser.tenant_id)
        .where(AccountUser.tenant_id.in_(locked), _on_domain(AccountUser.user_id, domain))
        .limit(1)
    )
    return holder is not None and domain_tenant(session, domain) == holder


@cache  # built once, on first use: every stated user ID reads it
def _locked_tenants() -> Select[Tenant]:
    return select(Tenant).where(Tenant.locked_at.is_not(None))


def _domain_misses(session: Session, tenant: Tenant, since: datetime) -> list[datetime]:
    """User-ID misses since ``since`` on a domain only ``tenant`` holds, in calls not its own.

    The tenant's own calls' misses are counted already; a call that found no
    tenant (or another one) guessing at this tenant's addresses is counted here.
    """
    domains = {d.domain for d in tenant.domains}
    domains.update(
        user_id.rpartition("@")[2]
        for user_id in session.scalars(
            select(AccountUser.user_id).where(AccountUser.tenant_id == tenant.id)
        )
    )
    if not domains:
        return []
    rows = session.execute(
        select(ItemCheck.checked_at, ItemCheck.normalized)
        .join(Call, Call.id == ItemCheck.call_id)
        .where(
            ItemCheck.item == Item.USER_ID,
            ItemCheck.result == CheckResult.MISMATCH,
            ItemCheck.checked_at >= since,
            or_(Call.tenant_id.is_(None), Call.tenant_id != tenant.id),
            or_(false(), *(_on_domain(ItemCheck.normalized, d) for d in sorted(domains))),
        )
    ).all()
    # Only the domains with misses are asked whether another tenant holds them too.
    owned = {
        d
        for d in {(n or "").rpartition("@")[2] for _, n in rows}
        if domain_tenant(session, d) == tenant.id
    }
    return [at for at, normalized in rows if (normalized or "").rpartition("@")[2] in owned]


def _on_domain(column: InstrumentedAttribute[Any], domain: str) -> ColumnElement[bool]:
    """``column`` is a user ID at exactly ``domain`` (LIKE's wildcards escaped)."""
    escaped = domain.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.like(f"%@{escaped}", escape="\\")


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
