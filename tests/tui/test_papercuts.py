"""Papercuts of the agent's and the supervisor's keys: each test names one it holds fixed."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from textual import events
from textual.color import Color

from db.demo import DemoReport
from db.models import Agent, ItemCheck
from db.settings import Settings
from db.staff.agents import add_agent
from tests.helpers.policy import DEFAULTS
from tests.tui.conftest import screen_text
from tests.tui.drive import (
    answer,
    burst,
    known_passphrase,
    on_file,
    settle,
    signed_in,
    start_call,
    text,
    until,
)
from tests.tui.test_failing_calls import WRONG_PHONES, lock_tenant
from tui.screens.checklist_modal import ChecklistModal
from tui.screens.desk import DeskScreen
from tui.screens.end_call_modal import EndCallModal
from tui.widgets.item_form import FieldInput, field_id
from verification.kinds import CheckResult, Item, Role

CALLER = "jose.perez@contoso.example.com"
RENEW_CALLER = "liam.oconnor@wideworld.example"


def _field(app, item: Item, field: str) -> FieldInput:
    return app.screen.query_one(f"#{field_id(item, field)}", FieldInput)


def _last_check(factory: sessionmaker[Session]) -> tuple[Item, dict[str, str], CheckResult]:
    with factory() as session:
        row = session.scalars(select(ItemCheck).order_by(ItemCheck.id.desc())).first()
        assert row is not None
        return row.item, json.loads(row.stated), row.result


async def _at_address(pilot, factory: sessionmaker[Session], caller: str = CALLER) -> None:
    await start_call(pilot)
    answers = on_file(factory, caller)
    for item in (Item.USER_ID, Item.PHONE, Item.CONTACT_NAME, Item.ORGANIZATION):
        await answer(pilot, item, answers[item])


async def test_a_whole_address_pasted_into_line_1_is_split_not_missed(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    # Papercut 1: the whole address in line 1, city, state and ZIP blank, was a miss.
    app = make_app()
    async with signed_in(app, factory) as pilot:
        await _at_address(pilot, factory)
        app.post_message(events.Paste("123 North Main Street, Suite 400, Springfield, IL 62704"))
        await pilot.pause()
        assert _field(app, Item.ADDRESS, "city").value == "Springfield"
        await pilot.press("enter")
        await settle(pilot)
        item, stated, result = _last_check(factory)
        assert item is Item.ADDRESS and result is CheckResult.MATCH
        assert stated["line1"] == "123 North Main Street"


async def test_an_address_without_its_city_is_not_checked(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    # Blank required parts are the agent's slip: Enter goes to the part, no miss.
    app = make_app()
    async with signed_in(app, factory) as pilot:
        await _at_address(pilot, factory)
        await burst(pilot, [*"123 North Main Street", "enter", "enter", "enter"])
        assert app.focused is _field(app, Item.ADDRESS, "region")
        assert _last_check(factory)[0] is Item.ORGANIZATION
        # Straight from the country: the parts still to type are said, and focused.
        _field(app, Item.ADDRESS, "country").focus()
        await burst(pilot, ["enter"])
        assert "city and postal code still to type" in text(app)
        assert app.focused is _field(app, Item.ADDRESS, "city")
        assert _last_check(factory)[0] is Item.ORGANIZATION


async def test_the_focused_field_stands_out(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    # Papercut 6: focused and other fields were 235 vs 234 grey.
    app = make_app()
    async with signed_in(app, factory, call=True) as pilot:
        await answer(pilot, Item.USER_ID, {"value": CALLER})
        await answer(pilot, Item.PHONE, on_file(factory, CALLER)[Item.PHONE])
        answers = on_file(factory, CALLER)
        for item in (Item.CONTACT_NAME, Item.ORGANIZATION):
            await answer(pilot, item, answers[item])
        focused = _field(app, Item.ADDRESS, "line1")
        other = _field(app, Item.ADDRESS, "city")
        assert app.focused is focused
        a: Color = focused.styles.background
        b: Color = other.styles.background
        distance = sum(abs(x - y) for x, y in zip(a.rgb, b.rgb, strict=True))
        assert distance > 60, (a, b)


async def test_after_an_input_error_the_retyped_answer_replaces_it(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    # Papercut 6: after an input error the field in error has focus, its text
    # selected: the answer typed again at once replaces it.
    phone = on_file(factory, CALLER)[Item.PHONE]["value"]
    app = make_app()
    async with signed_in(app, factory, call=True) as pilot:
        await answer(pilot, Item.USER_ID, {"value": CALLER})
        await burst(pilot, [*"12", "enter", *phone, "enter"])
        await until(pilot, lambda: _last_check(factory)[0] is Item.PHONE)
        assert _last_check(factory) == (Item.PHONE, {"value": phone}, CheckResult.MATCH)


async def test_a_locked_sign_in_does_not_promise_a_retry(
    factory: sessionmaker[Session], make_app
) -> None:
    # Papercut 7: a locked agent was told "Try again in 8 s" forever.
    add_agent(factory, "ana", "Ana Agent", Role.AGENT, "the right passphrase")
    with factory.begin() as session:
        agent = session.scalars(select(Agent).where(Agent.username == "ana")).one()
        agent.locked_at = datetime.now(UTC)  # as after repeated failures
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await burst(pilot, [*"ana", "enter", *"the right passphrase", "enter"])
        await until(pilot, lambda: "Wrong username" in screen_text(app))
        screen = screen_text(app)
        assert "a supervisor must reset it" in screen
        assert "Try again in" not in screen


async def test_keys_typed_while_signing_in_reach_the_desk(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    # Papercut 7: keys typed during "Signing in…" were dropped; n starts the call.
    passphrase = known_passphrase(factory, "agent")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await burst(pilot, [*"agent", "enter", *passphrase, "enter", "n"])
        await until(pilot, lambda: isinstance(app.screen, DeskScreen))
        await until(pilot, lambda: app.screen.view is not None)
        assert isinstance(app.screen, DeskScreen) and app.screen.view is not None


async def test_the_gate_says_when_verification_expires_and_the_last_miss_warns(
    factory: sessionmaker[Session], demo: DemoReport, settings: Settings, make_app
) -> None:
    # Papercut 10: "holds until 00:42" beside "01:15" read as expired; "Misses
    # left: 0" did not say that the next miss locks.
    app = make_app()
    async with signed_in(app, factory, call=True) as pilot:
        await answer(pilot, Item.USER_ID, {"value": CALLER})
        for phone in WRONG_PHONES[: DEFAULTS.max_misses]:
            await answer(pilot, Item.PHONE, {"value": phone})
        assert "Misses left: 0" in text(app)
        assert "Next miss locks call" in text(app)


async def test_a_call_locked_by_its_organization_shows_no_misses_left(
    factory: sessionmaker[Session], demo: DemoReport, settings: Settings, make_app
) -> None:
    # Papercut 10: "Misses left: 2" showed on a call locked by its organization.
    lock_tenant(factory, settings, CALLER)
    app = make_app()
    async with signed_in(app, factory, call=True) as pilot:
        await answer(pilot, Item.USER_ID, {"value": CALLER})
        # The lock refuses the user ID before any lookup (the same for every
        # address on the tenant's domain): the desk says so, and no misses left.
        assert "transfer the caller to a supervisor" in text(app)
        assert "Misses left" not in text(app)


async def test_the_gate_line_names_a_clock_time_at_which_it_expires(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    app = make_app()
    async with signed_in(app, factory, call=True) as pilot:
        for item, stated in on_file(factory, RENEW_CALLER).items():
            await answer(pilot, item, stated)
        assert "verification expires at" in text(app)
        assert "holds until" not in text(app)


async def test_the_action_key_and_its_enter_typed_together_confirm_once_shown(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    # The checklist dropped keys pressed as it opened; now Enter, typed with
    # r in one burst, reaches it, and the end of the call follows.
    app = make_app()
    async with signed_in(app, factory, call=True) as pilot:
        for item, stated in on_file(factory, RENEW_CALLER).items():
            await answer(pilot, item, stated)
        await burst(pilot, ["r", "enter"])
        await until(pilot, lambda: isinstance(app.screen, EndCallModal))
        assert isinstance(app.screen, EndCallModal)
        assert app.screen.query_one("#outcomes").highlighted_option.id == "auto_renew_off"


async def test_the_checklist_needs_no_ticks(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    app = make_app()
    async with signed_in(app, factory, call=True) as pilot:
        for item, stated in on_file(factory, CALLER).items():
            await answer(pilot, item, stated)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ChecklistModal)
        await pilot.press("space")
        assert "Enter confirms every point" in text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, ChecklistModal)


async def test_both_dates_typed_in_one_burst_land_in_their_fields(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    # The supervisor's "2026-12-01⇥2026-12-31" in one burst put both dates in From.
    from tui.screens.supervisor_requests import SupervisorRequestsScreen

    app = make_app()
    async with signed_in(app, factory, "supervisor") as pilot:
        await pilot.press("f6")
        await settle(pilot)
        await app.push_screen(SupervisorRequestsScreen(app.signed_in))
        await settle(pilot)
        app.screen.query_one("#f-since").focus()
        await burst(pilot, [*"2026-12-01", "tab", *"2026-12-31"])
        assert app.screen.query_one("#f-since").value == "2026-12-01"
        assert app.screen.query_one("#f-until").value == "2026-12-31"
