"""A desk whose terminal hangs up quits, even when nobody sends it SIGHUP."""

from __future__ import annotations

import fcntl
import os
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

from sqlalchemy import Engine

REPO = Path(__file__).resolve().parents[2]


def test_a_desk_quits_when_its_terminal_is_closed(engine: Engine, db_url: str) -> None:
    # The desk in a session of its own, so closing the terminal sends it no
    # SIGHUP: as under ``make run``, where only make (the session leader) gets one.
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    desk = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "--db", db_url],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=REPO,
        env={**os.environ, "TERM": "xterm-256color", "PYTHONPATH": str(REPO)},
        start_new_session=True,
    )
    os.close(slave)
    drawn = bytearray()
    deadline = time.monotonic() + 60
    try:
        while b"sign in" not in drawn:  # the sign-in screen is up: the desk runs
            assert desk.poll() is None, bytes(drawn[-500:]).decode(errors="replace")
            assert time.monotonic() < deadline, "the desk did not draw its sign-in screen"
            drawn.extend(os.read(master, 65536))
        os.close(master)  # the terminal's window closes
        master = -1
        # Without the desk's own check it reads end-of-file in a loop, forever.
        watchdog = threading.Timer(30, desk.kill)
        watchdog.start()
        try:
            desk.wait()
        finally:
            watchdog.cancel()
        assert desk.returncode >= 0, "killed after 30 s: the desk did not quit"
    finally:
        if master >= 0:
            os.close(master)
        if desk.poll() is None:
            desk.kill()
            desk.wait()
