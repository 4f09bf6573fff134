"""The desk application: wires the screens, global keys and palette commands.

The app receives its settings, a ``connect`` callable returning a sessionmaker
and a clock, so tests pass their own database and time. Nothing here imports
SQLAlchemy or ``db.desk``: the sign-in screen must appear as fast as a bare
Textual app, so the database is opened in a thread after the first paint.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, ClassVar, TypeVar, cast

from textual import events
from textual.app import SystemCommand
from textual.await_complete import AwaitComplete
from textual.binding import Binding, BindingType
from textual.message_pump import MessagePump
from textual.screen import ModalScreen, Screen

from tui import messages
from tui.hangup import CHECK_SECONDS, terminal_fd, terminal_gone
from tui.key_hold import KeyHold
from tui.screens.sign_in import SignInScreen
from verification.kinds import Role

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from db.settings import Settings
    from db.staff.agents import AgentInfo

T = TypeVar("T")
# benchmarks/desk_figures.py sets this to time a whole desk process up to its first
# interactive screen: the app then quits instead of opening the database.
EXIT_ON_READY_ENV = "CALLGATE_EXIT_ON_READY"


def _utcnow() -> datetime:
    # Same as db.types.utcnow, without importing SQLAlchemy on the startup path.
    return datetime.now(UTC)


def screenshot_dir() -> str:
    """The first writable of ~/Downloads, the working directory and the temp directory."""
    import tempfile
    from pathlib import Path

    for candidate in (Path.home() / "Downloads", Path.cwd()):
        if candidate.is_dir() and os.access(candidate, os.W_OK):
            return str(candidate)
    return tempfile.gettempdir()


class CallgateApp(KeyHold):
    """The agent desk (keys typed ahead are held and replayed in order: ``tui.key_hold``)."""

    CSS_PATH = "app.tcss"
    TITLE = "callgate"
    # A screen under another has this class: its notices hide (app.tcss).
    SUSPENDED_SCREEN_CLASS = "-suspended"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", "Help"),
        Binding("question_mark", "help", "Help", show=False),
        # Priority: over a dialog too, where it says to close that first. Out
        # of the footer during a call, whose keys fill 80 columns (F1 lists it).
        Binding("f6", "supervisor_desk", "Supervisor", priority=True),
        Binding("f6", "supervisor_desk('in_call')", show=False, priority=True),
        Binding("escape", "hide_help_panel", "Close keys", show=False),
    ]

    def __init__(
        self,
        settings: Settings,
        connect: Callable[[], sessionmaker[Session]],
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.clock = clock
        self._connect = connect
        self._factory: sessionmaker[Session] | None = None
        self._connect_lock = threading.Lock()
        # Who signed in: set by the sign-in screen, cleared whenever it shows again.
        self.signed_in: AgentInfo | None = None

    def on_mount(self) -> None:
        """Show sign-in, then open the database while the agent types."""
        self._restore_theme()
        self.push_screen(SignInScreen())
        self._fit(self.size.width, self.size.height)
        self.call_after_refresh(self._warm_up)
        terminal = None if self.is_headless else terminal_fd()
        if terminal is not None:
            self.set_interval(CHECK_SECONDS, partial(self._quit_if_hung_up, terminal))

    def _restore_theme(self) -> None:
        """The theme chosen last time (``tui.theme_state``); then remember every change."""
        from tui.theme_state import save_theme, saved_theme

        # The user's own choice first, then the operator's default from the settings.
        theme = saved_theme() or self.settings.theme
        if theme and theme in self.available_themes:
            self.theme = theme
        # Every change from here on is saved (the restored theme once more: harmless).
        self.theme_changed_signal.subscribe(self, lambda chosen: save_theme(chosen.name))

    def _quit_if_hung_up(self, terminal: int) -> None:
        if terminal_gone(terminal):  # see tui.hangup
            self.exit()

    def on_resize(self, event: events.Resize) -> None:
        """Below 80×24, cover the desk with a notice; take it away once big enough."""
        self._fit(event.size.width, event.size.height)

    def _fit(self, width: int, height: int) -> None:
        from tui.screens.too_small import TooSmallScreen, too_small

        showing = isinstance(self.screen, TooSmallScreen)
        if too_small(width, height):
            if showing:
                cast("TooSmallScreen", self.screen).show_size(width, height)
            else:
                self.push_screen(TooSmallScreen())
        elif showing:
            self.pop_screen()

    def _warm_up(self) -> None:
        if os.environ.get(EXIT_ON_READY_ENV):
            self.exit()
            return
        self.run_worker(self._check_database, thread=True, group="db")

    def _check_database(self) -> None:
        # Connecting (and upgrading SQLite) while the agent types the sign-in;
        # trouble is reported the usual way, by db_call.
        self.db_call(self, "opening the database", lambda _factory: True)

    def factory(self) -> sessionmaker[Session]:
        """The sessionmaker, connecting on first use. Call from worker threads only."""
        with self._connect_lock:
            if self._factory is None:
                self._factory = self._connect()
            return self._factory

    def db_call(self, poster: MessagePump, doing: str, fn: Callable[..., T]) -> T | None:
        """Run ``fn(factory)`` in the current worker thread.

        Database trouble an agent can retry (down, locked) is posted to
        ``poster`` as ``DatabaseFailed`` and gives None; an outdated schema
        or an unusable URL ends the desk with its message; anything else is a
        bug and propagates.
        """
        from db.engine import DatabaseURLError
        from db.migrate import SchemaError
        from tui.commands.common import friendly_error

        try:
            return fn(self.factory())
        except (SchemaError, DatabaseURLError) as exc:
            self.post_message(messages.DatabaseUnusable(str(exc)))
        except Exception as exc:
            detail = friendly_error(exc)
            if detail is None:
                raise
            # The app tells the agent; the poster gives its form back for a retry.
            self.post_message(messages.DatabaseFailed(doing, detail))
            if poster is not self:
                poster.post_message(messages.DatabaseFailed(doing, detail))
        return None

    def on_database_failed(self, message: messages.DatabaseFailed) -> None:
        """Tell the agent, keep everything typed; the same key retries."""
        from tui.commands.common import BUSY_MESSAGE
        from tui.widgets.plain import notify

        busy = message.detail == BUSY_MESSAGE
        notify(
            self,
            f"{BUSY_MESSAGE}."
            if busy
            else f"Database unavailable while {message.doing}: {message.detail}",
            "What you typed is kept." if busy else "What you typed is kept; try again.",
            title="Database",
            severity="error",
            timeout=10,
        )

    def on_database_unusable(self, message: messages.DatabaseUnusable) -> None:
        """Refuse to run (old schema, bad URL): the operator must fix it first."""
        self.exit(return_code=2, message=f"callgate: {message.detail}")

    def action_help(self) -> None:
        """Show the keys and the flow of a call."""
        from tui.screens.help_modal import SUPERVISOR_HELP, HelpModal
        from tui.screens.supervisor_base import SupervisorScreen

        if not isinstance(self.screen, HelpModal):
            supervising = any(isinstance(s, SupervisorScreen) for s in self.screen_stack)
            self.push_screen(HelpModal(SUPERVISOR_HELP) if supervising else HelpModal())

    async def action_quit(self) -> None:
        """Quit; with a call open, ask first (the call stays open and comes back)."""
        from tui.screens.confirm_modal import ConfirmModal

        call_id = self._open_call()
        if call_id is None or isinstance(self.screen, ConfirmModal):
            self.exit()
            return

        def decided(yes: bool | None) -> None:
            if yes:
                self.exit()

        lines = (
            f"Call #{call_id} is still open: it is not ended by quitting.",
            "It comes back, as it was, when you sign in again.",
        )
        self.push_screen(ConfirmModal("Quit the desk mid-call?", lines), decided)

    def _open_call(self) -> int | None:
        """The call open on the agent desk, if any."""
        from tui.screens.desk import DeskScreen

        return next(
            (
                s.view.call_id
                for s in self.screen_stack
                if isinstance(s, DeskScreen) and s.view is not None
            ),
            None,
        )

    def pop_screen(self) -> AwaitComplete:
        """Leave a screen and the notices shown over it: a toast never outlives its screen.

        Cleared before the pop, so what a dialog's callback says once it closes stays.
        """
        self.clear_notifications()
        return super().pop_screen()

    def deliver_screenshot(
        self,
        filename: str | None = None,
        path: str | None = None,
        time_format: str | None = None,
    ) -> str | None:
        """Save the screen as SVG in a directory that can be written; the notice says where.

        Textual's default, the Downloads folder, often does not exist on a
        desk machine or a server; then the working directory, else the
        system's temporary directory.
        """
        return super().deliver_screenshot(filename, path or screenshot_dir(), time_format)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The supervisor desk exists only for supervisors (and is not opened twice)."""
        if action == "hide_help_panel":
            return bool(self.screen.query("HelpPanel"))
        if action == "supervisor_desk":
            from tui.screens.supervisor_base import SupervisorScreen

            agent = self.signed_in
            is_supervisor = agent is not None and agent.role is Role.SUPERVISOR
            opened = any(isinstance(s, SupervisorScreen) for s in self.screen_stack)
            # One of the two F6 bindings is active: the footer's between calls.
            in_call = parameters == ("in_call",)
            return is_supervisor and not opened and in_call == (self._open_call() is not None)
        return True

    def action_supervisor_desk(self, _when: str = "") -> None:
        """Open the supervisor desk; refused for anyone else, however it is invoked.

        ``_when`` tells the footer's binding from the one of a call (``check_action``).
        """
        from tui.screens.supervisor_queue import SupervisorQueueScreen

        agent = self.signed_in
        if agent is None or agent.role is not Role.SUPERVISOR:
            self.notify("Only a supervisor can open the supervisor desk.", severity="error")
            return
        if isinstance(self.screen, ModalScreen):
            self.notify(
                "Close this dialog first (Enter or Esc); then F6 opens the supervisor desk.",
                title="Supervisor desk",
                severity="warning",
            )
            return
        self.push_screen(SupervisorQueueScreen(agent))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Palette commands: the screen's own (new call, end call, sign out) and help."""
        for command in super().get_system_commands(screen):
            # Textual's Keys panel calls PgUp/PgDn page keys where the desk
            # changes items with them, and squeezes an 80-column desk to 50:
            # F1's help lists the desk's own keys instead.
            if command.title != "Keys":
                yield command
        yield SystemCommand("Help", "Keys and the flow of a call", self.action_help)
        if self.check_action("supervisor_desk", ()) or self.check_action(
            "supervisor_desk", ("in_call",)
        ):
            yield SystemCommand(
                "Supervisor desk", "Queue, all requests, numbers (F6)", self.action_supervisor_desk
            )
        commands = getattr(screen, "palette_commands", None)
        if commands is not None:
            yield from commands()
