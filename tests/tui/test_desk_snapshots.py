"""SVG snapshots of the agent desk at 80×24 and 120×40 in its main states.

The demo data, the clock (and so the call timer) and the time zone are fixed,
and the cursor does not blink, so a picture changes only when the screen does.
Review a changed SVG before accepting it with ``--snapshot-update``.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker
from textual.pilot import Pilot
from textual.widgets import Input

from db.demo import DemoReport
from tests.tui.conftest import Clock
from tests.tui.drive import answer, known_passphrase, on_file, settle, sign_in, start_call
from verification.kinds import Item

CALLER = "jose.perez@contoso.example.com"
SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is UTC here, whatever the machine says."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


Step = Callable[[Pilot[int]], Awaitable[None]]


def call_until(factory: sessionmaker[Session], clock: Clock, then: Step | None = None) -> Step:
    """A ``run_before``: sign in, start a call, and 2 min 5 s later do ``then``.

    The timer shows 00:00 for a new call and 02:05 after any step: each step
    redraws it, and the frozen clock keeps the one-second tick from changing it.
    """

    async def run_before(pilot: Pilot[int]) -> None:
        await sign_in(pilot, "agent", known_passphrase(factory, "agent"))
        await start_call(pilot)
        if then is not None:
            clock.advance(minutes=2, seconds=5)
            await then(pilot)
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False
        await settle(pilot)

    return run_before


def half_verified(factory: sessionmaker[Session]) -> Step:
    """User ID and phone match; the contact name is missed."""

    async def steps(pilot: Pilot[int]) -> None:
        answers = on_file(factory, CALLER)
        await answer(pilot, Item.USER_ID, answers[Item.USER_ID])
        await answer(pilot, Item.PHONE, answers[Item.PHONE])
        await answer(pilot, Item.CONTACT_NAME, {"first": "Jon", "last": "Smith"})

    return steps


def gate_open(factory: sessionmaker[Session]) -> Step:
    """Every item matches: the subscriptions and the action keys."""

    async def steps(pilot: Pilot[int]) -> None:
        for item, stated in on_file(factory, CALLER).items():
            await answer(pilot, item, stated)

    return steps


def confirmation(factory: sessionmaker[Session]) -> Step:
    """Cancel now, its checklist: the points to read out, the consequences and dates."""

    async def steps(pilot: Pilot[int]) -> None:
        await gate_open(factory)(pilot)
        await pilot.press("c")

    return steps


def locked(factory: sessionmaker[Session]) -> Step:
    """Four misses: the call is locked and offers only "end call"."""

    async def steps(pilot: Pilot[int]) -> None:
        await answer(pilot, Item.USER_ID, {"value": CALLER})
        # A miss stays on its item: PageDown moves on to the next.
        await answer(pilot, Item.PHONE, {"value": "206-555-0142"})
        await pilot.press("pagedown")
        await answer(pilot, Item.CONTACT_NAME, {"first": "Jon", "last": "Smith"})
        await pilot.press("pagedown")
        await answer(pilot, Item.ORGANIZATION, {"value": "Fabrikam"})
        await pilot.press("pagedown")
        await answer(pilot, Item.ADDRESS, {"line1": "1 Lake Road", "city": "Chicago"})

    return steps


STATES: dict[str, Callable[[sessionmaker[Session]], Step | None]] = {
    "new_call": lambda _factory: None,
    "half_verified": half_verified,
    "gate_open": gate_open,
    "confirmation": confirmation,
    "locked": locked,
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("state", list(STATES))
def test_desk_snapshot(
    state: str,
    size: tuple[int, int],
    factory: sessionmaker[Session],
    demo: DemoReport,
    clock: Clock,
    make_app,
    snap_compare,
) -> None:
    steps = STATES[state](factory)
    assert snap_compare(
        make_app(), terminal_size=size, run_before=call_until(factory, clock, steps)
    )


def test_too_small_snapshot(
    factory: sessionmaker[Session], demo: DemoReport, clock: Clock, make_app, snap_compare
) -> None:
    """Below 80×24 the desk says so instead of cutting the call off."""

    async def at_60x20(pilot: Pilot[int]) -> None:
        await pilot.resize_terminal(80, 24)
        await call_until(factory, clock)(pilot)
        await pilot.resize_terminal(60, 20)
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=(60, 20), run_before=at_60x20)
