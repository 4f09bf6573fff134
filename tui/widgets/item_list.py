"""The identity items in order with their status, and the misses left.

A click on an item asks it next, as PageUp/PageDown would reach it (the
desk's ``other_item`` action decides, so its rules hold for the mouse too);
a click on an item that cannot be asked says why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import events
from textual.widgets import Static

from tui.widgets.plain import notify
from verification.session import ItemStatus

if TYPE_CHECKING:
    from db.desk import CallView
    from verification.kinds import Item

STATUS_MARK = {ItemStatus.MATCHED: "✓", ItemStatus.MISSED: "✗", ItemStatus.NOT_ASKED: "·"}
STATUS_STYLE = {ItemStatus.MATCHED: "green", ItemStatus.MISSED: "red", ItemStatus.NOT_ASKED: "dim"}


class ItemList(Static):
    """Each row: a mark (✓ match, ✗ miss, · not asked) and the item's label."""

    _view: CallView | None = None
    _current: Item | None = None

    def show(
        self, view: CallView | None, current: Item | None, refused_locked: bool = False
    ) -> None:
        """Redraw for ``view``; ``current`` is the item being asked.

        ``refused_locked``: the database refused an answer because a lock holds
        (``db.desk.guessing.LockedRefusal``): the call's misses no longer matter.
        """
        self._view, self._current = view, current
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
        elif refused_locked:
            text.append("Locked: transfer to a supervisor", style="red")
        elif view.locked:
            text.append("Call locked: no misses left", style="red")
        else:
            misses_style = "red" if view.misses_left <= 1 else ""
            text.append(f"Misses left: {view.misses_left}", style=misses_style)
            if view.misses_left == 0:
                text.append("\n⚠ Next miss locks call", style="bold red")
        self.update(text)

    async def _on_click(self, event: events.Click) -> None:
        """Ask the clicked item next; say why when it cannot be asked."""
        offset = event.get_content_offset(self)
        view, current = self._view, self._current
        # Line 0 is the heading; the items follow one a line.
        if offset is None or view is None or not 1 <= offset.y <= len(view.items):
            return
        state = view.items[offset.y - 1]
        if state.item == current:
            return
        if state.status is ItemStatus.MATCHED:
            notify(self, f"{state.label} already matched: nothing to ask.", severity="warning")
            return
        pending = [s.item for s in view.items if s.status is not ItemStatus.MATCHED]
        if not view.tenant_found or current not in pending:
            notify(self, "Ask the user ID first: it names the account.", severity="warning")
            return
        step = pending.index(state.item) - pending.index(current)
        await self.screen.run_action(f"other_item({step})")
