"""After a crash: the agent's open call is back; resume it or close it as abandoned."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Static

from tui.widgets.plain import plain
from verification.session import ItemStatus

if TYPE_CHECKING:
    from db.desk import CallView

RecoveryChoice = Literal["resume", "abandon"]


class RecoveredCallModal(ModalScreen[RecoveryChoice]):
    """Enter resumes the call where it was; a closes it as abandoned."""

    CSS_PATH = "recovered_modal.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,escape", "dismiss('resume')", "Resume the call"),
        Binding("a", "dismiss('abandon')", "Close as abandoned"),
    ]

    def __init__(self, view: CallView, started_local: str) -> None:
        super().__init__()
        self._view = view
        self._started = started_local

    def compose(self) -> ComposeResult:
        entered = sum(1 for state in self._view.items if state.status is not ItemStatus.NOT_ASKED)
        with Vertical(id="recovered"):
            yield Label("Your call was interrupted", classes="title")
            yield Static(
                plain(f"Call #{self._view.call_id}, started {self._started}, is still open.")
            )
            yield Static(plain(f"Items already checked: {entered}"))
            yield Static("Enter: resume it where it was · a: close it as abandoned", classes="hint")
        yield Footer()
