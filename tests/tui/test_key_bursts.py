"""Keys that arrive together go to the field the agent meant, in order.

A fast typist on a slow SSH link, or a terminal without bracketed paste,
delivers "Jose⇥Perez⏎" in one read. Tab and Enter move to the next field
only once the keys before them are typed, so the keys after them must follow.
"""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker
from textual.pilot import Pilot
from textual.widgets import Input

from db.demo import DemoReport
from tests.tui.conftest import screen_text
from tests.tui.drive import (
    answer,
    burst,
    known_passphrase,
    on_file,
    settle,
    signed_in,
    start_call,
    until,
)
from tui.screens.desk import DeskScreen
from tui.widgets.item_form import FieldInput, field_id
from verification.kinds import Item

CALLER = "jose.perez@contoso.example.com"


async def _asked(pilot: Pilot[int], factory: sessionmaker[Session], *before: Item) -> None:
    """A new call with ``before`` answered as on file: the next question is asked."""
    await start_call(pilot)
    answers = on_file(factory, CALLER)
    for item in before:
        await answer(pilot, item, answers[item])


def _typed(pilot: object, item: Item, field: str) -> str:
    app = pilot.app  # type: ignore[attr-defined]
    return str(app.screen.query_one(f"#{field_id(item, field)}", FieldInput).value)


@pytest.mark.parametrize("between", ["tab", "enter"])
async def test_a_burst_splits_the_name_where_the_agent_moved_on(
    factory: sessionmaker[Session], demo: DemoReport, make_app, between: str
) -> None:
    app = make_app()
    async with signed_in(app, factory) as pilot:
        await _asked(pilot, factory, Item.USER_ID, Item.PHONE)
        await burst(pilot, [*"Jose", between, *"Perez"])
        assert _typed(pilot, Item.CONTACT_NAME, "first") == "Jose"
        assert _typed(pilot, Item.CONTACT_NAME, "last") == "Perez"
        assert app.focused is not None
        assert app.focused.id == field_id(Item.CONTACT_NAME, "last")


async def test_a_burst_through_enter_checks_the_whole_answer(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    app = make_app()
    async with signed_in(app, factory) as pilot:
        await _asked(pilot, factory, Item.USER_ID, Item.PHONE)
        await burst(pilot, [*"Jose", "tab", *"Perez", "enter"])
        assert "✓ Primary contact" in screen_text(app)
        assert "Misses left: 3" in screen_text(app)


@pytest.mark.parametrize("between", ["tab", "enter"])
async def test_a_password_manager_typing_the_sign_in_signs_in(
    factory: sessionmaker[Session], demo: DemoReport, make_app, between: str
) -> None:
    # Auto-type: the username, Tab (or Enter), the passphrase, Enter, all at once.
    passphrase = known_passphrase(factory, "agent")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await burst(pilot, [*"agent", between, *passphrase, "enter"])
        await until(pilot, lambda: isinstance(app.screen, DeskScreen))
        assert isinstance(app.screen, DeskScreen)


async def test_keys_after_the_enter_of_an_answer_are_not_judged_with_it(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    # The caller's organization, Enter, and at once the next answer: the check
    # judges what was typed before the Enter, never a miss made of both.
    app = make_app()
    async with signed_in(app, factory) as pilot:
        await _asked(pilot, factory, Item.USER_ID, Item.PHONE, Item.CONTACT_NAME)
        organization = on_file(factory, CALLER)[Item.ORGANIZATION]["value"]
        await burst(pilot, [*organization, "enter", *"123 N Main St"])
        await until(pilot, lambda: "Organization: ✓ Match" in screen_text(app))
        screen = screen_text(app)
        assert "✓ Organization" in screen and "Misses left: 3" in screen


async def test_an_enter_left_from_the_last_question_does_not_check_this_one(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    # A second Enter of a burst, from the user ID's field, handled once the
    # phone is asked: it must not check the phone half typed in its field.
    app = make_app()
    async with signed_in(app, factory) as pilot:
        await _asked(pilot, factory, Item.USER_ID)
        await burst(pilot, [*"425555"])
        user_id_field = app.screen.query_one(f"#{field_id(Item.USER_ID, 'value')}", FieldInput)
        user_id_field.post_message(Input.Submitted(user_id_field, CALLER))
        await settle(pilot)
        screen = screen_text(app)
        assert "Misses left: 3" in screen and "Phone number: ✗ Miss" not in screen
        assert _typed(pilot, Item.PHONE, "value") == "425555"
