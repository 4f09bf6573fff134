"""Alembic environment for callgate.

The runner in ``db/migrate.py`` (and pytest-alembic) hands over its own
engine or connection in ``config.attributes["connection"]`` (Alembic's
documented recipe), so migrations run with the project's connection settings
(SQLite pragmas, ``BEGIN IMMEDIATE``). From the alembic CLI the database is
resolved like the desk does: ``CALLGATE_DATABASE_URL``, the settings file, or
the default SQLite file.

Offline (``--sql``, ``db.migrate.script``) the runner names the dialect in
``config.attributes["dialect"]`` and nothing is connected to. A script that
starts from a revision first refuses, in the server, a database at another one:
Alembic's version UPDATE would otherwise match no row and say nothing.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection, Engine

from db.engine import make_engine
from db.models import Base
from db.settings import load_settings
from db.types import UTCDateTime

config = context.config
target_metadata = Base.metadata


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    # Revisions must not import model code that later changes, so the UTC
    # column type is written as the plain type it stores.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_offline() -> None:
    dialect = config.attributes.get("dialect")
    context.configure(
        **({"dialect_name": dialect} if dialect else {"url": _cli_url()}),
        target_metadata=target_metadata,
        literal_binds=True,
        # Alembic's recipe: with the driver's "pyformat" a % in any statement
        # would be written doubled, which psql reads as another operator.
        dialect_opts={"paramstyle": "named"},
        render_item=_render_item,
    )
    with context.begin_transaction():
        start = context.get_starting_revision_argument()
        if start is not None and context.get_context().dialect.name == "postgresql":
            revision = context.script.get_revision(start)  # type: ignore[arg-type]
            if revision is not None:
                context.execute(_AT_REVISION.replace("{rev}", revision.revision))
        context.run_migrations()
        if config.attributes.get("drop_version_table"):
            # Down to base, the database is left as empty as it began, so the
            # script building the schema from nothing applies to it again.
            context.execute("DROP TABLE alembic_version")


# The revision is one of the shipped ids (digits), safe to splice into the text.
_AT_REVISION = """DO $$
BEGIN
    IF to_regclass('alembic_version') IS NULL THEN
        RAISE EXCEPTION 'callgate: this script starts at {rev}; the database has no revision';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM alembic_version WHERE version_num = '{rev}') THEN
        RAISE EXCEPTION 'callgate: this script starts at revision {rev}; the database is at %',
            (SELECT string_agg(version_num, ', ') FROM alembic_version);
    END IF;
END
$$"""


def _run_online() -> None:
    given = config.attributes.get("connection")
    if isinstance(given, Connection):
        _run(given)
        return
    engine: Engine = given if isinstance(given, Engine) else make_engine(_cli_url())
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        if given is None:
            engine.dispose()


def _cli_url() -> str:
    return config.get_main_option("sqlalchemy.url") or load_settings().database_url


if context.is_offline_mode():
    _run_offline()
else:
    _run_online()
