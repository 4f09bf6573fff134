"""What the agent's desk shows about a call, and the blind rule that governs it.

The blind rule lives here alone: an on-file value reaches a returned
``ItemState`` only after its item matched in this call (``_item_state``),
masked as ``db.calls.on_file_text`` masks it for the desk. Subscriptions are
shown only while the gate is open, with what ``verification.policy_table`` allows
for each today; whether the caller is an admin, and the tenant's earlier
calls (``history.earlier_calls``), only once every item is verified. The
gate itself (``gate``) is ``VerificationSession.gate`` fed with the stored
checks and the tenant's lock; a tenant a sync marked inactive keeps it closed.
With the gate open, the view carries the factor step (``CallView.possession``,
masked destinations only) and per offered action whether it still needs a
factor (``SubscriptionView.step_ups``), from ``db.desk.possession``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import CompoundSelect, bindparam, literal, null, select, union_all
from sqlalchemy.orm import Session

from db.calls import (
    caller_of,
    decided,
    domains_of,
    local_date,
    on_file_text,
    subscription_facts,
    tenant_locked,
    tenant_of,
)
from db.delivery.notices import when
from db.desk.history import earlier_calls
from db.desk.possession import ActionStepUp, Possession, action_step_up, possession
from db.models import Call, CancellationRequest, CodeTry, ItemCheck, Subscription, Tenant
from db.settings import Settings
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
from verification.policy import Action, PolicyDecision
from verification.policy_table import decide
from verification.session import CheckRecord, ItemStatus, Limits, VerificationSession

INACTIVE_REASON = "the account is no longer on file (removed by an accounts sync)"


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
    step_ups: tuple[ActionStepUp, ...] = ()

    def step_up(self, action: Action) -> ActionStepUp | None:
        """The offered ``action``'s tier and any factor it still needs."""
        return next((s for s in self.step_ups if s.action is action), None)


@dataclass(frozen=True)
class PendingRequest:
    """A request of this call waiting for a supervisor (expedited deprovisioning)."""

    request_id: int
    subscription_id: int
    product_name: str
    action: str
    created_at: datetime


@dataclass(frozen=True)
class MadeRequest:
    """A request taken in this call, with the reference the agent reads to the caller.

    ``line`` is what the desk shows for it, dates included (``db.delivery.notices.when``).
    """

    request_id: int
    reference: str
    product_name: str
    action: str
    line: str


@dataclass(frozen=True)
class CallView:
    """Everything the desk shows about one call.

    ``caller_is_admin`` is None, and ``earlier`` empty, until every item is
    verified: before that, either would reveal something about an account.
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
    possession: Possession | None = None
    requests_made: tuple[MadeRequest, ...] = ()
    # The tenant's earlier calls in one line ("Earlier: 3 calls in 30 days · 1 locked · …").
    earlier: str = ""


def limits(settings: Settings) -> Limits:
    """The verification limits the settings configure."""
    return Limits(
        max_misses=settings.max_misses,
        expiry_minutes=settings.verification_expiry_minutes,
        tenant_lock_calls=settings.tenant_lock_calls,
        tenant_lock_window_hours=settings.tenant_lock_window_hours,
        tenant_max_misses=settings.tenant_max_misses,
    )


def verification_of(
    session: Session, call: Call, tenant: Tenant | None, settings: Settings
) -> VerificationSession:
    """The call's verification rebuilt from its stored checks and wrong codes (one statement)."""
    # Read on the connection, which does not autoflush as session.execute
    # would: a check or wrong code still pending in the session is read too.
    session.flush()
    records = [
        # A wrong one-time code is a miss of the call like an item mismatch.
        CheckRecord(item, result or CheckResult.MISMATCH, at)
        for _, _, item, result, at in session.connection().execute(_RECORDS, {"call_id": call.id})
    ]
    has_pin = tenant is not None and tenant.support_pin_hash is not None
    return VerificationSession(required_items(has_pin=has_pin), records, limits(settings))


def no_checks(settings: Settings) -> VerificationSession:
    """The verification of a call just started: no tenant, no checks, nothing to read."""
    return VerificationSession(required_items(has_pin=False), [], limits(settings))


# Built once: every check reads it. Checks in order, then the wrong codes (no
# item, no result), as the session sorts them by time with ties kept in order.
_RECORDS: CompoundSelect[*tuple[Any, ...]] = union_all(
    select(
        literal(0).label("kind"),
        ItemCheck.id,
        ItemCheck.item,
        ItemCheck.result,
        ItemCheck.checked_at,
    ).where(ItemCheck.call_id == bindparam("call_id")),
    select(literal(1), CodeTry.id, null(), null(), CodeTry.tried_at).where(
        CodeTry.call_id == bindparam("call_id"), CodeTry.matched.is_(False)
    ),
).order_by("kind", "id")


def gate(
    session: Session,
    call: Call,
    tenant: Tenant | None,
    verification: VerificationSession,
    now: datetime,
) -> tuple[bool, tuple[str, ...], bool | None]:
    """Whether the gate is open, its reasons, and (once verified) whether the caller is an admin."""
    caller = caller_of(session, call)
    is_admin = caller is not None and caller.is_admin
    locked = tenant is not None and tenant_locked(tenant)
    result = verification.gate(now, caller_is_admin=is_admin, tenant_locked=locked)
    if tenant is not None and not tenant.active:
        # Marked inactive by a sync during the call: no longer a customer on file.
        return False, (*result.reasons, INACTIVE_REASON), None
    shown_admin = is_admin if verification.verified(now) else None
    return result.open, result.reasons, shown_admin


def view(
    session: Session,
    call: Call,
    settings: Settings,
    now: datetime,
    verification: VerificationSession | None = None,
    *,
    first_verified: bool = False,
) -> CallView:
    """The call as the desk shows it; ``verification`` saves rebuilding a fresh one.

    ``first_verified``: the call was verified for the first time in this
    transaction. Everything done with a call's open gate (a code sent or tried,
    a callback, a request) needs a verified call, so it has none of them yet,
    and the view reads none.
    """
    tenant = tenant_of(session, call)
    if verification is None:
        verification = verification_of(session, call, tenant, settings)
    statuses = verification.statuses(now)
    items = tuple(_item_state(session, call, tenant, item, statuses[item]) for item in statuses)
    gate_open, reasons, caller_is_admin = gate(session, call, tenant, verification, now)
    subscriptions: tuple[SubscriptionView, ...] = ()
    step: Possession | None = None
    if gate_open and tenant is not None and call.state is not CallState.CLOSED:
        today = local_date(now)
        domains = domains_of(tenant)
        step = possession(session, call, tenant, verification, settings, now, first_verified)
        subscriptions = tuple(
            _subscription_view(s, domains, today, settings, step) for s in tenant.subscriptions
        )
    pending, made = ((), ()) if first_verified else _requests(session, call)
    return CallView(
        call_id=call.id,
        agent_id=call.agent_id,
        started_at=call.started_at,
        state=call.state,
        outcome=call.outcome,
        tenant_found=tenant is not None,
        tenant_locked=tenant is not None and tenant_locked(tenant),
        items=items,
        misses_left=verification.misses_left,
        locked=verification.locked,
        gate_open=gate_open,
        gate_reasons=reasons,
        expires_at=verification.expires_at,
        caller_is_admin=caller_is_admin,
        subscriptions=subscriptions,
        pending_requests=pending,
        notes=call.notes,
        possession=step,
        requests_made=made,
        earlier=(
            earlier_calls(session, call, tenant.id, now)
            if tenant is not None and verification.verified(now)
            else ""
        ),
    )


def _item_state(
    session: Session, call: Call, tenant: Tenant | None, item: Item, status: ItemStatus
) -> ItemState:
    """One item; its on-file value (masked) only once it matched: the blind rule."""
    spec = ITEM_SPECS[item]
    shown = None
    if status is ItemStatus.MATCHED and tenant is not None:
        shown = on_file_text(item, tenant, caller_of(session, call), masked=True)
    return ItemState(item, spec.label, spec.question, spec.fields, status, shown)


def _subscription_view(
    subscription: Subscription,
    domains: tuple[str, ...],
    today: date,
    settings: Settings,
    step: Possession,
) -> SubscriptionView:
    decision = decide(subscription_facts(subscription), domains, today)
    step_ups = tuple(
        action_step_up(option.action, settings, step.proven, step.has_pin)
        for option in decision.options
    )
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
        decision=decision,
        step_ups=step_ups,
    )


def _requests(
    session: Session, call: Call
) -> tuple[tuple[PendingRequest, ...], tuple[MadeRequest, ...]]:
    """The call's requests waiting for a supervisor, and every request it made.

    One statement for both, and none before the call is verified: a request is
    taken only through an open gate, which only a verified call has, and a
    call's verification time is never cleared, so every check before the
    caller's last item needs no query for them.
    """
    if call.verified_at is None:
        return (), ()
    rows = session.execute(
        select(CancellationRequest, Subscription.product_name, decided().label("decided"))
        .join(Subscription, Subscription.id == CancellationRequest.subscription_id)
        .where(CancellationRequest.call_id == call.id)
        .order_by(CancellationRequest.id)
    ).all()
    pending = tuple(
        PendingRequest(r.id, r.subscription_id, name, r.action, r.created_at)
        for r, name, done in rows
        if r.needs_approval and not done
    )
    made = tuple(
        MadeRequest(r.id, r.reference, name, r.action, made_line(r.reference, name, r))
        for r, name, _ in rows
    )
    return pending, made


def made_line(reference: str, product: str, request: CancellationRequest) -> str:
    """The desk's line for a request made in the call: its reference to read out."""
    line = f"{product}: reference {reference} (read it to the caller)"
    if request.cooling_off_until is not None:
        line += (
            f"; the admins can stop the deletion until {when(request.cooling_off_until)} "
            "at least, quoting it"
        )
    return line
