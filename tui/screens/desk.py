"""The agent desk: one call at a time, from the first question to the read-back.

All state shown comes from the last ``CallView`` the database returned; every
change goes through a thread worker that posts the new view back, so typing
never waits for the database and nothing is shown that is not committed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from textual import on
from textual.app import SystemCommand
from textual.widgets import DataTable, Input

from tui import messages
from tui.screens.checklist_modal import ChecklistModal
from tui.screens.desk_keys import DeskKeys
from tui.screens.end_call_modal import CallEnding, EndCallModal, likely_outcomes
from tui.screens.possession_modal import PossessionModal
from tui.screens.recovered_modal import RecoveredCallModal
from tui.screens.summary_modal import SummaryModal
from tui.widgets.item_form import ItemForm, field_id
from tui.widgets.item_list import ItemList
from tui.widgets.plain import notify
from tui.widgets.subscriptions import SubscriptionPanel, consequences, find_option
from verification.kinds import Item, Outcome
from verification.session import ItemStatus

if TYPE_CHECKING:
    from db.desk import CallView, SubscriptionView
    from db.expedited.disputes import DisputeResult
    from db.staff.agents import AgentInfo
    from verification.policy import Option


class DeskScreen(DeskKeys):
    """Item list and gate on the left; the question, or the subscriptions, on the right."""

    CSS_PATH = "desk.tcss"
    # Focus follows the call (a field, the table, or nothing), set in _redraw.
    AUTO_FOCUS = ""

    def __init__(self, agent: AgentInfo, recovered: CallView | None = None) -> None:
        super().__init__(agent, recovered)
        # Actions taken before a restart are not in the view: see likely_outcomes.
        self._recovered_call = recovered.call_id if recovered is not None else None
        self._actions_taken: list[str] = []
        self._offer_end = False

    def on_mount(self) -> None:
        """Start the timer; offer the recovered call, if any."""
        self.set_interval(1, self._tick)
        # A blank country means the desk's default region, never the record's:
        # the field says which, so a foreign address is not a silent miss.
        country = self.query_one(f"#{field_id(Item.ADDRESS, 'country')}", Input)
        country.placeholder = f"blank = {self.desk.settings.default_region}"
        self.query_one(ItemForm).default_region = self.desk.settings.default_region
        self._redraw()
        # Keys typed while signing in (n, most often) are the desk's.
        self.desk.release_keys()
        if self.view is not None:
            started = self.view.started_at.astimezone().strftime("%Y-%m-%d %H:%M")
            self.app.push_screen(RecoveredCallModal(self.view, started), self._recovery_chosen)

    def _recovery_chosen(self, choice: str | None) -> None:
        if choice == "abandon" and self.view is not None:
            self._busy = True
            self._end(self.view.call_id, CallEnding(Outcome.ABANDONED, "closed after restart"))

    # --- actions ------------------------------------------------------------

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
            self.query_one(ItemList).show(view, self._current, self._refused_locked)

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
        outcomes, likely = likely_outcomes(
            view, tuple(self._actions_taken), recovered, self._refused_locked
        )

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
        """Offer one action on the highlighted subscription: its checklist is the confirmation.

        The checklist comes first; an action that needs proof of possession
        goes on to the factor step once it is confirmed (a code goes out at
        once when there is one place to send it), and is taken as soon as
        the factor serves it: no second confirmation.
        """
        view = self.view
        sub = self._selected_subscription()
        option = self._selected_option(kind)
        if view is None or sub is None or option is None or not view.gate_open or self._busy:
            return

        def confirmed(points: tuple[str, ...] | None) -> None:
            if points is not None and self.view is not None:
                self._confirmed(sub, option, kind, points)

        # Keys typed behind c/r/x (the Enter that confirms) wait for the checklist.
        self.desk.hold_keys()
        title = f"{option.label} — {sub.product_name}"
        modal = ChecklistModal(title, option.checklist, consequences(option), option.label)
        self.app.push_screen(modal, confirmed)

    def _confirmed(
        self, sub: SubscriptionView, option: Option, kind: str, points: tuple[str, ...]
    ) -> None:
        """The checklist confirmed: the factor step if the action needs one, else the action."""
        view = self.view
        assert view is not None
        step = sub.step_up(option.action)
        if step is not None and step.needs_factor:
            title = f"{option.label} — {sub.product_name}"
            modal = PossessionModal(view, sub.id, option.action, title, step.missing)
            self.app.push_screen(modal, lambda new: self._factor_done(new, sub.id, kind, points))
            return
        self._busy = True
        self._take(view.call_id, sub.id, option, points)

    def _factor_done(
        self, view: CallView | None, sub_id: int, kind: str, points: tuple[str, ...]
    ) -> None:
        """Back from the factor step: the action, confirmed already, once the factor serves it."""
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
            self._busy = True
            self._take(view.call_id, sub.id, option, points)

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

    @on(ItemForm.Check)
    def _submit_item(self, event: ItemForm.Check) -> None:
        event.stop()
        view, item = self.view, self._current
        form = self.query_one(ItemForm)
        # An Enter from another item's field (the keys held behind it were
        # typed after it) is stale: ignored.
        if view is None or item is None or self._busy or event.item is not item:
            self._release_keys()
            return
        if not any(value.strip() for value in event.stated.values()):
            form.show_error("Type what the caller says first.")
            self._release_keys()
            return
        form.show_error("Checking…")
        self._busy = True
        self._submit(view.call_id, item, event.stated)

    def _release_keys(self) -> None:
        """The keys typed behind the last Enter go on to where focus is now (``tui.key_hold``)."""
        self.desk.release_keys()

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
            self._refused_locked = False
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
        else:
            self._release_keys()

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
        self._refused_locked = self._refused_locked or message.locked
        self.query_one(ItemList).show(self.view, self._current, self._refused_locked)
        form = self.query_one(ItemForm)
        form.show_error(f"⚠ {message.detail} (not counted)")
        form.focus_error(message.item, message.detail)
        self._release_keys()

    def on_action_refused(self, message: messages.ActionRefused) -> None:
        """The database said no: tell the agent why."""
        self._busy = False
        notify(self, message.detail, title="Not done", severity="warning", timeout=8)
        self._release_keys()

    def on_database_failed(self, message: messages.DatabaseFailed) -> None:
        """Allow a retry (the app shows the notice)."""
        self._busy = False
        if self._current is not None:
            self.query_one(ItemForm).show_error("Not checked: the database is unavailable.")
        self._release_keys()

    def on_call_ended(self, message: messages.CallEnded) -> None:
        """Show the read-back lines, then go back to idle."""
        self._busy = False
        self.view = None
        self._current = None
        self._actions_taken = []
        self._refused_locked = False
        self.query_one(ItemForm).reset()
        self._redraw()
        self.app.push_screen(SummaryModal(message.summary), self._summary_closed)

    def _summary_closed(self, next_call: bool | None) -> None:
        if next_call:
            self.action_new_call()
