"""The identity items in order with their status, and the misses left."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

from verification.session import ItemStatus

if TYPE_CHECKING:
    from db.desk import CallView
    from verification.kinds import Item

STATUS_MARK = {ItemStatus.MATCHED: "✓", ItemStatus.MISSED: "✗", ItemStatus.NOT_ASKED: "·"}
STATUS_STYLE = {ItemStatus.MATCHED: "green", ItemStatus.MISSED: "red", ItemStatus.NOT_ASKED: "dim"}


class ItemList(Static):
    """Each row: a mark (✓ match, ✗ miss, · not asked) and the item's label."""

    def show(self, view: CallView | None, current: Item | None) -> None:
        """Redraw for ``view``; ``current`` is the item being asked."""
        text = Text()
        text.append("Identity\n", style="bold")
        if view is None:
            text.append("no call", style="dim")
            self.update(text)
            return
        for state in view.items:
            pointer = "▸" if state.item == current else " "
            text.append(f"{pointer}{STATUS_MARK[state.status]} ", style=STATUS_STYLE[state.status])
            text.append(f"{state.label}\n", style="bold" if state.item == current else "")
        if view.tenant_found and view.tenant_locked:
            # The organization's lock, not this call's misses, is what stops it.
            text.append("Organization locked", style="red")
        elif view.locked:
            text.append("Call locked: no misses left", style="red")
        else:
            misses_style = "red" if view.misses_left <= 1 else ""
            text.append(f"Misses left: {view.misses_left}", style=misses_style)
            if view.misses_left == 0:
                text.append("\n⚠ Next miss locks call", style="bold red")
        self.update(text)
