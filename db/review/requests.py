"""The all-requests list: calls matching a filter, a keyset page at a time.

Lists page by keyset on ``(started_at, id)``, newest first, with every filter
in SQL (``request_query``, shared with the export so both select exactly the
same rows), so a page costs the same on the first day and on the millionth
call. The phone number is masked as on the agent's desk, and the tenant's
facts are blind while a call is open and unverified (``_blind``). The search
box's one dispatch rule is ``parse_search`` (reference, user ID, phone, its
last four digits, else an organization prefix, umlauts either way:
``organization_spellings``); searches by what identifies a tenant (and the
organization, kind and channel filters) find only the calls the blind rule
shows (``_identifies``, ``_shown``). The calls of a tenant the reader has a
call of their own open with show nothing of it and are found by none of
those searches (``hidden``, ``db.review.access.in_call_tenants``): a search
that found them would confirm a guess of the tenant's phone or name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Label, Select, and_, case, func, null, or_, select, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from db.models import AccountUser, Agent, Call, CancellationRequest, Subscription, Tenant
from db.review.access import IN_CALL, in_call_tenants, require_supervisor
from verification.errors import InputError
from verification.kinds import CallState, Channel, Outcome, SubscriptionKind
from verification.phone import mask_phone, normalize_phone
from verification.reference import PREFIX, normalize_reference
from verification.userid import normalize_user_id

PAGE_SIZE = 50
# A search of these characters only, with a few digits, is a phone number.
_PHONE_TEXT = re.compile(r"^\+?[\d\s().\-/]*\d[\d\s().\-/]*$")
_PHONE_MIN_DIGITS = 4
# Exactly the last four digits the list shows ("•••0101" pasted from a row too).
_LAST_FOUR = re.compile(r"^[•*.]*(\d{4})$")
# The umlauts and their DIN 5007-2 spellings: "mueller" finds "Müller" and back.
_UMLAUT_SPELLINGS = (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"))
# At most this many spellings of one search (each an index range): 2 ** 4.
_MAX_SPELLINGS = 16
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
    # The search box (``parse_search``): a reference, a user ID, a phone or an
    # organization prefix; ``region`` reads a phone typed without its country code.
    search: str = ""
    region: str = "US"


class SearchKind(StrEnum):
    """What the search box was read as."""

    REFERENCE = "reference"
    USER_ID = "user ID"
    PHONE = "phone"
    LAST_FOUR = "last four digits"
    ORGANIZATION = "organization"


@dataclass(frozen=True)
class Search:
    """The search box read: its kind and the normalized value to match."""

    kind: SearchKind
    value: str


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
    # The references of the call's requests ("CG-7K4-Q2M"), blank when none.
    references: str = ""


@dataclass(frozen=True)
class Page:
    """One page of the list; ``next`` is None on the last page."""

    rows: tuple[RequestRow, ...]
    next: Cursor | None
    # What the search box was read as ("reference", "phone"…), blank without one.
    searched: str = ""


def list_requests(
    factory: sessionmaker[Session],
    actor_id: int,
    filters: RequestFilter,
    after: Cursor | None = None,
    limit: int = PAGE_SIZE,
) -> Page:
    """One page of calls matching ``filters``, newest first, starting after ``after``.

    Raises ``InputError`` for a search that names a reference, user ID or
    phone that cannot be one (the message says why).
    """
    with factory() as session:
        require_supervisor(session, actor_id)
        hidden = in_call_tenants(session, actor_id)
        broad = organization_is_broad(session, filters)
        query = request_query(filters, broad_organization=broad, hidden=hidden)
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
            organization=IN_CALL if row.tenant_id in hidden else row.organization or "",
            phone=mask_phone(row.phone_e164 or ""),
            state=row.state,
            outcome=row.outcome,
            reviewed=row.reviewed_at is not None,
            references=row.references or "",
        )
        for row in rows[:limit]
    ]
    more = len(rows) > limit
    cursor = Cursor(shown[-1].started_at, shown[-1].call_id) if more and shown else None
    search = parse_search(filters.search, filters.region)
    return Page(tuple(shown), cursor, search.kind.value if search is not None else "")


def parse_search(text: str, region: str) -> Search | None:
    """What the search box holds: the one dispatch rule (None when it is empty).

    ``CG-…`` is a reference (``verification.reference``; without the dash only
    when it holds a digit, so "CG Bakery" stays an organization), text with an ``@`` a
    user ID (``verification.userid``), digits (with spaces, dashes, dots,
    brackets or a leading +) a phone number read in ``region``
    (``verification.phone``), except exactly four digits: the last four the
    list shows; anything else an organization prefix, as before.
    Raises ``InputError`` for a reference, user ID or phone that cannot be one.
    """
    typed = text.strip()
    if not typed:
        return None
    if typed.upper().startswith(f"{PREFIX}-"):
        return Search(SearchKind.REFERENCE, normalize_reference(typed))
    if typed.upper().startswith(PREFIX) and any(ch.isdigit() for ch in typed):
        try:
            return Search(SearchKind.REFERENCE, normalize_reference(typed))
        except InputError:
            pass  # "CG2 Labs": an organization that starts like a reference
    if "@" in typed:
        return Search(SearchKind.USER_ID, normalize_user_id(typed))
    last_four = _LAST_FOUR.match(typed)
    if last_four:
        return Search(SearchKind.LAST_FOUR, last_four.group(1))
    digits = sum(ch.isdigit() for ch in typed)
    if _PHONE_TEXT.match(typed) and digits >= _PHONE_MIN_DIGITS:
        return Search(SearchKind.PHONE, normalize_phone(typed, region))
    return Search(SearchKind.ORGANIZATION, typed)


def _organization_text(filters: RequestFilter) -> str:
    """The organization prefix to match: the filter's, else the search box's if it is one."""
    if filters.organization.strip():
        return filters.organization
    search = parse_search(filters.search, filters.region)
    return search.value if search is not None and search.kind is SearchKind.ORGANIZATION else ""


def organization_is_broad(session: Session, filters: RequestFilter) -> bool:
    """Whether the organization prefix matches many tenants (see ``request_query``)."""
    matching = _organization_range(_organization_text(filters))
    if matching is None:
        return False
    sample = select(Tenant.id).where(matching).limit(BROAD_ORGANIZATION + 1).subquery()
    return (session.scalar(select(func.count()).select_from(sample)) or 0) > BROAD_ORGANIZATION


def _blind(column: InstrumentedAttribute[str], hidden: frozenset[int]) -> ColumnElement[str | None]:
    """The tenant's value, or NULL while its call is open and not yet verified.

    The blind rule binds lists too (PRODUCT.md section 4): a supervisor must
    not read the tenant's name or phone next to a call whose caller has not
    matched them yet. Done in SQL, so the export blinds exactly the same rows.
    """
    return case((_shown(hidden), column), else_=null()).label(column.key)


def _shown(hidden: frozenset[int]) -> ColumnElement[bool]:
    """The calls whose tenant facts the blind rule lets a list show: ended or verified.

    None of a tenant in ``hidden``: the reader has a call open with it.
    """
    shown = Call.state.in_((CallState.CLOSED, CallState.VERIFIED))
    if not hidden:
        return shown
    return shown & or_(Call.tenant_id.is_(None), Call.tenant_id.not_in(sorted(hidden)))


def request_query(
    filters: RequestFilter,
    *,
    broad_organization: bool = False,
    hidden: frozenset[int] = frozenset(),
) -> Select[*tuple[Any, ...]]:
    """Calls matching ``filters`` with their agent and tenant, newest first.

    Shared with the export so both select exactly the same rows. A prefix
    matching few tenants is best served from their calls (then sorted); one
    matching many (``broad_organization``) by reading calls newest first and
    keeping those of matching tenants, which stops after a page. ``hidden``:
    tenants the reader has a call open with (blank, and found by no search).
    """
    query: Select[*tuple[Any, ...]] = (
        select(
            Call.id,
            Call.started_at,
            Call.ended_at,
            Call.state,
            Call.outcome,
            Call.reviewed_at,
            Call.tenant_id,
            Agent.username,
            _blind(Tenant.ref, hidden),
            _blind(Tenant.organization, hidden),
            _blind(Tenant.phone_e164, hidden),
            _blind(Tenant.contact_first_name, hidden),
            _blind(Tenant.contact_last_name, hidden),
            case((_shown(hidden), AccountUser.user_id), else_=null()).label("user_id")
            if hidden
            else AccountUser.user_id,
            _references(),
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
        # What the tenant holds is one of its facts: an open, unverified call
        # found by it would name its tenant all the same.
        query = query.where(held.exists(), _shown(hidden))
    search = parse_search(filters.search, filters.region)
    if search is not None and search.kind is not SearchKind.ORGANIZATION:
        query = query.where(_identifies(search, hidden))
    matching = _organization_range(_organization_text(filters))
    if matching is not None:
        # Like the searches of _identifies: an open, unverified call found by
        # its organization would tell whose call it is despite the blank row.
        query = query.where(_shown(hidden))
    if matching is not None and broad_organization:
        # "+ 0" keeps the database from driving the query by tenant: it walks
        # the calls' time index instead and keeps those of a matching tenant.
        query = query.where((Call.tenant_id + 0).in_(select(Tenant.id).where(matching)))
    elif matching is not None:
        query = query.where(matching)
    return query


def _references() -> Label[str | None]:
    """The references of the call's requests, comma-separated (most calls have one or none).

    Not blinded: a request exists only once its call was verified.
    """
    return (
        select(func.aggregate_strings(CancellationRequest.reference, ", "))
        .where(CancellationRequest.call_id == Call.id)
        .scalar_subquery()
        .label("references")
    )


def _identifies(search: Search, hidden: frozenset[int]) -> ColumnElement[bool]:
    """The calls a reference, user ID or phone names, among those the blind rule shows.

    An open call whose caller has not been verified keeps its tenant blank in
    the list; were it found by the tenant's phone or an admin's user ID, the
    search would tell an insider whose call it is all the same. So these
    searches only find calls whose tenant facts the list shows (``_blind``).
    A reference exists only for a request of a verified call anyway.
    """
    shown = _shown(hidden)
    match search.kind:
        case SearchKind.REFERENCE:
            named = select(CancellationRequest.call_id).where(
                CancellationRequest.reference == search.value
            )
            return shown & Call.id.in_(named)
        case SearchKind.USER_ID:
            users = select(AccountUser.id).where(AccountUser.user_id == search.value)
            return shown & Call.caller_user_id.in_(users)
        case SearchKind.PHONE:
            tenants = select(Tenant.id).where(Tenant.phone_e164 == search.value)
            return shown & Call.tenant_id.in_(tenants)
        case SearchKind.LAST_FOUR:
            # A suffix reads the tenants, not an index: four digits name few of them.
            tenants = select(Tenant.id).where(Tenant.phone_e164.endswith(search.value))
            return shown & Call.tenant_id.in_(tenants)
        case SearchKind.ORGANIZATION:
            raise ValueError("an organization prefix is matched by _organization_range")


def _organization_range(text: str) -> ColumnElement[bool] | None:
    """Organization names starting with ``text``, any case, umlauts either way, as index ranges.

    "mueller" finds "Müller & Söhne GmbH" and "müller" finds "Mueller AG"
    (``organization_spellings``), each spelling one range on the index.
    """
    spellings = organization_spellings(text)
    if not spellings:
        return None
    # Ranges, not LIKE: they use the index on both backends whatever LIKE's case rules.
    return or_(
        *(
            and_(Tenant.organization_key >= prefix, Tenant.organization_key < prefix + "\U0010ffff")
            for prefix in spellings
        )
    )


def organization_spellings(text: str) -> tuple[str, ...]:
    """The lower-case spellings of an organization prefix: each umlaut also written out, and back.

    DIN 5007-2, as the agent desk reads names (``verification.names``): ä, ö,
    ü, ß are also ae, oe, ue, ss. At most ``_MAX_SPELLINGS``; empty text none.
    """
    spellings = [text.strip().lower()]
    if not spellings[0]:
        return ()
    for umlaut, written in _UMLAUT_SPELLINGS:
        for spelling in list(spellings):
            for old, new in ((umlaut, written), (written, umlaut)):
                if old in spelling and len(spellings) < _MAX_SPELLINGS:
                    spellings.append(spelling.replace(old, new))
    return tuple(dict.fromkeys(spellings))
