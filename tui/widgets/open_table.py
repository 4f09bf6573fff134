"""A table of rows to open: a double click opens the row it lands on, as Enter does."""

from __future__ import annotations

from textual import events
from textual.message import Message
from textual.widgets import DataTable


class OpenTable(DataTable[object]):
    """A row-cursor DataTable posting ``Opened`` on a double click.

    One click only moves the cursor (DataTable's own handling, which stops
    the click there, so the screen never hears it): the second click of a
    double click is the one that opens.
    """

    class Opened(Message):
        """The row under the cursor was double-clicked."""

    def on_click(self, event: events.Click) -> None:
        """The second click of a chain opens the row the first one moved the cursor to."""
        if event.chain >= 2 and self.row_count:
            self.post_message(self.Opened())
