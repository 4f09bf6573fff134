"""Whole calls driven by keys on a demo database: what the screen shows, what is stored."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.demo import DEMO_PIN, DemoReport
from db.models import AccountUser, Approval, CancellationRequest, Subscription
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
from tui.screens.desk import DeskScreen
from tui.screens.end_call_modal import EndCallModal
from tui.screens.summary_modal import SummaryModal
from verification.kinds import CallState, ExpeditedState, Outcome, SubscriptionStatus

CONTOSO_ADMIN = "jose.perez@contoso.example.com"


def subscription_of(factory: sessionmaker[Session], user_id: str) -> Subscription:
    """The (first) subscription of the tenant ``user_id`` belongs to."""
    with factory() as session:
        user = session.scalars(select(AccountUser).where(AccountUser.user_id == user_id)).one()
        return user.tenant.subscriptions[0]


async def test_direct_subscription_canceled_now_with_its_checklist(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    passphrase = known_passphrase(factory, "agent")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "agent", passphrase)
        await start_call(pilot)
        # Typed key by key: letters that are desk keys (c, n, r, x) stay text.
        await verify_all(pilot, on_file(factory, CONTOSO_ADMIN), keys=True)
        screen = text(app)
        assert "Gate OPEN" in screen
        assert "Business Premium" in screen
        assert "Earlier: no calls in 30 days" in screen  # once verified, and only then

        await pilot.press("c")
        assert isinstance(app.screen, ChecklistModal)
        screen = text(app)
        assert "Early termination fees may apply" in screen
        assert "contoso.example.com" in screen  # the domains to move away
        deletion = START.date().toordinal() + 90
        from datetime import date

        # The checklist is the one confirmation: the dates are on it.
        assert f"Data permanently deleted: {date.fromordinal(deletion).isoformat()}" in text(app)
        # Each point read out and agreed to: one Enter confirms them all.
        assert "1. " in text(app) and "2. " in text(app)
        await pilot.press("enter")
        await settle(pilot)
        # The end of the call is offered at once, the outcome preselected.
        assert isinstance(app.screen, EndCallModal)
        await pilot.press("escape")
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


async def test_auto_renew_turned_off(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    caller = "liam.oconnor@wideworld.example"
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "agent", known_passphrase(factory, "agent"))
        await start_call(pilot)
        await verify_all(pilot, on_file(factory, caller))
        await pilot.press("r")
        # No checklist for this one: the consequences and dates, one Enter.
        assert isinstance(app.screen, ChecklistModal)
        term_end = subscription_of(factory, caller).term_end
        assert f"Expires: {term_end.isoformat()}" in text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, EndCallModal)
        await pilot.press("enter")
        await settle(pilot)
        assert "Call #1 closed: Auto-renew turned off" in text(app)

    sub = subscription_of(factory, caller)
    assert not sub.auto_renew
    assert sub.status is SubscriptionStatus.EXPIRING
    assert last_call(factory).outcome is Outcome.AUTO_RENEW_OFF


async def informed_call(factory: sessionmaker[Session], make_app, caller: str, says: str) -> None:
    """A verified call where the policy offers nothing: shown, dimmed, ended as informed."""
    before = subscription_of(factory, caller)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "agent", known_passphrase(factory, "agent"))
        await start_call(pilot)
        await verify_all(pilot, on_file(factory, caller))
        assert "Gate OPEN" in text(app)
        assert says in text(app)
        desk = app.screen
        for kind in ("cancel_now", "auto_renew_off", "expedited"):
            assert desk.check_action("act", (kind,)) is None  # shown, dimmed
        await pilot.press("c", "r", "x")
        assert app.screen is desk  # nothing opened
        await end_call(pilot)
        assert "Call #1 closed: Informed" in text(app)

    assert last_call(factory).outcome is Outcome.INFORMED
    after = subscription_of(factory, caller)
    assert (after.status, after.auto_renew, after.data_deletion_on) == (
        before.status,
        before.auto_renew,
        before.data_deletion_on,
    )
    with factory() as session:
        assert session.scalars(select(CancellationRequest)).first() is None


async def test_trial_is_informed_and_nothing_can_be_done(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    await informed_call(factory, make_app, "zoe@zoes-bakery.example", "A trial can't be")


async def test_open_subscription_is_informed_and_nothing_can_be_done(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    await informed_call(factory, make_app, "olivia.nguyen@northwind.example", "through Open")


async def test_product_key_canceled_now_without_refund(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    caller = "j.mueller@mueller-soehne.example"
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "agent", known_passphrase(factory, "agent"))
        await start_call(pilot)
        await verify_all(pilot, on_file(factory, caller, pin=DEMO_PIN))
        assert DEMO_PIN not in text(app)  # typed without echo
        await pilot.press("c")
        assert isinstance(app.screen, ChecklistModal)
        assert "No refund" in text(app)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("enter")  # the end of the call, offered at once
        await settle(pilot)
        assert "Call #1 closed: Canceled" in text(app)

    assert subscription_of(factory, caller).status is SubscriptionStatus.CANCELED
    assert last_call(factory).outcome is Outcome.CANCELED


async def test_expedited_deprovisioning_waits_for_a_supervisor(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    caller = "maria.garcia@adventure-works.example"
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "agent", known_passphrase(factory, "agent"))
        await start_call(pilot)
        await verify_all(pilot, on_file(factory, caller))
        await pilot.press("x")
        assert isinstance(app.screen, ChecklistModal)
        assert "Irreversible" in text(app)
        assert "waiting for a supervisor's approval" in text(app)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("escape")  # back to the call from the offered ending
        screen = text(app)
        assert "waiting for a supervisor's approval" in screen
        assert "pending" in screen
        await end_call(pilot)
        # Nothing was canceled: only the data's deletion brought forward.
        assert "Call #1 closed: Expedited deletion only" in text(app)

    assert last_call(factory).outcome is Outcome.EXPEDITED
    assert subscription_of(factory, caller).expedited is ExpeditedState.PENDING
    with factory() as session:
        request = session.scalars(select(CancellationRequest)).one()
        assert request.action == "expedited_deprovisioning"
        assert request.needs_approval
        assert session.scalars(select(Approval)).first() is None


async def test_caller_who_is_not_an_admin_is_denied(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    caller = "kim.lee@contoso.example.com"
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "agent", known_passphrase(factory, "agent"))
        await start_call(pilot)
        await verify_all(pilot, on_file(factory, caller))
        screen = text(app)
        assert "Gate CLOSED" in screen
        assert "not an admin" in screen
        assert app.screen.check_action("act", ("cancel_now",)) is None
        await end_call(pilot)
        assert "Call #1 closed: Denied: caller is not an admin" in text(app)

    assert last_call(factory).outcome is Outcome.DENIED_NOT_ADMIN
    assert subscription_of(factory, caller).status is SubscriptionStatus.ACTIVE


async def test_two_subscriptions_each_with_its_own_actions_and_a_note(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    caller = "priya.shah@proseware.example"
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "agent", known_passphrase(factory, "agent"))
        await start_call(pilot)
        await verify_all(pilot, on_file(factory, caller))
        screen = text(app)
        assert "Business Premium" in screen and "Project Plan 3" in screen
        desk = app.screen
        assert desk.check_action("act", ("auto_renew_off",)) is True
        await pilot.press("down")  # the trial: nothing to offer
        assert "A trial can't be canceled" in text(app)
        assert desk.check_action("act", ("auto_renew_off",)) is None
        await pilot.press("up", "r", "enter")
        await settle(pilot)
        await pilot.press("tab", *"wants the invoice", "enter")
        await settle(pilot)
        assert "closed: Auto-renew turned off" in text(app)

    with factory() as session:
        user = session.scalars(select(AccountUser).where(AccountUser.user_id == caller)).one()
        direct, trial = user.tenant.subscriptions
        assert not direct.auto_renew
        assert trial.status is SubscriptionStatus.ACTIVE
    assert last_call(factory).notes == "wants the invoice"


async def test_cancel_now_with_expedited_deprovisioning(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    caller = "liam.oconnor@wideworld.example"  # direct, no custom domains
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "agent", known_passphrase(factory, "agent"))
        await start_call(pilot)
        await verify_all(pilot, on_file(factory, caller))
        await pilot.press("x")
        assert isinstance(app.screen, ChecklistModal)
        screen = text(app)
        assert "Custom domains" not in screen  # none on file: no such point
        assert "irreversible" in screen
        screen = text(app)
        assert "Data permanently deleted by, if approved today:" in screen
        assert "waiting for a supervisor's approval" in screen
        await pilot.press("space", "space", "enter")
        await settle(pilot)
        await pilot.press("enter")  # the end of the call, offered at once
        await settle(pilot)
        assert "closed: Canceled" in text(app)

    sub = subscription_of(factory, caller)
    assert sub.status is SubscriptionStatus.CANCELED
    assert sub.expedited is ExpeditedState.PENDING
    with factory() as session:
        request = session.scalars(select(CancellationRequest)).one()
        assert request.action == "cancel_now_with_expedited"
        assert request.needs_approval
