"""A real ``callgate serve`` on a free loopback port, on a demo database."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from db.demo import DemoReport, load_demo

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def until(condition: Callable[[], bool], what: str, seconds: float = 30) -> None:
    """Wait for something the server does on its own."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


@dataclass
class Served:
    """A running ``callgate serve``: where it listens and its process."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path


def start_serve(db_url: str, settings: Path, log: Path, *extra: str) -> Served:
    """Start ``callgate serve`` and wait until it accepts connections."""
    port = free_port()
    command = [sys.executable, "-m", "tui.cli", "--db", db_url, "--settings", str(settings)]
    command += ["serve", "--port", str(port), *extra]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
    served = Served(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise AssertionError(f"callgate serve exited: {log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return served
        except OSError:
            if time.monotonic() > deadline:
                stop_serve(served)
                raise AssertionError(f"callgate serve never listened: {log.read_text()}") from None
            time.sleep(0.05)


def stop_serve(served: Served) -> None:
    """Stop the server as Ctrl+C does."""
    served.process.terminate()
    try:
        served.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        served.process.kill()
        served.process.wait()


@pytest.fixture
def today_demo(factory: sessionmaker[Session]) -> DemoReport:
    """The demo data dated today, as ``callgate demo`` loads it for a real desk."""
    return load_demo(factory, date.today())


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    """A settings file with room for two tabs."""
    path = tmp_path / "settings.toml"
    path.write_text("web_max_sessions = 2\nweb_idle_minutes = 30\n")
    return path


@pytest.fixture
def served(
    db_url: str, settings_file: Path, tmp_path: Path, today_demo: DemoReport
) -> Iterator[Served]:
    """``callgate serve`` on the demo database, stopped after the test."""
    running = start_serve(db_url, settings_file, tmp_path / "serve.log")
    try:
        yield running
    finally:
        stop_serve(running)
