"""What every supervisor screen shares: the signed-in supervisor and refusals.

Database calls run in thread workers through ``CallgateApp.db_call``; a
refusal from ``db.review`` (not a supervisor, own call, changed request…)
comes back as a ``Refused`` message and is shown, never raised on the loop.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar, TypeVar

from textual.binding import Binding, BindingType
from textual.message import Message

from tui.screens.agent_screen import AgentScreen
from tui.widgets.plain import notify

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker


T = TypeVar("T")


class Refused(Message):
    """``db.review`` refused a supervisor action; ``detail`` says why."""

    def __init__(self, detail: str) -> None:
        super().__init__()
        self.detail = detail


class Done(Message):
    """A supervisor action was recorded; ``text`` says what it did."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


def local_time(moment: datetime | None) -> str:
    """A stored UTC time as the supervisor's local date and time."""
    return f"{moment.astimezone():%Y-%m-%d %H:%M}" if moment is not None else "—"


class SupervisorScreen(AgentScreen):
    """A screen of the supervisor desk, for ``agent`` (a supervisor)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # The call desk's sign-out key, pressed here, says where it works.
        Binding("ctrl+o", "sign_out_elsewhere", show=False),
    ]

    def action_sign_out_elsewhere(self) -> None:
        """Ctrl+O signs out on the call desk only: say how to get there."""
        self.notify(
            "Sign out from the call desk: Esc back to it, then Ctrl+O.",
            title="Sign out",
            severity="warning",
        )

    def review_call(self, doing: str, fn: Callable[[sessionmaker[Session]], T]) -> T | None:
        """Run ``fn(factory)`` in this worker thread; refusals become ``Refused``."""
        from db.review import ReviewRefused

        def guarded(factory: sessionmaker[Session]) -> T | None:
            try:
                return fn(factory)
            except ReviewRefused as exc:
                self.post_message(Refused(exc.message))
            except LookupError as exc:
                self.post_message(Refused(str(exc)))
            return None

        return self.desk.db_call(self, doing, guarded)

    def on_done(self, message: Done) -> None:
        """Confirm what was recorded."""
        notify(self, *message.text.splitlines(), title="Recorded")

    def on_refused(self, message: Refused) -> None:
        """Say why the database said no."""
        notify(self, message.detail, title="Not done", severity="warning", timeout=8)
