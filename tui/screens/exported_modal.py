"""What an export wrote, kept on screen until the supervisor closes it.

The files' paths and the audit chain head are what the supervisor must copy
(the head goes next to the files, outside the database): a toast that fades
would take them away before anyone could.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from tui.widgets.plain import plain


class ExportedModal(ModalScreen[None]):
    """The export's files and chain head; Enter or Esc closes it."""

    CSS_PATH = "exported_modal.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter,escape", "dismiss", "Close")]

    def __init__(self, title: str, lines: tuple[str, ...]) -> None:
        super().__init__()
        self._title = title
        self._lines = lines

    def compose(self) -> ComposeResult:
        with Vertical(id="exported"):
            yield Static(plain(self._title), classes="title")
            # Paths and the hash are long: they wrap, whole, rather than being cut.
            yield Static(plain(*self._lines), id="exported-lines")
            yield Static("Enter or Esc: close", classes="hint")
        yield Footer()
