"""A supervisor who takes a call reads nothing of that tenant anywhere on their desk.

PRODUCT.md section 4 "Blind": a supervisor who matched only the user ID must
not read the other four items from the tenant's earlier calls (the request
list and its searches, a call's detail, the queue, the export), or they
could answer for the caller. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from db import desk, review
from db.export import write_export
from db.review import RequestFilter, ReviewRefused
from tests.helpers.review_data import (
    SETTINGS,
    make_account,
    make_staff,
    missed_call,
    stated,
    verified_call,
)
from verification.kinds import Item, Outcome

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
TODAY = NOW.astimezone().date()
PHONE = "+14255550187"
ORGANIZATION = "Insight Partners"
HIDDEN = "hidden while you have a call open with this organization"


def _everything_seen(factory: sessionmaker[Session], reader: int, earlier: int) -> str:
    """All a supervisor can read of the tenant: list, searches, detail, queue, export."""
    seen: list[str] = []
    for search in ("", "admin@insight-partners.example", "(425) 555-0187", "Insight"):
        seen.append(repr(review.list_requests(factory, reader, RequestFilter(search=search))))
    try:
        seen.append(repr(review.call_detail(factory, reader, earlier, LATER)))
    except ReviewRefused as refused:
        seen.append(refused.message)
    seen.append(repr(review.queue(factory, reader)))
    out = io.StringIO()
    write_export(factory, out, "json", RequestFilter(), actor="sue", now=LATER, unmasked_for=reader)
    seen.append(out.getvalue())
    return "\n".join(seen)


def test_a_supervisor_in_a_call_reads_nothing_of_that_tenant_elsewhere(any_factory) -> None:
    staff = make_staff(any_factory)
    account = make_account(any_factory, ORGANIZATION, PHONE, TODAY)
    # The tenant's earlier calls: one verified and ended, one that ended with a miss.
    earlier = verified_call(any_factory, staff.agent, account, NOW)
    desk.end_call(any_factory, earlier.call_id, "ana", Outcome.INFORMED, "", NOW)
    missed_call(any_factory, staff.agent2, account, NOW + timedelta(minutes=5))
    sue = staff.supervisor
    assert ORGANIZATION in _everything_seen(any_factory, sue.id, earlier.call_id)

    # Sue takes the caller's call and matches the user ID only.
    call = desk.start_call(any_factory, sue.id, sue.username, SETTINGS, LATER)
    user_id = stated(account)[Item.USER_ID]
    desk.submit_item(
        any_factory, call.call_id, sue.username, Item.USER_ID, user_id, SETTINGS, LATER
    )

    seen = _everything_seen(any_factory, sue.id, earlier.call_id)
    for value in (
        ORGANIZATION,
        "Insight",
        PHONE,
        PHONE[-4:],
        "Jo Park",
        "Main St",
        "insight-partners",
    ):
        assert value not in seen, value
    assert HIDDEN in seen
    with pytest.raises(ReviewRefused, match=HIDDEN):
        review.call_detail(any_factory, sue.id, earlier.call_id, LATER)
    # A search by the user ID, phone or name finds none of the tenant's calls.
    for search in ("admin@insight-partners.example", "(425) 555-0187", "Insight"):
        page = review.list_requests(any_factory, sue.id, RequestFilter(search=search))
        assert page.rows == (), search
    exported = json.loads(_export(any_factory, sue.id))
    assert all(r["organization"] == "" and r["phone"] == "" for r in exported)

    # Another supervisor, with no call open, reads the ended calls as before.
    assert ORGANIZATION in _everything_seen(any_factory, staff.supervisor2.id, earlier.call_id)
    # Once Sue's call ends, so does the rule.
    desk.end_call(any_factory, call.call_id, sue.username, Outcome.ABANDONED, "", LATER)
    assert ORGANIZATION in _everything_seen(any_factory, sue.id, earlier.call_id)


def _export(factory: sessionmaker[Session], reader: int) -> str:
    out = io.StringIO()
    write_export(factory, out, "json", RequestFilter(), actor="sue", now=LATER, unmasked_for=reader)
    return out.getvalue()
