"""The agent's calls and the cancellation actions taken in them.

A call starts (one open call per agent, serialized on the agent's row),
is found again after a crash, and takes the actions ``verification.policy_table``
offers for a subscription today, only through an open gate and only with
every checklist point confirmed (``take_action``). Each action is stored as
a ``CancellationRequest`` with the subscription before and after, bound by
``db.calls.request_hash`` to any approval it gets, and reported to the billing
system by the outbox events ``db.delivery.outbox.action_events`` names, in the same
transaction.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session, sessionmaker

from db.audit.chain import append_event, canonical_payload
from db.calls import (
    domains_of,
    get_call,
    local_date,
    request_hash,
    store_facts,
    subscription_facts,
    taken_by,
    tenant_of,
)
from db.delivery.outbox import action_events, enqueue
from db.desk.notices import after_request
from db.desk.stepup import missing_factor
from db.desk.views import CallView, gate, no_checks, verification_of, view
from db.engine import unit_of_work
from db.models import Agent, Call, CancellationRequest, Subscription
from db.references import unused_reference
from db.settings import Settings
from verification.kinds import CallState
from verification.policy import Action, Option, PolicyDecision
from verification.policy_effects import apply
from verification.policy_table import decide


class ActionRefused(Exception):
    """A desk action cannot be taken now; the message says why, for the agent."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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
            return view(session, call, settings, now, no_checks(settings))
        return view(session, call, settings, now)


def open_call_for_agent(
    factory: sessionmaker[Session], agent_id: int, settings: Settings, now: datetime
) -> CallView | None:
    """The agent's call that is not closed (crash recovery), or None."""
    with unit_of_work(factory) as session:
        call = _unclosed_call(session, agent_id)
        return None if call is None else view(session, call, settings, now)


def load_call(
    factory: sessionmaker[Session], call_id: int, settings: Settings, now: datetime
) -> CallView:
    """The current view of one call. Raises LookupError for an unknown call."""
    with unit_of_work(factory) as session:
        return view(session, get_call(session, call_id), settings, now)


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
        call = get_call(session, call_id, for_update=True)
        if call.state is CallState.CLOSED:
            raise ActionRefused("this call has ended")
        if not taken_by(session, call, actor):
            raise ActionRefused("only the agent who took this call can act in it")
        tenant = tenant_of(session, call)
        verification = verification_of(session, call, tenant, settings)
        gate_open, reasons, _ = gate(session, call, tenant, verification, now)
        if not gate_open or tenant is None:
            raise ActionRefused("the gate is closed: " + "; ".join(reasons))
        subscription = session.get(Subscription, subscription_id)
        if subscription is None or subscription.tenant_id != tenant.id:
            raise ActionRefused("that subscription does not belong to this caller's tenant")
        today = local_date(now)
        facts = subscription_facts(subscription)
        option = _offered(decide(facts, domains_of(tenant), today), action)
        if option is None:
            raise ActionRefused(f"{action.value} is not offered for this subscription now")
        # The action's risk tier (PRODUCT.md section 5): a factor beyond the six items.
        needed = missing_factor(session, call, verification, action, settings, now)
        if needed is not None:
            raise ActionRefused(needed)
        missing = [point for point in option.checklist if point not in confirmed]
        if missing:
            raise ActionRefused(
                f"confirm every checklist point with the caller first ({len(missing)} left)"
            )
        before = _snapshot(subscription)
        after_facts = apply(action, facts, today)
        store_facts(subscription, after_facts, now)
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
            reference=unused_reference(session),
        )
        session.add(request)
        session.flush()
        after_request(
            session,
            call=call,
            tenant=tenant,
            request=request,
            option=option,
            facts=after_facts,
            settings=settings,
            actor=actor,
            now=now,
        )
        append_event(
            session,
            actor=actor,
            type=f"subscription.{action.value}",
            payload={
                "call_id": call.id,
                "subscription_id": subscription.id,
                "action": action.value,
                "request_id": request.id,
                "reference": request.reference,
                # In the chain, so an edit of the request and its approvals together shows.
                "request_hash": request.request_hash,
            },
            at=now,
        )
        for event in action_events(action):
            enqueue(session, type=event, request=request, facts=after_facts, now=now)
        return view(session, call, settings, now, verification)


def _unclosed_call(session: Session, agent_id: int) -> Call | None:
    return session.scalars(_unclosed_calls(), {"agent_id": agent_id}).first()


@cache  # built once, on first use: every call's start reads it
def _unclosed_calls() -> Select[Call]:
    return (
        select(Call)
        .where(Call.agent_id == bindparam("agent_id"), Call.state != CallState.CLOSED)
        .order_by(Call.started_at.desc(), Call.id.desc())
        .limit(1)
    )


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
