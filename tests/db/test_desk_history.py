"""The tenant's earlier calls on the agent desk: one line, and only once verified."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from db import desk
from tests.helpers.review_data import (
    SETTINGS,
    expedited_call,
    failed_call,
    make_account,
    make_staff,
    stated,
)
from verification.kinds import Item

NOW = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
TODAY = NOW.astimezone().date()


def test_the_earlier_calls_line_waits_for_every_item_to_match(
    any_factory: sessionmaker[Session],
) -> None:
    factory = any_factory  # both backends: the line is one statement with subqueries
    staff = make_staff(factory)
    account = make_account(factory, "Contoso", "+14255550100", TODAY)
    failed_call(factory, staff.agent2, account, NOW - timedelta(days=40))  # out of the 30 days
    failed_call(factory, staff.agent2, account, NOW - timedelta(days=2))
    expedited_call(factory, staff.agent, account, NOW - timedelta(days=1))

    view = desk.start_call(factory, staff.agent.id, "ana", SETTINGS, NOW)
    assert view.earlier == ""
    for item, fields in stated(account).items():
        view = desk.submit_item(factory, view.call_id, "ana", item, fields, SETTINGS, NOW)
        if item is not Item.ADDRESS:
            # Blind: the user ID found the tenant, but nothing about it shows yet.
            assert view.earlier == "", item
    day = (NOW - timedelta(days=1)).astimezone().date()
    assert view.earlier == (
        f"Earlier: 2 calls in 30 days · 1 locked · last request {day:%Y-%m-%d} "
        "expedited deprovisioning"
    )


def test_a_first_call_says_so(any_factory: sessionmaker[Session]) -> None:
    factory = any_factory  # both backends: the line is one statement with subqueries
    staff = make_staff(factory)
    account = make_account(factory, "Contoso", "+14255550100", TODAY)
    view = desk.start_call(factory, staff.agent.id, "ana", SETTINGS, NOW)
    for item, fields in stated(account).items():
        view = desk.submit_item(factory, view.call_id, "ana", item, fields, SETTINGS, NOW)
    assert view.earlier == "Earlier: no calls in 30 days"
