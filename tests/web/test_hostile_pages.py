"""A page that asks ``callgate serve`` for too much, or names no URL, is refused cleanly.

One real ``callgate serve`` process on a loopback port (tests/web/conftest.py);
aiohttp's client plays the page's websocket, and a raw socket sends the
headers no browser would. Each test ends by asking the server for its page
again and reading its log: it still serves, and nothing in the log is a crash.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
from pathlib import Path

import pytest
from aiohttp import ClientSession, ClientWebSocketResponse, WSCloseCode, WSMsgType

from benchmarks.processes import children
from tests.web.conftest import Served, until
from tui.web.server import MAX_HEIGHT, MAX_MESSAGE_BYTES, MAX_WIDTH, terminal_size

pytestmark = pytest.mark.slow
# Where each line of a frame starts: ESC [ row ; column H.
_MOVE = re.compile(rb"\x1b\[(\d+);(\d+)H")


def _port(served: Served) -> int:
    return int(served.url.rsplit(":", 1)[1])


def desks_of(served: Served) -> list[int]:
    """The desk processes the server runs now (its children)."""
    return children(served.process.pid)


def terminal_of(pid: int) -> tuple[int, int]:
    """The COLUMNS and ROWS a desk process was started with."""
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    environment = dict(item.split(b"=", 1) for item in raw if b"=" in item)
    return int(environment[b"COLUMNS"]), int(environment[b"ROWS"])


async def drawn_until(websocket: ClientWebSocketResponse, phrase: bytes) -> bytes:
    """The desk's frames until one shows ``phrase``."""
    drawn = b""
    while phrase not in drawn:
        message = await asyncio.wait_for(websocket.receive(), timeout=60)
        assert message.type == WSMsgType.BINARY, message
        drawn += message.data
    return drawn


def raw_request(served: Served, path: str, headers: dict[str, str]) -> int:
    """The status of one request sent with exactly these headers, as no browser would."""
    lines = [f"GET {path} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    with socket.create_connection(("127.0.0.1", _port(served)), timeout=30) as conn:
        conn.sendall("\r\n".join(lines).encode("utf-8"))
        status_line = conn.recv(4096).split(b"\r\n", 1)[0]
    return int(status_line.split()[1])


def upgrade(host: str, origin: str | None = None) -> dict[str, str]:
    """The headers of a websocket handshake."""
    headers = {
        "Host": host,
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
    }
    return headers if origin is None else {**headers, "Origin": origin}


async def still_serving(served: Served, client: ClientSession) -> None:
    """The server answers its page, and its log holds no crash."""
    async with client.get(served.url + "/") as page:
        assert page.status == 200
    log = served.log.read_text()
    assert "Traceback" not in log and "Error handling request" not in log, log
    assert served.process.poll() is None


def test_the_size_asked_for_is_held_within_the_limits() -> None:
    assert terminal_size("20000", "20000") == (MAX_WIDTH, MAX_HEIGHT) == (500, 200)
    assert terminal_size("-5", "0") == (10, 5)
    assert terminal_size(None, "1e9") == (80, 24)
    assert terminal_size("120", "40") == (120, 40)


async def test_a_desk_is_started_within_the_size_limit(served: Served) -> None:
    async with ClientSession() as client:
        url = f"{served.url}/ws?width={MAX_WIDTH + 100}&height={MAX_HEIGHT + 50}"
        async with client.ws_connect(url) as websocket:
            await until(lambda: len(desks_of(served)) == 1, "the desk to start")
            (desk,) = desks_of(served)
            assert terminal_of(desk) == (MAX_WIDTH, MAX_HEIGHT)
            await drawn_until(websocket, b"Passphrase")
        await until(lambda: not desks_of(served), "the desk to quit")
        await still_serving(served, client)


async def test_a_resize_past_the_limit_draws_at_the_limit(served: Served) -> None:
    async with ClientSession() as client:
        async with client.ws_connect(f"{served.url}/ws?width=100&height=30") as websocket:
            await drawn_until(websocket, b"Passphrase")
            resize = {"width": MAX_WIDTH + 100, "height": MAX_HEIGHT + 50}
            await websocket.send_str(json.dumps(["resize", resize]))
            rows: list[int] = []
            while not rows or max(rows) < MAX_HEIGHT:
                message = await asyncio.wait_for(websocket.receive(), timeout=60)
                assert message.type == WSMsgType.BINARY, message
                # The frame that reaches the last row holds every row: none past the limit.
                rows = [int(row) for row, _ in _MOVE.findall(message.data)]
            assert max(rows) == MAX_HEIGHT
            await websocket.send_str(json.dumps(["resize", {"width": "wide", "height": -3}]))
            await websocket.send_str("not json")
            await websocket.send_str(json.dumps(["ping", "still there"]))
            answer = await asyncio.wait_for(websocket.receive(), timeout=60)
            while answer.type == WSMsgType.BINARY:
                answer = await asyncio.wait_for(websocket.receive(), timeout=60)
            assert answer.type == WSMsgType.TEXT and json.loads(answer.data) == [
                "pong",
                "still there",
            ]
        await still_serving(served, client)


async def test_a_message_over_the_limit_closes_its_tab_only(served: Served) -> None:
    async with ClientSession() as client:
        async with client.ws_connect(f"{served.url}/ws?width=100&height=30") as websocket:
            await drawn_until(websocket, b"Passphrase")
            huge = json.dumps(["stdin", "x" * MAX_MESSAGE_BYTES])
            await websocket.send_str(huge)
            closing = await asyncio.wait_for(websocket.receive(), timeout=60)
            while closing.type == WSMsgType.BINARY:
                closing = await asyncio.wait_for(websocket.receive(), timeout=60)
            assert closing.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING)
            assert websocket.close_code == WSCloseCode.MESSAGE_TOO_BIG
        await until(lambda: not desks_of(served), "the desk to quit")
        async with client.ws_connect(f"{served.url}/ws?width=100&height=30") as again:
            await drawn_until(again, b"Passphrase")  # the next tab is served as before
        await still_serving(served, client)


NOT_URLS = (
    "http://127.0.0.1:{port}.evil.example",
    "http://127.0.0.1:99999",
    "http://127.0.0.1:-1",
    "http://[::1",
    "http://[::1]:{port}x",
    "http://[zz]:{port}",
    "http://",
    "null",
)
NOT_HOSTS = ("127.0.0.1:99999", "127.0.0.1:abc", "[::1", "[zz]:80", "[::1]x", "a b", "", "h\u00e9")


async def test_an_origin_that_is_no_url_is_a_clean_refusal(served: Served) -> None:
    port = _port(served)
    for origin in NOT_URLS:
        headers = upgrade(f"127.0.0.1:{port}", origin.format(port=port))
        assert raw_request(served, "/ws", headers) == 403, origin
    assert not desks_of(served)
    async with ClientSession() as client:
        await still_serving(served, client)


async def test_a_host_header_that_is_no_host_is_a_400(served: Served) -> None:
    for host in NOT_HOSTS:
        assert raw_request(served, "/", {"Host": host, "Connection": "close"}) == 400, host
        assert raw_request(served, "/ws", upgrade(host)) == 400, host
    assert not desks_of(served)
    port = _port(served)
    for good in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"):
        assert raw_request(served, "/", {"Host": good, "Connection": "close"}) == 200
    async with ClientSession() as client:
        await still_serving(served, client)
