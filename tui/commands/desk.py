"""``callgate`` with no command: the agent desk."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from db.settings import Settings


def connector(settings: Settings) -> sessionmaker[Session]:
    """Open the database for the desk: SQLite is upgraded, a server must be current.

    Runs in the desk's first worker thread, so SQLAlchemy and Alembic load off
    the path to the first screen.
    """
    from db.engine import make_engine, make_sessionmaker
    from db.migrate import prepare_for_desk

    engine = make_engine(settings.database_url)
    prepare_for_desk(engine)
    return make_sessionmaker(engine)


def run_desk(settings: Settings) -> int:
    """Run the desk until the agent quits; the exit code of the app.

    Without a terminal (``ssh host`` with no ``-t``, ``ssh -s sftp``, input
    from a pipe) the desk refuses: it would draw into the pipe, blind, and
    spin on its end-of-file after the client left. ``callgate serve`` runs
    it without one on purpose, through the driver it names in TEXTUAL_DRIVER.
    """
    from tui.commands.common import CommandError
    from tui.hangup import terminal_fd

    if terminal_fd() is None and not os.environ.get("TEXTUAL_DRIVER"):
        raise CommandError(
            "the desk needs a terminal: connect with ssh -t, or use callgate serve", exit_code=2
        )
    from tui.app import CallgateApp

    app = CallgateApp(settings, lambda: connector(settings))
    app.run()
    return app.return_code or 0
