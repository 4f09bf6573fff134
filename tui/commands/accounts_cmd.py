"""``callgate accounts import|sync FILE``: load account records, or bring them in line.

``import`` loads new records, all or nothing; ``sync`` prints what differs
from the records on file, grouped, and applies it in one transaction.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from db.accounts.file import BadRow
    from db.accounts.importer import ImportReport
    from db.accounts.sync import SyncReport
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
    syncing = actions.add_parser(
        "sync",
        help="bring the records on file in line with an account file",
        description="Compare FILE (the same formats as import) with the records on file, "
        "print what would change (tenants, users and subscriptions added, changed or "
        "removed, each changed field named; phones and user IDs masked) and apply it all "
        "in one transaction. Bad rows are printed as for import and nothing is written. "
        "Removed tenants and users are marked inactive, never deleted.",
    )
    syncing.add_argument("file", metavar="FILE")
    syncing.add_argument("--dry-run", action="store_true", help="show the changes; write nothing")
    syncing.add_argument(
        "--remove-missing",
        action="store_true",
        help="mark tenants and users that are not in FILE inactive (kept otherwise)",
    )
    syncing.set_defaults(handler=run_sync)


class _Report(Protocol):
    @property
    def source(self) -> str: ...

    @property
    def ok(self) -> bool: ...

    @property
    def bad_rows(self) -> tuple[BadRow, ...]: ...


R = TypeVar("R", bound=_Report)


def _run_on_file(
    name: str,
    args: argparse.Namespace,
    settings: Settings,
    run: Callable[..., R],
    shown: Callable[[R], str],
    nothing_done: str,
) -> int:
    """``run`` (the import or the sync) of the file on the desk's database, then
    what it did; 1 with every bad row listed when any is bad."""
    from db.accounts.importer import ImportFileError
    from db.engine import make_sessionmaker
    from db.migrate import SchemaError, prepare_for_desk
    from tui.commands.common import CommandError, engine_for, operator_actor
    from tui.commands.progress import progress

    engine = engine_for(settings)
    try:
        prepare_for_desk(engine)
        with progress(f"accounts {name}: reading", "rows") as tick:
            report = run(
                make_sessionmaker(engine),
                args.file,
                dry_run=args.dry_run,
                default_region=settings.default_region,
                actor=operator_actor(),
                progress=tick,
            )
    except (ImportFileError, SchemaError) as exc:
        raise CommandError(str(exc)) from exc
    finally:
        engine.dispose()
    if not report.ok:
        for bad in report.bad_rows:
            print(f"line {bad.line}: {bad.reason}", file=sys.stderr)
        count = len(report.bad_rows)
        rows = "1 bad row" if count == 1 else f"{count} bad rows"
        print(f"{report.source}: {rows}; {nothing_done}", file=sys.stderr)
        return 1
    print(shown(report))
    return 0


def run_import(args: argparse.Namespace, settings: Settings) -> int:
    """Import (or validate) the file; 1 with every bad row listed when any is bad."""
    from db.accounts.importer import import_accounts

    return _run_on_file("import", args, settings, import_accounts, summary, "nothing imported")


def summary(report: ImportReport) -> str:
    """One line saying what was (or, on a dry run, would be) imported."""
    counts = (
        f"{_n(report.tenants, 'tenant')}, {_n(report.users, 'user')}, "
        f"{_n(report.subscriptions, 'subscription')}, {_n(report.domains, 'domain')}, "
        f"{_n(report.pins, 'support PIN')} from {_n(report.rows, 'row')}"
    )
    if report.dry_run:
        return f"{report.source}: all rows good; would import {counts} (dry run: nothing written)"
    return f"{report.source}: imported {counts}"


def run_sync(args: argparse.Namespace, settings: Settings) -> int:
    """Sync (or show) the changes; 1 with every bad row listed when any is bad."""
    from db.accounts.sync import sync_accounts

    run = partial(sync_accounts, remove_missing=args.remove_missing)
    return _run_on_file(
        "sync", args, settings, run, lambda report: "\n".join(sync_lines(report)), "nothing changed"
    )


def sync_lines(report: SyncReport) -> list[str]:
    """The changes grouped, each changed field named, then one line saying what was done."""
    lines: list[str] = []
    for title, changes in report.groups:
        if not changes:
            continue
        lines.append(f"{title} ({len(changes)}):")
        for change in changes:
            named = "; ".join(f"{f.name} {f.before} → {f.after}" for f in change.fields)
            lines.append(f"  {change.what}: {named}" if named else f"  {change.what}")
    if report.held:
        lines.append(
            f"held ({len(report.held)}): a decision taken at the desk has not reached the "
            "billing system yet (callgate deliver); these stay as callgate has them:"
        )
        lines += [f"  {change.what}" for change in report.held]
    kept = []
    if report.tenants_missing:
        kept.append(f"{report.tenants_missing} tenants")
    if report.users_missing:
        kept.append(f"{report.users_missing} users")
    if kept:
        lines.append(
            f"kept: {' and '.join(kept)} on file but not in the file "
            "(--remove-missing marks them inactive)"
        )
    if report.unchanged:
        lines.append(f"{report.source}: the records on file already match; nothing to change")
    elif report.dry_run:
        lines.append(f"{report.source}: dry run: nothing written")
    else:
        lines.append(f"{report.source}: applied in one transaction")
    return lines


def _n(count: int, noun: str) -> str:
    """``count`` and ``noun``, plural unless it is one: "1 support PIN", "2 rows"."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
