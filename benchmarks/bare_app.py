"""The baseline for desk start: a bare Textual app showing the sign-in widgets.

It composes what ``tui.screens.sign_in.SignInScreen`` composes, with the same
styles and keys, imports nothing from callgate, and quits at the same moment
the desk does under ``CALLGATE_EXIT_ON_READY``: after the first refresh of
the pushed screen. ``python -m benchmarks.bare_app``.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, Static

TUI = Path(__file__).resolve().parent.parent / "tui"


class SignInScreen(Screen[None]):
    """The sign-in screen's widgets and nothing else."""

    CSS_PATH = TUI / "screens" / "sign_in.tcss"
    AUTO_FOCUS = "#username"

    def compose(self) -> ComposeResult:
        with Vertical(id="sign-in"):
            yield Static("callgate — sign in", id="sign-in-title")
            yield Label("Username")
            yield Input(id="username", compact=True)
            yield Label("Passphrase")
            yield Input(id="passphrase", password=True, compact=True)
            yield Static("", id="sign-in-message")
            yield Static("Enter signs in · F1 help", id="sign-in-hint")
        yield Footer()


class BareApp(App[int]):
    """Pushes the screen, quits after its first refresh."""

    CSS_PATH = TUI / "app.tcss"
    TITLE = "callgate"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", "Help"),
        Binding("question_mark", "help", "Help", show=False),
    ]

    def on_mount(self) -> None:
        """Show the screen; quit once it is painted."""
        self.push_screen(SignInScreen())
        self.call_after_refresh(self.exit)


if __name__ == "__main__":
    BareApp().run()
