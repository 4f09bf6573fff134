"""The supervisor desk's database service: the queue, the request list, decisions.

Every function takes the acting agent's id and refuses anyone who is not an
active supervisor (``NotSupervisor``), so the rule holds whatever the UI shows.
Decisions open one unit of work and append their audit event in it; reads
return frozen dataclasses, never ORM objects.

Lists page by keyset on ``(started_at, id)``, newest first, with every filter
in SQL, so a page costs the same on the first day and on the millionth call.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    case,
    cast,
    extract,
    func,
    literal,
    or_,
    select,
    text,
    tuple_,
)
from sqlalchemy.orm import Session, aliased, sessionmaker

from db.agents import AgentInfo, reset_agent
from db.audit import append_event, head
from db.desk import request_hash, store_facts, subscription_facts
from db.engine import unit_of_work
from db.models import (
    EARLY_CANCELLATION,
    NEEDS_APPROVAL,
    UNREVIEWED_FAILED,
    AccountUser,
    Agent,
    Approval,
    AuditEvent,
    Call,
    CancellationRequest,
    ItemCheck,
    ReviewNote,
    Subscription,
    Tenant,
)
from db.types import UTCDateTime
from verification.items import ITEM_SPECS
from verification.kinds import (
    CallState,
    Channel,
    CheckResult,
    Decision,
    ExpeditedState,
    Item,
    Outcome,
    Role,
    SubscriptionKind,
)
from verification.phone import mask_phone
from verification.policy import NotOffered, approve_expedited, reject_expedited

QueueKind = Literal[
    "expedited", "tenant_locked", "agent_locked", "failed_verification", "early_cancellation"
]
# Rows of each kind the queue shows; older ones surface as newer ones are decided.
QUEUE_LIMIT = 50
# How far desks' clocks (which time audit events) may disagree; the timeline
# starts reading this long before the call began.
CLOCK_SKEW = timedelta(minutes=10)
PAGE_SIZE = 50
# Tenants an organization prefix may match before the list reads calls by
# time instead of by tenant: on the 1,000,000-call benchmark database the two
# plans cost the same (about 10 ms) near 250 matching tenants.
BROAD_ORGANIZATION = 250


class ReviewRefused(Exception):
    """A supervisor action cannot be taken; the message says why, for the supervisor."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotSupervisor(ReviewRefused):
    """The acting account is not an active supervisor."""


# --- plain values returned --------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    """One thing waiting for a supervisor; ``call_id`` is the request it opens, if any."""

    kind: QueueKind
    at: datetime
    call_id: int | None
    request_id: int | None
    tenant_id: int | None
    agent_id: int | None
    agent: str
    organization: str
    detail: str


@dataclass(frozen=True)
class RequestFilter:
    """What the all-requests list and the export select; every field is optional.

    ``started_from`` is inclusive, ``started_before`` exclusive (aware times);
    ``organization`` matches the start of the organization name, any case.
    """

    started_from: datetime | None = None
    started_before: datetime | None = None
    agent_id: int | None = None
    outcome: Outcome | None = None
    kind: SubscriptionKind | None = None
    channel: Channel | None = None
    organization: str = ""


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: just after this call in newest-first order."""

    started_at: datetime
    call_id: int


@dataclass(frozen=True)
class RequestRow:
    """One call in the all-requests list, personal data masked."""

    call_id: int
    started_at: datetime
    ended_at: datetime | None
    agent: str
    organization: str
    phone: str
    state: CallState
    outcome: Outcome | None
    reviewed: bool


@dataclass(frozen=True)
class Page:
    """One page of the list; ``next`` is None on the last page."""

    rows: tuple[RequestRow, ...]
    next: Cursor | None


@dataclass(frozen=True)
class TimelineEntry:
    """One audit event about the call."""

    seq: int
    at: datetime
    actor: str
    type: str
    payload: str


@dataclass(frozen=True)
class CheckLine:
    """One item check: what was stated, what is on file, and the result."""

    item: Item
    label: str
    stated: str
    on_file: str
    result: CheckResult
    rules_version: str
    checked_at: datetime


@dataclass(frozen=True)
class ApprovalLine:
    """A decision on a request; ``valid`` is False once the request changed after it."""

    approver: str
    decision: Decision
    reason: str
    decided_at: datetime
    valid: bool


@dataclass(frozen=True)
class RequestLine:
    """An action taken in the call, the subscription before and after, and its decisions.

    ``status`` is ``"no approval needed"``, ``"waiting"`` (no valid decision,
    including after a change voided one), ``"approved"`` or ``"rejected"``.
    ``request_hash`` is what a decision is bound to; ``tampered`` says the
    stored content no longer hashes to it, and then nobody can decide.
    """

    request_id: int
    subscription_id: int
    product_name: str
    action: str
    needs_approval: bool
    request_hash: str
    tampered: bool
    before: tuple[tuple[str, str], ...]
    after: tuple[tuple[str, str], ...]
    status: str
    approvals: tuple[ApprovalLine, ...]


@dataclass(frozen=True)
class NoteLine:
    """A supervisor's review note."""

    author: str
    text: str
    at: datetime


@dataclass(frozen=True)
class CallDetail:
    """Everything a supervisor sees about one call (on-file values included)."""

    call_id: int
    agent_id: int
    agent: str
    started_at: datetime
    ended_at: datetime | None
    state: CallState
    outcome: Outcome | None
    notes: str
    reviewed_at: datetime | None
    reviewed_by: str | None
    tenant_id: int | None
    organization: str
    tenant_locked: bool
    checks: tuple[CheckLine, ...]
    requests: tuple[RequestLine, ...]
    review_notes: tuple[NoteLine, ...]
    timeline: tuple[TimelineEntry, ...]


@dataclass(frozen=True)
class AgentNumbers:
    """One agent's calls in the period."""

    agent: str
    calls: int
    verified: int
    failed: int
    canceled: int
    average_handle_seconds: float | None


@dataclass(frozen=True)
class Numbers:
    """The desk at a glance over the last ``len(calls_per_day)`` local days."""

    first_day: date
    calls_per_day: tuple[int, ...]
    calls: int
    verified: int
    failed: int
    outcomes: tuple[tuple[str, int], ...]
    median_handle_seconds: float | None
    agents: tuple[AgentNumbers, ...]

    @property
    def pass_rate(self) -> float | None:
        """Verified calls among those that ended verification either way."""
        judged = self.verified + self.failed
        return self.verified / judged if judged else None


# --- masking ----------------------------------------------------------------------


# --- reads ------------------------------------------------------------------------


def require_supervisor(session: Session, actor_id: int) -> Agent:
    """The acting agent, if an active supervisor; raises ``NotSupervisor`` otherwise."""
    agent = session.get(Agent, actor_id)
    if agent is None or agent.role is not Role.SUPERVISOR or not agent.active:
        raise NotSupervisor("Only a supervisor can do this.")
    return agent


def queue(factory: sessionmaker[Session], actor_id: int) -> tuple[QueueRow, ...]:
    """Everything that needs a decision, grouped by kind, newest first in each."""
    with factory() as session:
        require_supervisor(session, actor_id)
        return (
            *_waiting_expedited(session),
            *_locked_tenants(session),
            *_locked_agents(session),
            *_failed_verifications(session),
            *_early_cancellations(session),
        )


def list_requests(
    factory: sessionmaker[Session],
    actor_id: int,
    filters: RequestFilter,
    after: Cursor | None = None,
    limit: int = PAGE_SIZE,
) -> Page:
    """One page of calls matching ``filters``, newest first, starting after ``after``."""
    with factory() as session:
        require_supervisor(session, actor_id)
        query = request_query(filters, broad_organization=organization_is_broad(session, filters))
        if after is not None:
            query = query.where(
                tuple_(Call.started_at, Call.id) < tuple_(after.started_at, after.call_id)
            )
        rows = session.execute(query.limit(limit + 1)).all()
    shown = [
        RequestRow(
            call_id=row.id,
            started_at=row.started_at,
            ended_at=row.ended_at,
            agent=row.username,
            organization=row.organization or "",
            phone=mask_phone(row.phone_e164 or ""),
            state=row.state,
            outcome=row.outcome,
            reviewed=row.reviewed_at is not None,
        )
        for row in rows[:limit]
    ]
    more = len(rows) > limit
    cursor = Cursor(shown[-1].started_at, shown[-1].call_id) if more and shown else None
    return Page(tuple(shown), cursor)


def organization_is_broad(session: Session, filters: RequestFilter) -> bool:
    """Whether the organization prefix matches many tenants (see ``request_query``)."""
    matching = _organization_range(filters.organization)
    if matching is None:
        return False
    sample = select(Tenant.id).where(matching).limit(BROAD_ORGANIZATION + 1).subquery()
    return (session.scalar(select(func.count()).select_from(sample)) or 0) > BROAD_ORGANIZATION


def request_query(
    filters: RequestFilter, *, broad_organization: bool = False
) -> Select[*tuple[Any, ...]]:
    """Calls matching ``filters`` with their agent and tenant, newest first.

    Shared with the export so both select exactly the same rows. A prefix
    matching few tenants is best served from their calls (then sorted); one
    matching many (``broad_organization``) by reading calls newest first and
    keeping those of matching tenants, which stops after a page.
    """
    query: Select[*tuple[Any, ...]] = (
        select(
            Call.id,
            Call.started_at,
            Call.ended_at,
            Call.state,
            Call.outcome,
            Call.reviewed_at,
            Agent.username,
            Tenant.ref,
            Tenant.organization,
            Tenant.phone_e164,
            Tenant.contact_first_name,
            Tenant.contact_last_name,
            AccountUser.user_id,
        )
        .join(Agent, Agent.id == Call.agent_id)
        .outerjoin(Tenant, Tenant.id == Call.tenant_id)
        .outerjoin(AccountUser, AccountUser.id == Call.caller_user_id)
        .order_by(Call.started_at.desc(), Call.id.desc())
    )
    if filters.started_from is not None:
        query = query.where(Call.started_at >= filters.started_from)
    if filters.started_before is not None:
        query = query.where(Call.started_at < filters.started_before)
    if filters.agent_id is not None:
        query = query.where(Call.agent_id == filters.agent_id)
    if filters.outcome is not None:
        query = query.where(Call.outcome == filters.outcome)
    if filters.kind is not None or filters.channel is not None:
        held = select(Subscription.id).where(Subscription.tenant_id == Call.tenant_id)
        if filters.kind is not None:
            held = held.where(Subscription.kind == filters.kind)
        if filters.channel is not None:
            held = held.where(Subscription.channel == filters.channel)
        query = query.where(held.exists())
    matching = _organization_range(filters.organization)
    if matching is not None and broad_organization:
        # "+ 0" keeps the database from driving the query by tenant: it walks
        # the calls' time index instead and keeps those of a matching tenant.
        query = query.where((Call.tenant_id + 0).in_(select(Tenant.id).where(matching)))
    elif matching is not None:
        query = query.where(matching)
    return query


def _organization_range(text: str) -> ColumnElement[bool] | None:
    """Organization names starting with ``text``, any case, as an index range."""
    prefix = text.strip().lower()
    if not prefix:
        return None
    # A range, not LIKE: it uses the index on both backends whatever LIKE's case rules.
    return and_(Tenant.organization_key >= prefix, Tenant.organization_key < prefix + "\U0010ffff")


def call_detail(factory: sessionmaker[Session], actor_id: int, call_id: int) -> CallDetail:
    """The whole story of one call; raises ``LookupError`` for an unknown call."""
    with factory() as session:
        require_supervisor(session, actor_id)
        return _detail(session, call_id)


def numbers(
    factory: sessionmaker[Session], actor_id: int, now: datetime, days: int = 30
) -> Numbers:
    """Counts over the last ``days`` local days (today included), all in SQL aggregates."""
    local_now = now.astimezone()
    first_day = local_now.date() - timedelta(days=days - 1)
    start = datetime.combine(first_day, time(), tzinfo=local_now.tzinfo).astimezone(UTC)
    in_period = Call.started_at >= start
    failed = or_(Call.state == CallState.LOCKED, Call.outcome == Outcome.VERIFICATION_FAILED)
    with factory() as session:
        require_supervisor(session, actor_id)
        dialect = session.get_bind().dialect.name
        day = _day_index(dialect, start)
        per_day = [0] * days
        for index, count in session.execute(
            select(day, func.count()).where(in_period).group_by(day)
        ):
            if 0 <= int(index) < days:
                per_day[int(index)] = count
        # One pass over the period's calls on the time index; a GROUP BY outcome
        # would have SQLite walk the whole outcome index instead.
        total, verified, failures, *per_outcome = session.execute(
            select(
                func.count(),
                func.count(Call.verified_at),
                _count_where(failed),
                _count_where(Call.outcome.is_(None)),
                *(_count_where(Call.outcome == outcome) for outcome in Outcome),
            ).where(in_period)
        ).one()
        names = ["open", *(outcome.value for outcome in Outcome)]
        outcomes = sorted(
            ((name, int(n)) for name, n in zip(names, per_outcome, strict=True) if n),
            key=lambda pair: (-pair[1], pair[0]),
        )
        handle = _handle_seconds(dialect)
        agents = session.execute(
            select(
                Agent.username,
                func.count(),
                func.count(Call.verified_at),
                _count_where(failed),
                _count_where(Call.outcome == Outcome.CANCELED),
                func.avg(handle),
            )
            .join(Agent, Agent.id == Call.agent_id)
            .where(in_period)
            .group_by(Agent.username)
            .order_by(Agent.username)
        ).all()
        median = _median(session, handle, and_(in_period, Call.ended_at.is_not(None)))
    return Numbers(
        first_day=first_day,
        calls_per_day=tuple(per_day),
        calls=total,
        verified=verified,
        failed=int(failures),
        outcomes=tuple(outcomes),
        median_handle_seconds=median,
        agents=tuple(
            AgentNumbers(name, n, v, int(f), int(c), float(avg) if avg is not None else None)
            for name, n, v, f, c, avg in agents
        ),
    )


# --- decisions --------------------------------------------------------------------


def decide_expedited(
    factory: sessionmaker[Session],
    actor_id: int,
    request_id: int,
    decision: Decision,
    reason: str,
    seen_hash: str,
    now: datetime,
) -> CallDetail:
    """Approve or reject an expedited deprovisioning request.

    ``seen_hash`` is the request hash the supervisor was shown: a request that
    changed since is refused, so nobody approves what they did not see. The
    supervisor must not be the agent who took the call. Approval moves the
    data deletion date to 3 days after today; rejection keeps the 90-day date.
    """
    text = _reason(reason)
    with unit_of_work(factory) as session:
        supervisor = require_supervisor(session, actor_id)
        request = session.get(CancellationRequest, request_id, with_for_update=True)
        if request is None:
            raise ReviewRefused(f"There is no request {request_id}.")
        call = session.get(Call, request.call_id)
        assert call is not None  # a foreign key
        if call.agent_id == supervisor.id:
            raise ReviewRefused("You took this call: another supervisor must decide.")
        if not request.needs_approval:
            raise ReviewRefused("This request needs no approval.")
        if _tampered(request):
            raise ReviewRefused("This request does not match its hash: it cannot be decided.")
        current = request.request_hash
        if current != seen_hash:
            raise ReviewRefused("The request changed since you opened it: review it again.")
        if session.scalar(
            select(Approval.id).where(
                Approval.request_id == request.id, Approval.request_hash == current
            )
        ):
            raise ReviewRefused("This request is already decided.")
        subscription = session.get(Subscription, request.subscription_id, with_for_update=True)
        assert subscription is not None  # a foreign key
        # A change voided the earlier decision, so the request waits again.
        facts = replace(subscription_facts(subscription), expedited=ExpeditedState.PENDING)
        try:
            if decision is Decision.APPROVED:
                # Policy dates are the desk's local dates, as on the agent's desk.
                decided = approve_expedited(facts, now.astimezone().date())
            else:
                decided = reject_expedited(facts)
        except NotOffered as exc:
            raise ReviewRefused(str(exc)) from exc
        store_facts(subscription, decided, now)
        approval = Approval(
            request_id=request.id,
            request_hash=current,
            requester_id=call.agent_id,
            approver_id=supervisor.id,
            decision=decision,
            reason=text,
            decided_at=now,
        )
        session.add(approval)
        session.flush()
        deletion = subscription.data_deletion_on
        append_event(
            session,
            actor=supervisor.username,
            type=f"expedited.{decision.value}",
            payload={
                "approval_id": approval.id,
                "request_id": request.id,
                "call_id": call.id,
                "subscription_id": subscription.id,
                "request_hash": current,
                "data_deletion_on": deletion.isoformat() if deletion else None,
            },
            at=now,
        )
        return _detail(session, call.id)


def clear_tenant_lock(
    factory: sessionmaker[Session], actor_id: int, tenant_id: int, reason: str, now: datetime
) -> None:
    """Lift a tenant's lock for phone cancellation; its next call proceeds.

    Calls locked before now no longer count towards a new lock.
    """
    text = _reason(reason)
    with unit_of_work(factory) as session:
        supervisor = require_supervisor(session, actor_id)
        tenant = session.get(Tenant, tenant_id, with_for_update=True)
        if tenant is None:
            raise ReviewRefused(f"There is no tenant {tenant_id}.")
        tenant.locked_at = None
        tenant.lock_cleared_at = now
        # The reason is staff text about the lock, not customer data: it stays in the chain.
        append_event(
            session,
            actor=supervisor.username,
            type="tenant.lock_cleared",
            payload={"tenant_id": tenant.id, "reason": text},
            at=now,
        )


def reset_locked_agent(factory: sessionmaker[Session], actor_id: int, agent_id: int) -> AgentInfo:
    """Unlock an agent account locked by failed sign-ins (``db.agents.reset_agent``)."""
    with factory() as session:
        supervisor = require_supervisor(session, actor_id)
        target = session.get(Agent, agent_id)
        if target is None:
            raise ReviewRefused(f"There is no agent {agent_id}.")
        username, actor = target.username, supervisor.username
    return reset_agent(factory, username, actor=actor)


def add_review_note(
    factory: sessionmaker[Session], actor_id: int, call_id: int, text: str, now: datetime
) -> CallDetail:
    """Attach a supervisor's note to a call."""
    body = text.strip()
    if not body:
        raise ReviewRefused("Write the note first.")
    with unit_of_work(factory) as session:
        supervisor = require_supervisor(session, actor_id)
        call = _call(session, call_id)
        note = ReviewNote(call_id=call.id, author_id=supervisor.id, text=body, created_at=now)
        session.add(note)
        session.flush()
        append_event(
            session,
            actor=supervisor.username,
            type="review.note_added",
            payload={"call_id": call.id, "note_id": note.id},
            at=now,
        )
        return _detail(session, call.id)


def mark_reviewed(
    factory: sessionmaker[Session], actor_id: int, call_id: int, now: datetime
) -> CallDetail:
    """Record that a supervisor reviewed a call; it leaves the queue.

    A review is a second pair of eyes, so nobody reviews a call they took.
    """
    with unit_of_work(factory) as session:
        supervisor = require_supervisor(session, actor_id)
        call = _call(session, call_id, for_update=True)
        if call.agent_id == supervisor.id:
            raise ReviewRefused("You took this call: another supervisor must review it.")
        if call.reviewed_at is not None:
            raise ReviewRefused("This call is already reviewed.")
        call.reviewed_at = now
        call.reviewed_by_id = supervisor.id
        append_event(
            session,
            actor=supervisor.username,
            type="call.reviewed",
            payload={"call_id": call.id},
            at=now,
        )
        return _detail(session, call.id)


# --- the queue, kind by kind ------------------------------------------------------


def _waiting_expedited(session: Session) -> list[QueueRow]:
    decided = (
        select(Approval.id)
        .where(
            Approval.request_id == CancellationRequest.id,
            Approval.request_hash == CancellationRequest.request_hash,
        )
        .exists()
    )
    rows = session.execute(
        select(CancellationRequest, Call.agent_id, Agent.username, Tenant, Subscription)
        .join(Call, Call.id == CancellationRequest.call_id)
        .join(Agent, Agent.id == Call.agent_id)
        .join(Subscription, Subscription.id == CancellationRequest.subscription_id)
        .join(Tenant, Tenant.id == Subscription.tenant_id)
        .where(text(NEEDS_APPROVAL), ~decided)
        .order_by(CancellationRequest.created_at.desc(), CancellationRequest.id.desc())
        .limit(QUEUE_LIMIT)
    ).all()
    return [
        QueueRow(
            kind="expedited",
            at=request.created_at,
            call_id=request.call_id,
            request_id=request.id,
            tenant_id=tenant.id,
            agent_id=agent_id,
            agent=username,
            organization=tenant.organization,
            detail=f"approve: {subscription.product_name}",
        )
        for request, agent_id, username, tenant, subscription in rows
    ]


def _locked_tenants(session: Session) -> list[QueueRow]:
    last = aliased(Call)
    latest_locked = (
        select(func.max(last.id))
        .where(last.tenant_id == Tenant.id, last.state == CallState.LOCKED)
        .scalar_subquery()
    )
    latest_any = select(func.max(last.id)).where(last.tenant_id == Tenant.id).scalar_subquery()
    rows = session.execute(
        select(Tenant.id, Tenant.organization, Tenant.locked_at, latest_locked, latest_any)
        .where(Tenant.locked_at.is_not(None))
        .order_by(Tenant.locked_at.desc(), Tenant.id.desc())
        .limit(QUEUE_LIMIT)
    ).all()
    return [
        QueueRow(
            kind="tenant_locked",
            at=locked_at,
            # A locked call is closed once ended, so fall back to the latest call.
            call_id=locked_call or any_call,
            request_id=None,
            tenant_id=tenant_id,
            agent_id=None,
            agent="",
            organization=organization,
            detail="phone cancellation locked",
        )
        for tenant_id, organization, locked_at, locked_call, any_call in rows
    ]


def _locked_agents(session: Session) -> list[QueueRow]:
    rows = session.execute(
        select(Agent.id, Agent.username, Agent.locked_at, Agent.failed_signins)
        .where(Agent.locked_at.is_not(None))
        .order_by(Agent.locked_at.desc(), Agent.id.desc())
        .limit(QUEUE_LIMIT)
    ).all()
    return [
        QueueRow(
            kind="agent_locked",
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


def _failed_verifications(session: Session) -> list[QueueRow]:
    rows = session.execute(
        select(Call.id, Call.started_at, Call.agent_id, Agent.username, Tenant.organization)
        .join(Agent, Agent.id == Call.agent_id)
        .outerjoin(Tenant, Tenant.id == Call.tenant_id)
        .where(text(UNREVIEWED_FAILED))
        .order_by(Call.started_at.desc(), Call.id.desc())
        .limit(QUEUE_LIMIT)
    ).all()
    return [
        QueueRow(
            kind="failed_verification",
            at=started_at,
            call_id=call_id,
            request_id=None,
            tenant_id=None,
            agent_id=agent_id,
            agent=username,
            organization=organization or "(no account found)",
            detail="verification failed",
        )
        for call_id, started_at, agent_id, username, organization in rows
    ]


def _early_cancellations(session: Session) -> list[QueueRow]:
    rows = session.execute(
        select(
            CancellationRequest.id.label("request_id"),
            CancellationRequest.created_at,
            Call.id.label("call_id"),
            Call.agent_id,
            Agent.username,
            Tenant.id.label("tenant_id"),
            Tenant.organization,
            Subscription.product_name,
        )
        .join(Call, Call.id == CancellationRequest.call_id)
        .join(Agent, Agent.id == Call.agent_id)
        .join(Subscription, Subscription.id == CancellationRequest.subscription_id)
        .join(Tenant, Tenant.id == Subscription.tenant_id)
        .where(text(EARLY_CANCELLATION), Call.reviewed_at.is_(None))
        .order_by(CancellationRequest.created_at.desc(), CancellationRequest.id.desc())
        .limit(QUEUE_LIMIT)
    ).all()
    return [
        QueueRow(
            kind="early_cancellation",
            at=row.created_at,
            call_id=row.call_id,
            request_id=row.request_id,
            tenant_id=row.tenant_id,
            agent_id=row.agent_id,
            agent=row.username,
            organization=row.organization,
            detail=f"review: {row.product_name}",
        )
        for row in rows
    ]


# --- the detail -------------------------------------------------------------------


def _detail(session: Session, call_id: int) -> CallDetail:
    call = _call(session, call_id)
    agent = session.get(Agent, call.agent_id)
    tenant = None if call.tenant_id is None else session.get(Tenant, call.tenant_id)
    caller = None if call.caller_user_id is None else session.get(AccountUser, call.caller_user_id)
    reviewer = None if call.reviewed_by_id is None else session.get(Agent, call.reviewed_by_id)
    checks = session.scalars(
        select(ItemCheck).where(ItemCheck.call_id == call.id).order_by(ItemCheck.id)
    ).all()
    return CallDetail(
        call_id=call.id,
        agent_id=call.agent_id,
        agent=agent.username if agent is not None else "",
        started_at=call.started_at,
        ended_at=call.ended_at,
        state=call.state,
        outcome=call.outcome,
        notes=call.notes,
        reviewed_at=call.reviewed_at,
        reviewed_by=reviewer.username if reviewer is not None else None,
        tenant_id=call.tenant_id,
        organization=tenant.organization if tenant is not None else "",
        tenant_locked=tenant is not None and tenant.locked_at is not None,
        checks=tuple(_check_line(check, tenant, caller) for check in checks),
        requests=_request_lines(session, call.id),
        review_notes=_notes(session, call.id),
        timeline=_timeline(session, call),
    )


def _check_line(check: ItemCheck, tenant: Tenant | None, caller: AccountUser | None) -> CheckLine:
    return CheckLine(
        item=check.item,
        label=ITEM_SPECS[check.item].label,
        stated=_stated(check.stated),
        on_file=(
            # A missed user ID named no account of this caller: the account
            # found later in the call is not what it was compared with.
            "(no matching account)"
            if check.item is Item.USER_ID and check.result is CheckResult.MISMATCH
            else _on_file(check.item, tenant, caller)
        ),
        result=check.result,
        rules_version=check.rules_version,
        checked_at=check.checked_at,
    )


def _stated(stored: str | None) -> str:
    """The stated value as typed: the desk stores the fields as a JSON object."""
    if stored is None:
        return "(purged)"
    try:
        fields = json.loads(stored)
    except ValueError:
        return stored
    if isinstance(fields, dict):
        # Names read as typed ("Jo Park"); address parts are separated as on an envelope.
        separator = ", " if len(fields) > 2 else " "
        return separator.join(str(value) for value in fields.values() if value)
    return stored


def _on_file(item: Item, tenant: Tenant | None, caller: AccountUser | None) -> str:
    if tenant is None:
        return ""
    match item:
        case Item.USER_ID:
            return caller.user_id if caller is not None else "(no such account)"
        case Item.PHONE:
            return tenant.phone_e164
        case Item.CONTACT_NAME:
            return f"{tenant.contact_first_name} {tenant.contact_last_name}"
        case Item.ORGANIZATION:
            return tenant.organization
        case Item.ADDRESS:
            parts = (
                tenant.address_line1,
                tenant.address_line2,
                tenant.city,
                tenant.region,
                tenant.postal_code,
                tenant.country,
            )
            return ", ".join(part for part in parts if part)
        case Item.PIN:
            # A PIN is stored only as a slow hash: there is nothing to show.
            return "(set)" if tenant.support_pin_hash else "(none)"
    return ""


def _request_lines(session: Session, call_id: int) -> tuple[RequestLine, ...]:
    rows = session.execute(
        select(CancellationRequest, Subscription.product_name)
        .join(Subscription, Subscription.id == CancellationRequest.subscription_id)
        .where(CancellationRequest.call_id == call_id)
        .order_by(CancellationRequest.id)
    ).all()
    lines = []
    for request, product in rows:
        tampered = _tampered(request)
        # Against a tampered request no decision holds: the hash is what was decided on.
        current = "" if tampered else request.request_hash
        approvals = _approval_lines(session, request.id, current)
        valid = [a for a in approvals if a.valid]
        if not request.needs_approval:
            status = "no approval needed"
        elif valid:
            status = valid[-1].decision.value
        else:
            status = "waiting"
        lines.append(
            RequestLine(
                request_id=request.id,
                subscription_id=request.subscription_id,
                product_name=product,
                action=request.action,
                needs_approval=request.needs_approval,
                request_hash=request.request_hash,
                tampered=tampered,
                before=_pairs(request.before),
                after=_pairs(request.after),
                status=status,
                approvals=approvals,
            )
        )
    return tuple(lines)


def _approval_lines(session: Session, request_id: int, current: str) -> tuple[ApprovalLine, ...]:
    rows = session.execute(
        select(Approval, Agent.username)
        .join(Agent, Agent.id == Approval.approver_id)
        .where(Approval.request_id == request_id)
        .order_by(Approval.decided_at, Approval.id)
    ).all()
    return tuple(
        ApprovalLine(
            approver=username,
            decision=approval.decision,
            reason=approval.reason,
            decided_at=approval.decided_at,
            valid=approval.request_hash == current,
        )
        for approval, username in rows
    )


def _pairs(stored: str) -> tuple[tuple[str, str], ...]:
    values = json.loads(stored)
    return tuple((key, "—" if value is None else str(value)) for key, value in values.items())


def _notes(session: Session, call_id: int) -> tuple[NoteLine, ...]:
    rows = session.execute(
        select(ReviewNote, Agent.username)
        .join(Agent, Agent.id == ReviewNote.author_id)
        .where(ReviewNote.call_id == call_id)
        .order_by(ReviewNote.created_at, ReviewNote.id)
    ).all()
    return tuple(NoteLine(username, note.text, note.created_at) for note, username in rows)


def _timeline(session: Session, call: Call) -> tuple[TimelineEntry, ...]:
    """Audit events whose payload names this call.

    Payloads are canonical JSON (sorted keys, no spaces), so the key and value
    appear as ``"call_id":N`` followed by ``,`` or ``}``; the JSON is then
    checked, so a value that merely contains the text never slips in. Only
    the stretches of the chain when the call ran and when it was decided on
    (approvals, notes, review) are read, so an old call costs what a new one does.
    """
    marker = f'"call_id":{call.id}'
    stretches = or_(
        *(
            and_(AuditEvent.seq >= first, AuditEvent.seq < end)
            for first, end in _stretches(session, call)
        )
    )
    rows = session.execute(
        select(AuditEvent)
        .where(
            stretches,
            or_(
                AuditEvent.payload.contains(marker + ",", autoescape=True),
                AuditEvent.payload.endswith(marker + "}", autoescape=True),
            ),
        )
        .order_by(AuditEvent.seq)
    ).scalars()
    return tuple(
        TimelineEntry(event.seq, event.occurred_at, event.actor, event.type, event.payload)
        for event in rows
        if json.loads(event.payload).get("call_id") == call.id
    )


def _stretches(session: Session, call: Call) -> list[tuple[int, int]]:
    """Sequence ranges ``[first, end)`` around the call and every later decision on it."""
    decided = session.scalars(
        select(Approval.decided_at)
        .join(CancellationRequest, CancellationRequest.id == Approval.request_id)
        .where(CancellationRequest.call_id == call.id)
    ).all()
    noted = session.scalars(select(ReviewNote.created_at).where(ReviewNote.call_id == call.id))
    spans = [(call.started_at, call.ended_at)]
    spans += [(moment, moment) for moment in (*decided, *noted, call.reviewed_at) if moment]
    end_of_chain = head(session)[0] + 1
    ranges = sorted(
        (
            _first_seq_since(session, begin - CLOCK_SKEW),
            end_of_chain if end is None else _first_seq_since(session, end + CLOCK_SKEW),
        )
        for begin, end in spans
    )
    merged = [ranges[0]]
    for first, end in ranges[1:]:
        if first <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((first, end))
    return merged


def _first_seq_since(session: Session, moment: datetime) -> int:
    """The first event not older than ``moment``, by bisection on the sequence number.

    Events are appended in time order (within ``CLOCK_SKEW``), so the search
    reads a few dozen rows by primary key instead of the whole chain.
    """
    low, high = 1, head(session)[0] + 1
    while low < high:
        middle = (low + high) // 2
        at = session.scalar(select(AuditEvent.occurred_at).where(AuditEvent.seq == middle))
        if at is not None and at < moment:
            low = middle + 1
        else:
            high = middle
    return low


# --- numbers ----------------------------------------------------------------------


def _day_index(dialect: str, start: datetime) -> ColumnElement[Any]:
    """Whole days from ``start`` to a call's start (a DST day is an hour off, at most)."""
    if dialect == "sqlite":
        since = func.julianday(Call.started_at) - func.julianday(literal(start, UTCDateTime()))
        return cast(since, Integer)
    return func.floor(extract("epoch", Call.started_at - start) / 86400)


def _count_where(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    """How many rows of the group meet ``condition`` (0, not NULL, for none)."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _handle_seconds(dialect: str) -> ColumnElement[Any]:
    """A call's handle time in seconds, in the database's own date arithmetic."""
    if dialect == "sqlite":
        return (func.julianday(Call.ended_at) - func.julianday(Call.started_at)) * 86400.0
    return extract("epoch", Call.ended_at - Call.started_at)


def _median(
    session: Session, value: ColumnElement[Any], where: ColumnElement[bool]
) -> float | None:
    """The median of ``value`` over the rows ``where`` selects: the middle one or two, by SQL."""
    count = session.scalar(select(func.count()).select_from(Call).where(where)) or 0
    if count == 0:
        return None
    middle = session.scalars(
        select(value).where(where).order_by(value).offset((count - 1) // 2).limit(2 - count % 2)
    ).all()
    return sum(float(v) for v in middle) / len(middle)


# --- helpers ----------------------------------------------------------------------


def _tampered(request: CancellationRequest) -> bool:
    """Whether the stored request no longer hashes to its ``request_hash``."""
    recomputed = request_hash(
        request.call_id,
        request.subscription_id,
        request.action,
        json.loads(request.before),
        json.loads(request.after),
    )
    return recomputed != request.request_hash


def _call(session: Session, call_id: int, *, for_update: bool = False) -> Call:
    call = session.get(Call, call_id, with_for_update=for_update)
    if call is None:
        raise LookupError(f"no call {call_id}")
    return call


def _reason(reason: str) -> str:
    text = reason.strip()
    if not text:
        raise ReviewRefused("Give a reason.")
    return text
