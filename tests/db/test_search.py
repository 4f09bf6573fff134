"""Find a call on the supervisor desk by reference, user ID or phone, as well as by organization.

One dispatch rule (``db.review.parse_search``); keyset pages as every list;
and blind: a search by what identifies a tenant never finds an open,
unverified call, so it cannot tell an insider whose call is in progress.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from db import review
from db.models import CancellationRequest
from db.review import RequestFilter, SearchKind, parse_search
from tests.db.test_review import _all_pages, _newest_first
from tests.helpers.review_data import (
    expedited_call,
    make_account,
    make_staff,
    many_calls,
    missed_call,
    verified_call,
)
from verification.errors import InputError
from verification.kinds import CallState

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
TODAY = NOW.astimezone().date()


def test_the_search_box_is_read_by_one_rule() -> None:
    cases = {
        "cg-7k4-q2m": (SearchKind.REFERENCE, "CG-7K4-Q2M"),
        "CG 7K4 Q2M": (SearchKind.REFERENCE, "CG-7K4-Q2M"),
        "CG-ABC-DEF": (SearchKind.REFERENCE, "CG-ABC-DEF"),
        " Admin@Contoso.example ": (SearchKind.USER_ID, "admin@contoso.example"),
        "(425) 555-0100": (SearchKind.PHONE, "+14255550100"),
        "+44 20 7946 0958": (SearchKind.PHONE, "+442079460958"),
        "CG Bakery": (SearchKind.ORGANIZATION, "CG Bakery"),
        "CG2 Labs": (SearchKind.ORGANIZATION, "CG2 Labs"),
        "3M": (SearchKind.ORGANIZATION, "3M"),
        "Contoso": (SearchKind.ORGANIZATION, "Contoso"),
        # The last four digits the list shows, typed or pasted from a row.
        "0101": (SearchKind.LAST_FOUR, "0101"),
        "•••0101": (SearchKind.LAST_FOUR, "0101"),
    }
    for typed, (kind, value) in cases.items():
        found = parse_search(typed, "US")
        assert found is not None and (found.kind, found.value) == (kind, value), typed
    assert parse_search("  ", "US") is None
    # A phone is read in the desk's region when it has no country code.
    assert parse_search("020 7946 0958", "GB") == parse_search("+44 20 7946 0958", "US")
    for bad in ("CG-0O1-222", "admin@", "425 555"):
        with pytest.raises(InputError):
            parse_search(bad, "US")


def test_a_reference_finds_its_call(any_factory: sessionmaker[Session]) -> None:
    staff = make_staff(any_factory)
    account = make_account(any_factory, "Contoso", "+14255550100", TODAY)
    call_id, request_id = expedited_call(any_factory, staff.agent, account, NOW)
    make_account(any_factory, "Other", "+14255550199", TODAY)
    with any_factory() as session:
        request = session.get(CancellationRequest, request_id)
        assert request is not None
        reference = request.reference
    typed = reference.lower()  # without dashes only a reference with a digit is one
    page = review.list_requests(any_factory, staff.supervisor.id, RequestFilter(search=typed))
    assert [r.call_id for r in page.rows] == [call_id] and page.searched == "reference"
    assert page.rows[0].references == reference
    unknown = RequestFilter(search="CG-222-222")
    assert review.list_requests(any_factory, staff.supervisor.id, unknown).rows == ()


def test_a_phone_finds_the_tenants_shown_calls_page_by_page(
    any_factory: sessionmaker[Session],
) -> None:
    supervisor, made, tenants = many_calls(any_factory, 150, NOW)
    [(tenant_id, phone)] = [(t, v[1]) for t, v in tenants.items() if v[0] == "Fabrikam"]
    local = f"({phone[2:5]}) {phone[5:8]}-{phone[8:]}"  # as a caller reads it out
    filters = RequestFilter(search=local, region="US")
    rows = _all_pages(any_factory, supervisor, filters, size=7)
    shown = (CallState.CLOSED, CallState.VERIFIED)
    mine = [c for c in made if c.tenant_id == tenant_id]
    assert any(c.state not in shown for c in mine)  # the blind case is in the data
    expected = _newest_first([c for c in mine if c.state in shown])
    assert expected and [r.call_id for r in rows] == expected


def test_searches_by_user_id_or_phone_are_blind_to_an_open_unverified_call(
    any_factory: sessionmaker[Session],
) -> None:
    staff = make_staff(any_factory)
    account = make_account(any_factory, "Blindspot", "+14255550187", TODAY)
    sup = staff.supervisor.id
    # The caller named the account, then missed the phone: open, not verified.
    open_call = missed_call(any_factory, staff.agent, account, NOW, end=False)
    by_user = RequestFilter(search=account.user_id.upper())
    by_phone = RequestFilter(search="425-555-0187")
    assert review.list_requests(any_factory, sup, by_user).rows == ()
    assert review.list_requests(any_factory, sup, by_phone).rows == ()
    # The same searches find a call of that tenant once it is verified.
    verified = verified_call(any_factory, staff.agent2, account, NOW + timedelta(minutes=5))
    for filters in (by_user, by_phone):
        page = review.list_requests(any_factory, sup, filters)
        assert [r.call_id for r in page.rows] == [verified.call_id]
        assert open_call.call_id not in [r.call_id for r in page.rows]
    # And the organization prefix still works as it did.
    page = review.list_requests(any_factory, sup, RequestFilter(search="blind"))
    assert page.searched == "organization" and verified.call_id in [r.call_id for r in page.rows]


def test_the_last_four_digits_find_the_tenants_shown_calls_only(
    any_factory: sessionmaker[Session],
) -> None:
    staff = make_staff(any_factory)
    sup = staff.supervisor.id
    account = make_account(any_factory, "Blindspot", "+14255550187", TODAY)
    other = make_account(any_factory, "Elsewhere", "+14255550101", TODAY)
    open_call = missed_call(any_factory, staff.agent, account, NOW, end=False)
    by_last_four = RequestFilter(search="0187")
    # Blind: the open, unverified call is not found by its tenant's digits.
    assert review.list_requests(any_factory, sup, by_last_four).rows == ()
    verified = verified_call(any_factory, staff.agent2, account, NOW + timedelta(minutes=5))
    elsewhere, _ = expedited_call(any_factory, staff.supervisor, other, NOW + timedelta(minutes=6))
    assert review.list_requests(any_factory, sup, RequestFilter(search="0101")).rows[0].call_id == (
        elsewhere
    )
    page = review.list_requests(any_factory, sup, by_last_four)
    assert [r.call_id for r in page.rows] == [verified.call_id]
    assert page.searched == "last four digits" and page.rows[0].phone.endswith("0187")
    assert open_call.call_id not in [r.call_id for r in page.rows]


def test_an_organization_is_found_with_its_umlauts_written_either_way(
    any_factory: sessionmaker[Session],
) -> None:
    staff = make_staff(any_factory)
    sup = staff.supervisor.id
    umlauts = make_account(any_factory, "Müller und Söhne GmbH", "+14255550187", TODAY)
    written = make_account(any_factory, "Mueller AG", "+14255550188", TODAY)
    make_account(any_factory, "Muller Bakery", "+14255550189", TODAY)
    first = verified_call(any_factory, staff.agent, umlauts, NOW)
    second = verified_call(any_factory, staff.agent2, written, NOW + timedelta(minutes=1))
    for typed in ("mueller", "MÜLLER", "Müller"):
        page = review.list_requests(any_factory, sup, RequestFilter(search=typed))
        assert sorted(r.call_id for r in page.rows) == [first.call_id, second.call_id], typed
    page = review.list_requests(any_factory, sup, RequestFilter(search="mueller und söhne"))
    assert [r.call_id for r in page.rows] == [first.call_id]
