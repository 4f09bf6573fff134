"""A short list of calls to open one of: the calls that locked a tenant."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, OptionList, Static
from textual.widgets.option_list import Option

from tui.widgets.plain import plain


class CallsModal(ModalScreen[int | None]):
    """Returns the call id chosen with Enter, or None when Esc goes back."""

    CSS_PATH = "calls_modal.tcss"
    AUTO_FOCUS = "#calls"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "Back")]

    def __init__(self, title: str, calls: tuple[tuple[int, str], ...], hint: str) -> None:
        """``calls``: each call's id and the line that shows it."""
        super().__init__()
        self._title = title
        self._calls = calls
        self._hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(id="calls-box"):
            yield Label(plain(self._title), classes="title")
            yield OptionList(
                *(Option(plain(line), id=str(call_id)) for call_id, line in self._calls),
                id="calls",
                compact=True,
            )
            yield Static(plain(self._hint), classes="hint")
        yield Footer()

    @on(OptionList.OptionSelected, "#calls")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.dismiss(int(event.option.id))
