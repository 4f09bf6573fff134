"""Shared fixtures: fresh, migrated databases on SQLite and PostgreSQL.

Every schema here is built by ``db.migrate.upgrade`` (the Alembic revisions),
never by ``create_all``, so the tests exercise the schema operators get.

SQLite (always available):

- ``db_url``: URL of a new, empty SQLite file in the test's temp dir.
- ``engine``: an engine from ``db.engine.make_engine(db_url)``, migrated to head
  (a copy of ``sqlite_template``, migrated once per test process).
- ``factory``: a ``sessionmaker`` on ``engine``.

PostgreSQL (``postgres`` marker; skipped, with the reason, when no server):

- ``pg_server``: session-wide URL of a maintenance database. With
  ``CALLGATE_TEST_PG_URL`` set, that server is used; otherwise a throwaway
  cluster is started (``benchmarks.pg_cluster``, shared with ``make bench``)
  and stopped at the end of the session.
- ``pg_bouncer``: session-wide ``benchmarks.pg_cluster.Bouncer``, a PgBouncer
  in transaction pooling in front of ``pg_server`` (skipped, with the reason,
  when pgbouncer is not installed); ``pg_bouncer.pooled(url)`` is ``url``'s
  database through it.
- ``pg_url``: URL of a new, empty database, dropped after the test. With
  ``CALLGATE_TEST_PGBOUNCER=1`` it (and so ``pg_engine``) goes through
  ``pg_bouncer``, so the ``postgres``-marked tests run the way call centers
  pool: ``CALLGATE_TEST_PGBOUNCER=1 python -m pytest -m postgres``. Creating,
  copying and dropping databases always goes direct to ``pg_server`` (a
  database cannot be a template while the bouncer holds a connection to it).
- ``pg_engine``: an engine on ``pg_url``, migrated to head (recreated from
  ``pg_template``, migrated once per test process).
- ``pg_factory``: a ``sessionmaker`` on ``pg_engine``.

Both backends:

- ``any_engine`` / ``any_factory``: parametrized ``sqlite`` and ``postgres``,
  so one test runs on both (the PostgreSQL run carries the ``postgres`` mark).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import URL, Engine, create_engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from benchmarks.pg_cluster import (
    Bouncer,
    Cluster,
    ClusterError,
    ClusterUnavailable,
    pg_bindir,
    pgbouncer_binary,
)
from db.engine import make_engine, make_sessionmaker
from db.migrate import upgrade

# The loopback SMTP server and SMS gateway fixtures (``inbox``, ``gateway``).
pytest_plugins = ["tests.helpers.gateways"]

PG_URL_ENV = "CALLGATE_TEST_PG_URL"
PGBOUNCER_ENV = "CALLGATE_TEST_PGBOUNCER"
PG_MISSING = (
    "PostgreSQL server binaries not found: install postgresql "
    f"(or set {PG_URL_ENV} to a server's URL)"
)


# --- SQLite -------------------------------------------------------------------


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """A new, empty SQLite database file."""
    return f"sqlite:///{tmp_path / 'callgate.db'}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per test process, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "callgate.db"
    eng = make_engine(f"sqlite:///{path}")
    upgrade(eng)
    eng.dispose()
    # Everything into the main file, so a plain copy is the whole database.
    with closing(sqlite3.connect(path)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture
def engine(db_url: str, sqlite_template: Path) -> Iterator[Engine]:
    """A SQLite engine with the project's settings, on a copy of the migrated template."""
    shutil.copyfile(sqlite_template, make_url(db_url).database or "")
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions on ``engine``."""
    return make_sessionmaker(engine)


# --- PostgreSQL ---------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_server() -> Iterator[URL]:
    """URL of a maintenance database on a PostgreSQL server for this session."""
    given = os.environ.get(PG_URL_ENV)
    if given:
        url = make_url(given)
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        yield url
        return
    bindir = pg_bindir()
    if bindir is None:
        pytest.skip(PG_MISSING)
    try:
        cluster = Cluster(bindir)
    except ClusterUnavailable as exc:
        pytest.skip(str(exc))
    try:
        yield cluster.start()
    except ClusterError as exc:
        pytest.fail(str(exc))
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def pg_bouncer(pg_server: URL) -> Iterator[Bouncer]:
    """A PgBouncer in transaction pooling in front of ``pg_server``, for this session."""
    binary = pgbouncer_binary()
    if binary is None:
        pytest.skip("pgbouncer not found: install pgbouncer")
    try:
        bouncer = Bouncer(binary, pg_server)
    except ClusterUnavailable as exc:
        pytest.skip(str(exc))
    try:
        bouncer.start()
        yield bouncer
    except ClusterError as exc:
        pytest.fail(str(exc))
    finally:
        bouncer.stop()


def _through_bouncer() -> bool:
    return os.environ.get(PGBOUNCER_ENV, "") not in ("", "0")


@pytest.fixture
def pg_url(pg_server: URL, request: pytest.FixtureRequest) -> Iterator[str]:
    """URL of a new, empty PostgreSQL database, dropped after the test (pooled: see above)."""
    name = f"callgate_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = pg_server.set(database=name)
        if _through_bouncer():
            bouncer: Bouncer = request.getfixturevalue("pg_bouncer")
            url = bouncer.pooled(url)
        yield url.render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def pg_template(pg_server: URL) -> Iterator[str]:
    """A database migrated to head once per test process, the template of ``pg_engine``'s."""
    name = f"callgate_template_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        eng = make_engine(pg_server.set(database=name).render_as_string(hide_password=False))
        upgrade(eng)
        # A template must have no connection open when it is copied.
        eng.dispose()
        yield name
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture
def pg_engine(pg_server: URL, pg_url: str, pg_template: str) -> Iterator[Engine]:
    """A PostgreSQL engine with the project's settings on ``pg_url``, a copy of the template."""
    name = make_url(pg_url).database
    admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}"'))
            connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
    finally:
        admin.dispose()
    eng = make_engine(pg_url)
    yield eng
    eng.dispose()


@pytest.fixture
def pg_factory(pg_engine: Engine) -> sessionmaker[Session]:
    """Sessions on ``pg_engine``."""
    return make_sessionmaker(pg_engine)


# --- Both ---------------------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_engine(request: pytest.FixtureRequest) -> Engine:
    """A migrated engine on SQLite, then on PostgreSQL."""
    name = "engine" if request.param == "sqlite" else "pg_engine"
    eng: Engine = request.getfixturevalue(name)
    return eng


@pytest.fixture
def any_factory(any_engine: Engine) -> sessionmaker[Session]:
    """Sessions on ``any_engine``."""
    return make_sessionmaker(any_engine)
