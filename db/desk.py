"""The agent desk's database service: one unit of work per desk action.

Every function takes a ``sessionmaker``, plain values and ``now`` (aware UTC,
passed in so tests control time), writes its audit event(s) in the same
transaction as the change, and returns frozen dataclasses, never ORM objects.

Blind verification is enforced here: an on-file value reaches a returned
dataclass only after its item matched in this call, and audit payloads carry
ids and results only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal, assert_never

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.audit import append_event, canonical_payload
from db.engine import unit_of_work
from db.models import (
    AccountUser,
    Agent,
    Approval,
    Call,
    CancellationRequest,
    ItemCheck,
    Subscription,
    Tenant,
)
from db.settings import Settings
from verification.address import Address, render
from verification.checks import OnFile, Verdict, check_item
from verification.errors import InputError
from verification.items import ITEM_SPECS, required_items
from verification.kinds import (
    CallState,
    Channel,
    CheckResult,
    ExpeditedState,
    Item,
    Outcome,
    SubscriptionKind,
    SubscriptionStatus,
)
from verification.phone import mask_phone
from verification.policy import (
    Action,
    Option,
    PolicyDecision,
    SubscriptionFacts,
    apply,
    decide,
)
from verification.session import (
    CheckRecord,
    Limits,
    VerificationSession,
    tenant_lock_time,
)
from verification.session import (
    ItemStatus as SessionItemStatus,
)
from verification.userid import normalize_user_id

ItemStatus = Literal["not_asked", "matched", "missed"]

# Actions that end a subscription (or its data) early: the outcome "canceled".
_CANCELLATIONS = frozenset(
    {Action.CANCEL_NOW, Action.CANCEL_NOW_WITH_EXPEDITED, Action.EXPEDITED_DEPROVISIONING}
)
# The only honest endings of a call that locked before anything could be done.
_LOCKED_OUTCOMES = frozenset({Outcome.VERIFICATION_FAILED, Outcome.ESCALATED, Outcome.ABANDONED})
# Outcomes that say nothing was changed: wrong once an action was taken.
_NOTHING_DONE_OUTCOMES = frozenset(
    {Outcome.INFORMED, Outcome.DENIED_NOT_ADMIN, Outcome.VERIFICATION_FAILED}
)
# Secret items are stored as this placeholder, never as typed.
_SECRET_PLACEHOLDER = "[secret]"


class ActionRefused(Exception):
    """A desk action cannot be taken now; the message says why, for the agent."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ItemState:
    """One identity item as the desk shows it; ``shown`` only after a match."""

    item: Item
    label: str
    question: str
    fields: tuple[str, ...]
    status: ItemStatus
    shown: str | None


@dataclass(frozen=True)
class SubscriptionView:
    """A subscription of the verified tenant with what the policy allows now."""

    id: int
    product_name: str
    kind: SubscriptionKind
    channel: Channel
    status: SubscriptionStatus
    term_start: date
    term_end: date
    auto_renew: bool
    canceled_at: datetime | None
    data_deletion_on: date | None
    expedited: ExpeditedState
    decision: PolicyDecision


@dataclass(frozen=True)
class PendingRequest:
    """A request of this call waiting for a supervisor (expedited deprovisioning)."""

    request_id: int
    subscription_id: int
    product_name: str
    action: str
    created_at: datetime


@dataclass(frozen=True)
class CallView:
    """Everything the desk shows about one call.

    ``caller_is_admin`` is None until every item is verified: before that,
    saying "not an admin" would reveal something about an account.
    """

    call_id: int
    agent_id: int
    started_at: datetime
    state: CallState
    outcome: Outcome | None
    tenant_found: bool
    tenant_locked: bool
    items: tuple[ItemState, ...]
    misses_left: int
    locked: bool
    gate_open: bool
    gate_reasons: tuple[str, ...]
    expires_at: datetime | None
    caller_is_admin: bool | None
    subscriptions: tuple[SubscriptionView, ...]
    pending_requests: tuple[PendingRequest, ...]
    notes: str


@dataclass(frozen=True)
class CallSummary:
    """What the agent reads back to the caller at the end of the call."""

    call_id: int
    outcome: Outcome
    lines: tuple[str, ...]


# --- public API -----------------------------------------------------------------


def start_call(
    factory: sessionmaker[Session], agent_id: int, actor: str, settings: Settings, now: datetime
) -> CallView:
    """Start a call for ``agent_id``; if the agent already has an open call, return it."""
    with unit_of_work(factory) as session:
        # Serializes two desks of one agent, so they never both start a call.
        session.get(Agent, agent_id, with_for_update=True)
        call = _unclosed_call(session, agent_id)
        if call is None:
            call = Call(agent_id=agent_id, started_at=now, state=CallState.OPEN)
            session.add(call)
            session.flush()
            append_event(
                session,
                actor=actor,
                type="call.started",
                payload={"call_id": call.id, "agent_id": agent_id},
                at=now,
            )
        return _view(session, call, settings, now)


def open_call_for_agent(
    factory: sessionmaker[Session], agent_id: int, settings: Settings, now: datetime
) -> CallView | None:
    """The agent's call that is not closed (crash recovery), or None."""
    with unit_of_work(factory) as session:
        call = _unclosed_call(session, agent_id)
        return None if call is None else _view(session, call, settings, now)


def load_call(
    factory: sessionmaker[Session], call_id: int, settings: Settings, now: datetime
) -> CallView:
    """The current view of one call. Raises LookupError for an unknown call."""
    with unit_of_work(factory) as session:
        return _view(session, _get_call(session, call_id), settings, now)


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
    with unit_of_work(factory) as session:
        call = _get_call(session, call_id, for_update=True)
        if call.state is CallState.CLOSED:
            raise InputError("this call has ended: start a new call")
        if call.state is CallState.LOCKED:
            raise InputError("this call is locked after too many misses: end the call")
        if item is Item.USER_ID:
            verdict = _check_user_id(session, call, fields["value"])
        else:
            tenant = _tenant(session, call)
            if tenant is None:
                raise InputError("ask for the user ID first")
            verdict = check_item(
                item, fields, _on_file(session, tenant, call), settings.default_region
            )
        secret = ITEM_SPECS[item].secret
        session.add(
            ItemCheck(
                call_id=call.id,
                item=item,
                stated=json.dumps(
                    {k: _SECRET_PLACEHOLDER if secret else v for k, v in fields.items()},
                    ensure_ascii=False,
                ),
                normalized=verdict.normalized,
                result=verdict.result,
                rules_version=verdict.rules_version,
                checked_at=now,
            )
        )
        session.flush()
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
        tenant = _tenant(session, call)
        verification = _verification(session, call, tenant, settings)
        _update_call_state(session, call, tenant, verification, actor, settings, now)
        return _view(session, call, settings, now, verification)


def take_action(
    factory: sessionmaker[Session],
    call_id: int,
    actor: str,
    subscription_id: int,
    action: Action,
    confirmed: tuple[str, ...],
    settings: Settings,
    now: datetime,
) -> CallView:
    """Apply a cancellation action the policy offers now; raises ``ActionRefused``.

    Every checklist point of the action must be in ``confirmed``. The
    subscription changes and a ``CancellationRequest`` records it, with the
    state before and after and a hash that binds any approval to exactly it.
    """
    with unit_of_work(factory) as session:
        call = _get_call(session, call_id, for_update=True)
        if call.state is CallState.CLOSED:
            raise ActionRefused("this call has ended")
        tenant = _tenant(session, call)
        verification = _verification(session, call, tenant, settings)
        gate_open, reasons, _ = _gate(session, call, tenant, verification, now)
        if not gate_open or tenant is None:
            raise ActionRefused("the gate is closed: " + "; ".join(reasons))
        subscription = session.get(Subscription, subscription_id)
        if subscription is None or subscription.tenant_id != tenant.id:
            raise ActionRefused("that subscription does not belong to this caller's tenant")
        today = _local_date(now)
        facts = subscription_facts(subscription)
        option = _offered(decide(facts, _domains(tenant), today), action)
        if option is None:
            raise ActionRefused(f"{action.value} is not offered for this subscription now")
        missing = [point for point in option.checklist if point not in confirmed]
        if missing:
            raise ActionRefused(
                f"confirm every checklist point with the caller first ({len(missing)} left)"
            )
        before = _snapshot(subscription)
        store_facts(subscription, apply(action, facts, today), now)
        after = _snapshot(subscription)
        request = CancellationRequest(
            call_id=call.id,
            subscription_id=subscription.id,
            action=action.value,
            checklist=json.dumps(list(option.checklist), ensure_ascii=False),
            before=canonical_payload(before),
            after=canonical_payload(after),
            needs_approval=option.needs_approval,
            request_hash=request_hash(call.id, subscription.id, action.value, before, after),
            created_at=now,
        )
        session.add(request)
        session.flush()
        append_event(
            session,
            actor=actor,
            type=f"subscription.{action.value}",
            payload={
                "call_id": call.id,
                "subscription_id": subscription.id,
                "action": action.value,
                "request_id": request.id,
            },
            at=now,
        )
        return _view(session, call, settings, now, verification)


def end_call(
    factory: sessionmaker[Session],
    call_id: int,
    actor: str,
    outcome: Outcome,
    note: str,
    now: datetime,
) -> CallSummary:
    """Close the call with an outcome that fits what happened in it.

    Raises ``ActionRefused`` when it does not fit (for example "canceled" with
    no cancellation taken) or the call has already ended. Returns the lines
    the agent reads back to the caller.
    """
    with unit_of_work(factory) as session:
        call = _get_call(session, call_id, for_update=True)
        requests = _requests(session, call.id)
        _check_outcome(session, call, outcome, {Action(r.action) for r, _ in requests})
        call.state = CallState.CLOSED
        call.outcome = outcome
        call.ended_at = now
        if note.strip():
            call.notes = f"{call.notes}\n{note.strip()}".strip()
        append_event(
            session,
            actor=actor,
            type="call.ended",
            payload={"call_id": call.id, "outcome": outcome.value},
            at=now,
        )
        lines = _summary_lines(session, call, outcome, requests, _local_date(now))
        return CallSummary(call.id, outcome, lines)


def abandon_call(
    factory: sessionmaker[Session], call_id: int, actor: str, note: str, now: datetime
) -> CallSummary:
    """Close the call as abandoned (always allowed on a call not yet ended)."""
    return end_call(factory, call_id, actor, Outcome.ABANDONED, note, now)


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


# --- loading ------------------------------------------------------------------


def _get_call(session: Session, call_id: int, *, for_update: bool = False) -> Call:
    call = session.get(Call, call_id, with_for_update=for_update)
    if call is None:
        raise LookupError(f"no call {call_id}")
    return call


def _unclosed_call(session: Session, agent_id: int) -> Call | None:
    return session.scalars(
        select(Call)
        .where(Call.agent_id == agent_id, Call.state != CallState.CLOSED)
        .order_by(Call.started_at.desc(), Call.id.desc())
        .limit(1)
    ).first()


def _tenant(session: Session, call: Call) -> Tenant | None:
    return None if call.tenant_id is None else session.get(Tenant, call.tenant_id)


def _caller(session: Session, call: Call) -> AccountUser | None:
    return None if call.caller_user_id is None else session.get(AccountUser, call.caller_user_id)


def _domains(tenant: Tenant) -> tuple[str, ...]:
    return tuple(d.domain for d in tenant.domains)


def _requests(session: Session, call_id: int) -> list[tuple[CancellationRequest, Subscription]]:
    rows = session.execute(
        select(CancellationRequest, Subscription)
        .join(Subscription, Subscription.id == CancellationRequest.subscription_id)
        .where(CancellationRequest.call_id == call_id)
        .order_by(CancellationRequest.id)
    ).all()
    return [(request, subscription) for request, subscription in rows]


def _local_date(now: datetime) -> date:
    """Today where the desk runs: the policy's dates are the agent's dates."""
    return now.astimezone().date()


# --- verification -------------------------------------------------------------


def _limits(settings: Settings) -> Limits:
    return Limits(
        max_misses=settings.max_misses,
        expiry_minutes=settings.verification_expiry_minutes,
        tenant_lock_calls=settings.tenant_lock_calls,
        tenant_lock_window_hours=settings.tenant_lock_window_hours,
    )


def _required(tenant: Tenant | None) -> tuple[Item, ...]:
    return required_items(has_pin=tenant is not None and tenant.support_pin_hash is not None)


def _verification(
    session: Session, call: Call, tenant: Tenant | None, settings: Settings
) -> VerificationSession:
    checks = session.execute(
        select(ItemCheck.item, ItemCheck.result, ItemCheck.checked_at)
        .where(ItemCheck.call_id == call.id)
        .order_by(ItemCheck.id)
    ).all()
    records = [CheckRecord(item, result, at) for item, result, at in checks]
    return VerificationSession(_required(tenant), records, _limits(settings))


def _check_user_id(session: Session, call: Call, text: str) -> Verdict:
    """Look the account up: it reveals nothing but whether it was found."""
    normalized = normalize_user_id(text)
    user = session.scalars(select(AccountUser).where(AccountUser.user_id == normalized)).first()
    # Once a tenant is found, another tenant's account is no proof of this one.
    if user is None or (call.tenant_id is not None and user.tenant_id != call.tenant_id):
        return Verdict(Item.USER_ID, CheckResult.MISMATCH, normalized)
    call.tenant_id = user.tenant_id
    call.caller_user_id = user.id
    return Verdict(Item.USER_ID, CheckResult.MATCH, normalized)


def _on_file(session: Session, tenant: Tenant, call: Call) -> OnFile:
    caller = _caller(session, call)
    return OnFile(
        user_id=caller.user_id if caller is not None else "",
        phone_e164=tenant.phone_e164,
        contact_first=tenant.contact_first_name,
        contact_last=tenant.contact_last_name,
        organization=tenant.organization,
        address=_address(tenant),
        pin_hash=tenant.support_pin_hash,
    )


def _address(tenant: Tenant) -> Address:
    return Address(
        line1=tenant.address_line1,
        line2=tenant.address_line2,
        city=tenant.city,
        region=tenant.region,
        postal_code=tenant.postal_code,
        country=tenant.country,
    )


def _update_call_state(
    session: Session,
    call: Call,
    tenant: Tenant | None,
    verification: VerificationSession,
    actor: str,
    settings: Settings,
    now: datetime,
) -> None:
    """Lock or verify the call after a new check, with the audit events that say so."""
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
            _maybe_lock_tenant(session, tenant, call, actor, settings, now)
    elif verification.verified(now):
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
    session: Session, tenant: Tenant, call: Call, actor: str, settings: Settings, now: datetime
) -> None:
    if _tenant_locked(tenant):
        return
    limits = _limits(settings)
    since = now - timedelta(hours=limits.tenant_lock_window_hours)
    if tenant.lock_cleared_at is not None:
        since = max(since, tenant.lock_cleared_at)
    times = _locked_call_times(session, tenant, since, settings)
    locked_at = tenant_lock_time(times, tenant.lock_cleared_at, now, limits)
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


def _locked_call_times(
    session: Session, tenant: Tenant, since: datetime, settings: Settings
) -> list[datetime]:
    """When each of the tenant's calls with a miss since ``since`` locked, if it did.

    A call's lock is recomputed from its checks rather than read from its
    state, because a locked call is closed (as failed, escalated or abandoned)
    once the agent ends it.
    """
    recent_misses = select(ItemCheck.call_id).where(
        ItemCheck.result == CheckResult.MISMATCH, ItemCheck.checked_at >= since
    )
    calls = session.scalars(
        select(Call).where(Call.tenant_id == tenant.id, Call.id.in_(recent_misses))
    ).all()
    locks = (_verification(session, other, tenant, settings).locked_at for other in calls)
    return [locked_at for locked_at in locks if locked_at is not None]


def _tenant_locked(tenant: Tenant) -> bool:
    if tenant.locked_at is None:
        return False
    return tenant.lock_cleared_at is None or tenant.lock_cleared_at < tenant.locked_at


def _gate(
    session: Session,
    call: Call,
    tenant: Tenant | None,
    verification: VerificationSession,
    now: datetime,
) -> tuple[bool, tuple[str, ...], bool | None]:
    """Whether the gate is open, its reasons, and (once verified) whether the caller is an admin."""
    caller = _caller(session, call)
    is_admin = caller is not None and caller.is_admin
    tenant_locked = tenant is not None and _tenant_locked(tenant)
    gate = verification.gate(now, caller_is_admin=is_admin, tenant_locked=tenant_locked)
    shown_admin = is_admin if verification.verified(now) else None
    return gate.open, gate.reasons, shown_admin


# --- views --------------------------------------------------------------------


def _view(
    session: Session,
    call: Call,
    settings: Settings,
    now: datetime,
    verification: VerificationSession | None = None,
) -> CallView:
    """The call as the desk shows it; ``verification`` saves rebuilding a fresh one."""
    tenant = _tenant(session, call)
    if verification is None:
        verification = _verification(session, call, tenant, settings)
    statuses = verification.statuses(now)
    items = tuple(_item_state(session, call, tenant, item, statuses[item]) for item in statuses)
    gate_open, reasons, caller_is_admin = _gate(session, call, tenant, verification, now)
    subscriptions: tuple[SubscriptionView, ...] = ()
    if gate_open and tenant is not None and call.state is not CallState.CLOSED:
        today = _local_date(now)
        domains = _domains(tenant)
        subscriptions = tuple(_subscription_view(s, domains, today) for s in tenant.subscriptions)
    return CallView(
        call_id=call.id,
        agent_id=call.agent_id,
        started_at=call.started_at,
        state=call.state,
        outcome=call.outcome,
        tenant_found=tenant is not None,
        tenant_locked=tenant is not None and _tenant_locked(tenant),
        items=items,
        misses_left=verification.misses_left,
        locked=verification.locked,
        gate_open=gate_open,
        gate_reasons=reasons,
        expires_at=verification.expires_at,
        caller_is_admin=caller_is_admin,
        subscriptions=subscriptions,
        pending_requests=_pending(session, call.id),
        notes=call.notes,
    )


def _item_state(
    session: Session, call: Call, tenant: Tenant | None, item: Item, status: SessionItemStatus
) -> ItemState:
    spec = ITEM_SPECS[item]
    matched = status is SessionItemStatus.MATCHED
    shown = _shown(session, call, tenant, item) if matched else None
    return ItemState(item, spec.label, spec.question, spec.fields, status.value, shown)


def _shown(session: Session, call: Call, tenant: Tenant | None, item: Item) -> str | None:
    """The on-file value of a matched item as the desk may show it (masked where sensitive)."""
    if tenant is None:
        return None
    match item:
        case Item.USER_ID:
            caller = _caller(session, call)
            return caller.user_id if caller is not None else None
        case Item.PHONE:
            return mask_phone(tenant.phone_e164)
        case Item.CONTACT_NAME:
            return f"{tenant.contact_first_name} {tenant.contact_last_name}"
        case Item.ORGANIZATION:
            return tenant.organization
        case Item.ADDRESS:
            return render(_address(tenant))
        case Item.PIN:
            return "••••"
        case _:
            assert_never(item)


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
        canceled_on=_local_date(canceled_at) if canceled_at is not None else None,
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


def _snapshot(subscription: Subscription) -> dict[str, object]:
    """The fields an action may change, as JSON-ready values."""
    canceled_at = subscription.canceled_at
    deletion = subscription.data_deletion_on
    return {
        "status": subscription.status.value,
        "auto_renew": subscription.auto_renew,
        "term_end": subscription.term_end.isoformat(),
        "canceled_at": canceled_at.isoformat() if canceled_at is not None else None,
        "data_deletion_on": deletion.isoformat() if deletion is not None else None,
        "expedited": subscription.expedited.value,
    }


def _offered(decision: PolicyDecision, action: Action) -> Option | None:
    return next((o for o in decision.options if o.action is action), None)


def _subscription_view(
    subscription: Subscription, domains: tuple[str, ...], today: date
) -> SubscriptionView:
    return SubscriptionView(
        id=subscription.id,
        product_name=subscription.product_name,
        kind=subscription.kind,
        channel=subscription.channel,
        status=subscription.status,
        term_start=subscription.term_start,
        term_end=subscription.term_end,
        auto_renew=subscription.auto_renew,
        canceled_at=subscription.canceled_at,
        data_deletion_on=subscription.data_deletion_on,
        expedited=subscription.expedited,
        decision=decide(subscription_facts(subscription), domains, today),
    )


def _pending(session: Session, call_id: int) -> tuple[PendingRequest, ...]:
    # A decision counts only for the request as it was decided: a changed
    # request (another hash) waits for a new approval, as on the supervisor desk.
    decided = select(Approval.id).where(
        Approval.request_id == CancellationRequest.id,
        Approval.request_hash == CancellationRequest.request_hash,
    )
    rows = session.execute(
        select(CancellationRequest, Subscription.product_name)
        .join(Subscription, Subscription.id == CancellationRequest.subscription_id)
        .where(
            CancellationRequest.call_id == call_id,
            CancellationRequest.needs_approval.is_(True),
            ~decided.exists(),
        )
        .order_by(CancellationRequest.id)
    ).all()
    return tuple(
        PendingRequest(r.id, r.subscription_id, name, r.action, r.created_at) for r, name in rows
    )


# --- ending -------------------------------------------------------------------


def _check_outcome(session: Session, call: Call, outcome: Outcome, actions: set[Action]) -> None:
    """Refuse an outcome that does not fit what happened in the call."""
    if call.state is CallState.CLOSED:
        raise ActionRefused("this call has already ended")
    if call.state is CallState.LOCKED:
        if outcome not in _LOCKED_OUTCOMES:
            raise ActionRefused("a locked call ends as verification failed, escalated or abandoned")
        return
    if actions and outcome in _NOTHING_DONE_OUTCOMES:
        raise ActionRefused(f"an action was taken in this call: it cannot end as {outcome.value}")
    match outcome:
        case Outcome.CANCELED if not actions & _CANCELLATIONS:
            raise ActionRefused("no cancellation was made in this call")
        case Outcome.AUTO_RENEW_OFF if Action.AUTO_RENEW_OFF not in actions:
            raise ActionRefused("auto-renew was not turned off in this call")
        case Outcome.VERIFICATION_FAILED:
            raise ActionRefused("verification failed fits only a locked call")
        case Outcome.INFORMED if call.verified_at is None:
            raise ActionRefused("the caller was never verified: nothing could be told")
        case Outcome.DENIED_NOT_ADMIN:
            caller = _caller(session, call)
            if call.verified_at is None or caller is None or caller.is_admin:
                raise ActionRefused("denied not admin fits only a verified caller who is no admin")


def _summary_lines(
    session: Session,
    call: Call,
    outcome: Outcome,
    requests: list[tuple[CancellationRequest, Subscription]],
    today: date,
) -> tuple[str, ...]:
    lines = [_request_line(request, subscription) for request, subscription in requests]
    match outcome:
        case Outcome.VERIFICATION_FAILED:
            lines.append("We could not verify the account details, so nothing was changed.")
        case Outcome.DENIED_NOT_ADMIN:
            lines.append("Only an admin of the subscription can cancel it, so nothing was changed.")
        case Outcome.INFORMED:
            tenant = _tenant(session, call)
            if tenant is not None:
                domains = _domains(tenant)
                lines += [
                    f"{s.product_name}: {decide(subscription_facts(s), domains, today).message}"
                    for s in tenant.subscriptions
                ]
        case Outcome.ESCALATED:
            lines.append("The call was transferred to a supervisor.")
        case _:
            pass
    if not requests and outcome is not Outcome.INFORMED:
        lines.append("No subscription was changed in this call.")
    return tuple(lines)


def _request_line(request: CancellationRequest, subscription: Subscription) -> str:
    """One read-back sentence for an action, with the dates recorded after it."""
    after = json.loads(request.after)
    deletion = after["data_deletion_on"]
    name = subscription.product_name
    action = Action(request.action)
    match action:
        case Action.AUTO_RENEW_OFF:
            return (
                f"{name}: auto-renew is off; the subscription expires on {after['term_end']}; "
                f"data is deleted on {deletion}."
            )
        case Action.CANCEL_NOW | Action.CANCEL_NOW_WITH_EXPEDITED:
            canceled_on = _local_date(datetime.fromisoformat(after["canceled_at"])).isoformat()
            line = f"{name}: canceled on {canceled_on}"
            if action is Action.CANCEL_NOW_WITH_EXPEDITED:
                line += (
                    "; expedited deprovisioning waits for a supervisor's approval, then data "
                    f"is deleted within 3 days (otherwise on {deletion})"
                )
            else:
                line += f"; data is deleted on {deletion}"
            line += "; early termination fees may apply."
            if subscription.channel is Channel.PRODUCT_KEY:
                line += " No refund: the caller may ask the partner they bought it from."
            return line
        case Action.EXPEDITED_DEPROVISIONING:
            return (
                f"{name}: expedited deprovisioning waits for a supervisor's approval, then "
                f"data is deleted within 3 days (otherwise on {deletion})."
            )
        case _:
            assert_never(action)
