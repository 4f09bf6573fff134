"""The all-requests list: calls matching a filter, a keyset page at a time.

Lists page by keyset on ``(started_at, id)``, newest first, with every filter
in SQL (``request_query``, shared with the export so both select exactly the
same rows), so a page costs the same on the first day and on the millionth
call. The phone number is masked as on the agent's desk, and the tenant's
facts are blind while a call is open and unverified (``_blind``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, null, select, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from db.models import AccountUser, Agent, Call, Subscription, Tenant
from db.review.access import require_supervisor
from verification.kinds import CallState, Channel, Outcome, SubscriptionKind
from verification.phone import mask_phone

PAGE_SIZE = 50
# Tenants an organization prefix may match before the list reads calls by
# time instead of by tenant: on the 1,000,000-call benchmark database the two
# plans cost the same (about 10 ms) near 250 matching tenants.
BROAD_ORGANIZATION = 250


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


def _blind(column: InstrumentedAttribute[str]) -> ColumnElement[str | None]:
    """The tenant's value, or NULL while its call is open and not yet verified.

    The blind rule binds lists too (PRODUCT.md section 4): a supervisor must
    not read the tenant's name or phone next to a call whose caller has not
    matched them yet. Done in SQL, so the export blinds exactly the same rows.
    """
    shown = Call.state.in_((CallState.CLOSED, CallState.VERIFIED))
    return case((shown, column), else_=null()).label(column.key)


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
            _blind(Tenant.ref),
            _blind(Tenant.organization),
            _blind(Tenant.phone_e164),
            _blind(Tenant.contact_first_name),
            _blind(Tenant.contact_last_name),
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
