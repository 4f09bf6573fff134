"""Keys that arrive together go to the field the agent meant, in order.

A fast typist on a slow SSH link, or a terminal without bracketed paste,
delivers "Jose Perez⏎" in one read, and types the next answer the instant
they press Enter, while the check is still on its way to the database. Every
key behind an Enter is held until the desk knows where it goes (the next
question after a match, the same one after a miss) and then typed there, in
order (``tui.key_hold``).
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from textual.pilot import Pilot

from db.demo import DemoReport
from db.models import ItemCheck
from tests.tui.conftest import screen_text
from tests.tui.drive import (
    answer,
    burst,
    known_passphrase,
    on_file,
    one_line,
    settle,
    signed_in,
    start_call,
    typed,
    until,
)
from tui.screens.desk import DeskScreen
from tui.widgets.item_form import FieldInput, ItemForm, field_id
from verification.kinds import CheckResult, Item

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


def _checks(factory: sessionmaker[Session]) -> list[tuple[Item, dict[str, str], CheckResult]]:
    with factory() as session:
        rows = session.scalars(select(ItemCheck).order_by(ItemCheck.id)).all()
        return [(row.item, json.loads(row.stated), row.result) for row in rows]


def _said(factory: sessionmaker[Session], caller: str) -> list[str]:
    """Every answer of a genuine caller as the agent types it: one line each, Enter after."""
    answers = on_file(factory, caller)
    keys: list[str] = []
    for item, stated in answers.items():
        text = one_line(stated) if item is Item.ADDRESS else " ".join(typed(item, stated).values())
        keys += [*text, "enter"]
    return keys


async def test_a_whole_call_typed_in_one_burst_is_checked_answer_by_answer(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    # Each answer typed right behind the Enter of the one before, all in one
    # read: none is lost, cut or judged with its neighbour, and the caller matches.
    app = make_app()
    async with signed_in(app, factory) as pilot:
        await start_call(pilot)
        await burst(pilot, _said(factory, CALLER))
        await until(pilot, lambda: "Gate: OPEN" in screen_text(app) or "OPEN" in screen_text(app))
        checks = _checks(factory)
        assert [result for _, _, result in checks] == [CheckResult.MATCH] * 5, checks
        answers = on_file(factory, CALLER)
        assert checks[1][1] == {"value": answers[Item.PHONE]["value"]}
        assert checks[2][1] == answers[Item.CONTACT_NAME]
        assert checks[3][1] == answers[Item.ORGANIZATION]
        assert app.screen.view is not None and app.screen.view.gate_open


async def test_a_burst_across_a_miss_lands_the_second_try_whole(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    # A wrong name, Enter, and at once the right one: the miss keeps the
    # desk on the name, and the second try goes into its field, whole.
    app = make_app()
    async with signed_in(app, factory) as pilot:
        await _asked(pilot, factory, Item.USER_ID, Item.PHONE)
        await burst(pilot, [*"Olivia Nguyen", "enter", *"Jose Perez", "enter", *"Contoso"])
        await until(pilot, lambda: len(_checks(factory)) == 4)
        checks = _checks(factory)[2:]
        assert checks[0] == (
            Item.CONTACT_NAME,
            {"first": "Olivia", "last": "Nguyen"},
            CheckResult.MISMATCH,
        )
        assert checks[1] == (
            Item.CONTACT_NAME,
            {"first": "Jose", "last": "Perez"},
            CheckResult.MATCH,
        )
        # The keys after the second Enter wait for the organization's question.
        assert _typed(pilot, Item.ORGANIZATION, "value") == "Contoso"
        assert "Misses left: 2" in screen_text(app)


async def test_an_address_in_one_line_fills_its_parts_and_matches(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    app = make_app()
    async with signed_in(app, factory) as pilot:
        order = (Item.USER_ID, Item.PHONE, Item.CONTACT_NAME, Item.ORGANIZATION)
        await _asked(pilot, factory, *order)
        await burst(pilot, [*"123 N Main St Ste 400, Springfield, IL 62704-1234"])
        # Seen before Enter: the parts as read.
        assert _typed(pilot, Item.ADDRESS, "city") == "Springfield"
        assert _typed(pilot, Item.ADDRESS, "postal_code") == "62704-1234"
        await burst(pilot, ["enter"])
        await until(pilot, lambda: len(_checks(factory)) == 5)
        _, stated, result = _checks(factory)[-1]
        assert result is CheckResult.MATCH
        assert stated["line1"] == "123 N Main St" and stated["line2"] == "Ste 400"


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
        assert _typed(pilot, Item.ADDRESS, "line1") == "123 N Main St"


async def test_an_enter_left_from_the_last_question_does_not_check_this_one(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    # A check asked for the user ID, handled once the phone is asked: it must
    # not check anything.
    app = make_app()
    async with signed_in(app, factory) as pilot:
        await _asked(pilot, factory, Item.USER_ID)
        await burst(pilot, [*"425555"])
        form = app.screen.query_one(ItemForm)
        form.post_message(ItemForm.Check(Item.USER_ID, {"value": CALLER}))
        await settle(pilot)
        screen = screen_text(app)
        assert "Misses left: 3" in screen and "Phone number: ✗ Miss" not in screen
        assert _typed(pilot, Item.PHONE, "value") == "425555"
        assert len(_checks(factory)) == 1
