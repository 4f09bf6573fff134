"""PostgreSQL behind PgBouncer in transaction pooling, the way call centers pool desks.

A real PgBouncer (Debian's 1.18; for the desks, two server connections for
four desks) between real desk processes and the server: each
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
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import URL, Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from benchmarks.pg_cluster import Bouncer, pgbouncer_binary
from db.audit.chain import append_event, verify_chain
from db.audit.scan import OPEN_END, RangeJob, scan_range
from db.engine import DatabaseURLError, libpq_target, make_engine, unit_of_work
from db.models import Call, OutboxChannel, OutboxState, Subscription
from db.staff.agents import add_agent
from tests.helpers.outbox_data import rows
from tests.helpers.receiver import running_receiver
from tests.helpers.review_data import PASSPHRASE, make_account
from verification.kinds import CallState, Role

REPO = Path(__file__).resolve().parents[2]
DESKS = 4
CALLS_EACH = 8
DELIVERERS = 2
SECRET = "whsec_pgbouncer_test"


@contextmanager
def _own_bouncer(server: URL, pool_size: int) -> Iterator[Bouncer]:
    binary = pgbouncer_binary()
    if binary is None:
        pytest.skip("pgbouncer not found: install pgbouncer")
    bouncer = Bouncer(binary, server, pool_size=pool_size)
    try:
        bouncer.start()
        yield bouncer
    finally:
        bouncer.stop()


@pytest.fixture
def two_server_connections(pg_server: URL) -> Iterator[Bouncer]:
    """A PgBouncer with two server connections for all its clients, as a busy call center."""
    with _own_bouncer(pg_server, 2) as bouncer:
        yield bouncer


@pytest.fixture
def one_server_connection(pg_server: URL) -> Iterator[Bouncer]:
    """A PgBouncer with one server connection for every client: each sees what the last left."""
    with _own_bouncer(pg_server, 1) as bouncer:
        yield bouncer


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
    argv = ["--db", url, "--settings", str(settings), "deliver", "--once"]
    return subprocess.Popen(
        [sys.executable, "-m", "tui.cli", *argv],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.postgres
@pytest.mark.slow
def test_desks_and_delivery_workers_through_pgbouncer_make_no_error(
    pg_engine: Engine,
    pg_factory: sessionmaker[Session],
    two_server_connections: Bouncer,
    tmp_path: Path,
) -> None:
    today = datetime.now(UTC).astimezone().date()
    agents = [
        add_agent(pg_factory, f"desk{n}", f"Desk {n}", Role.AGENT, PASSPHRASE) for n in range(DESKS)
    ]
    accounts = [
        make_account(pg_factory, f"Org {n:03d}", f"+1425555{n:04d}", today, canceled_days_ago=None)
        for n in range(DESKS * CALLS_EACH)
    ]
    pooled = two_server_connections.pooled(pg_engine.url).render_as_string(hide_password=False)

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


def _prepared_after_repeats(url: URL) -> int:
    """Statements prepared on a connection that ran one statement three times."""
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        with engine.connect() as connection:
            for n in range(3):
                connection.execute(text("SELECT count(*) FROM agent WHERE id > :n"), {"n": n})
            count = connection.scalar(text("SELECT count(*) FROM pg_prepared_statements"))
    finally:
        engine.dispose()
    assert isinstance(count, int)
    return count


@pytest.mark.postgres
def test_statements_are_prepared_only_when_the_url_says_so(
    pg_server: URL, pg_engine: Engine
) -> None:
    # Direct, even when the suite runs through the bouncer: a prepared statement
    # must stay on the connection that counts it.
    direct = pg_server.set(database=pg_engine.url.database)
    assert _prepared_after_repeats(direct) == 0
    assert _prepared_after_repeats(direct.update_query_dict({"prepare_threshold": "none"})) == 0
    assert _prepared_after_repeats(direct.update_query_dict({"prepare_threshold": "1"})) >= 1


@pytest.mark.parametrize("value", ["0", "-1", "five", "5.0", "²"])
def test_a_prepare_threshold_that_is_not_a_count_is_a_one_line_error(value: str) -> None:
    with pytest.raises(DatabaseURLError, match="prepare_threshold") as caught:
        make_engine(f"postgresql://desk@/callgate?prepare_threshold={value}")
    assert "\n" not in str(caught.value)


def test_the_command_line_says_so_in_one_line_without_a_traceback() -> None:
    url = "postgresql://desk@/callgate?host=/nonexistent&prepare_threshold=0"
    done = subprocess.run(
        [sys.executable, "-m", "tui.cli", "--db", url, "db", "current"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert "prepare_threshold='0'" in line and "'none'" in line


def _admin(bouncer: Bouncer, command: str) -> None:
    """A command on PgBouncer's admin console (it speaks only the simple query protocol)."""
    console = bouncer.url_for("pgbouncer").set(drivername="postgresql")
    with psycopg.connect(console.render_as_string(hide_password=False), autocommit=True) as conn:
        result = conn.pgconn.exec_(command.encode())
        assert result.status == psycopg.pq.ExecStatus.COMMAND_OK, result.error_message


@pytest.mark.postgres
def test_a_connection_the_bouncer_dropped_is_replaced_before_use(
    pg_engine: Engine, pg_bouncer: Bouncer
) -> None:
    # PgBouncer drops its clients (KILL, a restart, client_idle_timeout): the
    # desk's pooled connection is then closed under it, and the socket check
    # (db.engine._closed_by_server) replaces it instead of failing the next action.
    engine = make_engine(pg_bouncer.pooled(pg_engine.url).render_as_string(hide_password=False))
    try:
        with engine.connect() as connection:
            first = connection.connection.dbapi_connection
            assert connection.scalar(text("SELECT 1")) == 1
        database = pg_engine.url.database
        _admin(pg_bouncer, f"KILL {database}")
        _admin(pg_bouncer, f"RESUME {database}")
        with engine.connect() as connection:
            assert connection.connection.dbapi_connection is not first
            assert connection.scalar(text("SELECT count(*) FROM agent")) == 0
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_server_connection_ended_behind_the_bouncer_costs_the_desk_nothing(
    pg_server: URL, pg_engine: Engine, pg_bouncer: Bouncer
) -> None:
    # The bouncer replaces a terminated backend itself; the desk's connection
    # to the bouncer stays open and usable.
    engine = make_engine(pg_bouncer.pooled(pg_engine.url).render_as_string(hide_password=False))
    admin = make_engine(pg_server.render_as_string(hide_password=False))
    try:
        with engine.connect() as connection:
            first = connection.connection.dbapi_connection
            pid = connection.scalar(text("SELECT pg_backend_pid()"))
        with admin.connect() as connection:
            assert connection.scalar(text("SELECT pg_terminate_backend(:p, 30000)"), {"p": pid})
        with engine.connect() as connection:
            assert connection.connection.dbapi_connection is first
            assert connection.scalar(text("SELECT pg_backend_pid()")) != pid
    finally:
        engine.dispose()
        admin.dispose()


@pytest.mark.postgres
def test_the_parallel_chain_check_workers_prepare_nothing_behind_the_bouncer(
    pg_engine: Engine, pg_factory: sessionmaker[Session], one_server_connection: Bouncer
) -> None:
    # verify_chain's worker processes read a long chain with raw psycopg, a
    # batch per statement: past psycopg's default 5 the second worker would
    # prepare "_pg3_0" where the first already had.
    for n in range(12):
        with unit_of_work(pg_factory) as session:
            append_event(session, actor="desk", type="t", payload={"n": n})
    where, threshold = libpq_target(one_server_connection.pooled(pg_engine.url))
    for _ in range(2):
        stretch = scan_range(RangeJob("postgresql", where, 0, OPEN_END, 1, None, threshold))
        assert (stretch.count, stretch.bad_seq) == (12, None)
