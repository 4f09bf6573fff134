"""Data is never markup: the four crashes of issue 11 (item 3), driven through the desk.

Each value below ended a desk with ``MarkupError`` before; now the desk shows it
literally. The property walk over every screen is in ``test_untrusted_screens``.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from db.demo import DemoReport
from db.staff.agents import add_agent
from tests.helpers.hostile import import_tenant, locked_call
from tests.helpers.review_data import PASSPHRASE
from tests.helpers.totp import TOTP_SECRET
from tests.tui.conftest import START
from tests.tui.drive import (
    answer,
    end_call,
    known_passphrase,
    on_file,
    settle,
    sign_in,
    start_call,
    text,
    verify_all,
)
from tui.screens.desk import DeskScreen
from tui.screens.end_call_modal import EndCallModal
from tui.screens.summary_modal import SummaryModal
from tui.screens.supervisor_queue import SupervisorQueueScreen
from tui.screens.supervisor_request import SupervisorRequestScreen
from verification.kinds import Item, Role

TODAY = START.date()
CONTOSO_ADMIN = "jose.perez@contoso.example.com"


async def test_markup_typed_in_the_phone_field_is_an_input_error_not_a_crash(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    passphrase = known_passphrase(factory, "agent")
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "agent", passphrase)
        await start_call(pilot)
        await answer(pilot, Item.USER_ID, {"value": CONTOSO_ADMIN})
        await answer(pilot, Item.PHONE, {"value": "[/]"}, keys=True)
        assert isinstance(app.screen, DeskScreen)
        assert "not a phone number: [/] (not counted)" in text(app)


async def test_an_imported_product_name_with_markup_shows_when_the_gate_opens(
    factory: sessionmaker[Session], make_app
) -> None:
    caller = "caller@suite.example"
    import_tenant(factory, TODAY, "DEMO-11", "HOSTILE-1", caller, product_name="Suite [/]")
    add_agent(factory, "ana", "Ana Agent", Role.AGENT, PASSPHRASE)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "ana", PASSPHRASE)
        await start_call(pilot)
        await verify_all(pilot, on_file(factory, caller))
        screen = text(app)
        assert "Gate OPEN" in screen
        assert "Suite [/]" in screen


async def test_an_organization_with_markup_is_listed_in_the_supervisor_queue(
    factory: sessionmaker[Session], make_app
) -> None:
    caller = "caller@contoso-x.example"
    import_tenant(factory, TODAY, "DEMO-11", "HOSTILE-2", caller, organization="Contoso [/x] Ltd")
    agent = add_agent(factory, "ana", "Ana Agent", Role.AGENT, PASSPHRASE)
    add_agent(
        factory, "sue", "Sue Supervisor", Role.SUPERVISOR, PASSPHRASE, totp_secret=TOTP_SECRET
    )
    locked_call(factory, agent, caller, [], "", START)
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await sign_in(pilot, "sue", PASSPHRASE)
        await pilot.press("f6")
        await settle(pilot)
        assert isinstance(app.screen, SupervisorQueueScreen)
        assert "Contoso [/x] Ltd" in text(app)


async def test_an_end_of_call_note_with_markup_does_not_block_the_review(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    passphrase = known_passphrase(factory, "agent")
    supervisor = known_passphrase(factory, "supervisor")
    note = "caller said [/] weird"
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "agent", passphrase)
        await start_call(pilot)
        await answer(pilot, Item.USER_ID, {"value": CONTOSO_ADMIN})
        await pilot.press("f4")
        await pilot.pause()
        assert isinstance(app.screen, EndCallModal)
        await pilot.click("#note")
        await pilot.press(*note)
        await end_call(pilot)
        assert isinstance(app.screen, SummaryModal)
        await pilot.press("enter", "ctrl+o")
        await settle(pilot)

        await sign_in(pilot, "supervisor", supervisor)
        await pilot.press("f6")
        await settle(pilot)
        await pilot.press("a")  # all requests, newest first: the call just ended
        await settle(pilot)
        app.screen.query_one("#requests").focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, SupervisorRequestScreen)
        assert f"Agent's notes: {note}" in text(app)


def test_control_characters_become_visible_symbols_and_markup_stays_text() -> None:
    from tui.widgets.plain import plain, visible

    assert visible("a\x1b[31mb\r\x00\x7f\t\n") == "a␛[31mb␍␀␡␉␊"
    assert visible("C1\x9b bidi\u202e sep\u2028 surrogate\ud800") == "C1� bidi� sep� surrogate�"
    assert visible("Zoë’s Bakery · Müller & Söhne [b] ✓") == "Zoë’s Bakery · Müller & Söhne [b] ✓"
    content = plain("[b]bold?[/b] [@click=app.quit]x[/]", "second\x1b line")
    assert content.plain == "[b]bold?[/b] [@click=app.quit]x[/]\nsecond␛ line"
    assert not content.spans
