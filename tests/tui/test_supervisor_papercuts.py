"""The supervisor desk's papercuts of issue "Every key lands…", each driven by keys and mouse."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.helpers.review_data import PASSPHRASE, Staff, expedited_call, make_account, make_staff
from tests.tui.conftest import START, screen_text
from tests.tui.drive import settle, sign_in
from tests.tui.test_supervisor import decide, open_queue, open_row
from tui.screens.supervisor_request import SupervisorRequestScreen

TODAY = START.astimezone().date()


@pytest.fixture
def staff(factory: sessionmaker[Session]) -> Staff:
    return make_staff(factory)


async def test_the_request_reads_as_decided_once_approved(
    factory: sessionmaker[Session], staff: Staff, make_app
) -> None:
    account = make_account(factory, "Contoso", "+14255550100", TODAY)
    expedited_call(factory, staff.agent, account, START - timedelta(days=1))
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await sign_in(pilot, "sue", PASSPHRASE)
        await open_row(pilot, await open_queue(pilot), "expedited")
        assert isinstance(app.screen, SupervisorRequestScreen)
        before = screen_text(app)
        assert "Expedited deletion: not asked → waiting for a supervisor\n" in before + "\n"

        await decide(pilot, "a", "caller confirmed twice")

        text = screen_text(app)
        deleted_by = TODAY + timedelta(days=3)
        assert "waiting for a supervisor → now approved" in text
        assert f"Data deleted on: 2027-02-19 → now {deleted_by:%Y-%m-%d}" in text
