"""Render the README's screenshot of the desk mid-call, from the app itself.

    .venv/bin/python scripts/screenshot.py [OUT.svg]     (default: docs/desk.svg)

A throwaway SQLite database gets the demo data; the desk is driven headless by
keys, as an agent would, to the middle of a call (two items matched, one
missed); the screen is saved as SVG. The clock is fixed, so the picture only
changes when the desk does.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from textual import events
from textual.pilot import Pilot
from textual.widgets import Input

from db.demo import load_demo
from db.engine import make_engine, make_sessionmaker
from db.migrate import upgrade
from db.models import AccountUser
from db.settings import Settings
from tui.app import CallgateApp

SIZE = (100, 30)
CALLER = "jose.perez@contoso.example.com"
STARTED = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "docs" / "desk.svg"


class Clock:
    """The desk's clock, moved by hand so the call timer shows a fixed time."""

    def __init__(self) -> None:
        self.now = STARTED

    def __call__(self) -> datetime:
        return self.now


async def settle(pilot: Pilot[int]) -> None:
    """Let the database workers finish and the screen catch up."""
    for _ in range(2):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def say(pilot: Pilot[int], *fields: str) -> None:
    """Paste one answer per field (Tab between them), then Enter to check it."""
    for number, value in enumerate(fields):
        if number:
            await pilot.press("tab")
        pilot.app.post_message(events.Paste(value))
        await pilot.pause()
    await pilot.press("enter")
    await settle(pilot)


async def render(out: Path, database: Path) -> None:
    """Drive the desk to mid-call and save the screen to ``out``."""
    url = f"sqlite:///{database}"
    engine = make_engine(url)
    upgrade(engine)
    factory = make_sessionmaker(engine)
    report = load_demo(factory, STARTED.date())
    passphrase = next(a.passphrase for a in report.agents if a.username == "agent")
    assert passphrase is not None, "a new demo database creates the agent"
    with factory() as session:
        user = session.scalars(select(AccountUser).where(AccountUser.user_id == CALLER)).one()
        phone = user.tenant.phone_e164

    clock = Clock()
    app = CallgateApp(Settings(database_url=url), lambda: factory, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await say(pilot, "agent")
        await say(pilot, passphrase)
        await pilot.press("n")
        await settle(pilot)
        clock.now += timedelta(minutes=1, seconds=42)
        await say(pilot, CALLER)
        await say(pilot, phone)
        await say(pilot, "Jon Perez")
        for field in app.query(Input):
            field.cursor_blink = False
        await pilot.pause()
        out.write_text(app.export_screenshot(title="callgate — agent desk, mid-call"))
    engine.dispose()


def main() -> int:
    """Write the screenshot; the path is the only argument."""
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT
    # Dates and times on screen are local: fix the zone so the picture is stable.
    os.environ["TZ"] = "UTC"
    time.tzset()
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(render(out, Path(folder) / "demo.db"))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
