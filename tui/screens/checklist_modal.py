"""The one confirmation of an action: its checklist, its consequences and dates.

Ticking every point is the confirmation (PRODUCT.md section 6, "one
confirmation per action"): there is no second dialog after this one.
"""

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
    """Tick every point (space), then Enter on the action; gives the confirmed points.

    Ticking a point moves to the next one, and after the last to the action
    button, so a two-point checklist is space, space, Enter. Pressing the
    button with points unticked says which are left and goes to the first.
    """

    CSS_PATH = "checklist_modal.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Back"),
        Binding("ctrl+s", "proceed", "Confirm", priority=True),
        Binding("down", "app.focus_next", "Next", show=False),
        Binding("up", "app.focus_previous", "Previous", show=False),
    ]

    def __init__(
        self,
        title: str,
        points: tuple[str, ...],
        consequences: tuple[str, ...],
        button: str = "Confirm",
    ) -> None:
        super().__init__()
        self._title = title
        self._points = points
        self._consequences = consequences
        self._button = button

    def compose(self) -> ComposeResult:
        with Vertical(id="checklist"):
            yield Static(plain(self._title), classes="title")
            if self._points:
                yield Label("Ask the caller, then tick (space):")
                with VerticalScroll(id="points"):
                    for point in self._points:
                        # The point beside the box, not as its label: labels do not wrap.
                        with Horizontal(classes="point"):
                            yield Checkbox(compact=True)
                            yield Static(plain(point), classes="point-text")
            for line in self._consequences:
                kind = "warning" if line.startswith("⚠") else "consequence"
                yield Static(plain(line), classes=kind)
            yield Static("", id="left")
            yield Button(plain(self._button), id="proceed", variant="warning")
        yield Footer()

    def on_mount(self) -> None:
        """Start on the first point, or on the button when there is none."""
        boxes = self.query(Checkbox)
        (boxes.first() if boxes else self.query_one("#proceed", Button)).focus()

    @on(Checkbox.Changed)
    def _ticked(self, event: Checkbox.Changed) -> None:
        if self._all_ticked():
            self.query_one("#left", Static).update("")
        if event.value and event.checkbox.has_focus:
            self.focus_next()

    def _unticked(self) -> list[int]:
        return [n for n, box in enumerate(self.query(Checkbox)) if not box.value]

    def _all_ticked(self) -> bool:
        return not self._unticked()

    @on(Button.Pressed, "#proceed")
    def action_proceed(self) -> None:
        """Give back the confirmed points, or say which are still to tick."""
        left = self._unticked()
        if not left:
            self.dismiss(tuple(self._points))
            return
        numbers = ", ".join(str(n + 1) for n in left)
        noun = "point" if len(left) == 1 else "points"
        self.query_one("#left", Static).update(
            f"⚠ Not done: {len(left)} {noun} still to tick ({numbers}); ask the caller first."
        )
        self.query(Checkbox)[left[0]].focus()
