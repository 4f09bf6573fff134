"""The served desk in headless Chromium: a whole call, a tab closed mid-call, no foreign host.

One ``callgate serve`` process on a free loopback port and a demo database;
every check below reads either the database the desk wrote or the screen the
tab's websocket drew (tests/web/browser.py).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.models import AuditEvent, Call
from db.web_sessions import ENDED, STARTED
from tests.tui.drive import known_passphrase, on_file, typed
from tests.web.browser import (
    CHROMIUM_ARGS,
    CHROMIUM_MISSING,
    DeskTab,
    Requests,
    chromium_path,
    new_context,
    open_tab,
)
from tests.web.conftest import Served, stop_serve
from tui.widgets.item_form import form_fields
from verification.items import ITEM_SPECS
from verification.kinds import CallState, Item, Outcome

pytestmark = pytest.mark.slow
CALLER = "liam.oconnor@wideworld.example"
OTHER_CALLER = "jose.perez@contoso.example.com"

playwright_api = pytest.importorskip(
    "playwright.async_api", reason="playwright is not installed: pip install -e '.[test]'"
)


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    """Debian's headless Chromium, driven by Playwright; skipped only when it is missing."""
    path = chromium_path()
    if path is None:
        pytest.skip(CHROMIUM_MISSING)
    async with playwright_api.async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(path), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


def events(factory: sessionmaker[Session], *types: str) -> list[AuditEvent]:
    """The audit events of these types, in chain order."""
    with factory() as session:
        query = select(AuditEvent).where(AuditEvent.type.in_(types)).order_by(AuditEvent.seq)
        return list(session.scalars(query))


def calls(factory: sessionmaker[Session]) -> list[Call]:
    """Every call, oldest first."""
    with factory() as session:
        return list(session.scalars(select(Call).order_by(Call.id)))


async def sign_in(tab: DeskTab, passphrase: str) -> None:
    """Type the demo agent's credentials on the sign-in screen."""
    await tab.shows("Passphrase")
    await tab.fill("agent")
    await tab.next_field()
    await tab.fill(passphrase, drawn=False)
    await tab.press("Enter")


async def answer(
    tab: DeskTab, item: Item, stated: Mapping[str, str], then: str | None = None
) -> None:
    """Type what the caller states for ``item``, field by field, Enter; wait for its mark.

    ``then`` is what to wait for instead (the last item opens the gate view).
    """
    fields = [field for field, _ in form_fields(item)]
    stated = typed(item, stated)
    for number, name in enumerate(fields):
        if number:
            await tab.next_field()
        await tab.fill(stated.get(name, ""), drawn=number < len(fields) - 1)
    await tab.press("Enter")
    await tab.shows(then or f"✓ {ITEM_SPECS[item].label}")


async def test_a_whole_call_in_the_browser_then_a_closed_tab_is_resumed(
    browser: object,
    served: Served,
    factory: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    passphrase = known_passphrase(factory, "agent")
    requests = Requests()
    context = await new_context(browser, requests)  # type: ignore[arg-type]

    tab = await open_tab(context, served.url)
    await sign_in(tab, passphrase)
    await tab.shows("No call.")
    await tab.press("n")
    await tab.shows("Call #1")
    answers = on_file(factory, CALLER)
    *first, last = answers
    for item in first:
        await answer(tab, item, answers[item])
    await answer(tab, last, answers[last], then="Gate OPEN")
    await tab.press("r")
    await tab.shows("Expires:")
    await tab.press("Enter")  # the one confirmation; the end of the call is offered next
    await tab.shows("End the call — outcome", "Auto-renew turned off")
    await tab.press("Enter")
    await tab.shows("Call #1 closed: Auto-renew turned off")
    shot = tmp_path / "call-closed.png"
    await tab.page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000  # a drawn desk, not a blank page

    (call,) = calls(factory)
    assert call.state is CallState.CLOSED
    assert call.outcome is Outcome.AUTO_RENEW_OFF
    ended = events(factory, "call.ended")
    assert [json.loads(e.payload)["outcome"] for e in ended] == ["auto_renew_off"]
    assert len(events(factory, "item.checked")) == 5
    assert len(events(factory, "call.verified")) == 1

    # A second call, then the tab closes in the middle of it.
    await tab.press("Enter")
    await tab.shows("No call.")
    await tab.press("n")
    await tab.shows("Call #2")
    await answer(tab, Item.USER_ID, on_file(factory, OTHER_CALLER)[Item.USER_ID])
    await tab.page.close()
    await tab.until(lambda: len(events(factory, ENDED)) == 1, "the session's end event")
    open_call = calls(factory)[-1]
    assert open_call.state is not CallState.CLOSED and open_call.ended_at is None

    second = await open_tab(context, served.url)
    await sign_in(second, passphrase)
    await second.shows("Your call was interrupted", f"Call #{open_call.id}")
    await second.shows("Items already checked: 1")
    await second.press("Enter")
    await second.shows("✓ User ID")
    await second.page.screenshot(path=str(tmp_path / "resumed.png"))

    # Sessions: two started, the closed tab ended; no remote address in the chain.
    started = events(factory, STARTED)
    assert len(started) == 2
    (closed,) = events(factory, ENDED)
    payload = json.loads(closed.payload)
    assert payload["session"] == json.loads(started[0].payload)["session"]
    assert payload["reason"] == "closed"
    for event in [*started, closed]:
        assert "127.0.0.1" not in event.payload and "127.0.0.1" not in event.actor
    assert "opened from 127.0.0.1" in served.log.read_text()  # the server log has it

    # Stopping the server (SIGTERM, as a service manager does) ends the open tab.
    stop_serve(served)
    assert served.process.returncode == 0
    assert [json.loads(e.payload)["reason"] for e in events(factory, ENDED)] == [
        "closed",
        "shutdown",
    ]

    await context.close()
    assert requests.urls, "no request was recorded"
    assert requests.foreign(served.url) == []
    assert any(url.endswith(".ttf") for url in requests.urls)  # the font, from the server
