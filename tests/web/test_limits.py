"""The operator's limits on ``callgate serve``: session count, idle end, audit events.

The server runs in the test's event loop on a loopback port, each tab a real
desk process; aiohttp's client plays the browser's websocket (the page itself
is tested in Chromium by test_browser_desk.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from aiohttp import ClientSession, ClientWebSocketResponse, WSMsgType, WSServerHandshakeError
from aiohttp.test_utils import TestServer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from benchmarks.processes import children
from db.models import AuditEvent
from db.settings import Settings
from db.web_sessions import ENDED, STARTED
from tests.web.conftest import free_port, until
from tui.web.server import DeskServer

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]


def desk_processes() -> list[int]:
    """This process's children that run a desk."""
    found = []
    for pid in children(os.getpid()):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue  # it ended meanwhile
        if b"tui.cli" in command:
            found.append(pid)
    return found


def session_events(factory: sessionmaker[Session]) -> list[tuple[str, dict[str, object]]]:
    """The session events on the chain, in order, with their payloads."""
    with factory() as session:
        rows = session.execute(
            select(AuditEvent.type, AuditEvent.payload)
            .where(AuditEvent.type.in_((STARTED, ENDED)))
            .order_by(AuditEvent.seq)
        ).all()
    return [(type_, json.loads(payload)) for type_, payload in rows]


class Running:
    """A DeskServer listening on loopback, and a client for it."""

    def __init__(self, server: DeskServer, http: TestServer, client: ClientSession) -> None:
        self.server = server
        self.http = http
        self.client = client

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` on the server."""
        return str(self.http.make_url(path))

    async def open_tab(self) -> ClientWebSocketResponse:
        """Connect a tab's websocket and wait until its desk drew the sign-in screen."""
        websocket = await self.client.ws_connect(self.url("/ws?width=100&height=30"))
        drawn = b""
        while b"Passphrase" not in drawn:
            message = await asyncio.wait_for(websocket.receive(), timeout=60)
            assert message.type == WSMsgType.BINARY, message
            drawn += message.data
        return websocket


@pytest.fixture
async def running(settings: Settings, factory: sessionmaker[Session]) -> AsyncIterator[Running]:
    """The server with room for one tab, idle after 5 minutes."""
    limited = replace(settings, web_max_sessions=1, web_idle_minutes=5)
    port = free_port()
    server = DeskServer(
        f"exec {sys.executable} -m tui.cli",
        {"CALLGATE_DATABASE_URL": settings.database_url, "PYTHONPATH": str(REPO)},
        limited,
        factory,
        host="127.0.0.1",
        port=port,
    )
    http = TestServer(await server._make_app(), host="127.0.0.1", port=port)
    await http.start_server()
    async with ClientSession() as client:
        try:
            yield Running(server, http, client)
        finally:
            await http.close()


@pytest.fixture
def settings(db_url: str) -> Settings:
    """Default settings on the test database."""
    return Settings(database_url=db_url)


async def test_past_the_maximum_the_page_is_a_refusal_until_a_tab_closes(
    running: Running, factory: sessionmaker[Session]
) -> None:
    first = await running.open_tab()
    assert len(running.server.tabs) == 1

    page = await running.client.get(running.url("/"))
    assert page.status == 503
    assert "Every desk session is in use" in await page.text()
    with pytest.raises(WSServerHandshakeError) as refused:
        await running.client.ws_connect(running.url("/ws"))
    assert refused.value.status == 503

    await first.close()
    await until(lambda: not running.server.tabs and not desk_processes(), "the tab to end")
    page = await running.client.get(running.url("/"))
    assert page.status == 200
    assert "textual.js" in await page.text()
    assert page.headers["X-Frame-Options"] == "DENY"

    events = session_events(factory)
    assert [type_ for type_, _ in events] == [STARTED, ENDED]
    started, ended = events[0][1], events[1][1]
    assert started == {"session": ended["session"]}  # ids only: no address, no agent
    assert ended["reason"] == "closed"


async def test_an_idle_tab_is_ended_and_a_key_keeps_it(
    running: Running, factory: sessionmaker[Session]
) -> None:
    websocket = await running.open_tab()
    (tab,) = running.server.tabs.values()
    idle = running.server.limits.idle_seconds
    assert idle == 5 * 60

    sent_at = time.monotonic()
    await websocket.send_str(json.dumps(["stdin", "a"]))
    await until(lambda: tab.last_input >= sent_at, "the key to reach the server")
    assert await running.server.end_idle_sessions(sent_at + idle - 1) == 0
    assert running.server.tabs

    assert await running.server.end_idle_sessions(tab.last_input + idle + 1) == 1
    closing = await asyncio.wait_for(websocket.receive(), timeout=30)
    while closing.type == WSMsgType.BINARY:  # the desk's last frames, then the close
        closing = await asyncio.wait_for(websocket.receive(), timeout=30)
    assert closing.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING)
    await until(lambda: not running.server.tabs and not desk_processes(), "the desk to quit")

    (_, ended) = session_events(factory)[-1]
    assert ended["reason"] == "idle"


async def test_another_sites_page_cannot_open_a_desk(running: Running) -> None:
    with pytest.raises(WSServerHandshakeError) as refused:
        await running.client.ws_connect(
            running.url("/ws"), headers={"Origin": "http://elsewhere.example"}
        )
    assert refused.value.status == 403
    assert not running.server.tabs
    port = running.http.port
    for own in (f"http://127.0.0.1:{port}", f"http://localhost:{port}"):
        assert running.server.page_origin(own)
    assert not running.server.page_origin(f"https://127.0.0.1:{port}")
    assert not running.server.page_origin("http://localhost:1")


async def test_stopping_the_server_ends_every_tab_and_says_why(
    running: Running, factory: sessionmaker[Session]
) -> None:
    await running.open_tab()
    await running.http.close()
    await until(lambda: not desk_processes(), "the desk to quit")
    assert [type_ for type_, _ in session_events(factory)] == [STARTED, ENDED]
    assert session_events(factory)[-1][1]["reason"] == "shutdown"
