"""The Alembic revisions build the models' schema, on SQLite and PostgreSQL.

pytest-alembic's built-in tests run once per backend (``alembic_engine`` is
parametrized); the rest checks the runner in ``db.migrate``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.config import Config
from pytest_alembic.tests import (
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)
from sqlalchemy import CheckConstraint, Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from db import migrate
from db.engine import make_engine
from db.models import Base
from tui.cli import main

__all__ = [
    "test_model_definitions_match_ddl",
    "test_single_head_revision",
    "test_up_down_consistency",
    "test_upgrade",
]

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture
def alembic_config() -> Config:
    return migrate.config()


@pytest.fixture(params=BACKENDS)
def alembic_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """An empty database with the project's engine settings, per backend."""
    url: str = request.getfixturevalue("db_url" if request.param == "sqlite" else "pg_url")
    eng = make_engine(url)
    yield eng
    eng.dispose()


def _model_check_constraints() -> dict[str, set[str]]:
    return {
        table.name: {str(c.name) for c in table.constraints if isinstance(c, CheckConstraint)}
        for table in Base.metadata.sorted_tables
    }


def test_enum_columns_have_check_constraints_named_by_convention(any_engine: Engine) -> None:
    inspector = inspect(any_engine)
    on_disk = {
        table: {str(c["name"]) for c in inspector.get_check_constraints(table)}
        for table in _model_check_constraints()
    }
    expected = _model_check_constraints()
    assert expected["subscription"] == {
        "ck_subscription_kind",
        "ck_subscription_channel",
        "ck_subscription_status",
        "ck_subscription_expedited",
    }
    assert on_disk == expected


def test_check_constraint_refuses_a_value_outside_the_enum(any_engine: Engine) -> None:
    bad = text(
        "INSERT INTO agent (username, display_name, role, passphrase_hash, active,"
        " failed_signins, created_at) VALUES ('x', 'X', 'admin', 'h', true, 0, :now)"
    )
    with pytest.raises(IntegrityError, match="ck_agent_role"), any_engine.begin() as connection:
        connection.execute(bad, {"now": "2026-01-01T00:00:00+00:00"})


def test_a_migrated_database_agrees_with_the_models(any_engine: Engine) -> None:
    assert migrate.check(any_engine) == []
    assert migrate.current(any_engine) == migrate.head()
    assert migrate.schema_state(any_engine) is migrate.SchemaState.CURRENT


def test_check_names_each_difference(any_engine: Engine) -> None:
    with any_engine.begin() as connection:
        connection.execute(text("DROP INDEX ix_tenant_phone_e164"))
        connection.execute(text("ALTER TABLE agent ADD COLUMN nickname VARCHAR(20)"))
    differences = migrate.check(any_engine)
    # The models have the index and lack the column, so the database must change.
    assert sorted(differences) == [
        "add_index tenant.ix_tenant_phone_e164",
        "remove_column agent.nickname",
    ]


def test_schema_state_goes_empty_outdated_current(alembic_engine: Engine) -> None:
    assert migrate.schema_state(alembic_engine) is migrate.SchemaState.EMPTY
    assert migrate.current(alembic_engine) is None
    migrate.upgrade(alembic_engine, "0001")
    assert migrate.current(alembic_engine) == "0001"
    assert migrate.schema_state(alembic_engine) is migrate.SchemaState.OUTDATED
    migrate.upgrade(alembic_engine)
    assert migrate.schema_state(alembic_engine) is migrate.SchemaState.CURRENT


def test_desk_upgrades_sqlite_by_itself(db_url: str) -> None:
    eng = make_engine(db_url)
    try:
        migrate.prepare_for_desk(eng)
        assert migrate.current(eng) == migrate.head()
    finally:
        eng.dispose()


@pytest.mark.postgres
def test_desk_refuses_an_empty_server_database(pg_url: str) -> None:
    eng = make_engine(pg_url)
    try:
        with pytest.raises(migrate.SchemaError, match="callgate db upgrade"):
            migrate.prepare_for_desk(eng)
        assert migrate.current(eng) is None  # nothing was migrated behind the operator's back
    finally:
        eng.dispose()


@pytest.mark.postgres
def test_desk_refuses_an_old_server_schema_and_accepts_a_current_one(pg_url: str) -> None:
    eng = make_engine(pg_url)
    try:
        migrate.upgrade(eng, "0001")
        with pytest.raises(migrate.SchemaError, match=r"revision 0001.*callgate db upgrade"):
            migrate.prepare_for_desk(eng)
        migrate.upgrade(eng)
        migrate.prepare_for_desk(eng)
    finally:
        eng.dispose()


def test_sqlite_foreign_keys_are_back_on_after_a_migration(engine: Engine) -> None:
    # The runner turns them off for batch table copies; a pooled connection
    # left without them would silently accept orphan rows.
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_upgrade_keeps_existing_rows(alembic_engine: Engine) -> None:
    migrate.upgrade(alembic_engine, "0001")
    with alembic_engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO agent (username, display_name, role, passphrase_hash, active,"
                " failed_signins, created_at) VALUES ('ana', 'Ana', 'agent', 'h', true, 0, :now)"
            ),
            {"now": "2026-01-01T00:00:00+00:00"},
        )
    migrate.upgrade(alembic_engine)
    with alembic_engine.connect() as connection:
        assert connection.execute(text("SELECT username FROM agent")).scalars().all() == ["ana"]


def test_an_unknown_revision_in_the_database_is_refused(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0999'"))
    with pytest.raises(migrate.SchemaError, match=r"0999.*does not know"):
        migrate.schema_state(engine)
    with pytest.raises(migrate.SchemaError, match="0999"):
        migrate.upgrade(engine)


def test_an_unknown_target_revision_is_refused(engine: Engine) -> None:
    with pytest.raises(migrate.SchemaError, match="nonsense"):
        migrate.upgrade(engine, "nonsense")


# --- callgate db upgrade|current|check ------------------------------------------


def test_db_commands_upgrade_then_report_current(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--db", db_url, "db", "check"]) == 1
    assert "database at revision none" in capsys.readouterr().out
    assert main(["--db", db_url, "db", "upgrade"]) == 0
    assert f"to {migrate.head()}" in capsys.readouterr().out
    assert main(["--db", db_url, "db", "current"]) == 0
    assert capsys.readouterr().out.strip() == f"{migrate.head()} (newest)"
    assert main(["--db", db_url, "db", "check"]) == 0
    assert "agree" in capsys.readouterr().out


def test_db_current_on_an_old_schema_names_the_upgrade_command(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--db", db_url, "db", "upgrade", "0001"]) == 0
    capsys.readouterr()
    assert main(["--db", db_url, "db", "current"]) == 0
    assert capsys.readouterr().out.startswith("0001 (newest is ")


def test_db_check_lists_each_difference_and_fails(
    engine: Engine, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with engine.begin() as connection:
        connection.execute(text("DROP INDEX ix_tenant_phone_e164"))
    assert main(["--db", db_url, "db", "check"]) == 1
    out = capsys.readouterr().out
    assert "add_index tenant.ix_tenant_phone_e164" in out


def test_db_upgrade_on_a_database_from_a_newer_callgate_is_one_line(
    engine: Engine, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0999'"))
    assert main(["--db", db_url, "db", "upgrade"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "0999" in err
