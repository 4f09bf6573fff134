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

if TYPE_CHECKING:
    from db.desk import CallSummary


class SummaryModal(ModalScreen[None]):
    """Read-back summary; Enter or Esc returns to the idle desk."""

    CSS_PATH = "summary_modal.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,escape", "dismiss(None)", "Done"),
    ]

    def __init__(self, summary: CallSummary) -> None:
        super().__init__()
        self._summary = summary

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="summary"):
            outcome = OUTCOME_LABELS[self._summary.outcome]
            yield Label(plain(f"Call #{self._summary.call_id} closed: {outcome}"), classes="title")
            yield Label("Read back to the caller:")
            for line in self._summary.lines:
                yield Static(plain(f"• {line}"), classes="line")
        yield Footer()
