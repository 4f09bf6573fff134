"""The factor step at the desk, end to end with real servers started here.

A code goes by e-mail to an aiosmtpd server on loopback, or by text to an
HTTP server of the Messages API shape that checks basic auth; the test reads
it from what arrived, as the caller would, and types it through the pilot.
Blind: neither the code nor a whole destination is ever on screen (the
callback's number only in the callback step), in an audit payload, or in the
database file other than as the code's hash.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from textual import events
from textual.pilot import Pilot
from textual.widgets import Input

from db.demo import DemoReport
from db.models import AuditEvent, Call, CancellationRequest
from db.settings import Settings
from tests.helpers.gateways import (
    FROM_NUMBER,
    SID,
    Gateway,
    Inbox,
)
from tests.tui.conftest import Clock, screen_text
from tests.tui.drive import (
    known_passphrase,
    on_file,
    settle,
    sign_in,
    start_call,
    until,
    verify_all,
)
from tui.app import CallgateApp
from tui.screens.checklist_modal import ChecklistModal
from tui.screens.end_call_modal import EndCallModal
from tui.screens.possession_modal import PossessionModal

CALLER = "jose.perez@contoso.example.com"
MASKED_MAIL = "j•••@contoso.example.com"
PHONE = "+14255550101"
# Every way the whole number could be written on a screen.
WHOLE_NUMBER = ("555-0101", "5550101", "555 0101")


@pytest.fixture
def step_up() -> bool:
    """These calls run on the default tiers: actions need their factor."""
    return True


@pytest.fixture
def settings(db_url: str, inbox: Inbox, gateway: Gateway) -> Settings:
    """The default tiers; codes by e-mail and by text to the loopback servers."""
    return Settings(
        database_url=db_url,
        smtp_host="127.0.0.1",
        smtp_port=inbox.port,
        smtp_tls="none",
        smtp_from="callgate@desk.example",
        sms_base_url=gateway.base_url,
        sms_account_sid=SID,
        sms_from=FROM_NUMBER,
        delivery_timeout_seconds=5,
    )


class Screens:
    """Every screen the agent saw, for the blind greps at the end."""

    def __init__(self, app: CallgateApp) -> None:
        self.app = app
        self.seen: list[str] = []

    def now(self) -> str:
        shown = screen_text(self.app)
        self.seen.extend((shown, self.app.export_screenshot()))
        return shown


async def verified_caller(pilot: Pilot[int], factory: sessionmaker[Session]) -> None:
    await sign_in(pilot, "agent", known_passphrase(factory, "agent"))
    await start_call(pilot)
    await verify_all(pilot, on_file(factory, CALLER))


async def read_back(pilot: Pilot[int], code: str) -> None:
    """The agent writes down what the caller reads out (over anything left in the field)."""
    await pilot.press("ctrl+u")
    pilot.app.post_message(events.Paste(code))
    await pilot.pause()
    await pilot.press("enter")
    await settle(pilot)


def database_bytes(db_url: str) -> bytes:
    path = Path(db_url.removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


def payloads(factory: sessionmaker[Session]) -> str:
    with factory() as session:
        return " ".join(session.scalars(select(AuditEvent.payload)))


async def test_cancel_now_takes_its_checklist_then_the_code_from_the_email(
    factory: sessionmaker[Session],
    demo: DemoReport,
    make_app,
    inbox: Inbox,
    db_url: str,
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screens = Screens(app)
        await verified_caller(pilot, factory)
        assert "proof of possession first" in screens.now()
        await pilot.press("c")
        await settle(pilot)
        # The checklist is the confirmation; the factor step comes after it.
        assert isinstance(app.screen, ChecklistModal)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PossessionModal)
        shown = screens.now()
        assert "Cancel now needs a code or a callback." in shown
        assert f"by e-mail to {MASKED_MAIL}" in shown and "by text to •••0101" in shown
        before = database_bytes(db_url)

        await pilot.press("down", "enter")
        await settle(pilot)
        [(_sender, to, _message)] = inbox.messages
        assert to == [CALLER]
        [code] = inbox.codes()
        shown = screens.now()
        assert f"code sent to {MASKED_MAIL}" in shown
        assert "5 tries left · resend possible in 30 s" in shown

        wrong = f"{(int(code) + 1) % 10**6:06d}"
        await read_back(pilot, wrong)
        assert "a miss (2 left before the call locks)" in screens.now()
        await read_back(pilot, "12345")
        assert "a code is 6 digits (not counted)" in screens.now()
        await read_back(pilot, code)
        # Confirmed already: the code that serves the action takes it.
        assert isinstance(app.screen, EndCallModal)
        screens.now()

    with factory() as session:
        assert session.scalars(select(Call.misses)).one() == 1
        assert session.scalars(select(CancellationRequest.action)).all() == ["cancel_now"]
    for seen in screens.seen:
        assert code not in seen and wrong not in seen
        assert CALLER not in seen and not any(n in seen for n in WHOLE_NUMBER)
    assert code not in payloads(factory) and CALLER not in payloads(factory)
    # The code adds no occurrence to the database file: only its hash was written.
    assert database_bytes(db_url).count(code.encode()) == before.count(code.encode())


async def test_a_text_reaches_the_gateway_with_basic_auth(
    factory: sessionmaker[Session], demo: DemoReport, make_app, gateway: Gateway
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screens = Screens(app)
        await verified_caller(pilot, factory)
        await pilot.press("c", "enter")  # the checklist
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        [form] = gateway.received
        assert (form["To"], form["From"], gateway.refused) == ([PHONE], [FROM_NUMBER], 0)
        [code] = gateway.codes()
        assert "code sent to •••0101" in screens.now()
        # Back out and come again: the code sent is still the one to read back.
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("c", "enter")
        await settle(pilot)
        assert "code sent to •••0101" in screens.now()
        assert len(gateway.received) == 1  # not sent again by coming back
        assert isinstance(app.focused, Input) and app.focused.id == "code"
        await read_back(pilot, code)
        assert isinstance(app.screen, EndCallModal)
        for seen in screens.seen:
            assert code not in seen and not any(n in seen for n in WHOLE_NUMBER)


async def test_a_failed_send_says_so_and_costs_no_miss(
    factory: sessionmaker[Session], demo: DemoReport, make_app, gateway: Gateway
) -> None:
    gateway.fail_with = 503
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await verified_caller(pilot, factory)
        await pilot.press("c", "enter")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        shown = screen_text(app)
        assert "the code was not sent" in shown and "HTTP 503" in shown
        assert isinstance(app.screen, PossessionModal)
        assert app.screen.possession.code_sent is False
    with factory() as session:
        assert session.scalars(select(Call)).one().misses == 0


async def test_auto_renew_off_costs_no_extra_key(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await verified_caller(pilot, factory)
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, ChecklistModal)


async def test_without_a_sender_the_desk_offers_the_callback_and_shows_the_number_there_only(
    factory: sessionmaker[Session], demo: DemoReport, db_url: str, clock
) -> None:
    app = CallgateApp(Settings(database_url=db_url), lambda: factory, clock=clock)
    async with app.run_test(size=(100, 30)) as pilot:
        screens = Screens(app)
        await verified_caller(pilot, factory)
        shown = screens.now()
        assert "No code can be sent" in shown and "only with the callback" in shown
        await pilot.press("c", "enter")
        await settle(pilot)
        shown = screens.now()
        assert "Call back the number on file" in shown and "Send a code" not in shown
        await pilot.press("enter")
        await settle(pilot)
        callback_step = screen_text(app)
        assert "+1 425-555-0101" in callback_step
        # Not "End this call": F4 is End call, and the call stays open for the callback.
        assert "End this call" not in callback_step and "stays open" in callback_step
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, EndCallModal)
        screens.now()
    for seen in screens.seen:
        assert not any(n in seen for n in WHOLE_NUMBER)
    assert not any(n in payloads(factory) for n in WHOLE_NUMBER)
    with factory() as session:
        kinds = session.scalars(
            select(AuditEvent.type)
            .where(AuditEvent.type.like("callback%"))
            .order_by(AuditEvent.seq)
        )
        assert list(kinds) == ["callback.shown", "callback.recorded"]


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is UTC here, whatever the machine says (the gate's "holds until")."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_factor_step_snapshot(
    factory: sessionmaker[Session], demo: DemoReport, make_app, inbox: Inbox, utc, snap_compare
) -> None:
    """The factor step at the smallest desk size, a code sent: masked, no code, no number."""

    async def run_before(pilot: Pilot[int]) -> None:
        await verified_caller(pilot, factory)
        await pilot.press("c", "enter")
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)


async def test_after_the_verification_lapses_the_factor_is_asked_and_sent_again(
    factory: sessionmaker[Session], demo: DemoReport, make_app, gateway: Gateway, clock: Clock
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await verified_caller(pilot, factory)
        await pilot.press("c", "enter")
        await settle(pilot)
        await pilot.press("enter")  # a text to the phone on file
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        # Proven in this round (straight through the desk's API: the desk
        # would take the confirmed action at once).
        from db.desk import try_code

        call_id = app.screen.view.call_id
        view = try_code(factory, call_id, "agent", gateway.codes()[-1], app.settings, clock())
        assert view.possession is not None and view.possession.proven

        clock.advance(minutes=31)
        await until(pilot, lambda: "Gate CLOSED" in screen_text(app))
        await verify_all(pilot, on_file(factory, CALLER))
        assert "proof of possession first" in screen_text(app)
        await pilot.press("c", "enter")
        await settle(pilot)
        assert isinstance(app.screen, PossessionModal)
        await pilot.press("enter")  # a new code: the last one was sent for the last verification
        await settle(pilot)
        assert len(gateway.codes()) == 2
        await read_back(pilot, gateway.codes()[-1])
        assert isinstance(app.screen, EndCallModal)
