"""The last step of an action: its consequences and dates, confirmed with a key."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from tui.widgets.plain import plain


class ConfirmModal(ModalScreen[bool]):
    """Shows what will happen; y confirms, n or Esc goes back."""

    CSS_PATH = "confirm_modal.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "dismiss(True)", "Confirm"),
        Binding("n,escape", "dismiss(False)", "Back"),
    ]

    def __init__(self, title: str, consequences: tuple[str, ...]) -> None:
        super().__init__()
        self._title = title
        self._consequences = consequences

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm"):
            yield Static(plain(self._title), classes="title")
            for line in self._consequences:
                yield Static(plain(line), classes="consequence")
            yield Static("y: confirm · n: back", classes="hint")
        yield Footer()
