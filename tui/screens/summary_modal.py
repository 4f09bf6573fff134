"""The end of a call: the lines the agent reads back to the caller."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Static

from tui.screens.end_call_modal import OUTCOME_LABELS
from tui.widgets.plain import plain
from verification.kinds import Outcome

if TYPE_CHECKING:
    from db.desk import CallSummary


class SummaryModal(ModalScreen[bool]):
    """Read-back summary; Enter or Esc returns to the idle desk, n starts the next call.

    Gives True for n, so the next ringing phone costs the same one key as
    from the idle desk: the summary never needs a key of its own.
    """

    CSS_PATH = "summary_modal.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,escape", "dismiss(False)", "Done"),
        Binding("n", "dismiss(True)", "New call"),
    ]

    def __init__(self, summary: CallSummary) -> None:
        super().__init__()
        self._summary = summary

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="summary"):
            outcome = OUTCOME_LABELS[self._summary.outcome]
            yield Label(plain(f"Call #{self._summary.call_id} closed: {outcome}"), classes="title")
            if self._summary.outcome is not Outcome.ABANDONED:
                yield Label("Read back to the caller:")
            for line in self._summary.lines:
                yield Static(plain(f"• {line}"), classes="line")
        yield Footer()
