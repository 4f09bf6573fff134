"""What every subcommand shares: settings, the engine, error wording."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TYPE_CHECKING

from db.settings import Settings, SettingsError, exposed_settings_warning, load_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine


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


def friendly_error(exc: BaseException) -> str | None:
    """One line for database failures an operator can act on; None for bugs."""
    from sqlalchemy.exc import DatabaseError, OperationalError

    if isinstance(exc, OperationalError | DatabaseError):
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
