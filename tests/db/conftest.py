"""Engines connected as the least-privilege roles (``callgate db grant-desk|grant-delivery``).

The tables belong to the migrating owner (the cluster's ``postgres`` user);
these connect as the role a desk, or ``callgate deliver``, would. The tests
of one revision's data step start from ``engine_at`` an older revision.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, make_url, text

from db.engine import make_engine
from db.migrate import upgrade
from tui.cli import main as cli

DESK_ROLE = "callgate_desk"
DELIVERY_ROLE = "callgate_delivery"
# The parameters of a fixture that runs its tests on both backends.
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def engine_at(request: pytest.FixtureRequest, revision: str) -> Engine:
    """An engine on this backend's test database (``request.param``), migrated up to
    ``revision`` only; disposed after the test."""
    url: str = request.getfixturevalue("db_url" if request.param == "sqlite" else "pg_url")
    engine = make_engine(url)
    upgrade(engine, revision)
    request.addfinalizer(engine.dispose)
    return engine


def _role_engine(pg_engine: Engine, pg_url: str, command: str, role: str) -> Iterator[Engine]:
    assert cli(["--db", pg_url, "db", command, role]) == 0
    engine = make_engine(make_url(pg_url).set(username=role).render_as_string(False))
    yield engine
    engine.dispose()
    with pg_engine.begin() as connection:  # the role outlives the test database otherwise
        connection.execute(text(f"DROP OWNED BY {role}"))
        connection.execute(text(f"DROP ROLE {role}"))


@pytest.fixture
def desk_engine(pg_engine: Engine, pg_url: str) -> Iterator[Engine]:
    """An engine connected as the desk role, after ``callgate db grant-desk``."""
    yield from _role_engine(pg_engine, pg_url, "grant-desk", DESK_ROLE)


@pytest.fixture
def delivery_engine(pg_engine: Engine, pg_url: str) -> Iterator[Engine]:
    """An engine connected as the delivery role, after ``callgate db grant-delivery``."""
    yield from _role_engine(pg_engine, pg_url, "grant-delivery", DELIVERY_ROLE)
