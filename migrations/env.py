"""Alembic environment for callgate.

The runner in ``db/migrate.py`` (and pytest-alembic) hands over its own
engine or connection in ``config.attributes["connection"]`` (Alembic's
documented recipe), so migrations run with the project's connection settings
(SQLite pragmas, ``BEGIN IMMEDIATE``). From the alembic CLI the database is
resolved like the desk does: ``CALLGATE_DATABASE_URL``, the settings file, or
the default SQLite file.
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
    context.configure(
        url=_cli_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


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
