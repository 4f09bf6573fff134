"""Whole calls driven by keys on a demo database: what the screen shows, what is stored."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.demo import DemoReport
from db.models import AccountUser, CancellationRequest, Subscription
from tests.tui.conftest import START
from tests.tui.drive import (
    end_call,
    known_passphrase,
    last_call,
    on_file,
    settle,
    sign_in,
    start_call,
    text,
    verify_all,
)
from tui.screens.checklist_modal import ChecklistModal
from tui.screens.confirm_modal import ConfirmModal
from tui.screens.desk import DeskScreen
from tui.screens.summary_modal import SummaryModal
from verification.kinds import CallState, Outcome, SubscriptionStatus

CONTOSO_ADMIN = "jose.perez@contoso.example.com"


def subscription_of(factory: sessionmaker[Session], user_id: str) -> Subscription:
    """The (first) subscription of the tenant ``user_id`` belongs to."""
    with factory() as session:
        user = session.scalars(select(AccountUser).where(AccountUser.user_id == user_id)).one()
        return user.tenant.subscriptions[0]


async def test_direct_subscription_cancelled_now_with_its_checklist(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    passphrase = known_passphrase(factory, "agent")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "agent", passphrase)
        await start_call(pilot)
        await verify_all(pilot, on_file(factory, CONTOSO_ADMIN))
        screen = text(app)
        assert "Gate OPEN" in screen
        assert "Business Premium" in screen

        await pilot.press("c")
        assert isinstance(app.screen, ChecklistModal)
        screen = text(app)
        assert "Early termination fees may apply" in screen
        assert "contoso.example.com" in screen  # the domains to move away
        await pilot.press("ctrl+s")  # nothing ticked yet: continue is refused
        assert isinstance(app.screen, ChecklistModal)
        await pilot.press("space", "tab", "space", "ctrl+s")

        assert isinstance(app.screen, ConfirmModal)
        deletion = START.date().toordinal() + 90
        from datetime import date

        assert f"Data permanently deleted: {date.fromordinal(deletion).isoformat()}" in text(app)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)
        assert "canceled" in text(app)

        await end_call(pilot)
        assert isinstance(app.screen, SummaryModal)
        assert "canceled" in text(app)

    sub = subscription_of(factory, CONTOSO_ADMIN)
    assert sub.status is SubscriptionStatus.CANCELED
    assert sub.data_deletion_on == date.fromordinal(deletion)
    call = last_call(factory)
    assert call.state is CallState.CLOSED
    assert call.outcome is Outcome.CANCELED
    with factory() as session:
        request = session.scalars(select(CancellationRequest)).one()
        assert request.action == "cancel_now"
        assert not request.needs_approval
