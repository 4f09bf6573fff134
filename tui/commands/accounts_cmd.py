"""``callgate accounts import FILE [--dry-run]``: load account records, all or nothing."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from db.importer import ImportReport
    from db.settings import Settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``accounts import`` to the command line."""
    parser = subparsers.add_parser("accounts", help="import customer account records")
    actions = parser.add_subparsers(dest="accounts_command", metavar="ACTION", required=True)
    importing = actions.add_parser(
        "import",
        help="import a CSV or JSON account file (all or nothing)",
        description="Validate every row of FILE (.csv or .json, format in README.md) and, "
        "when all are good, import them in one transaction. Each bad row is printed as "
        "'line N: reason' on stderr and nothing is written.",
    )
    importing.add_argument("file", metavar="FILE")
    importing.add_argument("--dry-run", action="store_true", help="validate only; write nothing")
    importing.set_defaults(handler=run_import)


def run_import(args: argparse.Namespace, settings: Settings) -> int:
    """Import (or validate) the file; 1 with every bad row listed when any is bad."""
    from db.engine import make_sessionmaker
    from db.importer import ImportFileError, import_accounts
    from db.migrate import SchemaError, prepare_for_desk
    from tui.commands.common import CommandError, engine_for, operator_actor

    engine = engine_for(settings)
    try:
        prepare_for_desk(engine)
        report = import_accounts(
            make_sessionmaker(engine),
            args.file,
            dry_run=args.dry_run,
            default_region=settings.default_region,
            actor=operator_actor(),
        )
    except (ImportFileError, SchemaError) as exc:
        raise CommandError(str(exc)) from exc
    finally:
        engine.dispose()
    if not report.ok:
        for bad in report.bad_rows:
            print(f"line {bad.line}: {bad.reason}", file=sys.stderr)
        rows = "1 bad row" if len(report.bad_rows) == 1 else f"{len(report.bad_rows)} bad rows"
        print(f"{report.source}: {rows}; nothing imported", file=sys.stderr)
        return 1
    print(summary(report))
    return 0


def summary(report: ImportReport) -> str:
    """One line saying what was (or, on a dry run, would be) imported."""
    counts = (
        f"{report.tenants} tenants, {report.users} users, {report.subscriptions} subscriptions, "
        f"{report.domains} domains, {report.pins} support PINs from {report.rows} rows"
    )
    if report.dry_run:
        return f"{report.source}: all rows good; would import {counts} (dry run: nothing written)"
    return f"{report.source}: imported {counts}"
