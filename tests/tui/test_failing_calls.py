"""Calls that do not get through the gate: misses, locks, input errors, expiry."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db import desk as desk_api
from db.demo import DemoReport
from db.models import Agent, ItemCheck
from db.settings import Settings
from tests.helpers.policy import DEFAULTS, set_limits
from tests.tui.conftest import START, Clock
from tests.tui.drive import (
    answer,
    end_call,
    known_passphrase,
    last_call,
    on_file,
    settle,
    sign_in,
    start_call,
    text,
    until,
    verify_all,
)
from tui.screens.end_call_modal import EndCallModal
from tui.widgets.item_form import MISS_SENTENCE, field_id
from verification.kinds import CallState, CheckResult, Item, Outcome

CALLER = "jose.perez@contoso.example.com"
WRONG_PHONES = ("425-555-0199", "425-555-0198", "425-555-0197", "425-555-0196")


async def test_misses_lock_the_call(
    factory: sessionmaker[Session], demo: DemoReport, settings: Settings, make_app
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "agent", known_passphrase(factory, "agent"))
        await start_call(pilot)
        await answer(pilot, Item.USER_ID, {"value": CALLER})
        await answer(pilot, Item.PHONE, {"value": WRONG_PHONES[0]})
        screen = text(app)
        assert MISS_SENTENCE in screen
        assert f"Misses left: {DEFAULTS.max_misses - 1}" in screen
        # The desk stays on the missed item: the retry lands in its field.
        assert app.focused.id == field_id(Item.PHONE, "value")
        await answer(pilot, Item.PHONE, {"value": WRONG_PHONES[0]})
        assert "same answer as the last miss" in text(app)  # counted once
        assert f"Misses left: {DEFAULTS.max_misses - 1}" in text(app)
        await answer(pilot, Item.PHONE, {"value": WRONG_PHONES[1]})
        assert f"Misses left: {DEFAULTS.max_misses - 2}" in text(app)
        await pilot.press("pagedown")
        assert f"Misses left: {DEFAULTS.max_misses - 2}" in text(app)
        await answer(pilot, Item.CONTACT_NAME, {"first": "Jon", "last": "Smith"})
        assert f"Misses left: {DEFAULTS.max_misses - 3}" in text(app)
        await pilot.press("pagedown")
        await answer(pilot, Item.ORGANIZATION, {"value": "Fabrikam"})

        screen = text(app)
        assert "the call is locked" in screen
        desk = app.screen
        # A locked call offers only "end call".
        assert desk.check_action("end_call", ()) is True
        for kind in ("cancel_now", "auto_renew_off", "expedited"):
            assert desk.check_action("act", (kind,)) is False
        assert "Cancel now" not in screen
        assert app.focused is None  # nothing left to type into

        await pilot.press("f4")
        assert isinstance(app.screen, EndCallModal)
        assert app.screen.query_one("#outcomes").highlighted_option.id == "verification_failed"
        await pilot.press("enter")
        await settle(pilot)
        assert "closed: Verification failed" in text(app)

    call = last_call(factory)
    assert call.outcome is Outcome.VERIFICATION_FAILED
    results = [(check.item, check.result) for check in call.checks]
    assert results == [
        (Item.USER_ID, CheckResult.MATCH),
        (Item.PHONE, CheckResult.MISMATCH),
        (Item.PHONE, CheckResult.MISMATCH),
        (Item.CONTACT_NAME, CheckResult.MISMATCH),
        (Item.ORGANIZATION, CheckResult.MISMATCH),
    ]


def lock_tenant(factory: sessionmaker[Session], settings: Settings, user_id: str) -> None:
    """Two earlier calls (by another agent) that locked: the tenant locks.

    By the locked-calls rule alone: misses across calls would lock it sooner.
    """
    set_limits(factory, tenant_max_misses=100)
    with factory() as session:
        agent_id = session.scalars(select(Agent.id).where(Agent.username == "agent2")).one()
    now = START.replace(hour=9)
    for _ in range(DEFAULTS.tenant_lock_calls):
        call_id = desk_api.start_call(factory, agent_id, "agent2", settings, now).call_id
        desk_api.submit_item(
            factory, call_id, "agent2", Item.USER_ID, {"value": user_id}, settings, now
        )
        for phone in WRONG_PHONES:
            view = desk_api.submit_item(
                factory, call_id, "agent2", Item.PHONE, {"value": phone}, settings, now
            )
        assert view.locked
        desk_api.end_call(factory, call_id, "agent2", Outcome.VERIFICATION_FAILED, "", now)


async def test_a_locked_tenant_is_shown_as_soon_as_it_is_found(
    factory: sessionmaker[Session], demo: DemoReport, settings: Settings, make_app
) -> None:
    lock_tenant(factory, settings, CALLER)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "agent", known_passphrase(factory, "agent"))
        await start_call(pilot)
        await answer(pilot, Item.USER_ID, {"value": CALLER})
        screen = text(app)
        # Refused before any lookup, the real user ID like a guessed one on its
        # domain: the refusal tells a guesser nothing about which address is real.
        assert "transfer the caller to a supervisor" in screen
        assert not app.screen.check_action("act", ("cancel_now",))  # no action to take
        await pilot.press("f4")
        assert app.screen.query_one("#outcomes").highlighted_option.id == "escalated"
        await pilot.press("enter")
        await settle(pilot)
        assert "closed: Escalated" in text(app)

    call = last_call(factory)
    assert call.outcome is Outcome.ESCALATED
    assert call.checks == []  # a refusal is not an attempt


async def test_input_errors_show_inline_and_do_not_count(
    factory: sessionmaker[Session], demo: DemoReport, settings: Settings, make_app
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "agent", known_passphrase(factory, "agent"))
        await start_call(pilot)
        await answer(pilot, Item.USER_ID, {"value": "not a user id"})
        assert "(not counted)" in text(app)
        await answer(pilot, Item.USER_ID, {"value": CALLER})
        await answer(pilot, Item.PHONE, {"value": "12"})
        screen = text(app)
        assert "not a phone number: 12 (not counted)" in screen
        assert f"Misses left: {DEFAULTS.max_misses}" in screen
        # What was typed stays, to be corrected rather than typed again.
        phone = app.screen.query_one(f"#{field_id(Item.PHONE, 'value')}")
        assert phone.value == "12"
        assert app.focused is phone

    call = last_call(factory)
    assert call.state is CallState.OPEN
    assert [(c.item, c.result) for c in call.checks] == [(Item.USER_ID, CheckResult.MATCH)]


async def test_a_verification_expires(
    factory: sessionmaker[Session],
    demo: DemoReport,
    settings: Settings,
    clock: Clock,
    make_app,
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "agent", known_passphrase(factory, "agent"))
        await start_call(pilot)
        await verify_all(pilot, on_file(factory, CALLER))
        assert "Gate OPEN" in text(app)

        clock.advance(minutes=DEFAULTS.verification_expiry_minutes, seconds=1)
        await until(pilot, lambda: "Gate CLOSED" in text(app))  # the next tick notices
        screen = text(app)
        assert "Gate CLOSED" in screen
        assert "expired" in screen
        assert app.screen.check_action("act", ("cancel_now",)) is None
        # Back to the first item, to be asked again.
        assert app.focused is not None
        assert app.focused.id == field_id(Item.USER_ID, "value")

    view = desk_api.load_call(factory, last_call(factory).id, settings, clock())
    assert not view.gate_open
    assert all(state.status == "not_asked" for state in view.items)
    with factory() as session:
        assert session.scalars(select(ItemCheck)).all()  # the checks themselves are kept


async def test_end_call_is_offered_while_verifying_and_can_go_back(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "agent", known_passphrase(factory, "agent"))
        await start_call(pilot)
        await pilot.press(*"jose")
        await pilot.press("f4")
        assert isinstance(app.screen, EndCallModal)
        assert app.screen.query_one("#outcomes").highlighted_option.id == "abandoned"
        await pilot.press("escape")
        # Back in the call with what was typed.
        assert app.focused is not None and app.focused.value == "jose"
        await end_call(pilot)
        assert "closed: Abandoned" in text(app)

    assert last_call(factory).outcome is Outcome.ABANDONED


async def test_an_unknown_user_id_is_a_miss_and_is_asked_again(
    factory: sessionmaker[Session], demo: DemoReport, settings: Settings, make_app
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "agent", known_passphrase(factory, "agent"))
        await start_call(pilot)
        await answer(pilot, Item.USER_ID, {"value": "nobody@example.com"})
        screen = text(app)
        assert "User ID: ✗ Miss" in screen
        assert f"Misses left: {DEFAULTS.max_misses - 1}" in screen
        # Nothing else can be checked before the account is found: the user ID
        # is asked again, its old answer selected so typing replaces it.
        field = app.focused
        assert field is not None and field.id == field_id(Item.USER_ID, "value")
        await pilot.press(*"x")
        assert field.value == "x"
        await pilot.press("pagedown")
        assert app.focused is field
        await answer(pilot, Item.USER_ID, {"value": CALLER})
        assert "User ID: ✓ Match (account found)" in text(app)

    results = [(c.item, c.result) for c in last_call(factory).checks]
    assert results == [(Item.USER_ID, CheckResult.MISMATCH), (Item.USER_ID, CheckResult.MATCH)]
