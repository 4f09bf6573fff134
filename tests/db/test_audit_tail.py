"""``callgate audit tail``: every event as a JSON line a collector can re-verify.

The follow tests run the real command in a child process and talk to it only
through its stdout and signals, waiting on lines, never on the clock.
"""

from __future__ import annotations

import itertools
import json
import os
import queue
import signal
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from db.audit.chain import append_event, canonical_payload, event_hash, verify_chain
from db.engine import make_sessionmaker, unit_of_work
from tui.cli import main as cli

REPO = Path(__file__).resolve().parents[2]
# Generous: only a hung child ever waits this long.
LINE_TIMEOUT = 60.0


def _append(engine: Engine, count: int) -> None:
    factory = make_sessionmaker(engine)
    for n in range(count):
        with unit_of_work(factory) as session:
            append_event(session, actor="tester", type="test.event", payload={"n": n, "é": "ü"})


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _rehash(record: dict[str, object]) -> str:
    """The hash a collector recomputes from one line alone."""
    return event_hash(
        int(record["seq"]),  # type: ignore[call-overload]
        datetime.fromisoformat(str(record["occurred_at"])),
        str(record["actor"]),
        str(record["type"]),
        canonical_payload(record["payload"]),  # type: ignore[arg-type]
        str(record["prev_hash"]),
    )


def test_tail_prints_every_event_as_a_json_line_a_collector_can_verify(
    any_engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    _append(any_engine, 7)

    assert cli(["--db", _url(any_engine), "audit", "tail"]) == 0

    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["seq"] for r in records] == list(range(1, 8))
    assert all(_rehash(r) == r["hash"] for r in records)
    assert records[-1]["hash"] == verify_chain(any_engine).head_hash
    assert all(r["prev_hash"] == p["hash"] for p, r in itertools.pairwise(records))


def test_tail_after_a_seq_starts_after_it(
    engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    _append(engine, 5)
    assert cli(["--db", _url(engine), "audit", "tail", "--after", "3"]) == 0
    assert [json.loads(line)["seq"] for line in capsys.readouterr().out.splitlines()] == [4, 5]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"), "PYTHONPATH": str(REPO)}
    env.pop("CALLGATE_SETTINGS", None)
    return env


class _Follower:
    """``audit tail --follow`` in a child process, read line by line."""

    def __init__(self, engine: Engine, tmp_path: Path, *extra: str) -> None:
        argv = ["--db", _url(engine), "audit", "tail", "--follow", "--interval", "0.05", *extra]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tui.cli", *argv],
            cwd=REPO,
            env=_env(tmp_path),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # A reader thread, since buffered lines never wake a selector again.
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def seqs(self, count: int) -> list[int]:
        """The seq of each of the next ``count`` lines."""
        return [json.loads(self.lines.get(timeout=LINE_TIMEOUT))["seq"] for _ in range(count)]

    def stop(self, sig: signal.Signals) -> tuple[int, str]:
        self.process.send_signal(sig)
        _, err = self.process.communicate(timeout=LINE_TIMEOUT)
        return self.process.returncode, err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_follow_prints_new_events_then_stops_cleanly_on_a_signal(
    any_engine: Engine, tmp_path: Path, sig: signal.Signals
) -> None:
    _append(any_engine, 3)
    follower = _Follower(any_engine, tmp_path, "--after", "1")
    assert follower.seqs(2) == [2, 3]

    _append(any_engine, 4)
    assert follower.seqs(4) == [4, 5, 6, 7]

    code, err = follower.stop(sig)
    assert (code, err) == (0, "")


def _into_closed_pipe(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """Run callgate with stdout a pipe whose reader is already gone."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [sys.executable, "-m", "tui.cli", *argv],
            cwd=REPO,
            env=_env(tmp_path),
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=LINE_TIMEOUT,
            check=False,
        )
    finally:
        os.close(write_end)


@pytest.mark.parametrize("follow", [[], ["--follow"]])
def test_tail_into_a_closed_pipe_exits_quietly(
    engine: Engine, tmp_path: Path, follow: list[str]
) -> None:
    _append(engine, 3)
    result = _into_closed_pipe(tmp_path, "--db", _url(engine), "audit", "tail", *follow)
    assert (result.returncode, result.stderr) == (141, "")
