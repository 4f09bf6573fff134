"""The one confirmation of an action: its checklist, its consequences and dates.

The agent reads each point to the caller; once the caller agreed to all of
them, one Enter confirms the action (PRODUCT.md section 6, "one
confirmation per action"): there is no second dialog after this one, and
no key per point. Keys typed while it opens are held and reach it
(``tui.key_hold``).
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Static

from tui.widgets.plain import plain


class ChecklistModal(ModalScreen[tuple[str, ...] | None]):
    """Read every point out, then Enter confirms them all; gives the confirmed points."""

    CSS_PATH = "checklist_modal.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Back"),
        Binding("enter", "proceed", "Confirm all", priority=True),
        Binding("ctrl+s", "proceed", "Confirm", show=False, priority=True),
        Binding("space", "no_ticks", show=False, priority=True),
        Binding("down", "scroll(1)", "Scroll", show=False),
        Binding("up", "scroll(-1)", "Scroll", show=False),
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
                yield Label("Read each point out; the caller must agree to every one:")
                with VerticalScroll(id="points"):
                    for number, point in enumerate(self._points, 1):
                        yield Static(plain(f"{number}. {point}"), classes="point")
            for line in self._consequences:
                kind = "warning" if line.startswith("⚠") else "consequence"
                yield Static(plain(line), classes=kind)
            yield Static("", id="left")
            agreed = "The caller agreed to every point: " if self._points else ""
            yield Static(plain(f"{agreed}Enter — {self._button} · Esc — back"), id="proceed")
        yield Footer()

    def on_mount(self) -> None:
        """Keys typed while this opened come in now."""
        release = getattr(self.app, "release_keys", None)
        if release is not None:
            release()

    def action_scroll(self, step: int) -> None:
        """Move through a long checklist."""
        points = self.query("#points")
        if points:
            points.first(VerticalScroll).scroll_relative(y=step, animate=False)

    def action_no_ticks(self) -> None:
        """Space ticked points once; now it says what confirms."""
        self.query_one("#left", Static).update(
            "No ticking: Enter confirms every point once the caller agreed to them."
        )

    def action_proceed(self) -> None:
        """Give back the confirmed points: all of them, read out and agreed."""
        self.dismiss(tuple(self._points))
