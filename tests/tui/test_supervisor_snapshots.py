"""SVG snapshots of the supervisor desk: the queue, one request, the numbers.

Data, clock and time zone are fixed, so the pictures only change when the
screens do. Review a changed SVG before accepting it (``--snapshot-update``).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker
from textual.pilot import Pilot
from textual.screen import Screen

from db.staff.agents import AgentInfo, get_agent
from tests.helpers.review_data import (
    expedited_call,
    failed_call,
    fix_references,
    make_account,
    make_staff,
    many_calls,
)
from tests.tui.conftest import START
from tests.tui.drive import settle
from tui.screens.supervisor_numbers import SupervisorNumbersScreen
from tui.screens.supervisor_queue import SupervisorQueueScreen
from tui.screens.supervisor_request import SupervisorRequestScreen


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is UTC here, whatever the machine says."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _show(screen_for: Callable[[], Screen[None]]) -> Callable[[Pilot[int]], Awaitable[None]]:
    """A ``run_before`` that opens a supervisor screen and waits for its data."""

    async def run_before(pilot: Pilot[int]) -> None:
        pilot.app.push_screen(screen_for())
        await settle(pilot)

    return run_before


def _queue_data(factory: sessionmaker[Session]) -> tuple[AgentInfo, int]:
    staff = make_staff(factory)
    today = START.date()
    contoso = make_account(factory, "Contoso", "+14255550100", today)
    fabrikam = make_account(factory, "Fabrikam", "+14255550111", today, canceled_days_ago=None)
    call_id, _ = expedited_call(factory, staff.agent, contoso, START - timedelta(hours=3))
    failed_call(factory, staff.agent2, fabrikam, START - timedelta(hours=2))
    failed_call(factory, staff.agent2, fabrikam, START - timedelta(hours=1))
    fix_references(factory, "CG-7K4-Q2M")
    return staff.supervisor, call_id


def test_queue_snapshot(factory: sessionmaker[Session], make_app, snap_compare) -> None:
    supervisor, _ = _queue_data(factory)
    app = make_app()
    assert snap_compare(app, run_before=_show(lambda: SupervisorQueueScreen(supervisor)))


def test_request_snapshot(factory: sessionmaker[Session], make_app, snap_compare) -> None:
    supervisor, call_id = _queue_data(factory)
    app = make_app()
    screen = lambda: SupervisorRequestScreen(supervisor, call_id)  # noqa: E731
    assert snap_compare(app, terminal_size=(100, 40), run_before=_show(screen))


def test_numbers_snapshot(factory: sessionmaker[Session], make_app, snap_compare) -> None:
    many_calls(factory, 300, START)
    supervisor = get_agent(factory, "sue")
    app = make_app()
    assert snap_compare(app, run_before=_show(lambda: SupervisorNumbersScreen(supervisor)))


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_export_written_snapshot(make_app, snap_compare, size: tuple[int, int]) -> None:
    # The paths and the chain head stay until closed; long paths wrap inside the box.
    from tui.screens.exported_modal import ExportedModal

    lines = (
        "40 calls, personal data masked, written to:",
        "  /home/sue/.local/share/callgate/exports/callgate-calls-20261126-140000.csv",
        "  /home/sue/.local/share/callgate/exports/callgate-calls-20261126-140000.json",
        "",
        "Audit chain head (keep it with the files; `callgate audit verify --expect-head`):",
        "  event 42 " + "26a9e7fed84e1731d9b10c06323811d6074253bcf18110219ae6cfee84080c8d",
    )
    app = make_app()

    async def run_before(pilot: Pilot[int]) -> None:
        pilot.app.push_screen(ExportedModal("Export written", lines))
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)
