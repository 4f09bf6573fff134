"""Checking what the caller states, and the misses and locks that follow.

Misses and locks live here: each check is stored with its result, and after
it the call locks when ``verification.session`` says the misses ran out
(``update_call_state``); the tenant locks for phone cancellation when
enough of its calls locked within the window (``_maybe_lock_tenant``, with
the count in ``verification.session.tenant_lock_time``), and misses across
calls lock as ``db.desk.guessing`` says. Input that cannot be a value of the
item is an ``InputError``: nothing stored, no miss; so is an address
without its line 1 or city (``_refuse_blank_parts``), and an item stated by
anyone but the call's agent, or on a locked tenant or user ID. Another user
ID while the caller's still holds is a miss and changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import cache
from typing import cast

from sqlalchemy import Select, Table, bindparam, insert, select, union
from sqlalchemy.orm import Session, sessionmaker

from db.audit.chain import append_event
from db.calls import (
    call_to_check,
    caller_of,
    hold_caller,
    judged_value,
    on_file,
    tenant_locked,
)
from db.desk.guessing import after_miss, refuse_locked
from db.desk.views import CallView, verification_of, view
from db.engine import unit_of_work
from db.models import AccountUser, Call, CodeTry, ItemCheck, Tenant
from db.policy import protection_of
from db.settings import Settings
from verification.checks import Verdict, check_item
from verification.errors import InputError
from verification.full_name import split_name
from verification.items import ITEM_SPECS
from verification.kinds import CallState, CheckResult, Item
from verification.session import ItemStatus, VerificationSession, tenant_lock_time
from verification.userid import normalize_user_id

# Secret items are stored as this placeholder, never as typed.
_SECRET_PLACEHOLDER = "[secret]"
_INSERT_CHECK = insert(cast(Table, ItemCheck.__table__))


def submit_item(
    factory: sessionmaker[Session],
    call_id: int,
    actor: str,
    item: Item,
    stated: Mapping[str, str],
    settings: Settings,
    now: datetime,
) -> CallView:
    """Check one stated item against the record on file and record the result.

    Raises InputError, writing nothing and counting no miss, for input that
    cannot be a value of the item and for a call that takes no more items
    (locked or ended). Other items than the user ID need the tenant found.
    """
    fields = {name: stated.get(name, "") for name in ITEM_SPECS[item].fields}
    _refuse_blank_parts(item, fields)
    with unit_of_work(factory) as session:
        call, tenant, taken = call_to_check(session, call_id, actor)
        verified_before = call.verified_at is not None
        if call.state is CallState.CLOSED:
            raise InputError("this call has ended: start a new call")
        if call.state is CallState.LOCKED:
            raise InputError("this call is locked after too many misses: end the call")
        if not taken:
            raise InputError("only the agent who took this call can check items in it")
        if item is Item.USER_ID:
            normalized = normalize_user_id(fields["value"])
            refuse_locked(session, tenant, normalized)
            if _another_caller(session, call, tenant, normalized, settings, now):
                verdict = Verdict(Item.USER_ID, CheckResult.MISMATCH, normalized)
            else:
                verdict, found = _check_user_id(session, call, normalized)
                tenant = tenant or found
        else:
            if tenant is None:
                raise InputError("ask for the user ID first")
            refuse_locked(session, tenant, None)
            known = on_file(tenant, caller_of(session, call))
            if item is Item.CONTACT_NAME and "name" in stated:
                first, last = split_name(stated["name"], known.contact_first, known.contact_last)
                fields = {"first": first, "last": last}
            verdict = check_item(item, fields, known, settings.default_region)
        if verdict.result is CheckResult.MISMATCH and _repeats_last_miss(session, call, verdict):
            raise InputError("the same answer as the last miss")
        judged_against = _judged_against(session, call, tenant, item, verdict)
        secret = ITEM_SPECS[item].secret
        # A Core insert: nothing reads the check back through the session, and
        # the unit of work's flush would cost more than the statement.
        session.connection().execute(
            _INSERT_CHECK,
            {
                "call_id": call.id,
                "item": item,
                "stated": json.dumps(
                    {k: _SECRET_PLACEHOLDER if secret else v for k, v in fields.items()},
                    ensure_ascii=False,
                ),
                "normalized": verdict.normalized,
                "on_file": judged_against,
                "result": verdict.result,
                "rules_version": verdict.rules_version,
                "checked_at": now,
            },
        )
        append_event(
            session,
            actor=actor,
            type="item.checked",
            payload={
                "call_id": call.id,
                "item": item.value,
                "result": verdict.result.value,
                "rules_version": verdict.rules_version,
            },
            at=now,
        )
        if verdict.result is CheckResult.MISMATCH:
            after_miss(session, call, item, verdict.normalized, actor, now)
        verification = verification_of(session, call, tenant)
        call.misses = verification.misses
        update_call_state(session, call, tenant, verification, actor, now)
        first_verified = not verified_before and call.verified_at is not None
        return view(session, call, settings, now, verification, first_verified=first_verified)


# Every address has these: one left blank is a slip of the agent's, never a miss.
_REQUIRED_ADDRESS_PARTS = {"line1": "line 1", "city": "the city"}


def _refuse_blank_parts(item: Item, fields: Mapping[str, str]) -> None:
    if item is not Item.ADDRESS or not any(v.strip() for v in fields.values()):
        return  # a blank address altogether is check_item's input error
    blank = [label for name, label in _REQUIRED_ADDRESS_PARTS.items() if not fields[name].strip()]
    if blank:
        verb = "is" if len(blank) == 1 else "are"
        raise InputError(f"the address's {' and '.join(blank)} {verb} blank: type it")


def _another_caller(
    session: Session,
    call: Call,
    tenant: Tenant | None,
    normalized: str,
    settings: Settings,
    now: datetime,
) -> bool:
    """Whether ``normalized`` names someone else while the caller's match still holds.

    A matched user ID stays the caller until the verification lapses: any
    other one is a miss, whoever it belongs to, or a verified non-admin could
    name an admin's user ID and take over without the other items asked again.
    """
    caller = caller_of(session, call)
    if caller is None or caller.user_id == normalized:
        return False
    verification = verification_of(session, call, tenant)
    # A caller a sync removed or moved is still the one this call named: they
    # may not name another account in their place.
    held = verification.status(Item.USER_ID, now) is ItemStatus.MATCHED
    return held or verification.record_changed(Item.USER_ID, now)


def _judged_against(
    session: Session, call: Call, tenant: Tenant | None, item: Item, verdict: Verdict
) -> str | None:
    """The on-file value the check compared with, kept with it: a later sync
    changes the record, never what a past check was judged against."""
    if item is Item.USER_ID and verdict.result is CheckResult.MISMATCH:
        return None  # no account of this caller was named
    if tenant is None:
        return None
    return judged_value(item, tenant, caller_of(session, call))


def _repeats_last_miss(session: Session, call: Call, verdict: Verdict) -> bool:
    """Whether the call's last check was this same miss: the same stated value is one miss.

    Re-submitting what was just refused tells nothing new, so it costs the
    caller nothing; the PIN (never stored) cannot be compared and always counts.
    """
    if not verdict.normalized:
        return False
    last = session.scalars(
        select(ItemCheck).where(ItemCheck.call_id == call.id).order_by(ItemCheck.id.desc())
    ).first()
    return (
        last is not None
        and last.item is verdict.item
        and last.result is CheckResult.MISMATCH
        and last.normalized == verdict.normalized
    )


def _check_user_id(session: Session, call: Call, normalized: str) -> tuple[Verdict, Tenant | None]:
    """Look the account up: it reveals nothing but whether it was found.

    An inactive account, or one of an inactive tenant (no longer in the
    system of record since a sync), is a miss like an unknown one. Returns
    the verdict and, on a match, the tenant it found (read with the account).
    """
    row = session.execute(_account_of(), {"user_id": normalized}).first()
    # Once a tenant is found, another tenant's account is no proof of this one.
    if row is None or (call.tenant_id is not None and row[0].tenant_id != call.tenant_id):
        return Verdict(Item.USER_ID, CheckResult.MISMATCH, normalized), None
    user, tenant = row
    call.tenant_id = user.tenant_id
    call.caller_user_id = user.id
    hold_caller(session, user)  # the gate and the view read it next: no second SELECT
    return Verdict(Item.USER_ID, CheckResult.MATCH, normalized), tenant


@cache  # built once, on first use (building it configures the mappers)
def _account_of() -> Select[AccountUser, Tenant]:
    """An active account of an active tenant by its normalized user ID, with the tenant."""
    return (
        select(AccountUser, Tenant)
        .join(Tenant, Tenant.id == AccountUser.tenant_id)
        .where(
            AccountUser.user_id == bindparam("user_id"),
            AccountUser.active.is_(True),
            Tenant.active.is_(True),
        )
    )


def update_call_state(
    session: Session,
    call: Call,
    tenant: Tenant | None,
    verification: VerificationSession,
    actor: str,
    now: datetime,
) -> None:
    """Lock or verify the call after a new check or code try, with the audit events that say so."""
    if verification.locked:
        call.state = CallState.LOCKED
        append_event(
            session,
            actor=actor,
            type="call.locked",
            payload={"call_id": call.id, "misses": verification.misses},
            at=now,
        )
        if tenant is not None:
            _maybe_lock_tenant(session, tenant, call, actor, now)
    elif verification.verified(now) and (tenant is None or tenant.active):
        # A tenant marked inactive by a sync during the call cannot be verified.
        if call.state is not CallState.VERIFIED:
            call.state = CallState.VERIFIED
            call.verified_at = now
            append_event(
                session,
                actor=actor,
                type="call.verified",
                payload={"call_id": call.id, "tenant_id": tenant.id if tenant else None},
                at=now,
            )
    else:
        # A new round after expiry: the earlier verification no longer holds.
        call.state = CallState.OPEN


def _maybe_lock_tenant(
    session: Session, tenant: Tenant, call: Call, actor: str, now: datetime
) -> None:
    if tenant_locked(tenant):
        return
    window = protection_of(session).limits
    since = now - timedelta(hours=window.tenant_lock_window_hours)
    if tenant.lock_cleared_at is not None:
        since = max(since, tenant.lock_cleared_at)
    times = _locked_call_times(session, tenant, since)
    locked_at = tenant_lock_time(times, tenant.lock_cleared_at, now, window)
    if locked_at is None:
        return
    tenant.locked_at = locked_at
    append_event(
        session,
        actor=actor,
        type="tenant.locked",
        payload={"tenant_id": tenant.id, "call_id": call.id},
        at=now,
    )


def _locked_call_times(session: Session, tenant: Tenant, since: datetime) -> list[datetime]:
    """When each of the tenant's calls with a miss since ``since`` locked, if it did.

    A call's lock is recomputed from its checks rather than read from its
    state, because a locked call is closed (as failed, escalated or abandoned)
    once the agent ends it.
    """
    recent_misses = union(
        select(ItemCheck.call_id).where(
            ItemCheck.result == CheckResult.MISMATCH, ItemCheck.checked_at >= since
        ),
        select(CodeTry.call_id).where(CodeTry.matched.is_(False), CodeTry.tried_at >= since),
    )
    calls = session.scalars(
        select(Call).where(Call.tenant_id == tenant.id, Call.id.in_(recent_misses))
    ).all()
    locks = (verification_of(session, other, tenant).locked_at for other in calls)
    return [locked_at for locked_at in locks if locked_at is not None]
