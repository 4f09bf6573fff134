"""The agent desk: one call at a time, from the first question to the read-back.

All state shown comes from the last ``CallView`` the database returned; every
change goes through a thread worker that posts the new view back, so typing
never waits for the database and nothing is shown that is not committed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import ContentSwitcher, DataTable, Footer, Input, Static

from tui import messages
from tui.screens.checklist_modal import ChecklistModal
from tui.screens.desk_workers import DeskWorkers
from tui.screens.end_call_modal import CallEnding, EndCallModal, likely_outcomes
from tui.screens.possession_modal import PossessionModal
from tui.screens.recovered_modal import RecoveredCallModal
from tui.screens.summary_modal import SummaryModal
from tui.widgets.call_bar import CallBar
from tui.widgets.gate_panel import GatePanel
from tui.widgets.item_form import ItemForm, field_id
from tui.widgets.item_list import ItemList
from tui.widgets.plain import notify
from tui.widgets.subscriptions import SubscriptionPanel, consequences, find_option
from verification.kinds import Item, Outcome
from verification.session import ItemStatus

if TYPE_CHECKING:
    from db.agents import AgentInfo
    from db.desk import CallView, ItemState, SubscriptionView
    from db.expedited.disputes import DisputeResult
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


class DeskScreen(DeskWorkers):
    """Item list and gate on the left; the question, or the subscriptions, on the right."""

    CSS_PATH = "desk.tcss"
    # Focus follows the call (a field, the table, or nothing), set in _redraw.
    AUTO_FOCUS = ""
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

    def __init__(self, agent: AgentInfo, recovered: CallView | None = None) -> None:
        super().__init__(agent)
        self.view = recovered
        # Actions taken before a restart are not in the view: see likely_outcomes.
        self._recovered_call = recovered.call_id if recovered is not None else None
        self._busy = False
        self._current: Item | None = None
        self._actions_taken: list[str] = []
        self._expiry_seen: datetime | None = None
        self._offer_end = False

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

    def on_mount(self) -> None:
        """Start the timer; offer the recovered call, if any."""
        self.set_interval(1, self._tick)
        # A blank country means the desk's default region, never the record's:
        # the field says which, so a foreign address is not a silent miss.
        country = self.query_one(f"#{field_id(Item.ADDRESS, 'country')}", Input)
        country.placeholder = f"blank = {self.desk.settings.default_region}"
        self._redraw()
        if self.view is not None:
            started = self.view.started_at.astimezone().strftime("%Y-%m-%d %H:%M")
            self.app.push_screen(RecoveredCallModal(self.view, started), self._recovery_chosen)

    def _recovery_chosen(self, choice: str | None) -> None:
        if choice == "abandon" and self.view is not None:
            self._busy = True
            self._end(self.view.call_id, CallEnding(Outcome.ABANDONED, "closed after restart"))

    # --- keys ---------------------------------------------------------------

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

    def action_other_item(self, step: int) -> None:
        """Ask another item that still needs an answer (PageUp/PageDown)."""
        view, current = self.view, self._current
        if view is None or current is None or not view.tenant_found:
            return
        pending = [s.item for s in view.items if s.status is not ItemStatus.MATCHED]
        if current in pending and len(pending) > 1:
            self._current = pending[(pending.index(current) + step) % len(pending)]
            form = self.query_one(ItemForm)
            form.show_item(self._current)
            form.show_result("", None)
            self.query_one(ItemList).show(view, self._current)

    def action_new_call(self) -> None:
        """Start a call; it is recorded before anything is asked."""
        if self.view is None and not self._busy:
            self._busy = True
            self._start()

    def action_end_call(self) -> None:
        """Choose the outcome and a note, then close the call."""
        view = self.view
        if view is None or self._busy:
            return
        recovered = view.call_id == self._recovered_call
        outcomes, likely = likely_outcomes(view, tuple(self._actions_taken), recovered)

        def chosen(ending: CallEnding | None) -> None:
            if ending is not None and self.view is not None:
                self._busy = True
                self._end(self.view.call_id, ending)

        self.app.push_screen(EndCallModal(outcomes, likely), chosen)

    def action_sign_out(self) -> None:
        """Back to sign-in; only between calls."""
        from tui.screens.sign_in import SignInScreen

        if self.view is None:
            self.app.switch_screen(SignInScreen())

    def action_act(self, kind: str) -> None:
        """Offer one action on the highlighted subscription: its checklist is the confirmation."""
        view = self.view
        sub = self._selected_subscription()
        option = self._selected_option(kind)
        if view is None or sub is None or option is None or not view.gate_open or self._busy:
            return

        step = sub.step_up(option.action)
        if step is not None and step.needs_factor:
            # Proof of possession first; once it serves, straight on to the checklist.
            title = f"{option.label} — {sub.product_name}"
            modal = PossessionModal(view, sub.id, option.action, title, step.missing)
            self.app.push_screen(modal, lambda new: self._factor_done(new, sub.id, kind))
            return
        self._confirm(sub, option)

    def _factor_done(self, view: CallView | None, sub_id: int, kind: str) -> None:
        """Back from the factor step: the new view, and the checklist if the action may go."""
        if view is None:
            # Backed out: a code may have been sent meanwhile, so the view is read again.
            if self.view is not None:
                self._reload(self.view.call_id)
            return
        self.view = view
        self._redraw()
        sub = next((s for s in view.subscriptions if s.id == sub_id), None)
        option = find_option(sub, kind) if sub is not None else None
        step = sub.step_up(option.action) if sub is not None and option is not None else None
        if sub is not None and option is not None and step is not None and not step.needs_factor:
            self._confirm(sub, option)

    def _confirm(self, sub: SubscriptionView, option: Option) -> None:
        """The action's one confirmation: its checklist."""

        def confirmed(points: tuple[str, ...] | None) -> None:
            if points is not None and self.view is not None:
                self._busy = True
                self._take(self.view.call_id, sub.id, option, points)

        title = f"{option.label} — {sub.product_name}"
        modal = ChecklistModal(title, option.checklist, consequences(option), option.label)
        self.app.push_screen(modal, confirmed)

    def palette_commands(self) -> Iterator[SystemCommand]:
        """Commands for the palette, only when they can run now."""
        if self.check_action("new_call", ()):
            yield SystemCommand("New call", "Start a call (n)", self.action_new_call)
        if self.check_action("end_call", ()):
            yield SystemCommand(
                "End call", "Close the call with an outcome (F4)", self.action_end_call
            )
        if self.check_action("sign_out", ()):
            yield SystemCommand("Sign out", "Back to the sign-in screen", self.action_sign_out)
        yield SystemCommand(
            "Dispute a request",
            "Stop expedited deprovisioning by its reference, with a reason (F3)",
            self.action_dispute,
        )

    def action_dispute(self) -> None:
        """Record a dispute: the reference the caller quotes and a reason."""
        from tui.screens.dispute_modal import DisputeModal

        def recorded(result: DisputeResult | None) -> None:
            if result is not None:
                notify(self, result.message, title="Disputed", timeout=10)

        self.app.push_screen(DisputeModal(self.agent), recorded)

    # --- typing -------------------------------------------------------------

    @on(Input.Submitted)
    def _submit_item(self, event: Input.Submitted) -> None:
        event.stop()
        view, item = self.view, self._current
        if view is None or item is None or self._busy:
            return
        form = self.query_one(ItemForm)
        stated = form.values(item)
        # The field Enter was pressed in, as it was then: keys that came with
        # the Enter (a burst) may already be in the field, and belong to the
        # next question. An Enter from another item's field is stale: ignored.
        submitted = {field_id(item, field): field for field in stated}.get(event.input.id or "")
        if submitted is None:
            return
        stated[submitted] = event.value
        if not any(value.strip() for value in stated.values()):
            form.show_error("Type what the caller says first.")
            return
        form.show_error("Checking…")
        self._busy = True
        self._submit(view.call_id, item, stated)

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self) -> None:
        self.query_one(SubscriptionPanel).show_detail()
        self.refresh_bindings()

    # --- results ------------------------------------------------------------

    def on_call_updated(self, message: messages.CallUpdated) -> None:
        """Show the new view; after a check, its result and the next item."""
        self._busy = False
        previous = self.view
        self.view = message.view
        if previous is None or previous.call_id != message.view.call_id:
            self._actions_taken = []
        form = self.query_one(ItemForm)
        if message.checked is not None:
            state = next(s for s in message.view.items if s.item == message.checked)
            matched = state.status is ItemStatus.MATCHED
            # A user ID lookup reveals nothing but "found".
            found = matched and message.checked is Item.USER_ID
            form.show_result(state.label, matched, "account found" if found else "")
            form.show_error("")
            if matched:
                form.clear(message.checked)
        elif previous is None:
            form.show_result("", None)
        self._redraw(checked=message.checked)
        if self._offer_end:
            self._offer_end = False
            self.action_end_call()

    def on_action_taken(self, message: messages.ActionTaken) -> None:
        """Record what was done for the likely outcome, and say so."""
        self._actions_taken.append(message.action)
        made = message.view.requests_made
        said = f" {made[-1].line}." if made else ""
        notify(self, f"Done: {message.label}.{said}", title="Recorded", timeout=10)
        # The end of the call is offered at once, what happened preselected;
        # Esc goes back to the call for another subscription.
        self._offer_end = True
        self.post_message(messages.CallUpdated(message.view))

    def on_item_rejected(self, message: messages.ItemRejected) -> None:
        """An input error: shown under the fields, not counted."""
        self._busy = False
        self.query_one(ItemForm).show_error(f"⚠ {message.detail} (not counted)")

    def on_action_refused(self, message: messages.ActionRefused) -> None:
        """The database said no: tell the agent why."""
        self._busy = False
        notify(self, message.detail, title="Not done", severity="warning", timeout=8)

    def on_database_failed(self, message: messages.DatabaseFailed) -> None:
        """Allow a retry (the app shows the notice)."""
        self._busy = False
        if self._current is not None:
            self.query_one(ItemForm).show_error("Not checked: the database is unavailable.")

    def on_call_ended(self, message: messages.CallEnded) -> None:
        """Show the read-back lines, then go back to idle."""
        self._busy = False
        self.view = None
        self._current = None
        self._actions_taken = []
        self.query_one(ItemForm).reset()
        self._redraw()
        self.app.push_screen(SummaryModal(message.summary), self._summary_closed)

    def _summary_closed(self, next_call: bool | None) -> None:
        if next_call:
            self.action_new_call()

    # --- drawing ------------------------------------------------------------

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
        self.query_one(ItemList).show(view, current)
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
