"""Disputes on both desks, driven by keys: the agent's F3 modal and the supervisor's queue.

The agent types the reference the caller reads out and a reason; a mistyped
reference is refused inside the modal without losing the reason. The
supervisor sees the request as "Disputed" in the queue, with what to do.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.models import CancellationRequest, Dispute
from tests.helpers.review_data import PASSPHRASE, expedited_call, make_account, make_staff
from tests.tui.conftest import START, screen_text
from tests.tui.drive import settle, sign_in, until
from tests.tui.test_supervisor import decide, open_queue, open_requests, open_row
from tui.screens.desk import DeskScreen
from tui.screens.dispute_modal import DisputeModal


def made_request(factory: sessionmaker[Session]) -> str:
    """An expedited request waiting in its cooling-off; its reference."""
    staff = make_staff(factory)
    account = make_account(factory, "Contoso", "+14255550100", START.date())
    _call, request_id = expedited_call(factory, staff.agent, account, START - timedelta(hours=1))
    with factory() as session:
        request = session.get(CancellationRequest, request_id)
        assert request is not None
        return request.reference


async def test_an_agent_disputes_a_request_by_its_reference(
    factory: sessionmaker[Session], make_app
) -> None:
    reference = made_request(factory)
    app = make_app()
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await sign_in(pilot, "bo", PASSPHRASE)
        assert isinstance(app.screen, DeskScreen)
        await pilot.press("f3")
        await settle(pilot)
        assert isinstance(app.screen, DisputeModal)
        await pilot.press(*"CG-222-222", "enter", *"admin says no", "enter")
        await settle(pilot)
        await until(pilot, lambda: "No disputable request has this reference" in screen_text(app))
        assert "No disputable request has this reference" in screen_text(app)
        assert isinstance(app.screen, DisputeModal)  # still open, the reason kept
        field = app.screen.query_one("#dispute-reference")
        field.focus()
        await pilot.press("ctrl+a", "ctrl+k", *reference.lower(), "enter", "enter")
        await settle(pilot)
        await until(pilot, lambda: "is stopped" in screen_text(app))
        assert isinstance(app.screen, DeskScreen)
        assert f"{reference} (Business Standard) is stopped" in screen_text(app)
    with factory() as session:
        dispute = session.scalars(select(Dispute)).one()
    assert dispute.reason == "admin says no"


async def test_the_supervisor_queue_shows_the_disputed_request(
    factory: sessionmaker[Session], make_app
) -> None:
    from db.expedited.disputes import dispute_request

    reference = made_request(factory)
    with factory() as session:
        from db.models import Agent

        bo = session.scalars(select(Agent).where(Agent.username == "bo")).one()
    dispute_request(factory, bo.id, reference, "the admin never asked", START)
    app = make_app()
    async with app.run_test(size=(140, 30)) as pilot:
        await sign_in(pilot, "sue", PASSPHRASE)
        queue = await open_queue(pilot)
        text = screen_text(app)
        assert "Disputed" in text and reference in text and "reject to keep the data" in text
        assert [r.kind for r in queue.rows if r.kind == "disputed"] == ["disputed"]
        assert not any(r.kind == "expedited" for r in queue.rows)


async def test_a_supervisor_disputes_from_the_detail_then_rejects_it(
    factory: sessionmaker[Session], make_app
) -> None:
    reference = made_request(factory)
    app = make_app()
    async with app.run_test(size=(100, 40), notifications=True) as pilot:
        await sign_in(pilot, "sue", PASSPHRASE)
        queue = await open_queue(pilot)
        await open_row(pilot, queue, "expedited")
        assert f"reference {reference}" in screen_text(app)
        await pilot.press("d")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, DisputeModal)
        # The reference is filled in: the reason is all there is to type.
        await pilot.press(*"admin called back: not them", "enter")
        await settle(pilot)
        await until(pilot, lambda: "disputed by sue" in screen_text(app))
        text = screen_text(app)
        assert "disputed by sue" in text and "reject it (x) to keep the data" in text
        await decide(pilot, "x", "dispute upheld")
        assert "rejected by sue" in screen_text(app)
    with factory() as session:
        dispute = session.scalars(select(Dispute)).one()
    assert dispute.resolved_at is not None


async def test_the_search_box_finds_a_call_by_its_reference(
    factory: sessionmaker[Session], make_app
) -> None:
    reference = made_request(factory)
    make_account(factory, "Fabrikam", "+14255550111", START.date())
    app = make_app()
    async with app.run_test(size=(140, 30)) as pilot:
        await sign_in(pilot, "sue", PASSPHRASE)
        screen = await open_requests(pilot)
        screen.query_one("#f-org").focus()
        await pilot.press(*reference.lower())
        # Each keystroke searches again: wait for the search of the whole
        # reference, which comes last (slow under a loaded test run).
        await until(pilot, lambda: "1 call by reference" in screen_text(app), seconds=15)
        text = screen_text(app)
        assert "1 call by reference" in text and reference in text
        await pilot.press("ctrl+a", "ctrl+k", *"CG-0O1")
        await until(pilot, lambda: "never holds 0, O, 1 or I" in screen_text(app))
        assert "never holds 0, O, 1 or I" in screen_text(app)
