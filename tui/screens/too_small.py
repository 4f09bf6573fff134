"""Below 80×24 the desk says so instead of cutting things off (PRODUCT.md section 6)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Center, Middle
from textual.screen import ModalScreen
from textual.widgets import Static

MIN_WIDTH, MIN_HEIGHT = 80, 24


def too_small(width: int, height: int) -> bool:
    """Whether a terminal of this size cuts the desk off."""
    return width < MIN_WIDTH or height < MIN_HEIGHT


class TooSmallScreen(ModalScreen[None]):
    """Covers everything until the terminal is big enough again; nothing below is lost."""

    DEFAULT_CSS = """
    TooSmallScreen { background: $background; }
    TooSmallScreen #too-small { width: auto; max-width: 100%; padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        with Middle(), Center():
            yield Static("", id="too-small")

    def on_mount(self) -> None:
        """Say the size now."""
        self.show_size(self.app.size.width, self.app.size.height)

    def show_size(self, width: int, height: int) -> None:
        """The message for the current size."""
        self.query_one("#too-small", Static).update(
            f"The terminal is too small ({width}×{height}).\n"
            f"The desk needs at least {MIN_WIDTH}×{MIN_HEIGHT}: "
            "make the window larger.\n\nNothing is lost: the desk comes back as it was."
        )
