"""PostgreSQL behind PgBouncer in transaction pooling, the way call centers pool desks.

A real PgBouncer (``pg_bouncer``, Debian's 1.18, two server connections per
database for four desks) between real desk processes and the server: each
transaction may run on another server connection than the one before, so a
statement psycopg prepared on one is missing (or another client's) on the
next. The desks do whole calls (``tests/helpers/call_worker.py``), more than
psycopg's default threshold of 5 executions per statement, and
``callgate deliver --once`` workers send what they decided to a receiver on
loopback.

The whole postgres suite runs through the bouncer with
``CALLGATE_TEST_PGBOUNCER=1`` (``tests/conftest.py``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from benchmarks.pg_cluster import Bouncer
from db.agents import add_agent
from db.audit.chain import verify_chain
from db.models import Call, OutboxChannel, OutboxState, Subscription
from tests.helpers.outbox_data import rows
from tests.helpers.receiver import running_receiver
from tests.helpers.review_data import PASSPHRASE, make_account
from verification.kinds import CallState, Role

pytestmark = pytest.mark.postgres

REPO = Path(__file__).resolve().parents[2]
DESKS = 4
CALLS_EACH = 8
DELIVERERS = 2
SECRET = "whsec_pgbouncer_test"


def _desk(url: str, agent_id: int, username: str, accounts: list[object]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.helpers.call_worker",
            url,
            str(agent_id),
            username,
            json.dumps([dataclasses.asdict(a) for a in accounts]),  # type: ignore[call-overload]
        ],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _deliverer(url: str, settings: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "CALLGATE_WEBHOOK_SECRET": SECRET}
    return subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "--db", url, "--settings", str(settings)]
        + ["deliver", "--once"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_desks_and_delivery_workers_through_pgbouncer_make_no_error(
    pg_engine: Engine, pg_factory: sessionmaker[Session], pg_bouncer: Bouncer, tmp_path: Path
) -> None:
    today = datetime.now(UTC).astimezone().date()
    agents = [
        add_agent(pg_factory, f"desk{n}", f"Desk {n}", Role.AGENT, PASSPHRASE)
        for n in range(DESKS)
    ]
    accounts = [
        make_account(
            pg_factory, f"Org {n:03d}", f"+1425555{n:04d}", today, canceled_days_ago=None
        )
        for n in range(DESKS * CALLS_EACH)
    ]
    pooled = pg_bouncer.pooled(pg_engine.url).render_as_string(hide_password=False)

    desks = [
        _desk(pooled, agent.id, agent.username, accounts[n::DESKS])
        for n, agent in enumerate(agents)
    ]
    for process in desks:  # all connected before any starts
        assert process.stdout is not None and process.stdout.readline() == "ready\n"
    for process in desks:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    for process in desks:
        out, err = process.communicate(timeout=120)
        assert err == "", err
        assert out.splitlines()[-1] == f"done {CALLS_EACH} 0"
        assert process.returncode == 0

    settings = tmp_path / "settings.toml"
    with running_receiver() as receiver:
        settings.write_text(f'webhook_urls = ["{receiver.url}"]\ndelivery_timeout_seconds = 5\n')
        workers = [_deliverer(pooled, settings) for _ in range(DELIVERERS)]
        for process in workers:
            out, err = process.communicate(timeout=120)
            assert process.returncode == 0, err
            assert "Traceback" not in err and "ERROR" not in err, err
    webhooks = [r for r in rows(pg_factory) if r.channel is OutboxChannel.WEBHOOK]
    assert len(webhooks) == DESKS * CALLS_EACH
    assert {r.state for r in webhooks} == {OutboxState.DELIVERED}
    assert receiver.applied == {r.event_id: 1 for r in webhooks}

    with pg_factory() as session:
        closed = session.scalar(select(func.count()).where(Call.state == CallState.CLOSED))
        renewing = session.scalar(select(func.count()).where(Subscription.auto_renew))
    assert (closed, renewing) == (DESKS * CALLS_EACH, 0)
    assert verify_chain(pg_engine).ok
