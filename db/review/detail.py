"""Everything a supervisor sees about one call: checks, requests, notes, timeline.

On-file values are shown whole here, as ``db.calls.on_file_text`` rendered
them unmasked when each check was made (``ItemCheck.on_file``): a sync since
never rewrites what a past check was judged against. They are blind while
the call is open (PRODUCT.md section 4): then only the items the call matched
show what is on file, and the organization only once it matched
(``_visible``). The call's requests, their status and dates are
``db.review.request_lines``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.calls import (
    get_call,
    tenant_locked,
    tenant_of,
)
from db.models import (
    Agent,
    Call,
    ItemCheck,
    ReviewNote,
    Tenant,
)
from db.review.access import require_supervisor
from db.review.request_lines import RequestLine, request_lines
from db.review.timeline import TimelineEntry, timeline
from verification.items import ITEM_SPECS
from verification.kinds import (
    CallState,
    CheckResult,
    Item,
    Outcome,
)

# In place of an on-file value the open call has not matched (the blind rule).
HIDDEN = "(hidden while the call is open)"


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


def call_detail(
    factory: sessionmaker[Session], actor_id: int, call_id: int, now: datetime
) -> CallDetail:
    """The whole story of one call as of ``now``; raises ``LookupError`` for an unknown call."""
    with factory() as session:
        require_supervisor(session, actor_id)
        return detail(session, call_id, now)


def detail(session: Session, call_id: int, now: datetime) -> CallDetail:
    """The detail of ``call_id``, with what a decision taken ``now`` would do."""
    call = get_call(session, call_id)
    agent = session.get(Agent, call.agent_id)
    tenant = tenant_of(session, call)
    reviewer = None if call.reviewed_by_id is None else session.get(Agent, call.reviewed_by_id)
    checks = session.scalars(
        select(ItemCheck).where(ItemCheck.call_id == call.id).order_by(ItemCheck.id)
    ).all()
    visible = _visible(call, checks)
    events = timeline(session, call)
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
        organization=_organization(tenant, visible),
        tenant_locked=tenant is not None and tenant_locked(tenant),
        checks=tuple(_check_line(check, call.purged_at is not None, visible) for check in checks),
        requests=request_lines(session, call.id, now, events),
        review_notes=_notes(session, call.id),
        timeline=events,
    )


def _visible(call: Call, checks: Sequence[ItemCheck]) -> frozenset[Item] | None:
    """Items whose on-file value may be shown: all (None) once the call ended."""
    if call.state is CallState.CLOSED:
        return None
    return frozenset(check.item for check in checks if check.result is CheckResult.MATCH)


def _organization(tenant: Tenant | None, visible: frozenset[Item] | None) -> str:
    if tenant is None:
        return ""
    if visible is not None and Item.ORGANIZATION not in visible:
        return HIDDEN
    return tenant.organization


def _check_line(check: ItemCheck, purged: bool, visible: frozenset[Item] | None) -> CheckLine:
    shown = visible is None or check.item in visible
    return CheckLine(
        item=check.item,
        label=ITEM_SPECS[check.item].label,
        stated=_stated(check.stated),
        on_file=_on_file(check, purged) if shown else HIDDEN,
        result=check.result,
        rules_version=check.rules_version,
        checked_at=check.checked_at,
    )


def _on_file(check: ItemCheck, purged: bool) -> str:
    """What the stated value was compared with, whole, as stored with the check.

    Stored, not read from today's record: a sync since then may have
    changed the record, never what this check was judged against.
    """
    if check.item is Item.USER_ID and check.result is CheckResult.MISMATCH:
        # A missed user ID named no account of this caller: the account
        # found later in the call is not what it was compared with.
        return "(no matching account)"
    if check.on_file is None:
        return "(purged)" if purged else ""
    return check.on_file


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


def _notes(session: Session, call_id: int) -> tuple[NoteLine, ...]:
    rows = session.execute(
        select(ReviewNote, Agent.username)
        .join(Agent, Agent.id == ReviewNote.author_id)
        .where(ReviewNote.call_id == call_id)
        .order_by(ReviewNote.created_at, ReviewNote.id)
    ).all()
    return tuple(NoteLine(username, note.text, note.created_at) for note, username in rows)
