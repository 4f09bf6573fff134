"""The checklist of an action: each point ticked after asking the caller."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Footer, Label, Static

from tui.widgets.plain import plain


class ChecklistModal(ModalScreen[tuple[str, ...] | None]):
    """Tick every point (space), then continue; gives the confirmed points.

    Continue stays disabled until every point is ticked, because each one is a
    question the caller must have answered. Ticking a point moves to the next
    one (and after the last, to Continue), so a checklist is space… Enter.
    """

    CSS_PATH = "checklist_modal.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Back"),
        Binding("ctrl+s", "proceed", "Continue", priority=True),
        Binding("down", "app.focus_next", "Next", show=False),
        Binding("up", "app.focus_previous", "Previous", show=False),
    ]

    def __init__(self, title: str, points: tuple[str, ...], warnings: tuple[str, ...]) -> None:
        super().__init__()
        self._title = title
        self._points = points
        self._warnings = warnings

    def compose(self) -> ComposeResult:
        with Vertical(id="checklist"):
            yield Static(plain(self._title), classes="title")
            for warning in self._warnings:
                yield Static(plain(f"⚠ {warning}"), classes="warning")
            yield Label("Ask the caller, then tick (space):")
            with VerticalScroll(id="points"):
                for point in self._points:
                    # The point beside the box, not as its label: labels do not wrap.
                    with Horizontal(classes="point"):
                        yield Checkbox(compact=True)
                        yield Static(plain(point), classes="point-text")
            yield Button("Continue", id="proceed", disabled=bool(self._points))
        yield Footer()

    def on_mount(self) -> None:
        """Start on the first point, or on Continue when there is none."""
        boxes = self.query(Checkbox)
        (boxes.first() if boxes else self.query_one("#proceed", Button)).focus()

    @on(Checkbox.Changed)
    def _update(self, event: Checkbox.Changed) -> None:
        self.query_one("#proceed", Button).disabled = not self._all_ticked()
        self.refresh_bindings()
        if event.value and event.checkbox.has_focus:
            self.focus_next()

    def _all_ticked(self) -> bool:
        return all(box.value for box in self.query(Checkbox))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Continue is dimmed until every point is ticked."""
        if action == "proceed":
            return self._all_ticked() or None
        return True

    @on(Button.Pressed, "#proceed")
    def action_proceed(self) -> None:
        """Give back the confirmed points."""
        if self._all_ticked():
            self.dismiss(tuple(self._points))
