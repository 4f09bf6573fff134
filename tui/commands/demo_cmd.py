"""``callgate demo``: create or top up a demo database and say how to try a call."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from db.demo import DemoReport
    from db.settings import Settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``demo`` to the command line."""
    parser = subparsers.add_parser(
        "demo",
        help="fill the database with fictitious demo tenants and staff",
        description="Add fictitious tenants covering every cancellation case, plus the "
        "accounts agent, agent2, supervisor and supervisor2, to the database (run it on a demo "
        "database, not a live one). Running it again adds only what is missing.",
    )
    parser.set_defaults(handler=run_demo)


def run_demo(args: argparse.Namespace, settings: Settings) -> int:
    """Load the demo data and print the staff passphrases and the demo callers."""
    from datetime import date

    from db.demo import DemoError, load_demo
    from db.engine import make_sessionmaker
    from db.migrate import SchemaError, prepare_for_desk
    from db.urls import shown_url
    from tui.commands.common import CommandError, engine_for, operator_actor

    engine = engine_for(settings)
    # Masked the way every printed URL is: a password may sit in the query too.
    database_url = shown_url(engine.url.render_as_string(hide_password=False))
    try:
        prepare_for_desk(engine)
        # Local today: the demo's terms are meant to look right on this desk's calendar.
        report = load_demo(make_sessionmaker(engine), date.today(), actor=operator_actor())
    except (DemoError, SchemaError) as exc:
        raise CommandError(str(exc)) from exc
    finally:
        engine.dispose()
    print(render(report, database_url))
    return 0


def render(report: DemoReport, database_url: str, width: int | None = None) -> str:
    """What the operator reads: what was added, whom to play, and last who can sign in.

    Tables fit ``width`` (the terminal's by default), wrapping at words.
    """
    from tui.commands.text_table import text_table

    def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
        return text_table(header, rows, width)

    lines = [
        f"demo database: {database_url}",
        f"tenants: {report.tenants_added} added, {report.tenants_present} already there",
        "",
        "Callers to play (the on-file details are in the database):",
    ]
    # What each caller demonstrates goes under its row: a column of it cannot fit 80.
    callers = [
        (c.user_id, c.organization, c.country, f"PIN {c.pin}" if c.pin else "")
        for c in report.callers
    ]
    demonstrates = [f"→ {c.demonstrates}" for c in report.callers]
    lines += text_table(("USER ID", "ORGANIZATION", "CC", "PIN"), callers, width, demonstrates)
    lines += ["", "What a genuine caller would state for each tenant:"]
    on_file = {
        c.organization: (c.organization, c.contact, c.phone, c.address) for c in report.callers
    }
    lines += _table(("ORGANIZATION", "CONTACT", "PHONE", "ADDRESS"), list(on_file.values()))
    # The staff come last: the callers scroll off a 24-line terminal, the
    # passphrases must still be on it when `make run` asks to note one.
    lines += ["", "Staff (sign in to the desk with these):"]
    staff = []
    for agent in report.agents:
        passphrase = agent.passphrase or "(existed already; unchanged)"
        staff.append((agent.username, agent.role.value, passphrase))
    lines += _table(("USERNAME", "ROLE", "PASSPHRASE"), staff)
    if any(agent.passphrase is None for agent in report.agents):
        lines.append(
            "Forgot one? `callgate agents reset NAME --reason TEXT --passphrase-stdin` "
            "sets a new one."
        )
    enrolled = [a for a in report.agents if a.totp_secret]
    if enrolled:
        # The secret, not the otpauth URI: a URI is wider than a terminal, and any
        # authenticator app takes a secret typed by hand (`agents reset --totp` prints a QR).
        lines += ["Supervisors also type the 6-digit code of an authenticator app (TOTP)"]
        lines += [f"holding their secret: {a.username} {a.totp_secret}" for a in enrolled]
    return "\n".join(lines)
