"""A PostgreSQL connection in the pool: checked before use without a round trip."""

from __future__ import annotations

import tempfile
import time

import pytest
from sqlalchemy import URL, Engine, create_engine, text
from sqlalchemy.engine import make_url

from db.engine import make_engine

pytestmark = pytest.mark.postgres


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    assert isinstance(pid, int)
    return pid


def test_a_connection_the_server_ended_is_replaced_before_use(
    pg_server: URL, pg_engine: Engine
) -> None:
    # A server restart or a terminated backend while a desk's connection idles
    # in the pool: the desk's next action gets a fresh connection, not an error.
    pid = _backend_pid(pg_engine)
    # Direct: through PgBouncer (CALLGATE_TEST_PGBOUNCER) the admin's own
    # statement could run on that very backend.
    admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            assert connection.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
            deadline = time.monotonic() + 30
            while connection.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"), {"p": pid}
            ).scalar():
                assert time.monotonic() < deadline, "the backend did not end"
                time.sleep(0.05)
    finally:
        admin.dispose()
    assert _backend_pid(pg_engine) != pid


def _traced_checkout(engine: Engine) -> str:
    """What the client sends to the server while the pool checks a connection out and in."""
    with engine.connect() as connection:
        psycopg_connection = connection.connection.dbapi_connection
    assert psycopg_connection is not None
    with tempfile.TemporaryFile() as trace:
        psycopg_connection.pgconn.trace(trace.fileno())
        try:
            with engine.connect() as connection:
                assert connection.connection.dbapi_connection is psycopg_connection
        finally:
            psycopg_connection.pgconn.untrace()
        trace.seek(0)
        return trace.read().decode()


def test_a_live_pooled_connection_is_used_without_a_ping(pg_url: str) -> None:
    # pool_pre_ping sent a query before every unit of work of every desk:
    # the protocol trace of a checkout and return shows that nothing is sent.
    engine = make_engine(pg_url)
    try:
        pid = _backend_pid(engine)
        assert _traced_checkout(engine) == ""
        assert _backend_pid(engine) == pid
    finally:
        engine.dispose()


def test_the_trace_sees_a_ping_when_there_is_one(pg_url: str) -> None:
    # The test above would pass vacuously if the trace saw nothing at all.
    engine = create_engine(make_url(pg_url), pool_pre_ping=True)
    try:
        assert "\tF\t" in _traced_checkout(engine)  # a message the client sent
    finally:
        engine.dispose()
