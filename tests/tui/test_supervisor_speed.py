"""The supervisor desk keeps itself current and says how old what it shows is."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from db.demo import DemoReport
from db.settings import Settings
from tests.tui.conftest import Clock
from tests.tui.drive import known_passphrase, settle, sign_in, text, until
from tests.tui.test_failing_calls import lock_tenant
from tui.screens.supervisor_queue import REFRESH_SECONDS, SupervisorQueueScreen

CALLER = "jose.perez@contoso.example.com"


async def test_the_queue_refreshes_itself_and_says_how_old_it_is(
    factory: sessionmaker[Session],
    demo: DemoReport,
    settings: Settings,
    clock: Clock,
    make_app,
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "supervisor", known_passphrase(factory, "supervisor"))
        await pilot.press("f6")
        await settle(pilot)
        queue = app.screen
        assert isinstance(queue, SupervisorQueueScreen)
        before = len(queue.rows)
        clock.advance(seconds=7)
        await until(pilot, lambda: "updated 7 s ago" in text(app))
        assert "updated 7 s ago" in text(app)

        lock_tenant(factory, settings, CALLER)  # another desk's calls, meanwhile
        clock.advance(seconds=REFRESH_SECONDS)
        await until(pilot, lambda: len(queue.rows) > before)
        assert any(row.kind == "tenant_locked" for row in queue.rows)
        assert "updated 0 s ago" in text(app)
