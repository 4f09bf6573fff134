"""The agent desk's keys: which ones work now, which are dimmed, and why a dimmed key does nothing.

F-keys stay visible while the agent types; a dimmed or hidden key is never
silent: ``blocked_reason`` says why it does nothing now.
"""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType

from tui.screens.desk_view import DeskView
from tui.widgets.plain import notify


class DeskKeys(DeskView):
    """The desk's bindings and the checks that show, dim or hide them."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "new_call", "New call"),
        Binding("f4", "end_call", "End call"),
        # F-keys stay visible (dimmed) while the agent types in a field; the
        # letters are the same actions for when the subscription table has focus.
        # F6 is the app's supervisor desk key.
        Binding("f7", "act('cancel_now')", "Cancel now"),
        Binding("f8", "act('auto_renew_off')", "Renew off"),
        Binding("f9", "act('expedited')", "Expedite"),
        Binding("c", "act('cancel_now')", "Cancel now", show=False),
        Binding("r", "act('auto_renew_off')", "Renew off", show=False),
        Binding("x", "act('expedited')", "Expedite", show=False),
        Binding("ctrl+o", "sign_out", "Sign out"),
        # Any time, in a call or between calls: a dispute only ever keeps data.
        Binding("f3", "dispute", "Dispute", show=False),
        Binding("pageup", "other_item(-1)", "Previous item", show=False),
        Binding("pagedown", "other_item(1)", "Next item", show=False),
        # Reached only when the binding above for the same key is dimmed or
        # hidden (Textual tries the next one): the key then says why.
        Binding("ctrl+o", "why('sign_out')", show=False),
        Binding("f7,c", "why('cancel_now')", show=False),
        Binding("f8,r", "why('auto_renew_off')", show=False),
        Binding("f9,x", "why('expedited')", show=False),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide what makes no sense now; dim the cancel actions while the gate is closed."""
        view = self.view
        if action == "new_call":
            return view is None
        if action == "sign_out":
            return view is None
        if action == "end_call":
            return view is not None
        if action == "act":
            if view is None or view.locked or view.tenant_locked:
                return False
            if not view.gate_open:
                return None
            return True if self._selected_option(str(parameters[0])) else None
        if action == "why":
            return self.blocked_reason(str(parameters[0])) is not None
        return True

    def blocked_reason(self, action: str) -> str | None:
        """Why a dimmed or hidden desk key does nothing now (None: it is not blocked)."""
        view = self.view
        if action == "sign_out":
            return "End the call first (F4): sign out is only between calls." if view else None
        if self.check_action("act", (action,)):
            return None
        if view is None:
            return "No call: press n when the phone rings."
        if view.locked or view.tenant_locked:
            return "Nothing can be changed on this call: end it (F4)."
        if not view.gate_open:
            reasons = "; ".join(view.gate_reasons) or "the caller is not verified yet"
            return f"The gate is closed: {reasons}."
        sub = self._selected_subscription()
        if sub is None:
            return "Highlight a subscription first."
        return f"Not offered for {sub.product_name}: {sub.decision.message}"

    def action_why(self, action: str) -> None:
        """Say why the key just pressed does nothing now."""
        reason = self.blocked_reason(action)
        if reason is not None:
            notify(self, reason, title="Not now", severity="warning")
