"""A failed delivery in the supervisor queue: shown with its error, retried by a key."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from textual.widgets import DataTable

from db.delivery.worker import Deliverer
from db.models import AuditEvent, OutboxState
from db.staff.agents import list_agents
from tests.helpers.outbox_data import rows, turn_auto_renew_off, webhook_settings
from tests.helpers.receiver import Receiver, running_receiver
from tests.helpers.review_data import PASSPHRASE, failed_call, make_account, make_staff
from tests.tui.conftest import START, screen_text
from tests.tui.drive import settle, sign_in
from tests.tui.test_supervisor import open_queue
from tui.screens.desk import DeskScreen


def park_one_event(factory: sessionmaker[Session]) -> str:
    """One event the receiver refused until it was parked; the last error."""
    staff = make_staff(factory)
    turn_auto_renew_off(factory, staff.agent, 1, START - timedelta(hours=1))
    with running_receiver(Receiver(status=lambda _n: 503)) as receiver:
        settings = webhook_settings(receiver.url, delivery_max_attempts=1)
        worker = Deliverer(
            factory, settings, webhook_secret="s", smtp_password="", clock=lambda: START
        )
        assert worker.run_due().failed == 1
        worker.close()
    [row] = rows(factory)
    return row.last_error


async def test_a_supervisor_sees_a_failed_delivery_and_retries_it(
    factory: sessionmaker[Session], make_app
) -> None:
    error = park_one_event(factory)
    app = make_app()
    async with app.run_test(size=(140, 30)) as pilot:
        await sign_in(pilot, "sue", PASSPHRASE)
        assert isinstance(app.screen, DeskScreen)
        queue = await open_queue(pilot)
        text = screen_text(app)
        assert "Delivery failed" in text and "HTTP 503" in text
        assert "r retries a failed delivery" in text
        index = next(i for i, r in enumerate(queue.rows) if r.kind == "delivery_failed")
        queue.query_one("#queue", DataTable).move_cursor(row=index)
        await pilot.press("r")
        await settle(pilot)
        assert "Delivery failed" not in screen_text(app)
        assert not any(r.kind == "delivery_failed" for r in queue.rows)
    [row] = rows(factory)
    assert row.state is OutboxState.PENDING and row.attempts == 0 and row.last_error == error
    with factory() as session:
        actors = session.scalars(
            select(AuditEvent.actor).where(AuditEvent.type == "outbox.retried")
        ).all()
    assert actors == ["sue"]


async def test_r_on_another_kind_of_row_retries_nothing(
    factory: sessionmaker[Session], make_app
) -> None:
    park_one_event(factory)
    [agent] = [a for a in list_agents(factory) if a.username == "ana"]
    account = make_account(factory, "Fabrikam", "+14255550111", START.date())
    failed_call(factory, agent, account, START - timedelta(minutes=5))
    app = make_app()
    async with app.run_test(size=(140, 30)) as pilot:
        await sign_in(pilot, "sue", PASSPHRASE)
        assert isinstance(app.screen, DeskScreen)
        queue = await open_queue(pilot)
        other = next(i for i, r in enumerate(queue.rows) if r.kind != "delivery_failed")
        queue.query_one("#queue", DataTable).move_cursor(row=other)
        await pilot.press("r")
        await settle(pilot)
        assert any(
            n.message == "Only a failed delivery can be retried." for n in app._notifications
        )
    [row] = rows(factory)
    assert row.state is OutboxState.FAILED
