"""The gate: OPEN, or CLOSED with each reason. Always visible during a call.

Once the caller is verified, the tenant's earlier calls follow in one line
(``CallView.earlier``, empty before: the blind rule).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

if TYPE_CHECKING:
    from db.desk import CallView


class GatePanel(Static):
    """Whether cancel actions are allowed, and if not, why."""

    def show(self, view: CallView | None) -> None:
        """Redraw for ``view`` (None: no call)."""
        self.remove_class("open", "closed")
        if view is None:
            self.update("")
            return
        text = Text()
        if view.gate_open:
            self.add_class("open")
            text.append("Gate OPEN", style="bold")
            text.append(" · identity verified · caller is an admin")
            if view.expires_at is not None:
                # A clock time "at", never beside the call's timer as if it were one.
                text.append(f" · verification expires at {view.expires_at.astimezone():%H:%M}")
        else:
            self.add_class("closed")
            text.append("Gate CLOSED", style="bold")
            for reason in view.gate_reasons:
                text.append(f"\n• {reason}")
        if view.earlier:
            text.append(f"\n{view.earlier}")
        self.update(text)
