"""The migration runner: Alembic driven from code, with the config it ships.

The Alembic environment and revisions ship inside the ``migrations`` package,
so an installed desk finds them wherever it runs. The caller's engine is handed
to ``migrations/env.py``, so migrations run with the project's connection
settings (SQLite pragmas, ``BEGIN IMMEDIATE``).

``script`` writes the same migrations as SQL for a DBA (``callgate db upgrade
--sql``), from Alembic's offline mode, without connecting. Hence the rule for
every revision: **data steps must be SQL that runs offline** — one
``op.execute`` of an UPDATE ... FROM, an INSERT ... SELECT or (PostgreSQL) a
DO block, never rows read through ``op.get_bind()`` and handled in Python
(offline there is no database to read; the read would come out as a stray
SELECT in the script). ``tests/db/test_offline_sql.py`` applies the whole
chain's script with psql, so a revision breaking the rule fails there.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError as AlembicCommandError
from sqlalchemy import Connection, Engine, inspect, make_url
from sqlalchemy.exc import ArgumentError

import migrations
from db.models import Base

UPGRADE_HINT = "callgate db upgrade"
# The dialects ``script`` writes for: SQLite's batch migrations copy tables,
# which needs the live table, and a SQLite file is migrated by its desk anyway.
SCRIPT_DIALECTS = ("postgresql",)


class SchemaState(StrEnum):
    """How a database's schema stands against the newest revision."""

    CURRENT = "current"
    OUTDATED = "outdated"
    EMPTY = "empty"


class SchemaError(RuntimeError):
    """The database's schema cannot be used by this version of callgate."""


def config(connection: Connection | None = None) -> Config:
    """An Alembic config for the shipped migrations, bound to ``connection``."""
    folder = Path(migrations.__file__).parent
    cfg = Config(str(folder / "alembic.ini"))
    cfg.set_main_option("script_location", str(folder))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    """The newest revision id in the shipped migrations."""
    heads = ScriptDirectory.from_config(config()).get_heads()
    if len(heads) != 1:
        raise SchemaError(f"the migrations have {len(heads)} heads, expected one: {heads}")
    return heads[0]


def current(engine: Engine) -> str | None:
    """The revision the database is at; None when it was never migrated."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database up to ``revision`` (default: the newest)."""
    _known_current(engine)
    try:
        with _migration_connection(engine) as connection:
            command.upgrade(config(connection), revision)
    except AlembicCommandError as exc:  # e.g. an unknown target revision
        raise SchemaError(f"cannot upgrade to {revision!r}: {exc}") from exc


def script(database_url: str, revisions: str, *, downgrade: bool = False) -> str:
    """The SQL migrating ``database_url``'s kind of database over ``revisions``.

    ``revisions`` is ``[FROM:]TO`` for an upgrade (no FROM: from an empty
    database) and ``FROM:TO`` for a downgrade. Nothing is connected to; only
    the URL's dialect matters. The text is whole or not at all: an error in
    any revision raises SchemaError instead of returning the part before it.
    """
    dialect = _script_dialect(database_url)
    start, sep, end = revisions.rpartition(":")
    if downgrade and not sep:
        raise SchemaError(f"a downgrade script needs FROM:TO, got {revisions!r}")
    directory = ScriptDirectory.from_config(config())
    for name in (start, end) if sep else (end,):
        if not name or (name != "base" and _lookup(directory, name) is None):
            raise SchemaError(f"unknown revision {name!r} in {revisions!r}")
    low, high = (end, start) if downgrade else (start or "base", end)
    if not _below(directory, low, high):
        # Alembic would print an empty script for an upgrade going down.
        order = "after" if downgrade else "before"
        raise SchemaError(f"{revisions!r}: FROM must be a revision {order} TO")
    buffer = io.StringIO()
    cfg = config()
    cfg.output_buffer = buffer
    cfg.attributes["dialect"] = dialect
    cfg.attributes["drop_version_table"] = downgrade and end == "base"
    try:
        if downgrade:
            command.downgrade(cfg, revisions, sql=True)
        else:
            command.upgrade(cfg, revisions, sql=True)
    except AlembicCommandError as exc:
        raise SchemaError(f"cannot write SQL for {revisions!r}: {exc}") from exc
    kind = "downgrade" if downgrade else "upgrade"
    header = (
        f"-- callgate schema {kind} {revisions} for {dialect}, one transaction.\n"
        "-- Run as the owner of the tables: psql -v ON_ERROR_STOP=1 -f FILE\n"
    )
    return header + buffer.getvalue()


def check(engine: Engine) -> list[str]:
    """Differences between the models and the database, one line each; [] if none."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    return [_describe(diff) for diff in differences]


def schema_state(engine: Engine) -> SchemaState:
    """Whether the database is at the newest revision, behind it, or empty."""
    revision = _known_current(engine)
    if revision == head():
        return SchemaState.CURRENT
    if revision is None and not inspect(engine).get_table_names():
        return SchemaState.EMPTY
    return SchemaState.OUTDATED


def prepare_for_desk(engine: Engine) -> None:
    """Make sure the desk can run on this database, or say how to fix it.

    A SQLite file belongs to this desk, so it is upgraded on the spot. A server
    database is shared by every desk and migrated by its operator, so an old or
    empty schema is refused.
    """
    if engine.dialect.name == "sqlite":
        upgrade(engine)
        return
    state = schema_state(engine)
    if state is SchemaState.EMPTY:
        raise SchemaError(f"the database has no callgate schema yet: run `{UPGRADE_HINT}`")
    if state is SchemaState.OUTDATED:
        raise SchemaError(
            f"the database schema is at revision {current(engine) or 'none'}, "
            f"this desk needs {head()}: run `{UPGRADE_HINT}`"
        )


def _script_dialect(database_url: str) -> str:
    """The URL's dialect when ``script`` writes for it; SchemaError otherwise."""
    try:
        dialect = make_url(database_url).get_backend_name()
    except ArgumentError as exc:
        raise SchemaError("the database URL is not one SQLAlchemy can read") from exc
    if dialect not in SCRIPT_DIALECTS:
        raise SchemaError(
            f"SQL scripts are written for PostgreSQL only, not {dialect}: point --db at the "
            f"PostgreSQL server (nothing connects to it); a SQLite file is migrated by "
            f"`{UPGRADE_HINT}` itself"
        )
    return dialect


def _below(directory: ScriptDirectory, low: str, high: str) -> bool:
    """Whether revision ``low`` (or base) comes strictly before ``high``."""
    high_script, low_script = directory.get_revision(high), directory.get_revision(low)
    if high_script is None:  # base
        return False
    if low_script is None:
        return True
    high_id, low_id = high_script.revision, low_script.revision
    earlier = {script.revision for script in directory.iterate_revisions(high_id, "base")}
    return low_id != high_id and low_id in earlier


def _lookup(directory: ScriptDirectory, name: str) -> object | None:
    """The revision ``name`` names (an id, ``head``...), or None when unknown."""
    try:
        return directory.get_revision(name)
    except AlembicCommandError:
        return None


def _known_current(engine: Engine) -> str | None:
    """The database's revision, refused when this callgate does not know it."""
    revision = current(engine)
    if revision is None:
        return None
    try:
        ScriptDirectory.from_config(config()).get_revision(revision)
    except AlembicCommandError as exc:
        # Written by a newer callgate: migrating or using it would guess.
        raise SchemaError(
            f"the database is at schema revision {revision}, which this callgate does not "
            f"know (its newest is {head()}): install the callgate that migrated it"
        ) from exc
    return revision


@contextmanager
def _migration_connection(engine: Engine) -> Iterator[Connection]:
    """A connection to migrate through; on SQLite with foreign keys off.

    SQLite's batch migrations copy a table and drop the original; with foreign
    keys on, that drop would cascade into (or be refused by) the child rows.
    The pragma is a no-op inside a transaction, so it is set on the raw
    connection before Alembic begins one, and the keys are re-checked after.
    """
    with engine.connect() as connection:
        if engine.dialect.name != "sqlite":
            yield connection
            return
        raw: Any = connection.connection.dbapi_connection
        raw.execute("PRAGMA foreign_keys = OFF")
        try:
            yield connection
            broken = raw.execute("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise SchemaError(f"the migration left rows with broken foreign keys: {broken}")
        finally:
            raw.execute("PRAGMA foreign_keys = ON")


def _describe(diff: Any) -> str:
    """One readable line for an entry of Alembic's ``compare_metadata`` output."""
    if isinstance(diff, list):  # changes to one column come grouped
        return "; ".join(_describe(item) for item in diff)
    kind = diff[0]
    if kind.startswith("modify_"):
        _, _schema, table, column, _existing, old, new = diff
        return f"{kind} {table}.{column}: {old!r} -> {new!r}"
    return f"{kind} {_name(diff[-1])}"


def _name(obj: Any) -> str:
    """``table.name`` for columns, indexes and constraints; the name otherwise."""
    name = getattr(obj, "name", None)
    table = getattr(getattr(obj, "table", None), "name", None)
    if name is None:
        return str(obj)
    return f"{table}.{name}" if table and table != name else str(name)
