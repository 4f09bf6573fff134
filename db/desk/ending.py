"""Ending a call: the outcomes that fit what happened, and the read-back lines.

An outcome must fit the call (``_check_outcome``): "canceled" only after a
cancellation, a locked call only as failed, escalated or abandoned, and so
on. The lines the agent reads back to the caller state the dates recorded
with each action (``_request_line``) and, for "informed", what the policy
says about each subscription today.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import assert_never

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session, sessionmaker

from db.audit.chain import append_event
from db.calls import (
    caller_of,
    domains_of,
    local_date,
    requests_of,
    subscription_facts,
    tenant_of,
)
from db.delivery.notices import when
from db.desk.actions import ActionRefused
from db.engine import unit_of_work
from db.models import Agent, Call, CancellationRequest, Subscription, Tenant
from verification.kinds import CallState, Channel, Outcome
from verification.policy import Action
from verification.policy_table import decide

# Actions that end a subscription early: the outcome "canceled". Bringing the
# data's deletion forward alone is "expedited": the subscription runs on.
_CANCELLATIONS = frozenset({Action.CANCEL_NOW, Action.CANCEL_NOW_WITH_EXPEDITED})
# The only honest endings of a call that locked before anything could be done.
_LOCKED_OUTCOMES = frozenset({Outcome.VERIFICATION_FAILED, Outcome.ESCALATED, Outcome.ABANDONED})
# Outcomes whose read-back already says what (nothing) changed.
_SAYS_NOTHING_CHANGED = frozenset(
    {Outcome.INFORMED, Outcome.DECLINED, Outcome.VERIFICATION_FAILED, Outcome.DENIED_NOT_ADMIN}
)
# Outcomes that say nothing was changed: wrong once an action was taken.
_NOTHING_DONE_OUTCOMES = frozenset(
    {Outcome.INFORMED, Outcome.DECLINED, Outcome.DENIED_NOT_ADMIN, Outcome.VERIFICATION_FAILED}
)


@dataclass(frozen=True)
class CallSummary:
    """What the agent reads back to the caller at the end of the call."""

    call_id: int
    outcome: Outcome
    lines: tuple[str, ...]


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
        # The call locked, with its agent's name and its tenant (read by the
        # summary) in the same statement.
        row = session.execute(_call_to_end(), {"call_id": call_id}).first()
        if row is None:
            raise LookupError(f"no call {call_id}")
        call, username, _tenant = row  # the tenant held for ``tenant_of`` below
        # Unlike acting in a call, ending one stays open to its agent once disabled:
        # the call must not be left open for good. Nobody else ends it.
        if username != actor:
            raise ActionRefused("only the agent who took this call can end it")
        requests = requests_of(session, call.id)
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
        lines = _summary_lines(session, call, outcome, requests, local_date(now))
        return CallSummary(call.id, outcome, lines)


@cache  # built once, on first use (building it configures the mappers)
def _call_to_end() -> Select[Call, str, Tenant]:
    return (
        select(Call, Agent.username, Tenant)
        .join(Agent, Agent.id == Call.agent_id)
        .outerjoin(Tenant, Tenant.id == Call.tenant_id)
        .where(Call.id == bindparam("call_id"))
        .with_for_update(of=Call)
    )


def abandon_call(
    factory: sessionmaker[Session], call_id: int, actor: str, note: str, now: datetime
) -> CallSummary:
    """Close the call as abandoned (always allowed on a call not yet ended)."""
    return end_call(factory, call_id, actor, Outcome.ABANDONED, note, now)


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
        case Outcome.EXPEDITED if Action.EXPEDITED_DEPROVISIONING not in actions:
            raise ActionRefused("no expedited deletion was asked for in this call")
        case Outcome.AUTO_RENEW_OFF if Action.AUTO_RENEW_OFF not in actions:
            raise ActionRefused("auto-renew was not turned off in this call")
        case Outcome.VERIFICATION_FAILED:
            raise ActionRefused("verification failed fits only a locked call")
        case Outcome.INFORMED | Outcome.DECLINED if call.verified_at is None:
            raise ActionRefused("the caller was never verified: nothing could be told")
        case Outcome.DECLINED if (
            caller := caller_of(session, call)
        ) is None or not caller.is_admin:
            raise ActionRefused("declined fits only a verified admin who chose to change nothing")
        case Outcome.DENIED_NOT_ADMIN:
            caller = caller_of(session, call)
            if call.verified_at is None or caller is None or caller.is_admin:
                raise ActionRefused("denied not admin fits only a verified caller who is no admin")


def _summary_lines(
    session: Session,
    call: Call,
    outcome: Outcome,
    requests: list[tuple[CancellationRequest, Subscription]],
    today: date,
) -> tuple[str, ...]:
    lines = [
        f"{_request_line(request, subscription)} {_reference_line(request)}"
        for request, subscription in requests
    ]
    match outcome:
        case Outcome.VERIFICATION_FAILED:
            lines.append("We could not verify your account details, so nothing was changed.")
        case Outcome.DENIED_NOT_ADMIN:
            lines.append("Only an admin of your subscription can cancel it: nothing was changed.")
        case Outcome.INFORMED:
            tenant = tenant_of(session, call)
            if tenant is not None:
                domains = domains_of(tenant)
                lines += [
                    f"{s.product_name}: {decide(subscription_facts(s), domains, today).message}"
                    for s in tenant.subscriptions
                ]
        case Outcome.ESCALATED:
            lines.append("I am transferring you to a supervisor.")
        case Outcome.DECLINED:
            lines.append("As you decided, nothing was changed on your subscriptions.")
        case _:
            pass
    if not requests and outcome not in _SAYS_NOTHING_CHANGED:
        lines.append("None of your subscriptions was changed in this call.")
    return tuple(lines)


def _reference_line(request: CancellationRequest) -> str:
    """The reference the caller notes, and until when the admins may stop an expedited one."""
    line = f"Your reference is {request.reference}."
    if request.cooling_off_until is not None:
        line += (
            " Your admins get a notice by e-mail and can stop the early deletion by "
            f"quoting it before {when(request.cooling_off_until)}."
        )
    return line


def _request_line(request: CancellationRequest, subscription: Subscription) -> str:
    """One read-back sentence for an action, with the dates recorded after it."""
    after = json.loads(request.after)
    deletion = after["data_deletion_on"]
    name = subscription.product_name
    action = Action(request.action)
    match action:
        case Action.AUTO_RENEW_OFF:
            return (
                f"Your {name}: auto-renew is off; it expires on {after['term_end']}; "
                f"your data is deleted on {deletion}."
            )
        case Action.CANCEL_NOW | Action.CANCEL_NOW_WITH_EXPEDITED:
            canceled_on = local_date(datetime.fromisoformat(after["canceled_at"])).isoformat()
            line = f"Your {name}: canceled on {canceled_on}"
            if action is Action.CANCEL_NOW_WITH_EXPEDITED:
                line += (
                    "; expedited deprovisioning waits for a supervisor's approval, then your data "
                    f"is deleted within 3 days (otherwise on {deletion})"
                )
            else:
                line += f"; your data is deleted on {deletion}"
            line += "; early termination fees may apply."
            if subscription.channel is Channel.PRODUCT_KEY:
                line += " No refund: you may ask the partner you bought it from."
            return line
        case Action.EXPEDITED_DEPROVISIONING:
            return (
                f"Your {name}: expedited deprovisioning waits for a supervisor's approval, "
                f"then your data is deleted within 3 days (otherwise on {deletion})."
            )
        case _:
            assert_never(action)
