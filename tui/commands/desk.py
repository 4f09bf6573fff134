"""``callgate`` with no command: the agent desk."""

from __future__ import annotations

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
    """Run the desk until the agent quits; the exit code of the app."""
    from tui.app import CallgateApp

    app = CallgateApp(settings, lambda: connector(settings))
    app.run()
    return app.return_code or 0
