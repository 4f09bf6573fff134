"""The desk role on a real PostgreSQL server: it can do the desk's work and nothing more.

The tables belong to the migrating owner (the cluster's ``postgres`` user);
``callgate db grant-desk`` sets up the desk's role, and these tests connect as
it, as a desk would.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, make_url, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session, sessionmaker

from db import desk
from db.signin import authenticate
from db.audit.chain import verify_chain
from db.engine import make_engine, make_sessionmaker
from db.migrate import prepare_for_desk
from tests.helpers.review_data import PASSPHRASE, SETTINGS, make_account, make_staff, stated
from tui.cli import main as cli
from verification.kinds import Item
from verification.session import ItemStatus

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 12, 1, 21, 0, tzinfo=UTC)
ROLE = "callgate_desk"


@pytest.fixture
def desk_engine(pg_engine: Engine, pg_url: str) -> Iterator[Engine]:
    """An engine connected as the desk role, after ``callgate db grant-desk``."""
    assert cli(["--db", pg_url, "db", "grant-desk", ROLE]) == 0
    engine = make_engine(make_url(pg_url).set(username=ROLE).render_as_string(False))
    yield engine
    engine.dispose()
    with pg_engine.begin() as connection:  # the role outlives the test database otherwise
        connection.execute(text(f"DROP OWNED BY {ROLE}"))
        connection.execute(text(f"DROP ROLE {ROLE}"))


def test_the_desk_role_does_the_desks_work(
    pg_factory: sessionmaker[Session], desk_engine: Engine
) -> None:
    today = NOW.astimezone().date()
    staff = make_staff(pg_factory)
    account = make_account(pg_factory, "Contoso", "+14255550100", today)
    factory = make_sessionmaker(desk_engine)
    prepare_for_desk(desk_engine)

    assert not authenticate(factory, "nobody", PASSPHRASE, NOW, 5).ok  # counted as the role
    assert not authenticate(factory, staff.agent.username, "wrong passphrase", NOW, 5).ok
    assert authenticate(factory, staff.agent2.username, PASSPHRASE, NOW, 5).ok
    view = desk.start_call(factory, staff.agent.id, staff.agent.username, SETTINGS, NOW)
    for item in (Item.USER_ID, Item.PHONE):
        view = desk.submit_item(
            factory, view.call_id, staff.agent.username, item, stated(account)[item], SETTINGS, NOW
        )

    matched = {i.item for i in view.items if i.status == ItemStatus.MATCHED}
    assert matched == {Item.USER_ID, Item.PHONE}
    assert verify_chain(desk_engine).ok


def test_the_desk_role_appends_where_functions_are_revoked_from_public(
    pg_engine: Engine, pg_url: str, pg_factory: sessionmaker[Session], desk_engine: Engine
) -> None:
    staff = make_staff(pg_factory)
    with pg_engine.begin() as connection:  # a hardened server: nothing runs by default
        connection.execute(text("REVOKE EXECUTE ON FUNCTION audit_chain_head(bigint) FROM PUBLIC"))
    assert cli(["--db", pg_url, "db", "grant-desk", ROLE]) == 0

    factory = make_sessionmaker(desk_engine)
    view = desk.start_call(factory, staff.agent.id, staff.agent.username, SETTINGS, NOW)
    assert view.call_id and verify_chain(desk_engine).ok


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET actor = 'mallory'",
        "DELETE FROM audit_event",
        "TRUNCATE audit_event",
        "ALTER TABLE audit_event DISABLE TRIGGER USER",
        "ALTER TABLE audit_event DISABLE TRIGGER ALL",
        "DROP TRIGGER audit_event_no_update_delete ON audit_event",
        "DROP TABLE audit_event",
        "ALTER TABLE audit_event OWNER TO callgate_desk",
        "CREATE TABLE audit_event_copy (seq integer)",
        "UPDATE alembic_version SET version_num = '0001'",
        "DELETE FROM call",
    ],
)
def test_the_desk_role_cannot_touch_the_audit_table_or_the_schema(
    pg_factory: sessionmaker[Session], desk_engine: Engine, statement: str
) -> None:
    make_staff(pg_factory)  # some events to protect
    before = verify_chain(desk_engine)

    refused = pytest.raises(DatabaseError, match=r"permission denied|must be owner")
    with refused, desk_engine.begin() as connection:
        connection.execute(text(statement))

    after = verify_chain(desk_engine)
    assert after.ok and (after.count, after.head_hash) == (before.count, before.head_hash)


def test_grant_desk_is_for_postgres_and_never_for_a_powerful_role(
    pg_url: str, pg_engine: Engine, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["--db", pg_url, "db", "grant-desk", "postgres"]) == 1
    assert "superuser" in capsys.readouterr().err
    assert cli(["--db", pg_url, "db", "grant-desk", "Robert'); DROP TABLE call;--"]) == 2
    assert "must be 1-63 characters" in capsys.readouterr().err
    assert cli(["--db", db_url, "db", "grant-desk", ROLE]) == 2
    assert "PostgreSQL" in capsys.readouterr().err
