"""Memory per desk after a whole call: a terminal desk and a browser tab's desk (``make bench``).

Each figure is the desk process's unique memory, its PSS (``/proc/PID/smaps_rollup``:
every page shared with other processes counted as its share), read once a
whole call is over: signed in, a caller's five items stated and checked, the
call ended. The desk is driven by the keys an agent types, its screen read
through pyte:

- ``terminal_desk_memory``: ``python -m tui.cli`` on a pseudo-terminal, as
  sshd runs it for an agent over SSH (``tests/tui/test_hangup.py`` runs one
  the same way);
- ``web_desk_memory``: a tab of a real ``callgate serve``, keys sent and the
  screen read over its websocket; the figure is the tab's desk process.

``desks_per_gb``: how many such desks fit in a GiB of the host's memory.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.figures import ROOT, Figure
from benchmarks.web_memory import _descendants, _free_port, _wait_listening

PSS_BAR_MIB = 40.0
COLUMNS, LINES = 100, 30
F4 = "\x1bOS"  # what an xterm sends for F4: the desk's "End call"

Script = list[tuple[str, str]]  # (keys to send, what the screen shows once they are taken)


def pss_kib(pid: int) -> int:
    """Proportional set size of ``pid``, in KiB."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    raise RuntimeError(f"no Pss line for process {pid}")


def whole_call(db_url: str) -> Script:
    """A new agent's keys for a whole call with a generated caller, and what each step shows."""
    from benchmarks.desk_figures import stated_callers
    from db.engine import make_engine, make_sessionmaker
    from db.staff.agents import add_agent
    from tui.widgets.item_form import form_fields
    from verification.items import ITEM_SPECS
    from verification.kinds import Item, Role

    engine = make_engine(db_url)
    factory = make_sessionmaker(engine)
    username = "memory" + datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")
    passphrase = "memory benchmark passphrase"
    add_agent(factory, username, "Memory Bench", Role.AGENT, passphrase, actor="bench")
    (statements,) = stated_callers(factory, 1)
    engine.dispose()
    script: Script = [
        ("", "Passphrase"),
        (f"{username}\t{passphrase}\r", "No call."),
        ("n", "Call #"),
    ]
    for number, (item, stated) in enumerate(statements):
        spec = ITEM_SPECS[item]
        if item is Item.CONTACT_NAME:  # the desk's one name field: "First Last"
            stated = {"name": f"{stated.get('first', '')} {stated.get('last', '')}".strip()}
        fields = [field for field, _ in form_fields(item)]
        keys = "\t".join(stated.get(name, "") for name in fields) + "\r"
        last = number == len(statements) - 1
        script.append((keys, "Gate OPEN" if last else f"✓ {spec.label}"))
    script += [(F4, "End the call"), ("\r", "closed")]
    return script


class _Screen:
    """What the desk drew, as an agent's terminal shows it."""

    def __init__(self) -> None:
        import pyte

        self.screen = pyte.Screen(COLUMNS, LINES)
        self.stream = pyte.ByteStream(self.screen)

    def feed(self, data: bytes) -> None:
        self.stream.feed(data)

    def shows(self, phrase: str) -> bool:
        return phrase in "\n".join(self.screen.display)

    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.screen.display)


def _settled_pss(pids: Callable[[], list[int]]) -> tuple[int, int]:
    """(processes, their PSS in KiB) once it stops moving (the desk may still be tidying up)."""
    previous = -1
    for _ in range(40):
        found = pids()
        total = sum(pss_kib(pid) for pid in found)
        if previous > 0 and abs(total - previous) <= previous // 200:
            return len(found), total
        previous = total
        time.sleep(0.5)
    return len(found), total


def terminal_desk_memory(db_url: str, seconds: float = 120.0) -> Figure:
    """PSS of a terminal desk (``python -m tui.cli`` on a pty) after a whole call, in MiB."""
    script = whole_call(db_url)
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
    desk = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "--db", db_url],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=ROOT,
        env={
            **os.environ,
            "TERM": "xterm-256color",
            "CALLGATE_SETTINGS": os.devnull,
            "PYTHONPATH": str(ROOT),
        },
        start_new_session=True,
    )
    os.close(slave)
    screen = _Screen()
    try:
        deadline = time.monotonic() + seconds
        for keys, then in script:
            if keys:
                os.write(master, keys.encode())
            while not screen.shows(then):
                if desk.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the desk never showed {then!r}:\n{screen.text()}")
                if select.select([master], [], [], 0.1)[0]:
                    screen.feed(os.read(master, 65536))
        processes, kib = _settled_pss(lambda: [desk.pid, *_descendants(desk.pid)])
    finally:
        desk.kill()
        desk.wait()
        os.close(master)
    return _figure("terminal", kib, processes)


async def _drive_tab(url: str, script: Script, seconds: float) -> tuple[object, object]:
    """Open a tab's websocket and run ``script`` on it; the session and websocket, kept open.

    Both must stay referenced: a websocket collected as garbage closes, and
    its tab's desk quits before its memory is read.
    """
    import json

    from aiohttp import ClientSession, WSMsgType

    session = ClientSession()
    websocket = await session.ws_connect(f"{url}/ws?width={COLUMNS}&height={LINES}")
    screen = _Screen()
    deadline = time.monotonic() + seconds
    for keys, then in script:
        if keys:
            await websocket.send_str(json.dumps(["stdin", keys]))
        while not screen.shows(then):
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"the tab never showed {then!r}:\n{screen.text()}")
            message = await asyncio.wait_for(websocket.receive(), timeout=left)
            if message.type != WSMsgType.BINARY:
                raise RuntimeError(f"the tab's desk ended: {message}\n{screen.text()}")
            screen.feed(message.data)
    return session, websocket


def web_desk_memory(db_url: str, seconds: float = 120.0) -> Figure:
    """PSS of a ``callgate serve`` tab's desk process after a whole call, in MiB."""
    script = whole_call(db_url)
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "--db", db_url, "serve", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "CALLGATE_SETTINGS": os.devnull, "PYTHONPATH": str(ROOT)},
    )
    loop = asyncio.new_event_loop()
    try:
        _wait_listening(port, process)
        before = set(_descendants(process.pid))  # a zygote the server keeps, if any
        session, _websocket = loop.run_until_complete(
            _drive_tab(f"http://127.0.0.1:{port}", script, seconds)
        )
        processes, kib = _settled_pss(
            lambda: [p for p in _descendants(process.pid) if p not in before]
        )
        loop.run_until_complete(session.close())  # type: ignore[attr-defined]
    finally:
        loop.close()
        process.terminate()
        process.wait(timeout=30)
    return _figure("serve tab", kib, processes)


def _figure(kind: str, kib: int, processes: int) -> Figure:
    return Figure(
        f"{kind}: desk memory (PSS) after a whole call",
        kib / 1024,
        None,
        "MiB",
        bar=PSS_BAR_MIB,
        note=f"{processes} process(es), /proc/PID/smaps_rollup;"
        f" {desks_per_gb(kib):.0f} desks per GiB",
    )


def desks_per_gb(kib: int) -> float:
    """How many desks of ``kib`` KiB unique memory fit in one GiB."""
    return 1024 * 1024 / kib if kib else float("nan")
