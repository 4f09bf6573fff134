"""The desk's frame: opening the database, palette, help, the call timer."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session, sessionmaker

from db.demo import DemoReport
from db.migrate import SchemaError, head
from db.settings import Settings
from tests.tui.conftest import Clock
from tests.tui.drive import known_passphrase, last_call, sign_in, start_call, text, until
from tui.app import CallgateApp
from tui.commands.desk import connector
from tui.screens.help_modal import HelpModal
from tui.screens.sign_in import SignInScreen
from verification.kinds import CallState


def test_the_desk_upgrades_a_new_sqlite_file(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    factory = connector(Settings(database_url=url))
    with factory() as session:
        bind = session.get_bind()
        assert "call" in inspect(bind).get_table_names()
        version = session.connection().exec_driver_sql("SELECT version_num FROM alembic_version")
        assert version.scalar_one() == head()


async def exit_message(app: CallgateApp) -> object:
    """Run the desk until it has tried its database; the message it exited with."""
    messages: list[object] = []
    exit_app = app.exit

    def exit_recording(*args: Any, **kwargs: Any) -> None:
        messages.append(kwargs.get("message"))
        exit_app(*args, **kwargs)

    app.exit = exit_recording  # type: ignore[method-assign]
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert app.return_code == 2
    return messages[-1] if messages else None


async def test_an_outdated_schema_stops_the_desk_with_its_message(settings: Settings) -> None:
    def outdated() -> sessionmaker[Session]:
        raise SchemaError("the database schema is at revision 0001: run `callgate db upgrade`")

    assert "callgate db upgrade" in str(await exit_message(CallgateApp(settings, outdated)))


async def test_a_bad_database_url_stops_the_desk_with_its_message() -> None:
    settings = Settings(database_url="nosuchdb://x")
    app = CallgateApp(settings, lambda: connector(settings))
    assert "nosuchdb://x" in str(await exit_message(app))


async def test_palette_offers_what_can_be_done_now(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "agent", known_passphrase(factory, "agent"))
        idle = {command.title for command in app.get_system_commands(app.screen)}
        assert {"New call", "Sign out", "Help", "Theme"} <= idle
        assert "End call" not in idle
        await start_call(pilot)
        calling = {command.title for command in app.get_system_commands(app.screen)}
        assert "End call" in calling
        assert not {"New call", "Sign out"} & calling


async def test_help_opens_with_f1_and_closes_with_escape(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f1")
        assert isinstance(app.screen, HelpModal)
        assert "A call, start to finish" in text(app)
        await pilot.press("escape")
        assert isinstance(app.screen, SignInScreen)


async def test_the_call_timer_follows_the_clock(
    factory: sessionmaker[Session], demo: DemoReport, clock: Clock, make_app
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "agent", known_passphrase(factory, "agent"))
        await start_call(pilot)
        assert "Call #1  00:00" in text(app)
        # One key, and the call is on record before anything is asked.
        call = last_call(factory)
        assert (call.id, call.state, call.started_at) == (1, CallState.OPEN, clock.now)
        clock.advance(minutes=4, seconds=7)
        await until(pilot, lambda: "04:07" in text(app))  # the timer's next tick
        assert "Call #1  04:07" in text(app)
