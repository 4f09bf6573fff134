"""Guessing across calls: hanging up and calling again buys no new guesses.

PRODUCT.md section 4 "Attempts" and section 9 "guessing": misses count per
tenant (and per unknown stated user ID) over every call and every agent in
the window; past ``tenant_max_misses`` the tenant is locked for phone
cancellation until a supervisor clears it. These run on SQLite and on a real
PostgreSQL server.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from db import desk, review
from db.engine import unit_of_work
from db.models import AccountUser
from tests.helpers.policy import DEFAULTS
from tests.helpers.review_data import (
    SETTINGS,
    Account,
    Staff,
    make_account,
    make_staff,
    missed_call,
    stated,
)
from verification.errors import InputError
from verification.kinds import CallState, Item, Outcome

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
TODAY = NOW.astimezone().date()
PIN = "7391"
PUBLIC = (Item.PHONE, Item.CONTACT_NAME, Item.ORGANIZATION, Item.ADDRESS)


def _pin_guesses() -> list[str]:
    return [f"{n:04d}" for n in range(10_000) if f"{n:04d}" != PIN]


def _public_facts(
    factory: sessionmaker[Session],
    staff_agent: object,
    account: Account,
    call_id: int,
    at: datetime,
) -> desk.CallView | None:
    """The caller states every public fact right; None once the desk refuses items."""
    username = staff_agent.username  # type: ignore[attr-defined]
    view = None
    for item in (Item.USER_ID, *PUBLIC):
        try:
            view = desk.submit_item(
                factory, call_id, username, item, stated(account)[item], SETTINGS, at
            )
        except InputError:
            return None
    return view


@pytest.fixture
def setup(any_factory: sessionmaker[Session]) -> tuple[sessionmaker[Session], Staff, Account]:
    staff = make_staff(any_factory)
    account = make_account(any_factory, "Guessed Ltd", "+14255550142", TODAY, pin=PIN)
    return any_factory, staff, account


def test_hanging_up_after_each_wrong_pin_buys_no_new_guesses(setup) -> None:
    """The attack of the review: 3 wrong PINs, hang up, call again, alternating agents."""
    factory, staff, account = setup
    agents = [staff.agent, staff.agent2]
    guesses = iter(_pin_guesses())
    wrong_guesses = 0
    at = NOW
    for n in range(43):
        agent = agents[n % 2]
        at += timedelta(minutes=5)
        view = desk.start_call(factory, agent.id, agent.username, SETTINGS, at)
        after_facts = _public_facts(factory, agent, account, view.call_id, at)
        if after_facts is not None:
            for _ in range(3):
                try:
                    after = desk.submit_item(
                        factory,
                        view.call_id,
                        agent.username,
                        Item.PIN,
                        {"value": next(guesses)},
                        SETTINGS,
                        at,
                    )
                except InputError:
                    break
                wrong_guesses += 1
                if after.locked or after.tenant_locked:
                    break
        ended = desk.load_call(factory, view.call_id, SETTINGS, at)
        outcome = Outcome.VERIFICATION_FAILED if ended.locked else Outcome.ABANDONED
        desk.end_call(factory, view.call_id, agent.username, outcome, "", at)

    assert wrong_guesses <= DEFAULTS.tenant_max_misses
    final = desk.start_call(factory, staff.agent.id, staff.agent.username, SETTINGS, at)
    # Not even the account is looked up now: the tenant is locked.
    with pytest.raises(InputError, match="locked"):
        desk.submit_item(
            factory,
            final.call_id,
            staff.agent.username,
            Item.USER_ID,
            {"value": account.user_id},
            SETTINGS,
            at,
        )
    kinds = {(row.kind, row.tenant_id) for row in review.queue(factory, staff.supervisor.id)}
    assert ("tenant_locked", account.tenant_id) in kinds


def test_misses_spread_over_a_day_still_lock_the_tenant(setup) -> None:
    """One wrong guess per call, hours apart, different agents: 5 in 24 h lock."""
    factory, staff, account = setup
    agents = [staff.agent, staff.agent2, staff.supervisor]
    for n in range(DEFAULTS.tenant_max_misses):
        agent = agents[n % 3]
        at = NOW + timedelta(hours=4 * n)
        view = missed_call(factory, agent, account, at)
        assert view.tenant_locked is (n == DEFAULTS.tenant_max_misses - 1)


def test_misses_outside_the_window_do_not_add_up(setup) -> None:
    factory, staff, account = setup
    window = timedelta(hours=DEFAULTS.tenant_lock_window_hours)
    for n in range(DEFAULTS.tenant_max_misses + 2):
        at = NOW + n * (window / 2) + timedelta(minutes=1) * n
        view = missed_call(factory, staff.agent, account, at)
        # At most 3 of these fall within any 24 h: never the lock.
        assert not view.tenant_locked


def test_a_cleared_tenant_gets_its_guesses_back_only_from_the_clearance(setup) -> None:
    factory, staff, account = setup
    at = NOW
    for _ in range(DEFAULTS.tenant_max_misses):
        view = missed_call(factory, staff.agent, account, at)
    assert view.tenant_locked
    at += timedelta(minutes=10)
    review.clear_tenant_lock(factory, staff.supervisor.id, account.tenant_id, "Called back", at)
    at += timedelta(minutes=1)
    view = desk.start_call(factory, staff.agent.id, staff.agent.username, SETTINGS, at)
    for item, fields in [*stated(account).items(), (Item.PIN, {"value": PIN})]:
        view = desk.submit_item(
            factory, view.call_id, staff.agent.username, item, fields, SETTINGS, at
        )
    assert view.gate_open and not view.tenant_locked


def test_an_unknown_user_id_locks_after_the_same_misses_across_calls(setup) -> None:
    factory, staff, _ = setup
    unknown = {"value": "Nobody@Nowhere.example"}
    at = NOW
    for n in range(DEFAULTS.tenant_max_misses):
        agent = (staff.agent, staff.agent2)[n % 2]
        at += timedelta(minutes=7)
        view = desk.start_call(factory, agent.id, agent.username, SETTINGS, at)
        view = desk.submit_item(
            factory, view.call_id, agent.username, Item.USER_ID, unknown, SETTINGS, at
        )
        desk.end_call(factory, view.call_id, agent.username, Outcome.ABANDONED, "", at)
    view = desk.start_call(factory, staff.agent.id, staff.agent.username, SETTINGS, at)
    # Written differently, the same user ID: still locked, and no miss is counted.
    with pytest.raises(InputError, match="locked"):
        desk.submit_item(
            factory,
            view.call_id,
            staff.agent.username,
            Item.USER_ID,
            {"value": " nobody@NOWHERE.example"},
            SETTINGS,
            at,
        )
    assert desk.load_call(factory, view.call_id, SETTINGS, at).misses_left == DEFAULTS.max_misses
    rows = review.queue(factory, staff.supervisor.id)
    locked_ids = [row for row in rows if row.kind == "user_id_locked"]
    assert len(locked_ids) == 1
    # The queue names the user ID masked, never in full.
    assert "nobody@nowhere.example" not in repr(locked_ids)


def test_a_call_ended_unlocked_with_misses_reaches_the_queue(setup) -> None:
    factory, staff, account = setup
    view = missed_call(factory, staff.agent, account, NOW, end=False)
    assert not view.locked and view.state is CallState.OPEN
    desk.end_call(factory, view.call_id, staff.agent.username, Outcome.ABANDONED, "", NOW)
    rows = review.queue(factory, staff.supervisor.id)
    assert [(r.kind, r.call_id) for r in rows if r.kind == "ended_with_misses"] == [
        ("ended_with_misses", view.call_id)
    ]


def _guess_user_ids(
    factory: sessionmaker[Session], staff: Staff, guesses: list[str], at: datetime
) -> tuple[int, int]:
    """Up to 3 user IDs a call, hanging up after each call: (misses counted, refused)."""
    misses = refused = 0
    agents = [staff.agent, staff.agent2]
    for n in range(0, len(guesses), 3):
        agent = agents[n // 3 % 2]
        at += timedelta(minutes=5)
        view = desk.start_call(factory, agent.id, agent.username, SETTINGS, at)
        for guess in guesses[n : n + 3]:
            try:
                after = desk.submit_item(
                    factory, view.call_id, agent.username, Item.USER_ID, {"value": guess},
                    SETTINGS, at,
                )  # fmt: skip
            except InputError:
                refused += 1
                continue
            misses += after.misses_left < view.misses_left
            view = after
        desk.abandon_call(factory, view.call_id, agent.username, "", at)
    return misses, refused


def test_distinct_wrong_user_ids_on_the_tenants_domain_lock_the_tenant(setup) -> None:
    """120 new addresses at the tenant's domain over 40 calls: locked after tenant_max_misses."""
    factory, staff, account = setup
    domain = account.user_id.rpartition("@")[2]
    guesses = [f"guess{n}@{domain}" for n in range(120)]
    misses, refused = _guess_user_ids(factory, staff, guesses, NOW)

    assert misses == DEFAULTS.tenant_max_misses and refused == 120 - misses
    # The real user ID is refused too while the tenant is locked, in a new call.
    later = NOW + timedelta(hours=5)
    view = desk.start_call(factory, staff.agent.id, staff.agent.username, SETTINGS, later)
    with pytest.raises(InputError, match="locked for phone cancellation"):
        desk.submit_item(
            factory, view.call_id, staff.agent.username, Item.USER_ID,
            stated(account)[Item.USER_ID], SETTINGS, later,
        )  # fmt: skip
    [row] = [
        r for r in review.queue(factory, staff.supervisor.id) if r.tenant_id == account.tenant_id
    ]
    assert row.organization == "Guessed Ltd"


def test_a_domain_two_tenants_hold_locks_neither(setup) -> None:
    """Guesses at a shared domain (a mail provider's) name no tenant, so lock none."""
    factory, staff, account = setup
    other = make_account(factory, "Other Ltd", "+14255550143", TODAY)
    with unit_of_work(factory) as session:  # both tenants have a user at mail.example
        for tenant_id, user in (
            (account.tenant_id, "a@mail.example"),
            (other.tenant_id, "b@mail.example"),
        ):
            session.add(AccountUser(user_id=user, display_name="X", tenant_id=tenant_id))
    misses, refused = _guess_user_ids(
        factory, staff, [f"g{n}@mail.example" for n in range(12)], NOW
    )
    assert (misses, refused) == (12, 0)
    view = desk.start_call(
        factory, staff.agent.id, staff.agent.username, SETTINGS, NOW + timedelta(hours=2)
    )
    view = desk.submit_item(
        factory, view.call_id, staff.agent.username, Item.USER_ID, stated(account)[Item.USER_ID],
        SETTINGS, NOW + timedelta(hours=2),
    )  # fmt: skip
    assert view.tenant_found and not view.tenant_locked
