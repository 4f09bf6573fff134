"""A desk killed with SIGKILL mid-write loses nothing it reported committed."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text

from db.audit.chain import verify_chain
from db.engine import make_engine
from db.models import AuditEvent

REPO = Path(__file__).resolve().parents[2]
KILLS = 15


def _run_until_killed(url: str, name: str, rng: random.Random) -> list[int]:
    """Start an appender, SIGKILL it at a random moment, return the seqs it reported."""
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.append_worker", url, name],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert worker.stdout is not None
    first = worker.stdout.readline()  # it is past start-up and appending
    assert first.endswith("\n"), worker.stderr.read() if worker.stderr else ""
    time.sleep(rng.uniform(0.0, 0.4))
    worker.send_signal(signal.SIGKILL)
    rest, err = worker.communicate(timeout=30)
    assert worker.returncode == -signal.SIGKILL, err
    # A line cut short by the kill was never a complete report.
    lines = (first + rest).split("\n")[:-1]
    return [int(line) for line in lines]


@pytest.mark.slow
def test_killed_appenders_lose_no_reported_event(any_engine: Engine) -> None:
    url = any_engine.url.render_as_string(hide_password=False)
    any_engine.dispose()
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    reported: list[int] = []
    for kill in range(KILLS):
        reported += _run_until_killed(url, f"crash{kill}", rng)

    reopened = make_engine(url)
    try:
        if reopened.dialect.name == "sqlite":
            with reopened.connect() as connection:
                assert connection.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        report = verify_chain(reopened)
        with reopened.connect() as connection:
            stored = set(connection.scalars(select(AuditEvent.seq)))
    finally:
        reopened.dispose()
    assert report.ok, f"seed {seed}: {report.problem} at {report.first_bad_seq}"
    assert len(reported) > KILLS  # every run got some appends in before its kill
    assert set(reported) <= stored, f"seed {seed}: lost {sorted(set(reported) - stored)}"
    assert len(set(reported)) == len(reported)  # no seq was handed out twice
    print(
        f"{reopened.dialect.name}: {KILLS} kills, {len(reported)} reported, "
        f"{report.count} stored, seed {seed}"
    )
