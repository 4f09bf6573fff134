"""``callgate audit verify|checkpoint|tail``: check, anchor and copy out the audit chain."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from db.settings import Settings


def _seq(text: str) -> int:
    if not text.isdigit() or len(text) > 18:
        raise argparse.ArgumentTypeError(f"not a sequence number: {text!r}")
    return int(text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0.05 <= value <= 3600:
        raise argparse.ArgumentTypeError(f"must be from 0.05 to 3600 seconds, got {text}")
    return value


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``audit verify``, ``audit checkpoint`` and ``audit tail`` to the command line."""
    parser = subparsers.add_parser("audit", help="check the tamper-evident audit chain")
    actions = parser.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = actions.add_parser(
        "verify",
        help="recompute every link; exit 1 on a break",
        description="Recompute the audit chain, print its length and head hash, and name "
        "the first event that fails. With --checkpoints, also prove that every checkpoint "
        "in FILE is still in the chain and that nothing after the last one was removed. "
        "Exits 1 on a break, a missing expected head or a checkpoint that does not hold.",
    )
    verify.add_argument(
        "--expect-head",
        metavar="HASH",
        help="a head hash recorded earlier (e.g. from an export) that must still be in the chain",
    )
    verify.add_argument(
        "--checkpoints", metavar="FILE", help="a file written by `callgate audit checkpoint`"
    )
    verify.set_defaults(handler=run_verify)
    checkpoint = actions.add_parser(
        "checkpoint",
        help="append the chain's head (seq, hash, UTC time) to FILE",
        description="Append the current head of the audit chain as one line to FILE "
        "(created if absent). Keep FILE outside the database's reach, e.g. on another "
        "machine, and check it with `callgate audit verify --checkpoints FILE`.",
    )
    checkpoint.add_argument("file", metavar="FILE")
    checkpoint.set_defaults(handler=run_checkpoint)
    tail = actions.add_parser(
        "tail",
        help="print audit events as JSON lines, for a log collector",
        description="Print every audit event after --after SEQ as one JSON object per "
        "line on stdout. With --follow, keep polling for new events until interrupted "
        "(SIGINT or SIGTERM end it cleanly, exit 0).",
    )
    tail.add_argument("--after", metavar="SEQ", type=_seq, default=0, help="last seq already had")
    tail.add_argument("--follow", action="store_true", help="keep printing new events")
    tail.add_argument(
        "--interval",
        metavar="SECONDS",
        type=_seconds,
        default=1.0,
        help="how often --follow looks for new events (default 1)",
    )
    tail.set_defaults(handler=run_tail)


def run_verify(args: argparse.Namespace, settings: Settings) -> int:
    """Verify the chain (and checkpoints); 0 when everything holds, else 1."""
    from pathlib import Path

    from db.audit.chain import verify_chain
    from db.audit.checkpoints import CheckpointFileError, check_checkpoints, read_checkpoints
    from tui.commands.common import CommandError, engine_for
    from tui.commands.progress import progress

    try:
        checkpoints = None if args.checkpoints is None else read_checkpoints(Path(args.checkpoints))
    except CheckpointFileError as exc:
        raise CommandError(str(exc)) from exc
    engine = engine_for(settings)
    try:
        _require_schema(engine)
        with progress("audit verify", "events") as shown:
            report = verify_chain(engine, expect_head=args.expect_head, progress=shown)
        events = "1 event" if report.count == 1 else f"{report.count} events"
        print(f"audit chain: {events}, head {report.head_hash}")
        status = 0
        if report.first_bad_seq is not None:
            print(f"BROKEN at {_describe(engine, report.first_bad_seq)}: {report.problem}")
            status = 1
        if report.expected_head_found is False:
            print(f"expected head {args.expect_head} is NOT in the chain")
            status = 1
        elif report.expected_head_found:
            print(f"expected head {args.expect_head} is in the chain")
        if checkpoints is not None:
            held = check_checkpoints(engine, checkpoints)
            if held.problem is not None:
                print(f"checkpoints: {held.problem}")
                status = 1
            else:
                count = "1 checkpoint" if held.checked == 1 else f"{held.checked} checkpoints"
                print(f"{count} held")
        if status == 0:
            print("chain intact")
        return status
    finally:
        engine.dispose()


def run_checkpoint(args: argparse.Namespace, settings: Settings) -> int:
    """Append the head to FILE and print the line appended."""
    from pathlib import Path

    from db.audit.checkpoints import append_checkpoint, take_checkpoint
    from db.types import utcnow
    from tui.commands.common import CommandError, engine_for

    engine = engine_for(settings)
    try:
        _require_schema(engine)
        checkpoint = take_checkpoint(engine, utcnow())
    finally:
        engine.dispose()
    try:
        append_checkpoint(Path(args.file), checkpoint)
    except OSError as exc:
        raise CommandError(f"cannot write checkpoint file {args.file}: {exc.strerror}") from exc
    print(f"{checkpoint.as_line()} appended to {args.file}")
    return 0


def run_tail(args: argparse.Namespace, settings: Settings) -> int:
    """Print events as JSON lines; with --follow until SIGINT or SIGTERM (then exit 0)."""
    import signal
    import sys
    import threading

    from db.audit.tail import follow, lines_after
    from tui.commands.common import engine_for

    engine = engine_for(settings)
    try:
        _require_schema(engine)
        if not args.follow:
            for _, line in lines_after(engine, args.after):
                sys.stdout.write(line + "\n")
            return 0
        stop = threading.Event()
        # Stopping is how a follow ends: both signals finish the current line, then exit 0.
        stops = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in stops}
        try:
            for line in follow(engine, args.after, stop, args.interval):
                sys.stdout.write(line + "\n")
                # A collector reads line by line: each event leaves as soon as it is seen.
                sys.stdout.flush()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return 0
    finally:
        engine.dispose()


def _require_schema(engine: Engine) -> None:
    """Audit commands only read (or append outside): an old schema is used as it is."""
    from db.migrate import SchemaState, schema_state
    from tui.commands.common import CommandError

    if schema_state(engine) is SchemaState.EMPTY:
        raise CommandError("the database has no callgate schema, so no audit chain")


def _describe(engine: Engine, seq: int) -> str:
    """``event 42 (item.checked, 2026-11-26 21:03:04 CET)``, time shown locally."""
    from sqlalchemy.orm import Session

    from db.models import AuditEvent

    with Session(engine) as session:
        event = session.get(AuditEvent, seq)
        if event is None:
            return f"event {seq}"
        local = event.occurred_at.astimezone()
        return f"event {seq} ({event.type}, {local:%Y-%m-%d %H:%M:%S %Z})"
