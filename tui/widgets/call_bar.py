"""The desk's top line: who is signed in, the call and its timer."""

from __future__ import annotations

from datetime import datetime

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from tui.widgets.plain import plain


def elapsed(started_at: datetime, now: datetime) -> str:
    """``mm:ss`` (or ``h:mm:ss``) since ``started_at``; never negative."""
    seconds = max(0, int((now - started_at).total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{minutes:02d}:{seconds:02d}"


class CallBar(Horizontal):
    """Agent and role on the left; the call number and its timer on the right."""

    DEFAULT_CSS = """
    CallBar { height: 1; background: $panel; }
    CallBar #who { width: 1fr; padding: 0 1; }
    CallBar #timer { width: auto; padding: 0 1; text-style: bold; }
    """

    def __init__(self, agent: str, role: str) -> None:
        super().__init__()
        self._who = f"{agent} · {role}"

    def compose(self) -> ComposeResult:
        yield Static(plain(self._who), id="who")
        yield Static("no call", id="timer")

    def show(self, call_id: int | None, started_at: datetime | None, now: datetime) -> None:
        """Redraw the timer for ``now``."""
        timer = self.query_one("#timer", Static)
        if call_id is None or started_at is None:
            timer.update("no call")
        else:
            timer.update(plain(f"Call #{call_id}  {elapsed(started_at, now)}"))
