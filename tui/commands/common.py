"""What every subcommand shares: settings, the engine, error wording."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from db.settings import Settings, SettingsError, exposed_settings_warning, load_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker


class CommandError(Exception):
    """An expected failure: printed as one line, no traceback."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def load(args: argparse.Namespace) -> Settings:
    """Settings with the database URL resolved from ``--db`` and the environment.

    A settings file other users may read or change is named on stderr first.
    """
    warning = exposed_settings_warning(args.settings)
    if warning is not None:
        print(f"callgate: {warning}", file=sys.stderr)
    try:
        return load_settings(args.settings, args.db)
    except SettingsError as exc:
        raise CommandError(str(exc), exit_code=2) from exc


def engine_for(settings: Settings) -> Engine:
    """The engine for the resolved database URL, or a clear error."""
    from db.engine import DatabaseURLError, make_engine

    try:
        return make_engine(settings.database_url)
    except DatabaseURLError as exc:
        raise CommandError(str(exc), exit_code=2) from exc


# A lock held elsewhere outlasted the role's lock or statement timeout
# (``db.roles``), or SQLite's busy timeout: nothing was written, it can be retried.
BUSY_MESSAGE = "The database is busy; try again"
# PostgreSQL's lock_not_available and query_canceled (the statement timeout).
_BUSY_SQLSTATES = frozenset({"55P03", "57014"})


def friendly_error(exc: BaseException) -> str | None:
    """One line for database failures an operator can act on; None for bugs."""
    from sqlalchemy.exc import DatabaseError, OperationalError

    if isinstance(exc, OperationalError | DatabaseError):
        orig = getattr(exc, "orig", None)
        if getattr(orig, "sqlstate", None) in _BUSY_SQLSTATES or "database is locked" in str(orig):
            return BUSY_MESSAGE
        detail = str(exc.orig) if getattr(exc, "orig", None) else str(exc)
        detail = detail.strip().splitlines()[0] if detail.strip() else type(exc).__name__
        if "file is not a database" in detail:
            return f"the database file is not a SQLite database ({detail})"
        return f"database error: {detail}"
    return None


def operator_actor() -> str:
    """The audit actor of a command run from a shell: the OS user who ran it."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):
        user = "unknown"
    return f"operator:{user}"[:64]


@contextmanager
def prepared_database(
    settings: Settings, *refusals: type[Exception]
) -> Iterator[sessionmaker[Session]]:
    """Sessions on an up-to-date database; ``refusals`` (and schema errors) become one line."""
    from db.engine import make_sessionmaker
    from db.migrate import SchemaError, prepare_for_desk

    refused: tuple[type[Exception], ...] = (SchemaError, *refusals)
    engine = engine_for(settings)
    try:
        prepare_for_desk(engine)
        yield make_sessionmaker(engine)
    except refused as exc:
        raise CommandError(str(exc)) from exc
    finally:
        engine.dispose()
