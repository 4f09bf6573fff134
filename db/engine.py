"""One engine factory for every desk and command.

On SQLite: WAL, foreign keys, a busy timeout and ``BEGIN IMMEDIATE`` for every
transaction (SQLAlchemy's documented recipe), so concurrent desks queue for the
write lock instead of failing with "database is locked" halfway through;
``secure_delete`` on every connection, so deleted or overwritten content is
zeroed rather than left in free space (stock SQLite leaves it).

On PostgreSQL through psycopg: a pooled connection is checked before use
without a round trip (``_closed_by_server``), where ``pool_pre_ping`` sent
a query before every unit of work of every desk. No statement is prepared on
the server unless the URL says ``?prepare_threshold=N`` (``_prepare_threshold``,
the one home of that rule): behind PgBouncer in transaction pooling, where call
centers put their desks, a client's next transaction may run on another server
connection, which has none of its prepared statements (or another client's
under the same name). Nothing here sets a session setting either (a ``SET``
would stay on whichever server connection ran it); the audit chain's lock is
a transaction-level one, released at the transaction's end.
"""

from __future__ import annotations

import select
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000
PREPARE_THRESHOLD = "prepare_threshold"


class DatabaseURLError(ValueError):
    """The database URL cannot be used; the message says why."""


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create the engine for ``url`` with the project's connection settings."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseURLError(f"not a database URL: {url!r}") from exc
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed.render_as_string(hide_password=False), **kwargs)
    # psycopg's connections are checked by their socket instead of pinged. Read
    # from the name: asking the URL for its driver loads the dialect, and an
    # unknown one must reach the message below, not raise here.
    psycopg = parsed.drivername.partition("+")[2] == "psycopg"
    if psycopg:
        connect_args = dict(kwargs.pop("connect_args", {}))
        # Given here, it wins over the URL's text (which psycopg would get as a str).
        connect_args.setdefault(PREPARE_THRESHOLD, _prepare_threshold(parsed))
        kwargs["connect_args"] = connect_args
    try:
        engine = create_engine(parsed, pool_pre_ping=not psycopg, **kwargs)
    except Exception as exc:  # unknown dialect, missing driver
        raise DatabaseURLError(f"cannot use database URL {url!r}: {exc}") from exc
    if psycopg:
        event.listen(engine, "checkout", _closed_by_server)
    return engine


def _prepare_threshold(url: URL) -> int | None:
    """psycopg's ``prepare_threshold`` from the URL: None (never prepare) unless it says a count.

    ``?prepare_threshold=5`` is for a direct connection to the server (psycopg
    prepares a statement once it has run that many times on a connection); ``none``, or
    no value, keeps every statement unprepared, which PgBouncer in transaction
    pooling needs. ``0`` is refused: psycopg reads it as "prepare every
    statement at once", other drivers (JDBC) as "never", and guessing wrong
    breaks a pooled desk.
    """
    raw = url.query.get(PREPARE_THRESHOLD)
    if raw is None:
        return None
    if isinstance(raw, tuple):
        raise DatabaseURLError(f"{PREPARE_THRESHOLD} is given {len(raw)} times in the URL")
    value = raw.strip().lower()
    if value in ("", "none"):
        return None
    if value.isascii() and value.isdigit() and int(value) >= 1:
        return int(value)
    raise DatabaseURLError(
        f"{PREPARE_THRESHOLD}={raw!r} in the URL: write a count from 1 (prepare a statement "
        "after that many runs; only for a direct connection to PostgreSQL) or 'none' "
        "(never prepare: the default, needed behind PgBouncer)"
    )


def libpq_target(url: URL) -> tuple[str, int | None]:
    """For a raw psycopg connection to ``url``'s database: its libpq URL and ``prepare_threshold``.

    libpq refuses a URL carrying ``prepare_threshold`` (a psycopg argument,
    not a libpq one), and a raw connection must prepare exactly as the
    engine's do, or a worker behind PgBouncer breaks where the desks do not.
    """
    threshold = _prepare_threshold(url)
    plain = url.difference_update_query([PREPARE_THRESHOLD]).set(drivername="postgresql")
    return plain.render_as_string(hide_password=False), threshold


def _closed_by_server(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Refuse a pooled connection the server has closed, so the pool opens another.

    An idle connection has nothing to read unless the server ended it (a
    restart, a terminated backend, an idle timeout: it says so, then closes
    the socket) or, rarely, reported a setting after a reload. Either way the
    pool replaces it (``DisconnectionError``): a reconnect now and then costs
    less than the round trip ``pool_pre_ping`` sends before every unit of
    work. A connection lost silently (a cable) fails its statement, and the
    pool replaces it for the next unit of work.
    """
    if dbapi_connection.closed or dbapi_connection.broken:
        raise DisconnectionError("the connection was closed")
    readable, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
    if readable:
        raise DisconnectionError("the server closed the connection, or spoke unasked")


def _sqlite_engine(url: str, **kwargs: Any) -> Engine:
    connect_args = kwargs.pop("connect_args", {})
    connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
    # Let SQLAlchemy, not pysqlite, emit BEGIN, so it can be BEGIN IMMEDIATE.
    connect_args.setdefault("isolation_level", None)
    connect_args.setdefault("check_same_thread", False)
    engine = create_engine(url, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            # Purged personal data must not survive in free pages or free cell space.
            cursor.execute("PRAGMA secure_delete = ON")
            if engine.url.database not in (None, "", ":memory:"):
                cursor.execute("PRAGMA journal_mode = WAL")
            # Audit writes must survive a power cut, not only a process kill.
            cursor.execute("PRAGMA synchronous = FULL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def checkpoint_wal(engine: Engine) -> None:
    """Copy SQLite's write-ahead log into the file and empty it (``TRUNCATE``).

    Until then the log holds the pages as they were before a purge. A no-op on
    other databases. If desks are reading, it waits up to the busy timeout and
    leaves the rest for the next checkpoint.
    """
    if engine.dialect.name != "sqlite":
        return
    # The DB-API connection, not SQLAlchemy's: a checkpoint cannot run inside
    # the BEGIN IMMEDIATE every SQLAlchemy transaction here starts with.
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        try:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cursor.fetchall()
        finally:
            cursor.close()
    finally:
        connection.close()


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error."""
    with factory() as session, session.begin():
        yield session
