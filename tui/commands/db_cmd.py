"""``callgate db upgrade|downgrade|current|check|grant-desk``: the operator's schema commands.

``--sql`` prints a PostgreSQL script for a DBA instead of migrating
(``db.migrate.script``); a downgrade is offered only that way, to be read
before it drops anything.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from db.migrate import SchemaState
    from db.settings import Settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``db upgrade``, ``db downgrade``, ``db current``, ``db check``, ``db grant-desk``."""
    parser = subparsers.add_parser("db", help="migrate and inspect the database schema")
    actions = parser.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = actions.add_parser(
        "upgrade",
        help="migrate the database to the newest schema",
        description="Apply the schema migrations. A PostgreSQL database is only ever "
        "migrated by this command; the desk refuses to start on an old schema. With --sql, "
        "print the migrations as one PostgreSQL transaction for a DBA instead, connecting "
        "to nothing: REVISION is [FROM:]TO, and without FROM the script builds the schema "
        "in an empty database.",
    )
    upgrade.add_argument(
        "revision", nargs="?", default="head", help="target revision (default: head)"
    )
    upgrade.add_argument("--sql", action="store_true", help=_SQL_HELP)
    upgrade.set_defaults(handler=run_upgrade)
    downgrade = actions.add_parser(
        "downgrade",
        help="print the SQL taking a PostgreSQL schema back to an older revision",
        description="Print, as one PostgreSQL transaction, the migrations' downgrade from "
        "revision FROM to TO (an older revision or base, which drops every table). "
        "Only offered as SQL (--sql), to be read before it is run.",
    )
    downgrade.add_argument("revisions", metavar="FROM:TO")
    downgrade.add_argument("--sql", action="store_true", required=True, help=_SQL_HELP)
    downgrade.set_defaults(handler=run_downgrade)
    actions.add_parser(
        "current", help="print the database's schema revision and whether it is the newest"
    ).set_defaults(handler=run_current)
    actions.add_parser(
        "check",
        help="compare the models with the database; exit 1 listing any difference",
    ).set_defaults(handler=run_check)
    grant = actions.add_parser(
        "grant-desk",
        help="PostgreSQL: set up the least-privilege role desks connect as",
        description="Run as the owner of the tables (who runs `db upgrade`). Creates ROLE "
        "(LOGIN, no password: set one with ALTER ROLE, or use your server's auth) if absent "
        "and leaves it exactly the desk's rights: read and append on the audit table, read, "
        "insert and update on the others, nothing it could use to edit or disable the "
        "audit trail. Run it again after every `db upgrade`.",
    )
    grant.add_argument("role", metavar="ROLE")
    grant.set_defaults(handler=run_grant_desk)


_SQL_HELP = (
    "print the SQL instead of migrating: one PostgreSQL transaction, "
    "for psql -v ON_ERROR_STOP=1 -f FILE"
)


def run_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    """Migrate to the requested revision and say where the database now is."""
    from db import migrate
    from tui.commands.common import CommandError, engine_for

    if args.sql:
        return _print_script(settings, args.revision, downgrade=False)
    engine = engine_for(settings)
    try:
        before = migrate.current(engine)
        migrate.upgrade(engine, args.revision)
        after = migrate.current(engine)
    except migrate.SchemaError as exc:
        raise CommandError(str(exc)) from exc
    finally:
        engine.dispose()
    if before == after:
        print(f"database already at revision {after}")
    else:
        print(f"database upgraded from revision {before or 'none'} to {after}")
    return 0


def run_downgrade(args: argparse.Namespace, settings: Settings) -> int:
    """Print the downgrade script over FROM:TO."""
    return _print_script(settings, args.revisions, downgrade=True)


def _print_script(settings: Settings, revisions: str, *, downgrade: bool) -> int:
    """Print the whole script, or nothing and one error line."""
    from db import migrate
    from tui.commands.common import CommandError

    try:
        text = migrate.script(settings.database_url, revisions, downgrade=downgrade)
    except migrate.SchemaError as exc:
        raise CommandError(str(exc)) from exc
    print(text, end="")
    return 0


def run_current(args: argparse.Namespace, settings: Settings) -> int:
    """Print the revision, the newest one, and what to do if they differ."""
    from db import migrate

    revision, state = _revision_and_state(settings)
    if state is migrate.SchemaState.CURRENT:
        print(f"{revision} (newest)")
    else:
        print(f"{revision or 'none'} (newest is {migrate.head()}: run `{migrate.UPGRADE_HINT}`)")
    return 0


def run_check(args: argparse.Namespace, settings: Settings) -> int:
    """Exit 0 when the database is at the newest revision and matches the models."""
    from db import migrate
    from tui.commands.common import engine_for

    revision, state = _revision_and_state(settings)
    if state is migrate.SchemaState.CURRENT:
        engine = engine_for(settings)
        try:
            problems = migrate.check(engine)
        finally:
            engine.dispose()
    else:
        newest = migrate.head()
        problems = [f"database at revision {revision or 'none'}, migrations end at {newest}"]
    if not problems:
        print(f"models and database agree at revision {revision}")
        return 0
    print("models and database differ:")
    for problem in problems:
        print(f"  {problem}")
    return 1


def run_grant_desk(args: argparse.Namespace, settings: Settings) -> int:
    """Give ROLE the desk's rights and print each statement run."""
    from db import migrate
    from db.roles import DeskRoleError, check_request, grant_desk
    from tui.commands.common import CommandError, engine_for

    engine = engine_for(settings)
    try:
        try:
            check_request(engine, args.role)
        except DeskRoleError as exc:
            raise CommandError(str(exc), exit_code=2) from exc
        if migrate.schema_state(engine) is not migrate.SchemaState.CURRENT:
            raise CommandError(f"the schema is not the newest: run `{migrate.UPGRADE_HINT}` first")
        statements = grant_desk(engine, args.role)
    except DeskRoleError as exc:
        raise CommandError(str(exc)) from exc
    finally:
        engine.dispose()
    for statement in statements:
        print(statement)
    print(f"desk role {args.role} ready: point the desks at it with --db or CALLGATE_DATABASE_URL")
    return 0


def _revision_and_state(settings: Settings) -> tuple[str | None, SchemaState]:
    """The database's revision and schema state; a revision unknown here is an error."""
    from db import migrate
    from tui.commands.common import CommandError, engine_for

    engine = engine_for(settings)
    try:
        return migrate.current(engine), migrate.schema_state(engine)
    except migrate.SchemaError as exc:
        raise CommandError(str(exc)) from exc
    finally:
        engine.dispose()
