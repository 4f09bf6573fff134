"""What both desks read about a call: the shared lookups and the facts on file.

One home each for: finding a call, its tenant and its caller; the on-file
value of an item as text, masked for the agent's desk or whole for the
supervisor's (``on_file_text``); the values the checks compare with
(``on_file``); the clause saying a request is decided (``decided``); the
request hash that binds an approval to exactly one request; and the
subscription facts the policy reads and writes back, including what a
supervisor's decision on expedited deprovisioning makes of them
(``expedited_decided``), for the decision and for the screen that offers it;
and what each action is called on both desks (``action_label``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime
from functools import cache
from typing import assert_never

from sqlalchemy import ColumnElement, Select, bindparam, select
from sqlalchemy.orm import Session, aliased

from db.audit.chain import canonical_payload
from db.models import AccountUser, Agent, Approval, Call, CancellationRequest, Subscription, Tenant
from verification.address import Address, render
from verification.checks import OnFile
from verification.cooling import final_time
from verification.kinds import Decision, ExpeditedState, Item
from verification.phone import mask_phone
from verification.policy import Action, SubscriptionFacts
from verification.policy_effects import approve_expedited, reject_expedited

# What the agent's desk shows for a matched PIN: it is stored only as a slow hash.
PIN_MASK = "••••"
ACTION_LABELS = {
    Action.AUTO_RENEW_OFF: "Auto-renew off",
    Action.CANCEL_NOW: "Cancel now",
    Action.EXPEDITED_DEPROVISIONING: "Expedited deprovisioning",
    Action.CANCEL_NOW_WITH_EXPEDITED: "Cancel now with expedited deprovisioning",
}


def action_label(action: str) -> str:
    """A stored request's action in words; an action this version does not know as stored."""
    try:
        return ACTION_LABELS[Action(action)]
    except ValueError:
        return action


def get_call(session: Session, call_id: int, *, for_update: bool = False) -> Call:
    """The call ``call_id``; raises ``LookupError`` for an unknown call."""
    call = session.get(Call, call_id, with_for_update=for_update)
    if call is None:
        raise LookupError(f"no call {call_id}")
    return call


def call_to_check(session: Session, call_id: int, actor: str) -> tuple[Call, Tenant | None, bool]:
    """The call and its tenant, both locked for update, and whether ``actor`` took it (active).

    One statement where ``get_call``, ``hold_tenant``, ``taken_by`` and
    ``caller_of`` would send four: every item check starts with it. The
    tenant is locked as ``db.desk.guessing.hold_tenant`` locks it, and read
    as it is once the lock is granted (PostgreSQL returns a locked row's
    latest version), so a guess is judged by the tenant's current lock and
    counts. The caller it reads is held for ``caller_of``. Raises
    ``LookupError`` for an unknown call.
    """
    row = session.execute(_call_to_check(), {"call_id": call_id}).first()
    if row is None:
        raise LookupError(f"no call {call_id}")
    call, username, active, tenant, caller = row
    if caller is not None:
        hold_caller(session, caller)
    # As ``taken_by``: a disabled agent no longer acts, not even in their open call.
    return call, tenant, active and username == actor


@cache  # built on first use: aliasing configures every mapper, which the desk's start skips
def _call_to_check() -> Select[Call, str, bool, Tenant, AccountUser]:
    # Locked in CTEs: PostgreSQL cannot lock the nullable side of an outer
    # join, and a tenant found only after the call does not exist yet.
    locked_call = select(Call).where(Call.id == bindparam("call_id")).with_for_update().cte()
    locked_tenant = (
        select(Tenant)
        .where(Tenant.id == select(locked_call.c.tenant_id).scalar_subquery())
        .with_for_update()
        .cte()
    )
    call, tenant = aliased(Call, locked_call), aliased(Tenant, locked_tenant)
    return (
        select(call, Agent.username, Agent.active, tenant, AccountUser)
        .join(Agent, Agent.id == call.agent_id)
        .outerjoin(tenant, tenant.id == call.tenant_id)
        .outerjoin(AccountUser, AccountUser.id == call.caller_user_id)
        .execution_options(populate_existing=True)
    )


def taken_by(session: Session, call: Call, actor: str) -> bool:
    """Whether ``actor`` (a username) is the agent who took the call.

    Only that agent acts in a call, so whoever asked for a decision is the
    call's agent, and four-eyes can refuse them by the call alone. An agent
    disabled since (``callgate agents disable``) no longer acts, not even in
    the call a desk left open holds.
    """
    agent = session.get(Agent, call.agent_id)
    return agent is not None and agent.active and agent.username == actor


def tenant_of(session: Session, call: Call) -> Tenant | None:
    """The tenant the call found by its user ID, if any yet."""
    return None if call.tenant_id is None else session.get(Tenant, call.tenant_id)


def caller_of(session: Session, call: Call) -> AccountUser | None:
    """The account the caller named by its user ID, if found.

    Kept referenced for the session's life: its identity map holds objects
    weakly, so a caller nobody holds on to was selected again by every later
    lookup (the gate, each matched item of the view), up to seven times a check.
    """
    if call.caller_user_id is None:
        return None
    held = _held_callers(session)
    caller = held.get(call.caller_user_id) or session.get(AccountUser, call.caller_user_id)
    if caller is not None:
        held[call.caller_user_id] = caller
    return caller


def hold_caller(session: Session, caller: AccountUser) -> None:
    """Keep an account just looked up for ``caller_of`` (the user-ID check found it)."""
    _held_callers(session)[caller.id] = caller


def _held_callers(session: Session) -> dict[int, AccountUser]:
    held: dict[int, AccountUser] = session.info.setdefault("callers", {})
    return held


def domains_of(tenant: Tenant) -> tuple[str, ...]:
    """The tenant's domains, as the policy reads them."""
    return tuple(d.domain for d in tenant.domains)


def tenant_locked(tenant: Tenant) -> bool:
    """Whether phone cancellation is locked for the tenant (a lock not cleared since)."""
    if tenant.locked_at is None:
        return False
    return tenant.lock_cleared_at is None or tenant.lock_cleared_at < tenant.locked_at


def local_date(now: datetime) -> date:
    """Today where the desk runs: the policy's dates are the agent's dates."""
    return now.astimezone().date()


# The tenant's columns that hold its address, in ``Address`` field order.
_ADDRESS_COLUMNS = ("address_line1", "address_line2", "city", "region", "postal_code", "country")


def address_of(tenant: Tenant) -> Address:
    """The tenant's address on file."""
    line1, line2, city, region, postal_code, country = (
        getattr(tenant, column) for column in _ADDRESS_COLUMNS
    )
    return Address(line1, line2, city, region, postal_code, country)


def on_file(tenant: Tenant, caller: AccountUser | None) -> OnFile:
    """The values on file that a stated item is checked against."""
    return OnFile(
        user_id=caller.user_id if caller is not None else "",
        phone_e164=tenant.phone_e164,
        contact_first=tenant.contact_first_name,
        contact_last=tenant.contact_last_name,
        organization=tenant.organization,
        address=address_of(tenant),
        pin_hash=tenant.support_pin_hash,
    )


def on_file_text(item: Item, tenant: Tenant, caller: AccountUser | None, *, masked: bool) -> str:
    """The on-file value of ``item`` as one line of text.

    ``masked`` is the agent's desk: the phone number shows only its last
    digits and a PIN only that there is one. The supervisor reads it whole.
    """
    match item:
        case Item.USER_ID:
            return caller.user_id if caller is not None else "(no such account)"
        case Item.PHONE:
            return mask_phone(tenant.phone_e164) if masked else tenant.phone_e164
        case Item.CONTACT_NAME:
            return f"{tenant.contact_first_name} {tenant.contact_last_name}"
        case Item.ORGANIZATION:
            return tenant.organization
        case Item.ADDRESS:
            return render(address_of(tenant))
        case Item.PIN:
            # A PIN is stored only as a slow hash: there is nothing to show.
            if masked:
                return PIN_MASK
            return "(set)" if tenant.support_pin_hash else "(none)"
        case _:
            assert_never(item)


def decided() -> ColumnElement[bool]:
    """Whether a request has a decision for its current content (a correlated EXISTS).

    A decision counts only for the request as it was decided: a changed
    request (another hash) waits for a new approval, on both desks.
    """
    return (
        select(Approval.id)
        .where(
            Approval.request_id == CancellationRequest.id,
            Approval.request_hash == CancellationRequest.request_hash,
        )
        .exists()
    )


def requests_of(session: Session, call_id: int) -> list[tuple[CancellationRequest, Subscription]]:
    """The requests taken in a call, in order, each with its subscription."""
    rows = session.execute(_requests_of(), {"call_id": call_id}).all()
    return [(request, subscription) for request, subscription in rows]


@cache  # built once, on first use: every call's end reads it
def _requests_of() -> Select[CancellationRequest, Subscription]:
    return (
        select(CancellationRequest, Subscription)
        .join(Subscription, Subscription.id == CancellationRequest.subscription_id)
        .where(CancellationRequest.call_id == bindparam("call_id"))
        .order_by(CancellationRequest.id)
    )


def request_hash(
    call_id: int,
    subscription_id: int,
    action: str,
    before: Mapping[str, object],
    after: Mapping[str, object],
) -> str:
    """SHA-256 of the canonical JSON of a request: any change to it voids approvals."""
    body = canonical_payload(
        {
            "call_id": call_id,
            "subscription_id": subscription_id,
            "action": action,
            "before": before,
            "after": after,
        }
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def tampered(request: CancellationRequest) -> bool:
    """Whether the stored request no longer hashes to its ``request_hash``."""
    recomputed = request_hash(
        request.call_id,
        request.subscription_id,
        request.action,
        json.loads(request.before),
        json.loads(request.after),
    )
    return recomputed != request.request_hash


def subscription_facts(subscription: Subscription) -> SubscriptionFacts:
    """What the policy needs to know about a stored subscription."""
    canceled_at = subscription.canceled_at
    return SubscriptionFacts(
        kind=subscription.kind,
        channel=subscription.channel,
        status=subscription.status,
        term_start=subscription.term_start,
        term_end=subscription.term_end,
        auto_renew=subscription.auto_renew,
        canceled_on=local_date(canceled_at) if canceled_at is not None else None,
        data_deletion_on=subscription.data_deletion_on,
        expedited=subscription.expedited,
    )


def store_facts(subscription: Subscription, facts: SubscriptionFacts, now: datetime) -> None:
    """Write the policy's result back to the stored subscription."""
    if facts.canceled_on is not None and subscription.canceled_at is None:
        subscription.canceled_at = now
    subscription.status = facts.status
    subscription.auto_renew = facts.auto_renew
    subscription.data_deletion_on = facts.data_deletion_on
    subscription.expedited = facts.expedited
    subscription.updated_at = now


def expedited_decided(
    subscription: Subscription,
    decision: Decision,
    now: datetime,
    cooling_off_until: datetime | None = None,
) -> SubscriptionFacts:
    """The subscription's facts once ``decision`` is taken on its expedited request now.

    The request waits again whatever an earlier, voided decision stored. An
    approval's deletion date accounts for the cooling-off (``verification.cooling``):
    the request is final at the later of its end and now.
    """
    facts = replace(subscription_facts(subscription), expedited=ExpeditedState.PENDING)
    if decision is Decision.APPROVED:
        final_on = None
        if cooling_off_until is not None:
            final_on = local_date(final_time(cooling_off_until, now))
        return approve_expedited(facts, local_date(now), final_on)
    return reject_expedited(facts)
