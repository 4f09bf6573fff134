"""The supervisor desk at 80×24 and 120×40: every column fits, long values wrap."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker
from textual.pilot import Pilot

from tests.helpers.review_data import expedited_call, make_account, make_staff
from tests.tui.conftest import START, screen_text
from tests.tui.drive import settle
from tui.screens.supervisor_queue import SupervisorQueueScreen
from tui.screens.supervisor_request import SupervisorRequestScreen
from verification.checks import RULES_VERSION

TODAY = START.astimezone().date()
LONG_ORGANIZATION = "Contoso Pharmaceuticals International"


def _expedited(factory: sessionmaker[Session]) -> tuple[int, object]:
    staff = make_staff(factory)
    account = make_account(factory, LONG_ORGANIZATION, "+14255550100", TODAY)
    call_id, _ = expedited_call(factory, staff.agent, account, START)
    return call_id, staff.supervisor


def _column_text(screen: str, heading: str) -> str:
    """The words under ``heading`` in the first row of the table, across its wrapped lines."""
    lines = screen.splitlines()
    [header] = [n for n, line in enumerate(lines) if f" {heading} " in f"{line} "]
    start = lines[header].index(heading)
    end = start + len(heading)
    while end < len(lines[header]) and lines[header][end] == " ":
        end += 1
    words = []
    for line in lines[header + 1 :]:
        part = line[start:end].strip() if end < len(lines[header]) else line[start:].strip()
        if not part:
            break
        words.append(part)
    return " ".join(words)


async def _bottom(pilot: Pilot[int]) -> None:
    pilot.app.screen.query_one("#request-body").scroll_end(animate=False)
    await settle(pilot)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_the_queue_shows_each_detail_whole(
    factory: sessionmaker[Session], make_app, size: tuple[int, int]
) -> None:
    _, supervisor = _expedited(factory)
    app = make_app()
    async with app.run_test(size=size) as pilot:
        app.push_screen(SupervisorQueueScreen(supervisor))
        await settle(pilot)
        text = screen_text(app)
    assert _column_text(text, "Detail") == "approve: Business Standard"
    assert _column_text(text, "Organization") == LONG_ORGANIZATION


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_the_request_fits_its_checks_and_timeline(
    factory: sessionmaker[Session], make_app, size: tuple[int, int]
) -> None:
    call_id, supervisor = _expedited(factory)
    app = make_app()
    async with app.run_test(size=size) as pilot:
        app.push_screen(SupervisorRequestScreen(supervisor, call_id))
        await settle(pilot)
        top = screen_text(app)
        await _bottom(pilot)
        bottom = screen_text(app)
    # An address wraps at words, and only where the column is too narrow for it.
    assert ("1 Main Street, Springfield," in top) is (size[0] >= 120)
    assert "1 Main Street," in top
    words = " ".join(bottom.split())
    assert f"rules {RULES_VERSION}" in words  # the timeline's details are not cut
    assert "call ended Expedited" in words
