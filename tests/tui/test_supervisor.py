"""The supervisor desk driven like a person would: keys, modals, what the screen shows."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db import desk
from db.audit.chain import verify_chain
from db.engine import unit_of_work
from db.models import AgentReset, AuditEvent, CancellationRequest, Subscription
from db.staff.agents import get_agent
from db.staff.signin import authenticate
from tests.helpers.policy import DEFAULTS
from tests.helpers.review_data import (
    PASSPHRASE,
    SETTINGS,
    Staff,
    expedited_call,
    failed_call,
    make_account,
    make_staff,
    many_calls,
)
from tests.tui.conftest import START, screen_text
from tests.tui.drive import settle, sign_in, until
from tui.screens.calls_modal import CallsModal
from tui.screens.decision_modal import DecisionModal
from tui.screens.desk import DeskScreen
from tui.screens.exported_modal import ExportedModal
from tui.screens.supervisor_queue import SupervisorQueueScreen
from tui.screens.supervisor_request import SupervisorRequestScreen
from tui.screens.supervisor_requests import SupervisorRequestsScreen
from verification.kinds import CallState, ExpeditedState, Item

TODAY = START.astimezone().date()


@pytest.fixture
def staff(factory: sessionmaker[Session]) -> Staff:
    return make_staff(factory)


async def open_queue(pilot) -> SupervisorQueueScreen:
    await pilot.press("f6")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, SupervisorQueueScreen)
    return screen


async def open_requests(pilot) -> SupervisorRequestsScreen:
    """From the call desk to the supervisor's list of all requests (F6, then a)."""
    await open_queue(pilot)
    await pilot.press("a")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, SupervisorRequestsScreen)
    return screen


async def open_row(pilot, queue: SupervisorQueueScreen, kind: str) -> None:
    """Move the cursor to the first row of ``kind`` and press Enter."""
    index = next(i for i, row in enumerate(queue.rows) if row.kind == kind)
    queue.query_one("#queue").move_cursor(row=index)
    await pilot.press("enter")
    await settle(pilot)


async def decide(pilot, key: str, reason: str) -> None:
    """Press a decision key, type the reason in the modal, confirm."""
    await pilot.press(key)
    await pilot.pause()
    assert isinstance(pilot.app.screen, DecisionModal)
    await pilot.press(*reason, "enter")
    await settle(pilot)


def _event_types(factory: sessionmaker[Session]) -> list[str]:
    with factory() as session:
        return list(session.scalars(select(AuditEvent.type).order_by(AuditEvent.seq)))


# --- agents never reach it --------------------------------------------------------


async def test_an_agent_cannot_open_the_supervisor_desk(
    factory: sessionmaker[Session], staff: Staff, make_app
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "ana", PASSPHRASE)
        assert isinstance(app.screen, DeskScreen)
        assert "Supervisor" not in screen_text(app)
        assert app.check_action("supervisor_desk", ()) is False
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Help" in titles and "Supervisor desk" not in titles

        await pilot.press("f6")
        app.action_supervisor_desk()  # forced, past the hidden binding
        await settle(pilot)

        assert not any(isinstance(s, SupervisorQueueScreen) for s in app.screen_stack)
        assert isinstance(app.screen, DeskScreen)


async def test_a_supervisor_gets_the_key_and_the_palette_command(
    factory: sessionmaker[Session], staff: Staff, make_app
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "sue", PASSPHRASE)
        assert isinstance(app.screen, DeskScreen)
        assert "Supervisor" in screen_text(app)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Supervisor desk" in titles
        await open_queue(pilot)
        assert "Nothing needs a decision" in screen_text(app)
        await pilot.press("escape")
        assert isinstance(app.screen, DeskScreen)


# --- decisions --------------------------------------------------------------------


async def test_a_supervisor_approves_another_agents_expedited_request(
    factory: sessionmaker[Session], staff: Staff, make_app, clock
) -> None:
    account = make_account(factory, "Contoso", "+14255550100", TODAY)
    expedited_call(factory, staff.agent, account, START - timedelta(days=1))
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "sue", PASSPHRASE)
        assert isinstance(app.screen, DeskScreen)
        queue = await open_queue(pilot)
        assert "Expedited" in screen_text(app)
        await open_row(pilot, queue, "expedited")
        assert isinstance(app.screen, SupervisorRequestScreen)
        assert "waiting" in screen_text(app)

        await decide(pilot, "a", "caller confirmed twice")

        assert "approved by sue" in screen_text(app)
    with factory() as session:
        subscription = session.get(Subscription, account.subscription_id)
        assert subscription is not None
        assert subscription.expedited is ExpeditedState.APPROVED
        assert subscription.data_deletion_on == TODAY + timedelta(days=3)
        assert verify_chain(session).ok
    assert "expedited.approved" in _event_types(factory)


async def test_the_approval_shows_the_policys_deletion_date_when_sooner_than_3_days(
    factory: sessionmaker[Session], staff: Staff, make_app
) -> None:
    # Canceled 89 days ago: the data goes tomorrow, and approving keeps that date.
    account = make_account(factory, "Contoso", "+14255550100", TODAY, canceled_days_ago=89)
    expedited_call(factory, staff.agent, account, START)
    tomorrow = TODAY + timedelta(days=1)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "sue", PASSPHRASE)
        queue = await open_queue(pilot)
        await open_row(pilot, queue, "expedited")
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, DecisionModal)
        text = screen_text(app)
        assert f"Data deleted by {tomorrow:%Y-%m-%d}, irreversibly." in text
        assert f"{TODAY + timedelta(days=3):%Y-%m-%d}" not in text
        await pilot.press(*"ok", "enter")
        await settle(pilot)
    with factory() as session:
        subscription = session.get(Subscription, account.subscription_id)
        assert subscription is not None
        assert subscription.data_deletion_on == tomorrow


async def test_a_supervisor_rejects_an_expedited_request(
    factory: sessionmaker[Session], staff: Staff, make_app
) -> None:
    account = make_account(factory, "Contoso", "+14255550100", TODAY)
    expedited_call(factory, staff.agent, account, START)
    with factory() as session:
        kept = session.get(Subscription, account.subscription_id).data_deletion_on
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "sue", PASSPHRASE)
        assert isinstance(app.screen, DeskScreen)
        queue = await open_queue(pilot)
        await open_row(pilot, queue, "expedited")

        await decide(pilot, "x", "caller could not confirm")

        assert "rejected by sue" in screen_text(app)
    with factory() as session:
        subscription = session.get(Subscription, account.subscription_id)
        assert subscription.expedited is ExpeditedState.REJECTED
        assert subscription.data_deletion_on == kept
    assert "expedited.rejected" in _event_types(factory)


async def test_approving_ones_own_call_is_refused(
    factory: sessionmaker[Session], staff: Staff, make_app
) -> None:
    account = make_account(factory, "Contoso", "+14255550100", TODAY)
    call_id, _ = expedited_call(factory, staff.supervisor, account, START)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "sue", PASSPHRASE)
        assert isinstance(app.screen, DeskScreen)
        await open_queue(pilot)
        app.push_screen(SupervisorRequestScreen(app.signed_in, call_id))
        await settle(pilot)
        screen = app.screen
        assert screen.check_action("decide", ("approved",)) is None  # shown dimmed

        await pilot.press("a")
        await pilot.pause()
        screen.action_decide("approved")  # forced
        await settle(pilot)

        assert not isinstance(app.screen, DecisionModal)
        assert "waiting" in screen_text(app)
    assert "expedited.approved" not in _event_types(factory)


async def test_a_changed_request_cannot_be_approved_again(
    factory: sessionmaker[Session], staff: Staff, make_app
) -> None:
    account = make_account(factory, "Contoso", "+14255550100", TODAY)
    call_id, request_id = expedited_call(factory, staff.agent, account, START)
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await sign_in(pilot, "sue", PASSPHRASE)
        assert isinstance(app.screen, DeskScreen)
        queue = await open_queue(pilot)
        await open_row(pilot, queue, "expedited")
        await decide(pilot, "a", "ok")
        assert "approved by sue" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)

        with unit_of_work(factory) as session:
            request = session.get(CancellationRequest, request_id)
            after = {**json.loads(request.after), "data_deletion_on": "2026-12-24"}
            request.after = json.dumps(after)
            request.request_hash = desk.request_hash(
                call_id, request.subscription_id, request.action, json.loads(request.before), after
            )
        app.screen.action_refresh()
        await settle(pilot)
        assert [r.request_id for r in queue.rows if r.kind == "expedited"] == [request_id]

        await open_row(pilot, queue, "expedited")
        text = screen_text(app)
        assert "waiting" in text
        assert "void: the request changed" in text
        # Rehashed, it still differs from the hash the chain recorded: nobody decides it.
        assert "does not match its hash" in text
        await pilot.press("a")
        await settle(pilot)
        assert not isinstance(app.screen, DecisionModal)
    assert _event_types(factory).count("expedited.approved") == 1


async def test_clearing_a_lockout_lets_the_tenants_next_call_proceed(
    factory: sessionmaker[Session], staff: Staff, make_app, clock
) -> None:
    account = make_account(factory, "Contoso", "+14255550100", TODAY, canceled_days_ago=None)
    first = failed_call(factory, staff.agent, account, START - timedelta(minutes=30))
    second = failed_call(factory, staff.agent, account, START - timedelta(minutes=20))
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "sue", PASSPHRASE)
        assert isinstance(app.screen, DeskScreen)
        queue = await open_queue(pilot)
        assert "Tenant lock" in screen_text(app)
        await open_row(pilot, queue, "tenant_locked")
        # The calls that locked it, newest first: Enter opens one.
        assert isinstance(app.screen, CallsModal)
        shown = screen_text(app)
        assert (
            f"#{second} · " in shown and f"#{first} · " in shown and "Verification failed" in shown
        )
        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, SupervisorRequestScreen)
        assert app.screen.call_id == first
        assert "LOCKED" in screen_text(app)

        await decide(pilot, "l", "identity confirmed by callback")

        assert "LOCKED" not in screen_text(app)
    later = START + timedelta(minutes=1)
    view = desk.start_call(factory, staff.agent2.id, "bo", SETTINGS, later)
    view = desk.submit_item(
        factory, view.call_id, "bo", Item.USER_ID, {"value": account.user_id}, SETTINGS, later
    )
    assert view.tenant_found and not view.tenant_locked
    assert "tenant.lock_cleared" in _event_types(factory)


async def test_notes_and_review_from_the_request_screen(
    factory: sessionmaker[Session], staff: Staff, make_app
) -> None:
    account = make_account(factory, "Contoso", "+14255550100", TODAY)
    failed_call(factory, staff.agent, account, START)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "sue", PASSPHRASE)
        assert isinstance(app.screen, DeskScreen)
        queue = await open_queue(pilot)
        await open_row(pilot, queue, "failed_verification")
        await decide(pilot, "o", "called from an unknown number")
        await pilot.press("v")
        await settle(pilot)
        assert "reviewed by sue" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert not [r for r in queue.rows if r.kind == "failed_verification"]
    types = _event_types(factory)
    assert types[-2:] == ["review.note_added", "call.reviewed"]


async def test_resetting_a_locked_agent_from_the_queue(
    factory: sessionmaker[Session], staff: Staff, make_app
) -> None:
    for _ in range(DEFAULTS.signin_lock_after):
        authenticate(factory, "bo", "wrong passphrase", START)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "sue", PASSPHRASE)
        assert isinstance(app.screen, DeskScreen)
        queue = await open_queue(pilot)
        assert "Agent lock" in screen_text(app)
        await open_row(pilot, queue, "agent_locked")
        assert isinstance(app.screen, DecisionModal)  # a reason, as for clearing a lock
        await pilot.press(*"locked out before the shift", "enter")
        await settle(pilot)
        assert not [r for r in queue.rows if r.kind == "agent_locked"]
    assert get_agent(factory, "bo").locked_at is None
    assert _event_types(factory)[-1] == "agent.reset"
    with factory() as session:
        assert session.scalars(select(AgentReset.reason)).all() == ["locked out before the shift"]


# --- the request list -------------------------------------------------------------


async def test_the_list_filters_as_you_type_and_pages(
    factory: sessionmaker[Session], make_app
) -> None:
    _, made, tenants = many_calls(factory, 120, START)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "sue", PASSPHRASE)
        assert isinstance(app.screen, DeskScreen)
        screen = await open_requests(pilot)
        table = screen.query_one("#requests")
        assert table.row_count == 50
        await pilot.press("pagedown")
        await settle(pilot)
        assert "Page 2" in screen_text(app)

        screen.query_one("#f-org").focus()
        # Open, unverified calls are never found by their organization (the blind rule).
        fabrikam = [
            c
            for c in made
            if c.tenant_id
            and tenants[c.tenant_id][0] == "Fabrikam"
            and c.state in (CallState.CLOSED, CallState.VERIFIED)
        ]
        await pilot.press(*"fab")
        # The list reloads once typing pauses (a debounce): wait for that page.
        await until(pilot, lambda: table.row_count == min(50, len(fabrikam)))

        assert table.row_count == min(50, len(fabrikam))
        assert "Page 1" in screen_text(app)
        text = screen_text(app)
        assert "Fabrikam" in text and "Northwind" not in text
        phone = next(p for org, p, _, _ in tenants.values() if org == "Fabrikam")
        assert phone not in text and phone[-4:] in text

        screen.query_one("#f-since").focus()
        since = TODAY - timedelta(days=6)
        await pilot.press(*since.isoformat())
        await settle(pilot)
        recent = [c for c in fabrikam if c.started_at.astimezone().date() >= since]
        newest = max(recent, key=lambda c: (c.started_at, c.call_id))
        assert table.row_count == len(recent)

        table.focus()
        table.move_cursor(row=0)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, SupervisorRequestScreen)
        assert app.screen.call_id == newest.call_id


async def test_a_from_date_after_the_to_date_says_so(
    factory: sessionmaker[Session], make_app
) -> None:
    many_calls(factory, 20, START)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "sue", PASSPHRASE)
        screen = await open_requests(pilot)
        screen.query_one("#f-since").focus()
        await pilot.press(*"2026-11-20")
        screen.query_one("#f-until").focus()
        await pilot.press(*"2026-11-10")
        await settle(pilot)
        text = screen_text(app)
        assert "From 2026-11-20 is after To 2026-11-10" in text
        assert "0 calls" not in text
        assert screen.query_one("#requests").row_count == 0
        await pilot.press("f9")  # nothing to export from a filter that cannot match
        await settle(pilot)
        assert "From 2026-11-20 is after To" in screen_text(app)
    with factory() as session:
        assert "export" not in session.scalars(select(AuditEvent.type)).all()


async def test_export_from_the_list_writes_a_masked_file_and_shows_the_head(
    factory: sessionmaker[Session], make_app, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    many_calls(factory, 40, START)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "sue", PASSPHRASE)
        assert isinstance(app.screen, DeskScreen)
        await open_queue(pilot)
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("f9")
        await settle(pilot)
        # F1 promises CSV and JSON: both are written, and what to copy stays on
        # screen (a modal), never only in a toast that fades in seconds.
        assert isinstance(app.screen, ExportedModal)
        # Long paths wrap inside the box: read it without its borders and line ends.
        shown = "".join(screen_text(app).replace("│", "").split())
        [csv_path] = (tmp_path / "callgate" / "exports").glob("*.csv")
        [json_path] = (tmp_path / "callgate" / "exports").glob("*.json")
        with factory() as session:
            last = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
        assert last is not None and last.type == "export"
        for wanted in (str(csv_path), str(json_path), last.hash, f"event{last.seq}"):
            assert "".join(wanted.split()) in shown, wanted
        await pilot.press("enter")
        assert isinstance(app.screen, SupervisorRequestsScreen)
    assert len(csv_path.read_text(encoding="utf-8").splitlines()) == 41
    assert len(json.loads(json_path.read_text(encoding="utf-8"))) == 40
