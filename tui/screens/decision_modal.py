"""A supervisor decision: what it does, a reason typed, Enter to confirm."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, Static

from tui.widgets.plain import PlainInput, plain


class DecisionModal(ModalScreen[str | None]):
    """Returns the typed reason (or note), or None when Esc goes back.

    An empty reason is not accepted: every decision says why.
    """

    CSS_PATH = "decision_modal.tcss"
    AUTO_FOCUS = "#reason"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "Back")]

    def __init__(self, title: str, lines: tuple[str, ...], prompt: str = "Reason") -> None:
        super().__init__()
        self._title = title
        self._lines = lines
        self._prompt = prompt

    def compose(self) -> ComposeResult:
        with Vertical(id="decision"):
            yield Label(plain(self._title), classes="title")
            for line in self._lines:
                yield Static(plain(f"• {line}"), classes="line")
            yield Label(self._prompt)
            yield PlainInput(id="reason", compact=True)
            yield Static("Enter: confirm · Esc: back", id="decision-hint", classes="hint")
        yield Footer()

    @on(Input.Submitted, "#reason")
    def _confirm(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text:
            self.query_one("#decision-hint", Static).update(
                f"{self._prompt} first (Enter: confirm · Esc: back)"
            )
            return
        self.dismiss(text)
