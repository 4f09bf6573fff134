"""Memory per open browser tab of ``callgate serve`` (a ``make bench`` figure).

A real ``callgate serve`` on a free loopback port; ``tabs`` websockets are
opened as the page opens them, each waiting until its desk drew the sign-in
screen and opened the database (SQLAlchemy and Alembic loaded, schema
checked). The figure is the resident memory (RSS) of the desk processes
divided by the tabs: what each more agent in a browser costs the server. The
server process itself is fixed cost, reported in the note.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.figures import ROOT, Figure
from benchmarks.processes import parents

# The desk writes this once its database is open; the probe waits for it.
_DRAWN = b"Passphrase"


def _rss_kib(pid: int) -> int:
    """Resident memory of one process, in KiB (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _descendants(root: int) -> list[int]:
    """Every process below ``root``."""
    children: dict[int, list[int]] = {}
    for pid, ppid in parents().items():
        children.setdefault(ppid, []).append(pid)
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    # Generous: on a shared, loaded machine the server's imports alone took over a minute.
    deadline = time.monotonic() + 180
    while True:
        if process.poll() is not None:
            raise RuntimeError("callgate serve exited before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError("callgate serve never listened") from None
            time.sleep(0.05)


async def _open_tabs(url: str, tabs: int) -> list[object]:
    """Open ``tabs`` websockets, each until its desk drew the sign-in screen."""
    from aiohttp import ClientSession, WSMsgType

    session = ClientSession()
    sockets = []
    for _ in range(tabs):
        websocket = await session.ws_connect(f"{url}/ws?width=100&height=30")
        drawn = b""
        while _DRAWN not in drawn:
            message = await asyncio.wait_for(websocket.receive(), timeout=120)
            if message.type != WSMsgType.BINARY:
                raise RuntimeError(f"the desk ended before drawing: {message}")
            drawn += message.data
        sockets.append(websocket)
    return [session, *sockets]


def _settled(server: int) -> tuple[list[int], int]:
    """The desk processes and their RSS once it stops growing.

    Each desk opens its database in a thread right after its first paint, so
    its memory still grows for a moment after the sign-in screen is drawn.
    """
    previous = -1
    while True:
        desks = [pid for pid in _descendants(server) if _rss_kib(pid)]
        total = sum(_rss_kib(pid) for pid in desks)
        if previous > 0 and abs(total - previous) <= previous // 200:
            return desks, total
        previous = total
        time.sleep(0.5)


def web_tab_memory(db_url: str, tabs: int = 5) -> Figure:
    """RSS of the desk processes of ``tabs`` open tabs, per tab, in MiB."""
    port = _free_port()
    settings = {"CALLGATE_SETTINGS": os.devnull}  # defaults; room for 20 tabs
    process = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "--db", db_url, "serve", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **settings, "PYTHONPATH": str(ROOT)},
    )
    loop = asyncio.new_event_loop()
    try:
        _wait_listening(port, process)
        server_kib = _rss_kib(process.pid)
        opened = loop.run_until_complete(_open_tabs(f"http://127.0.0.1:{port}", tabs))
        desks, desk_kib = _settled(process.pid)
        loop.run_until_complete(opened[0].close())  # type: ignore[attr-defined]
    finally:
        loop.close()
        process.terminate()
        process.wait(timeout=30)
    return Figure(
        "serve: memory per open browser tab",
        desk_kib / 1024 / tabs,
        None,
        "MiB",
        note=f"RSS of {len(desks)} processes for {tabs} tabs at sign-in, database open;"
        f" the server itself {server_kib / 1024:.0f} MiB",
    )
