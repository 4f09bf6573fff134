"""``callgate db upgrade --sql`` / ``db downgrade --sql``: scripts a DBA runs with psql.

Each script is written without a connection (``db.migrate.script``) and
applied with ``psql -1 -v ON_ERROR_STOP=1 -f`` to a database of the throwaway
cluster, then judged by the same checks as an online migration. The whole
chain's test holds every future revision to the rule of ``db.migrate``: data
steps are SQL that runs offline.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, make_url, text

from benchmarks.pg_cluster import pg_bindir
from db import migrate
from db.engine import make_engine
from tests.helpers.requests_0009 import REFERENCE, seed_requests
from tui.cli import main


def _psql() -> str:
    bindir = pg_bindir()
    found = bindir / "psql" if bindir and (bindir / "psql").exists() else shutil.which("psql")
    if not found:
        pytest.skip("psql not found: install postgresql-client")
    return str(found)


# A script is written without connecting: the URL only names the dialect.
NOWHERE = "postgresql://nobody@/nothing?host=/nonexistent"
STRICT = ("-1", "-v", "ON_ERROR_STOP=1")


def _apply(
    url: str, sql: str, tmp_path: Path, flags: tuple[str, ...] = STRICT
) -> subprocess.CompletedProcess[str]:
    """Run ``sql`` with psql, by default the way the README tells a DBA to."""
    script = tmp_path / "migrate.sql"
    script.write_text(sql)
    # libpq reads the same URL without SQLAlchemy's driver name.
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    return subprocess.run(
        [_psql(), "-X", "-q", *flags, "-d", conninfo, "-f", str(script)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _applied(url: str, sql: str, tmp_path: Path) -> None:
    result = _apply(url, sql, tmp_path)
    assert result.returncode == 0, result.stderr


@pytest.fixture
def pg(pg_url: str) -> Iterator[Engine]:
    eng = make_engine(pg_url)
    yield eng
    eng.dispose()


@pytest.mark.postgres
def test_the_whole_chain_applied_by_psql_builds_the_models_schema(
    pg_url: str, pg: Engine, tmp_path: Path
) -> None:
    sql = migrate.script(pg_url, "head")
    # A revision reading rows through get_bind() leaves its SELECT in the
    # script (Alembic ends each statement with ";" and a blank line).
    statements = [s.strip() for s in sql.split(";\n\n")]
    assert not [s for s in statements if s.upper().startswith("SELECT")]
    _applied(pg_url, sql, tmp_path)
    assert migrate.check(pg) == []
    assert migrate.current(pg) == migrate.head()
    # The revisions' PostgreSQL-only objects came along too.
    with pg.connect() as connection:
        functions = connection.execute(
            text(
                "SELECT proname FROM pg_proc WHERE proname LIKE 'audit_%' "
                "OR proname LIKE 'agent_%' ORDER BY proname"
            )
        ).scalars()
        assert set(functions) >= {
            "audit_chain_head",
            "audit_event_refuse_change",
            "audit_event_approved_guard",
            "agent_sign_in",
            "agent_signin_salt",
            "agent_unlock",
        }
        totp = connection.execute(
            text("SELECT proname FROM pg_proc WHERE proname LIKE 'totp_%' ORDER BY proname")
        ).scalars()
        assert list(totp) == ["totp_base32", "totp_code"]  # revision 0020, pgcrypto's hmac


@pytest.mark.postgres
def test_after_an_offline_upgrade_the_online_commands_find_it_current(
    pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--db", pg_url, "db", "upgrade", "--sql"]) == 0
    _applied(pg_url, capsys.readouterr().out, tmp_path)
    assert main(["--db", pg_url, "db", "upgrade"]) == 0
    assert capsys.readouterr().out.strip() == f"database already at revision {migrate.head()}"
    assert main(["--db", pg_url, "db", "current"]) == 0
    assert capsys.readouterr().out.strip() == f"{migrate.head()} (newest)"
    assert main(["--db", pg_url, "db", "check"]) == 0


@pytest.mark.postgres
def test_downgrade_to_base_empties_the_database_and_the_upgrade_applies_again(
    pg_url: str, pg: Engine, tmp_path: Path
) -> None:
    head = migrate.head()
    _applied(pg_url, migrate.script(pg_url, "head"), tmp_path)
    _applied(pg_url, migrate.script(pg_url, f"{head}:base", downgrade=True), tmp_path)
    assert inspect(pg).get_table_names() == []
    assert migrate.schema_state(pg) is migrate.SchemaState.EMPTY
    with pg.connect() as connection:
        left = connection.execute(text("SELECT count(*) FROM pg_proc WHERE proname LIKE 'audit_%'"))
        assert left.scalar() == 0
    _applied(pg_url, migrate.script(pg_url, "head"), tmp_path)
    assert migrate.check(pg) == []


@pytest.mark.postgres
def test_downgrade_to_a_revision_then_upgrade_from_it(
    pg_url: str, pg: Engine, tmp_path: Path
) -> None:
    _applied(pg_url, migrate.script(pg_url, "head"), tmp_path)
    _applied(pg_url, migrate.script(pg_url, "head:0009", downgrade=True), tmp_path)
    assert migrate.current(pg) == "0009"
    assert "dispute" not in inspect(pg).get_table_names()
    _applied(pg_url, migrate.script(pg_url, "0009:head"), tmp_path)
    assert migrate.current(pg) == migrate.head()
    assert migrate.check(pg) == []


@pytest.mark.postgres
def test_a_script_from_another_revision_is_refused_and_changes_nothing(
    pg_url: str, pg: Engine, tmp_path: Path
) -> None:
    migrate.upgrade(pg, "0011")
    result = _apply(pg_url, migrate.script(pg_url, "0009:head"), tmp_path)
    assert result.returncode != 0
    assert "starts at revision 0009; the database is at 0011" in result.stderr
    assert migrate.current(pg) == "0011"


@pytest.mark.postgres
@pytest.mark.parametrize("flags", [STRICT, ()], ids=["psql -1 ON_ERROR_STOP", "plain psql"])
def test_a_failing_script_leaves_nothing_behind(
    pg_url: str, pg: Engine, tmp_path: Path, flags: tuple[str, ...]
) -> None:
    # The trap: a partly applied script left a database that
    # `db upgrade` refused. One transaction: a failure in 0010 undoes 0001
    # too, even run without -1 and going on past the error.
    with pg.begin() as connection:
        connection.execute(text("CREATE TABLE dispute (id integer)"))
    result = _apply(pg_url, migrate.script(pg_url, "head"), tmp_path, flags)
    assert 'relation "dispute" already exists' in result.stderr
    assert inspect(pg).get_table_names() == ["dispute"]


@pytest.mark.postgres
def test_existing_requests_get_unique_references_offline(
    pg_url: str, pg: Engine, tmp_path: Path
) -> None:
    migrate.upgrade(pg, "0009")
    seed_requests(pg, count=50)
    _applied(pg_url, migrate.script(pg_url, "0009:0010"), tmp_path)
    with pg.connect() as connection:
        rows = connection.execute(
            text("SELECT reference, cooling_off_until IS NOT NULL FROM cancellation_request")
        ).all()
    references = [reference for reference, _ in rows]
    assert all(REFERENCE.fullmatch(reference) for reference in references)
    assert len(set(references)) == 50
    assert sorted(cooling for _, cooling in rows) == [False] * 25 + [True] * 25


def test_sqlite_is_refused_in_one_line(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", db_url, "db", "upgrade", "--sql"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "PostgreSQL only" in captured.err


def test_a_downgrade_is_only_printed(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--db", NOWHERE, "db", "downgrade", "0012:0011"])
    assert "--sql" in capsys.readouterr().err
    assert main(["--db", NOWHERE, "db", "downgrade", "--sql", "0012"]) == 1
    assert "FROM:TO" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("revisions", "downgrade"),
    [("head:0009", False), ("0009:0009", False), ("0009:head", True), ("0012:0099", False)],
)
def test_a_range_going_the_wrong_way_or_unknown_is_refused(revisions: str, downgrade: bool) -> None:
    # Alembic itself prints an empty script for an upgrade from head to 0009.
    with pytest.raises(migrate.SchemaError, match=r"FROM must|unknown revision"):
        migrate.script(NOWHERE, revisions, downgrade=downgrade)
