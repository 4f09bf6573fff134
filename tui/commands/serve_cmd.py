"""``callgate serve``: the desk in a browser, one desk process per tab (tui/web)."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from db.settings import Settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``serve`` to the command line."""
    parser = subparsers.add_parser(
        "serve",
        help="serve the desk to browsers (one desk process per tab)",
        description="Serve the desk (agent and supervisor) over HTTP and a websocket. "
        "Binds to loopback by default: put it behind a TLS reverse proxy (README) "
        "before anyone else reaches it. Limits: web_max_sessions, web_idle_minutes.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback)")
    parser.add_argument("--port", type=int, default=8000, help="port to bind (default: 8000)")
    parser.add_argument(
        "--public-url",
        metavar="URL",
        help="the URL browsers use, e.g. https://desk.example.com behind a proxy",
    )
    parser.set_defaults(handler=run_serve)


def desk_environment(args: argparse.Namespace, settings: Settings) -> dict[str, str]:
    """What each tab's desk process is given, so it resolves the same database and settings.

    Through the environment rather than the command line: a database URL may
    hold a password, and command lines are visible to every local user.
    """
    environment = {"CALLGATE_DATABASE_URL": settings.database_url}
    if args.settings:
        environment["CALLGATE_SETTINGS"] = str(Path(args.settings).resolve())
    return environment


def run_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Open the database once (as the desk does), then serve until Ctrl+C."""
    from db.engine import DatabaseURLError
    from db.migrate import SchemaError
    from tui.commands.common import CommandError
    from tui.commands.desk import connector
    from tui.web.origin import is_loopback
    from tui.web.server import DeskServer

    if not 0 < args.port < 65536:
        raise CommandError(f"--port must be between 1 and 65535, got {args.port}", exit_code=2)
    public = urlsplit(args.public_url) if args.public_url else None
    if public is not None and (public.scheme not in ("http", "https") or not public.netloc):
        raise CommandError(
            f"--public-url must be an http:// or https:// URL, got {args.public_url!r}",
            exit_code=2,
        )
    try:
        factory = connector(settings)
    except (SchemaError, DatabaseURLError) as exc:
        raise CommandError(str(exc), exit_code=2) from exc
    if not is_loopback(args.host):
        print(
            f"callgate serve: warning: listening on {args.host}, not loopback; the server has"
            " no TLS, so only a TLS reverse proxy should reach it (see the README)",
            file=sys.stderr,
        )
    server = DeskServer(
        # exec: the shell textual-serve starts becomes the desk, one process per tab.
        f"exec {shlex.quote(sys.executable)} -m tui.cli",
        desk_environment(args, settings),
        settings,
        factory,
        host=args.host,
        port=args.port,
        public_url=args.public_url.rstrip("/") if args.public_url else None,
    )
    try:
        server.serve()
    except OSError as exc:
        raise CommandError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from exc
    return 0
