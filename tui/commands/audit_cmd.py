"""``callgate audit verify``: recompute the audit chain and name the first break."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from db.settings import Settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``audit verify`` to the command line."""
    parser = subparsers.add_parser("audit", help="check the tamper-evident audit chain")
    actions = parser.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = actions.add_parser(
        "verify",
        help="recompute every link; exit 1 on a break",
        description="Recompute the audit chain, print its length and head hash, and name "
        "the first event that fails. Exits 1 on a break or a missing expected head.",
    )
    verify.add_argument(
        "--expect-head",
        metavar="HASH",
        help="a head hash recorded earlier (e.g. from an export) that must still be in the chain",
    )
    verify.set_defaults(handler=run_verify)


def run_verify(args: argparse.Namespace, settings: Settings) -> int:
    """Verify the chain; 0 when intact (and the expected head is present), else 1."""
    from db.audit import verify_chain
    from db.migrate import SchemaState, schema_state
    from tui.commands.common import CommandError, engine_for

    engine = engine_for(settings)
    try:
        # Verifying only reads, so an old schema is verified as it is, never upgraded.
        if schema_state(engine) is SchemaState.EMPTY:
            raise CommandError("the database has no callgate schema, so no audit chain")
        report = verify_chain(engine, expect_head=args.expect_head)
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
        if status == 0:
            print("chain intact")
        return status
    finally:
        engine.dispose()


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
