"""Nothing lost: an interrupted call comes back; a database outage or a held lock keeps what
was typed."""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import event, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from db.demo import DemoReport
from db.engine import make_engine, make_sessionmaker
from db.settings import Settings
from tests.tui.conftest import Clock
from tests.tui.drive import (
    answer,
    known_passphrase,
    last_call,
    on_file,
    settle,
    sign_in,
    start_call,
    text,
    verify_all,
)
from tui.app import CallgateApp
from tui.commands.common import BUSY_MESSAGE
from tui.screens.desk import DeskScreen
from tui.screens.recovered_modal import RecoveredCallModal
from tui.widgets.item_form import field_id
from verification.kinds import CallState, CheckResult, Item, Outcome

CALLER = "jose.perez@contoso.example.com"


async def interrupted_call(factory: sessionmaker[Session], make_app) -> None:
    """Sign in, start a call, check two items, then close the desk without ending it."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "agent", known_passphrase(factory, "agent"))
        await start_call(pilot)
        answers = on_file(factory, CALLER)
        await answer(pilot, Item.USER_ID, answers[Item.USER_ID])
        await answer(pilot, Item.PHONE, answers[Item.PHONE])


async def test_an_open_call_comes_back_where_it_was(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    await interrupted_call(factory, make_app)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "agent", known_passphrase(factory, "agent"))
        assert isinstance(app.screen, RecoveredCallModal)
        assert "Items already checked: 2" in text(app)
        await pilot.press("enter")
        assert isinstance(app.screen, DeskScreen)
        screen = text(app)
        assert "Call #1" in screen
        assert "✓ User ID" in screen and "✓ Phone number" in screen
        # The next question is the one after the last answered.
        assert app.focused.id == field_id(Item.CONTACT_NAME, "name")
        answers = on_file(factory, CALLER)
        del answers[Item.USER_ID], answers[Item.PHONE]
        await verify_all(pilot, answers)
        assert "Gate OPEN" in text(app)

    call = last_call(factory)
    assert call.state is CallState.VERIFIED
    assert len(call.checks) == 5


async def test_an_open_call_can_be_closed_as_abandoned(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    await interrupted_call(factory, make_app)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "agent", known_passphrase(factory, "agent"))
        await pilot.press("a")
        await settle(pilot)
        assert "Call #1 closed: Abandoned" in text(app)
        assert "Read back to the caller" not in text(app)  # the caller is gone
        await pilot.press("enter")
        assert "No call." in text(app)

    call = last_call(factory)
    assert call.outcome is Outcome.ABANDONED
    assert [check.result for check in call.checks] == [CheckResult.MATCH, CheckResult.MATCH]


class FlakyFactory:
    """A sessionmaker that fails like an unreachable database while ``down``."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory
        self.down = False

    def __call__(self, **kwargs: Any) -> Session:
        if self.down:
            raise OperationalError(
                "connect", {}, sqlite3.OperationalError("unable to open database file")
            )
        return self.factory(**kwargs)


async def test_database_down_keeps_what_was_typed_and_allows_retry(
    factory: sessionmaker[Session], demo: DemoReport, settings: Settings, clock: Clock
) -> None:
    flaky = FlakyFactory(factory)
    app = CallgateApp(settings, lambda: flaky, clock=clock)  # type: ignore[arg-type, return-value]
    passphrase = known_passphrase(factory, "agent")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        flaky.down = True
        await sign_in(pilot, "agent", passphrase)
        screen = text(app)
        assert "Database unavailable" in screen
        assert app.screen.query_one("#username").value == "agent"
        flaky.down = False
        await pilot.press("enter")  # the same key again
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)

        await start_call(pilot)
        await answer(pilot, Item.USER_ID, {"value": CALLER})
        flaky.down = True
        phone = on_file(factory, CALLER)[Item.PHONE]
        await answer(pilot, Item.PHONE, phone)
        assert "Not checked: the database is unavailable" in text(app)
        field = app.screen.query_one(f"#{field_id(Item.PHONE, 'value')}")
        assert field.value == phone["value"]
        assert app.focused is field
        flaky.down = False
        await pilot.press("enter")
        await settle(pilot)
        assert "✓ Phone number" in text(app)
        assert app.focused.id == field_id(Item.CONTACT_NAME, "name")

    assert [check.item for check in last_call(factory).checks] == [Item.USER_ID, Item.PHONE]


async def test_a_write_lock_held_elsewhere_says_busy_and_keeps_what_was_typed(
    db_url: str, factory: sessionmaker[Session], demo: DemoReport, settings: Settings, clock: Clock
) -> None:
    """Another connection holds the write lock (as a stuck desk would): the check waits
    the busy timeout, then the desk says the database is busy and loses nothing."""
    engine = make_engine(db_url)

    @event.listens_for(engine, "connect")
    def _short_wait(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout = 50")  # after the engine's own

    desks = make_sessionmaker(engine)
    app = CallgateApp(settings, lambda: desks, clock=clock)
    holder = sqlite3.connect(make_url(db_url).database or "", isolation_level=None)
    try:
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await sign_in(pilot, "agent", known_passphrase(factory, "agent"))
            await start_call(pilot)
            await answer(pilot, Item.USER_ID, {"value": CALLER})
            phone = on_file(factory, CALLER)[Item.PHONE]
            holder.execute("BEGIN IMMEDIATE")
            await answer(pilot, Item.PHONE, phone)
            assert f"{BUSY_MESSAGE}." in text(app)
            field = app.screen.query_one(f"#{field_id(Item.PHONE, 'value')}")
            assert field.value == phone["value"]
            holder.execute("ROLLBACK")
            await pilot.press("enter")
            await settle(pilot)
            assert "✓ Phone number" in text(app)
    finally:
        holder.close()
        engine.dispose()
