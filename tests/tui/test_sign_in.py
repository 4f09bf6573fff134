"""Sign-in: success opens the desk; failures are slowed and finally lock the account."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.models import Agent
from db.staff.agents import add_agent
from tests.helpers.totp import TOTP_SECRET
from tests.tui.conftest import screen_text
from tests.tui.drive import burst, settle, sign_in, until
from tui.screens.desk import DeskScreen
from tui.screens.sign_in import SignInScreen
from verification.kinds import Role
from verification.totp import code_at, time_step

PASSPHRASE = "correct horse battery"


async def test_sign_in_opens_the_desk(factory: sessionmaker[Session], make_app) -> None:
    add_agent(factory, "ana", "Ana Agent", Role.AGENT, PASSPHRASE)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "ana", PASSPHRASE, typed=True)
        assert isinstance(app.screen, DeskScreen)
        text = screen_text(app)
        assert "Ana Agent" in text
        assert "New call" in text
    with factory() as session:
        agent = session.scalars(select(Agent).where(Agent.username == "ana")).one()
        assert agent.failed_signins == 0
        assert agent.last_signin_at is not None


async def fail_once(pilot) -> None:
    """Retype a wrong passphrase in the (re-enabled) form and press Enter."""
    pilot.app.screen.query_one("#passphrase").focus()
    await pilot.press(*"wrong passphrase", "enter")
    await settle(pilot)


async def test_failed_sign_ins_are_slowed_then_locked(
    factory: sessionmaker[Session], make_app
) -> None:
    add_agent(factory, "ana", "Ana Agent", Role.AGENT, PASSPHRASE)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        passphrase = app.screen.query_one("#passphrase")
        await sign_in(pilot, "ana", "wrong passphrase", typed=True)
        assert isinstance(app.screen, SignInScreen)
        assert "Wrong username or passphrase" in screen_text(app)
        assert not passphrase.disabled  # the first failures cost nothing
        await fail_once(pilot)
        await fail_once(pilot)
        # From the third failure on, the form waits (db.staff.agents says how long).
        assert passphrase.disabled
        await until(pilot, lambda: not passphrase.disabled)
        assert not passphrase.disabled
        await fail_once(pilot)
        # Wait out this delay too: re-enabling the form by hand raced its own timer.
        await until(pilot, lambda: not passphrase.disabled)
        await fail_once(pilot)
        # Locked now, but the answer is the wrong-passphrase one: it must not confirm the name.
        assert "Wrong username or passphrase" in screen_text(app)
        assert "locked" not in screen_text(app)
        assert passphrase.disabled
    with factory() as session:
        agent = session.scalars(select(Agent).where(Agent.username == "ana")).one()
        assert agent.locked_at is not None
        assert agent.failed_signins == 5


async def test_the_wait_holds_even_if_the_form_is_forced_open(
    factory: sessionmaker[Session], make_app, clock
) -> None:
    add_agent(factory, "ana", "Ana Agent", Role.AGENT, PASSPHRASE)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "ana", "wrong passphrase")
        await fail_once(pilot)
        await fail_once(pilot)
        assert "Try again in" in screen_text(app) and "1 s." in screen_text(app)
        for field in app.screen.query("Input"):
            field.disabled = False  # what a patched or scripted desk could do
        app.screen.query_one("#passphrase").focus()
        await pilot.press(*PASSPHRASE, "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, SignInScreen)  # the database said no
        assert "Wrong username or passphrase" in screen_text(app)
        clock.advance(seconds=30)
        await until(pilot, lambda: not app.screen.query_one("#passphrase").disabled)
        app.screen.query_one("#passphrase").focus()
        await pilot.press(*PASSPHRASE, "enter")
        await app.workers.wait_for_complete()
        await until(pilot, lambda: isinstance(app.screen, DeskScreen))


async def test_sign_out_between_calls(factory: sessionmaker[Session], make_app) -> None:
    add_agent(factory, "ana", "Ana Agent", Role.AGENT, PASSPHRASE)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "ana", PASSPHRASE, typed=True)
        await pilot.press("ctrl+o")
        assert isinstance(app.screen, SignInScreen)
        assert app.screen.query_one("#username").value == ""


async def test_a_supervisor_types_the_code_after_the_passphrase(
    factory: sessionmaker[Session], make_app, clock
) -> None:
    add_agent(factory, "sue", "Sue", Role.SUPERVISOR, PASSPHRASE, totp_secret=TOTP_SECRET)
    app = make_app()
    asks = "Code from your authenticator app"
    async with app.run_test(size=(80, 24)) as pilot:
        assert asks not in screen_text(app)  # no hint, before the passphrase, who needs one
        await pilot.click("#username")
        await pilot.press(*"sue", "enter", *PASSPHRASE, "enter")
        await settle(pilot)
        assert asks in screen_text(app) and app.focused is not None
        assert app.focused.id == "code"
        # A wrong code: the answer of a wrong passphrase, and back to the passphrase.
        wrong = code_at(TOTP_SECRET, time_step(clock.now) + 3)
        await pilot.press(*wrong, "enter")
        await settle(pilot)
        assert isinstance(app.screen, SignInScreen)
        assert "Wrong username or passphrase" in screen_text(app)
        assert asks not in screen_text(app)
        assert app.screen.query_one("#passphrase").value == ""
        with factory() as session:
            assert session.scalars(select(Agent.failed_signins)).one() == 1
        # As a password manager types it, in one burst; the code read off the phone.
        await burst(pilot, [*PASSPHRASE, "enter"])
        await until(pilot, lambda: app.focused is not None and app.focused.id == "code")
        code = code_at(TOTP_SECRET, time_step(clock.now))
        await burst(pilot, [*code[:3], " ", *code[3:], "enter"])  # as some apps show it
        await until(pilot, lambda: isinstance(app.screen, DeskScreen))
        assert isinstance(app.screen, DeskScreen)
        assert code not in screen_text(app)
