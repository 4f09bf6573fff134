"""``callgate purge``: blank personal data of old closed calls."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from db.settings import Settings


def _days(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of days: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 day, got {value}")
    return value


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``purge`` to the command line."""
    parser = subparsers.add_parser(
        "purge",
        help="blank stated values and notes of old closed calls",
        description="Blank what callers stated and the notes of closed calls that ended more "
        "than DAYS ago. Results, outcomes and the audit chain are kept; open calls are "
        "never purged.",
    )
    parser.add_argument(
        "--older-than",
        metavar="DAYS",
        type=_days,
        help="age in days of the calls to purge (default: retention_days from settings)",
    )
    parser.add_argument("--dry-run", action="store_true", help="only report how many calls")
    parser.set_defaults(handler=run_purge)


def run_purge(args: argparse.Namespace, settings: Settings) -> int:
    """Purge (or count, on a dry run) and report how many calls were touched."""
    from db.engine import make_sessionmaker
    from db.migrate import SchemaError, prepare_for_desk
    from db.purge import MAX_DAYS, purge
    from db.types import utcnow
    from tui.commands.common import CommandError, engine_for, operator_actor
    from tui.commands.progress import progress

    days = args.older_than or settings.retention_days
    if days > MAX_DAYS:
        raise CommandError(f"--older-than must be at most {MAX_DAYS} days, got {days}", exit_code=2)
    engine = engine_for(settings)
    try:
        try:
            prepare_for_desk(engine)
        except SchemaError as exc:
            raise CommandError(str(exc)) from exc
        with progress("purge", "steps") as shown:
            report = purge(
                make_sessionmaker(engine),
                older_than_days=days,
                now=utcnow(),
                dry_run=args.dry_run,
                actor=operator_actor(),
                progress=shown,
            )
    finally:
        engine.dispose()
    cutoff = f"{report.cutoff.astimezone():%Y-%m-%d %H:%M %Z}"
    if report.dry_run:
        print(f"dry run: {report.calls} closed calls ended before {cutoff} would be purged")
    else:
        print(f"purged personal data from {report.calls} closed calls ended before {cutoff}")
    return 0
