"""``callgate agents add|list|disable|reset``: staff accounts, run by the operator.

``--totp`` enrolls the second factor (``verification.totp``) and prints it once
(``tui.commands.enrollment``); a supervisor is always enrolled when added, since
a supervisor without one cannot sign in (``db.staff.signin``).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from tui.commands.common import operator_actor, prepared_database

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from db.settings import Settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``agents`` and its actions to the command line."""
    parser = subparsers.add_parser("agents", help="manage agent and supervisor accounts")
    actions = parser.add_subparsers(dest="agents_command", metavar="ACTION", required=True)

    add = actions.add_parser(
        "add",
        help="create an account",
        description="Create an agent or supervisor account. The passphrase (at least 10 "
        "characters) is asked twice, or read from the first line of standard input.",
    )
    add.add_argument("name", metavar="NAME", help="username: a-z, 0-9, '.', '_', '-'")
    add.add_argument("--role", choices=("agent", "supervisor"), required=True)
    add.add_argument("--display-name", default="", help="name shown on the desk (default NAME)")
    _totp_flag(add, "enroll a second factor (always done for a supervisor)")
    _stdin_flag(add)
    add.set_defaults(handler=run_add)

    listing = actions.add_parser("list", help="show every account")
    listing.set_defaults(handler=run_list)

    disable = actions.add_parser("disable", help="stop an account from signing in")
    disable.add_argument("name", metavar="NAME")
    disable.set_defaults(handler=run_disable)

    reset = actions.add_parser(
        "reset",
        help="unlock an account, optionally with a new passphrase",
        description="Clear failed sign-ins and the lock, saying why (kept with the "
        "account, out of the audit chain, blanked by purge). With --passphrase-stdin, also "
        "set a new passphrase read from standard input.",
    )
    reset.add_argument("name", metavar="NAME")
    reset.add_argument("--reason", required=True, help="why the account is reset")
    _totp_flag(reset, "enroll a new second factor (the old one stops working)")
    _stdin_flag(reset)
    reset.set_defaults(handler=run_reset)


def _totp_flag(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument(
        "--totp",
        action="store_true",
        help=f"{help_text}: prints the otpauth:// URI, the secret and a QR code for an "
        "authenticator app; the sign-in then asks its code after the passphrase",
    )


def _stdin_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--passphrase-stdin",
        action="store_true",
        help="read the passphrase from the first line of standard input (for scripts)",
    )


def run_add(args: argparse.Namespace, settings: Settings) -> int:
    """Create the account and confirm it."""
    from db.staff.agents import add_agent
    from tui.commands.enrollment import print_enrollment
    from verification.kinds import Role
    from verification.totp import new_secret

    role = Role(args.role)
    passphrase = _read_passphrase(args.passphrase_stdin)
    secret = new_secret() if args.totp or role is Role.SUPERVISOR else None
    with _database(settings) as factory:
        info = add_agent(
            factory,
            args.name,
            args.display_name,
            role,
            passphrase,
            actor=operator_actor(),
            totp_secret=secret,
        )
    print(f"added {info.role.value} {info.username} ({info.display_name})")
    if secret is not None:
        print_enrollment(info.username, secret)
    return 0


def run_list(args: argparse.Namespace, settings: Settings) -> int:
    """Print every account as a table."""
    from db.staff.agents import list_agents
    from verification.kinds import Role

    with _database(settings) as factory:
        agents = list_agents(factory)
    if not agents:
        print("no agent accounts yet: add one with `callgate agents add NAME --role agent`")
        return 0
    rows = [("USERNAME", "NAME", "ROLE", "STATE", "FAILED", "LAST SIGN-IN", "2ND FACTOR")]
    for a in agents:
        state = "disabled" if not a.active else "locked" if a.locked else "active"
        last = f"{a.last_signin_at.astimezone():%Y-%m-%d %H:%M}" if a.last_signin_at else "-"
        factor = "totp" if a.second_factor else "-"
        if not a.second_factor and a.role is Role.SUPERVISOR:
            factor = "none: cannot sign in (reset --totp)"
        rows.append(
            (a.username, a.display_name, a.role.value, state, str(a.failed_signins), last, factor)
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    return 0


def run_disable(args: argparse.Namespace, settings: Settings) -> int:
    """Disable the account."""
    from db.staff.agents import disable_agent

    with _database(settings) as factory:
        info = disable_agent(factory, args.name, actor=operator_actor())
    print(f"disabled {info.username}")
    return 0


def run_reset(args: argparse.Namespace, settings: Settings) -> int:
    """Unlock the account, with a new passphrase when one is given on stdin."""
    from db.staff.agents import reset_agent
    from tui.commands.enrollment import print_enrollment
    from verification.totp import new_secret

    passphrase = _read_passphrase(True) if args.passphrase_stdin else None
    secret = new_secret() if args.totp else None
    with _database(settings) as factory:
        info = reset_agent(
            factory,
            args.name,
            passphrase,
            reason=args.reason,
            actor=operator_actor(),
            totp_secret=secret,
        )
    extra = " with a new passphrase" if passphrase else ""
    extra += " and a new second factor" if secret else ""
    disabled = " (still disabled)" if not info.active else ""
    print(f"reset {info.username}{extra}: sign-in unlocked{disabled}")
    if secret is not None:
        print_enrollment(info.username, secret)
    return 0


def _read_passphrase(from_stdin: bool) -> str:
    """The new passphrase: one stdin line, or typed twice without echo."""
    from tui.commands.common import CommandError

    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("passphrase: ")
    if getpass.getpass("again: ") != first:
        raise CommandError("the two passphrases differ; nothing changed")
    return first


@contextmanager
def _database(settings: Settings) -> Iterator[sessionmaker[Session]]:
    """Sessions on an up-to-date database; account errors become one-line errors."""
    from db.staff.agents import AgentError

    with prepared_database(settings, AgentError) as factory:
        yield factory
