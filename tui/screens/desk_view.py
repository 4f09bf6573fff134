"""What the agent desk shows: its layout, the item asked next, and the texts that stop a call.

``next_item`` is the one home of the order items are asked in. ``DeskView``
holds the call as the database last returned it (``view``) and draws every
panel from it; nothing is drawn that is not in that view.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import ContentSwitcher, Footer, Static

from tui.screens.desk_workers import DeskWorkers
from tui.widgets.call_bar import CallBar
from tui.widgets.gate_panel import GatePanel
from tui.widgets.item_form import ItemForm
from tui.widgets.item_list import ItemList
from tui.widgets.subscriptions import SubscriptionPanel, find_option
from verification.kinds import Item
from verification.session import ItemStatus

if TYPE_CHECKING:
    from db.desk import CallView, ItemState, SubscriptionView
    from db.staff.agents import AgentInfo
    from verification.policy import Option

IDLE_TEXT = "No call.\n\nPress n when the phone rings: the call is recorded at once."
LOCKED_TEXT = (
    "Verification failed: the call is locked.\n\n"
    "Say: “I'm sorry, I can't verify your identity, so I can't change this "
    "account today.”\n\nPress F4 to end the call."
)
TENANT_LOCKED_TEXT = (
    "This organization is locked for phone cancellation after repeated failed "
    "verifications.\n\nTransfer the caller to a supervisor, then press F4 "
    "(outcome: escalated)."
)
NOT_ADMIN_TEXT = (
    "The caller is verified but is not an admin of this subscription.\n\n"
    "Say: “Only an admin of the subscription can cancel it; please ask your "
    "admin to call us.”\n\nPress F4 to end the call."
)


def next_item(
    items: tuple[ItemState, ...], current: Item | None, checked: Item | None, tenant_found: bool
) -> Item | None:
    """The item to ask next: after a check, the next one not asked yet.

    Items are asked in order; once every item was asked, the missed ones come
    round again. After a miss the desk stays on the missed item, so the
    caller's second try lands in its field (PageDown moves on). Without a
    check (a new or reloaded call) the agent stays on the item they were on,
    if it still needs an answer. Until a user ID finds the account nothing
    else can be checked, so the user ID is asked again.
    """
    order = [state.item for state in items]
    status = {state.item: state.status for state in items}
    if not tenant_found and Item.USER_ID in status:
        return Item.USER_ID
    if checked is not None and status.get(checked) is ItemStatus.MISSED:
        return checked
    if (
        checked is None
        and current is not None
        and status.get(current, ItemStatus.MATCHED) is not ItemStatus.MATCHED
    ):
        return current
    start = order.index(checked) + 1 if checked in status else 0
    rotated = order[start:] + order[:start]
    unasked = (item for item in rotated if status[item] is ItemStatus.NOT_ASKED)
    missed = (item for item in rotated if status[item] is ItemStatus.MISSED)
    return next(unasked, None) or next(missed, None)


class DeskView(DeskWorkers):
    """The desk's panels and the call state they are drawn from."""

    def __init__(self, agent: AgentInfo, recovered: CallView | None = None) -> None:
        super().__init__(agent)
        self.view = recovered
        self._busy = False
        self._current: Item | None = None
        self._expiry_seen: datetime | None = None
        # The database refused an answer because a lock holds: only a transfer is left.
        self._refused_locked = False

    def compose(self) -> ComposeResult:
        yield CallBar(self.agent.display_name, self.agent.role.value)
        with Horizontal(id="body"):
            with Vertical(id="side"):
                yield ItemList(id="items")
                yield GatePanel(id="gate")
            with ContentSwitcher(initial="idle", id="main"):
                yield Static(IDLE_TEXT, id="idle")
                yield ItemForm(id="verify")
                yield SubscriptionPanel(id="subs")
                yield Static("", id="stop")
        yield Footer(compact=True)

    def _tick(self) -> None:
        view = self.view
        now = self.desk.clock()
        self.query_one(CallBar).show(
            view.call_id if view else None, view.started_at if view else None, now
        )
        if (
            view is not None
            and view.expires_at is not None
            and now >= view.expires_at
            and self._expiry_seen != view.expires_at
            and not self._busy
        ):
            self._expiry_seen = view.expires_at
            self.notify("Verification expired: ask the items again.", severity="warning")
            self._reload(view.call_id)

    def _redraw(self, checked: Item | None = None) -> None:
        view = self.view
        self._tick()
        switcher = self.query_one("#main", ContentSwitcher)
        current = None
        gate_open = False
        if view is None:
            switcher.current = "idle"
            self.set_focus(None)
        elif view.locked:
            self._stop(LOCKED_TEXT)
        elif view.tenant_found and view.tenant_locked:
            self._stop(TENANT_LOCKED_TEXT)
        elif view.gate_open:
            gate_open = True
            switcher.current = "subs"
            note = view.possession.no_sender if view.possession is not None else ""
            self.query_one(SubscriptionPanel).show(view.subscriptions, note)
        elif view.caller_is_admin is False and all(
            s.status is ItemStatus.MATCHED for s in view.items
        ):
            self._stop(NOT_ADMIN_TEXT)
        else:
            current = next_item(view.items, self._current, checked, view.tenant_found)
            switcher.current = "verify"
            if current is not None and (current != self._current or checked is not None):
                self.query_one(ItemForm).show_item(current)
        self._current = current
        # With the gate open the item list has nothing left to say: the gate
        # becomes one line on top and the subscriptions get the whole width.
        self.set_class(gate_open, "-gate-open")
        self.set_class(view is None, "-idle")
        self.query_one(ItemList).show(view, current, self._refused_locked)
        self.query_one(GatePanel).show(view)
        self.refresh_bindings()

    def _stop(self, text: str) -> None:
        self.query_one("#stop", Static).update(text)
        self.query_one("#main", ContentSwitcher).current = "stop"
        self.set_focus(None)

    def _selected_subscription(self) -> SubscriptionView | None:
        if self.view is None or not self.view.gate_open:
            return None
        return self.query_one(SubscriptionPanel).selected()

    def _selected_option(self, kind: str) -> Option | None:
        sub = self._selected_subscription()
        return find_option(sub, kind) if sub is not None else None
