"""``callgate export``: the calls of a period as CSV or JSON, with the audit chain head."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import sys
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from db.export import ExportReport
    from db.review import RequestFilter
    from db.settings import Settings


# Days whose local midnight, and the day after, every date computation holds.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9999, 12, 30)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _check_in_range(option: str, day: date | None) -> None:
    from tui.commands.common import CommandError

    if day is not None and not FIRST_DAY <= day <= LAST_DAY:
        raise CommandError(
            f"{option} {day.isoformat()} is out of range: give a day from "
            f"{FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}",
            exit_code=2,
        )


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``export`` to the command line."""
    parser = subparsers.add_parser(
        "export",
        help="export calls as CSV or JSON (personal data masked)",
        description="Write the calls started from --since to --until (local dates, both "
        "included) as CSV or JSON, newest first, with personal data masked. --unmasked "
        "needs a supervisor account (--as) and its passphrase. The audit chain head is "
        "printed after every export (to stderr when the export goes to stdout): keep it "
        "with the file and check it later with `callgate audit verify --expect-head`.",
    )
    parser.add_argument("--since", metavar="DATE", type=_day, help="first day (local)")
    parser.add_argument("--until", metavar="DATE", type=_day, help="last day (local)")
    parser.add_argument("--format", choices=("csv", "json"), default="csv")
    parser.add_argument("--output", metavar="FILE", help="write here instead of stdout")
    parser.add_argument(
        "--unmasked", action="store_true", help="personal data in clear (supervisors only)"
    )
    parser.add_argument(
        "--as", dest="as_user", metavar="SUPERVISOR", help="the supervisor asking for --unmasked"
    )
    parser.add_argument(
        "--passphrase-stdin",
        action="store_true",
        help="read the supervisor's passphrase from the first line of standard input "
        "(and the authenticator code from the second, unless --code gives it)",
    )
    parser.add_argument(
        "--code",
        metavar="DIGITS",
        help="the code from the supervisor's authenticator app (asked when not given)",
    )
    parser.set_defaults(handler=run_export)


def run_export(args: argparse.Namespace, settings: Settings) -> int:
    """Export, then report the row count and the chain head."""
    from db.engine import make_sessionmaker
    from db.migrate import SchemaError, prepare_for_desk
    from tui.commands.common import CommandError, engine_for, operator_actor

    if args.unmasked and not args.as_user:
        raise CommandError("--unmasked needs --as SUPERVISOR", exit_code=2)
    _check_in_range("--since", args.since)
    _check_in_range("--until", args.until)
    if args.since and args.until and args.since > args.until:
        raise CommandError("--since is after --until", exit_code=2)
    engine = engine_for(settings)
    try:
        try:
            prepare_for_desk(engine)
        except SchemaError as exc:
            raise CommandError(str(exc)) from exc
        factory = make_sessionmaker(engine)
        supervisor_id, actor = None, operator_actor()
        if args.unmasked:
            supervisor_id, actor = _supervisor(factory, args, settings)
        filters = period(args.since, args.until)
        if args.output:
            report = _export_to_file(
                factory, args.output, args.format, filters, actor, supervisor_id
            )
            notices: TextIO = sys.stdout
        else:
            report = _export(factory, sys.stdout, args.format, filters, actor, supervisor_id)
            notices = sys.stderr
    except BrokenPipeError:
        raise  # stdout's reader went away: the command line stops quietly
    except OSError as exc:
        raise CommandError(f"cannot write {args.output}: {exc.strerror}") from exc
    finally:
        engine.dispose()
    masked = "masked" if report.masked else "UNMASKED"
    where = f" to {args.output}" if args.output else ""
    print(f"exported {report.rows} calls{where} ({masked})", file=notices)
    print(f"audit chain head: event {report.head_seq} {report.head_hash}", file=notices)
    return 0


def period(since: date | None, until: date | None) -> RequestFilter:
    """The filter for local days ``since`` to ``until``, both included."""
    from db.review import RequestFilter

    def start_of(day: date) -> datetime:
        return datetime.combine(day, time()).astimezone()

    return RequestFilter(
        started_from=start_of(since) if since else None,
        started_before=start_of(until + timedelta(days=1)) if until else None,
    )


def _export_to_file(
    factory: sessionmaker[Session],
    path: str,
    fmt: str,
    filters: RequestFilter,
    actor: str,
    supervisor_id: int | None,
) -> ExportReport:
    """Export into ``path``; a file this export created is removed again if it fails."""
    import os

    existed = os.path.exists(path)
    try:
        with open(path, "w", encoding="utf-8", newline="") as out:
            return _export(factory, out, fmt, filters, actor, supervisor_id)
    except BaseException:
        if not existed:
            # E.g. the export could not be recorded: leave no (empty) file behind.
            with contextlib.suppress(OSError):
                os.unlink(path)
        raise


def _export(
    factory: sessionmaker[Session],
    out: TextIO,
    fmt: str,
    filters: RequestFilter,
    actor: str,
    supervisor_id: int | None,
) -> ExportReport:
    from db.export import write_export
    from db.types import utcnow
    from tui.commands.progress import progress

    with progress("export", "calls") as shown:
        return write_export(
            factory,
            out,
            "json" if fmt == "json" else "csv",
            filters,
            actor=actor,
            now=utcnow(),
            unmasked_for=supervisor_id,
            progress=shown,
        )


def _supervisor(
    factory: sessionmaker[Session], args: argparse.Namespace, settings: Settings
) -> tuple[int, str]:
    """Sign the supervisor in (counted like any sign-in); their id and username.

    The second factor's code is asked only once the passphrase was right, as on the desk.
    """
    from db.staff.signin import authenticate
    from db.types import utcnow
    from tui.commands.common import CommandError
    from verification.kinds import Role

    if args.passphrase_stdin:
        passphrase = sys.stdin.readline().rstrip("\r\n")
    else:
        passphrase = getpass.getpass(f"passphrase for {args.as_user}: ")
    result = authenticate(factory, args.as_user, passphrase, utcnow(), args.code)
    if result.code_needed:
        if args.passphrase_stdin:
            code = sys.stdin.readline().strip()
        else:
            code = input(f"code from {args.as_user}'s authenticator app: ")
        result = authenticate(factory, args.as_user, passphrase, utcnow(), code)
    if not result.ok or result.agent is None:
        raise CommandError(result.message)
    if result.agent.role is not Role.SUPERVISOR:
        raise CommandError(f"{result.agent.username} is not a supervisor: --unmasked refused")
    return result.agent.id, result.agent.username
