"""The ``callgate`` command line: the composition root.

Each subcommand lives in ``tui/commands/<name>.py`` with ``register(subparsers)``
that adds its parser and sets ``handler``; heavy imports stay inside handlers
so that ``callgate --help`` and the desk start fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

COMMAND_MODULES = (
    "demo",
    "accounts",
    "agents",
    "policy",
    "db",
    "audit",
    "purge",
    "export",
    "serve",
    "deliver",
)
# What a Unix tool killed by SIGPIPE exits with (128 + 13), e.g. under `| head`.
CLOSED_PIPE_EXIT = 141


def _global_parser(add_help: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="callgate",
        description="Desk for subscription-cancellation calls. With no command, opens the desk.",
        add_help=add_help,
    )
    parser.add_argument("--db", metavar="URL", help="database URL (else CALLGATE_DATABASE_URL)")
    parser.add_argument("--settings", metavar="PATH", help="settings TOML file")
    return parser


def desk_args(argv: Sequence[str] | None) -> argparse.Namespace | None:
    """The arguments when they only open the desk (``--db``, ``--settings``), else None.

    The desk is what agents start all day: it skips importing every command
    module to build their parsers (a tenth of its start on the benchmark).
    """
    args, rest = _global_parser(add_help=False).parse_known_args(argv)
    if rest:
        return None
    args.command = None
    return args


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = _global_parser()
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module_name = f"tui.commands.{name}_cmd"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            # Commands land one by one; a missing command module leaves the
            # others usable, but an import bug inside a present one still raises.
            if exc.name != module_name:
                raise
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; every expected failure is one line on stderr."""
    args = desk_args(argv) or build_parser().parse_args(argv)
    from tui.commands.common import CommandError, friendly_error, load

    try:
        settings = load(args)
        if args.command is None:
            from tui.commands.desk import run_desk

            return run_desk(settings)
        handler = args.handler
        result: int = handler(args, settings)
        # Flush here, not at exit, so a reader gone away is seen below.
        sys.stdout.flush()
        return result
    except BrokenPipeError:
        return _closed_pipe()
    except CommandError as exc:
        print(f"callgate: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("callgate: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        message = friendly_error(exc)
        if message is None:
            raise
        print(f"callgate: {message}", file=sys.stderr)
        return 1


def _closed_pipe() -> int:
    """The reader of stdout went away (``| head``): stop quietly, as Unix tools do."""
    # Point stdout at /dev/null so the interpreter's own flush at exit stays quiet too.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return CLOSED_PIPE_EXIT


if __name__ == "__main__":
    raise SystemExit(main())
