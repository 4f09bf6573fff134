"""End the call: the outcomes that fit what happened, the likely one first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, OptionList
from textual.widgets.option_list import Option

from tui.widgets.plain import PlainInput
from verification.kinds import Outcome
from verification.session import ItemStatus

if TYPE_CHECKING:
    from db.desk import CallView

OUTCOME_LABELS = {
    Outcome.CANCELED: "Canceled",
    Outcome.EXPEDITED: "Expedited deletion only",
    Outcome.AUTO_RENEW_OFF: "Auto-renew turned off",
    Outcome.INFORMED: "Informed (nothing to cancel)",
    Outcome.DECLINED: "Declined: the admin chose to change nothing",
    Outcome.DENIED_NOT_ADMIN: "Denied: caller is not an admin",
    Outcome.VERIFICATION_FAILED: "Verification failed",
    Outcome.ABANDONED: "Abandoned (caller hung up)",
    Outcome.ESCALATED: "Escalated: transferred to a supervisor",
}


_RENEW_OFF = "auto_renew_off"
_EXPEDITED = "expedited_deprovisioning"


def likely_outcomes(
    view: CallView,
    actions_taken: tuple[str, ...],
    recovered: bool = False,
    refused_locked: bool = False,
) -> tuple[tuple[Outcome, ...], Outcome]:
    """The outcomes that fit the call as it stands, and the likely one.

    ``refused_locked``: the database refused an answer because a lock holds
    (the tenant or the user ID, told alike for every user ID on the tenant's
    domain): the caller is to be transferred, so escalated comes first.

    ``actions_taken`` are the policy actions confirmed in this desk session;
    a pending expedited request also means something was canceled. A
    ``recovered`` call may have had actions before the restart that the desk
    cannot see, so their outcomes stay on offer (the database checks).
    """
    fallback = (Outcome.ESCALATED, Outcome.ABANDONED)
    if view.locked:
        return (Outcome.VERIFICATION_FAILED, *fallback), Outcome.VERIFICATION_FAILED
    if refused_locked or (view.tenant_found and view.tenant_locked):
        return fallback, Outcome.ESCALATED
    verified = all(state.status is ItemStatus.MATCHED for state in view.items)
    if verified and view.caller_is_admin is False:
        return (Outcome.DENIED_NOT_ADMIN, *fallback), Outcome.DENIED_NOT_ADMIN
    pending = {p.action for p in view.pending_requests}
    canceled = any(a not in (_RENEW_OFF, _EXPEDITED) for a in (*actions_taken, *pending))
    expedited = _EXPEDITED in (*actions_taken, *pending)
    renew_off = _RENEW_OFF in actions_taken
    if canceled or expedited or renew_off:
        done = tuple(
            outcome
            for outcome, happened in (
                (Outcome.CANCELED, canceled),
                (Outcome.EXPEDITED, expedited),
                (Outcome.AUTO_RENEW_OFF, renew_off),
            )
            if happened
        )
        return (*done, *fallback), done[0]
    if view.gate_open:
        unseen = (Outcome.CANCELED, Outcome.EXPEDITED, Outcome.AUTO_RENEW_OFF) if recovered else ()
        return (Outcome.INFORMED, Outcome.DECLINED, *unseen, *fallback), Outcome.INFORMED
    return (Outcome.ABANDONED, Outcome.ESCALATED), Outcome.ABANDONED


@dataclass(frozen=True)
class CallEnding:
    """What the agent chose: the outcome and an optional note."""

    outcome: Outcome
    note: str


class EndCallModal(ModalScreen[CallEnding | None]):
    """Pick an outcome (↑ ↓), optionally type a note, Enter ends the call."""

    CSS_PATH = "end_call_modal.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Back to the call"),
        Binding("ctrl+s", "finish", "End call", priority=True),
    ]

    def __init__(self, outcomes: tuple[Outcome, ...], likely: Outcome) -> None:
        super().__init__()
        self._outcomes = outcomes
        self._likely = likely

    def compose(self) -> ComposeResult:
        with Vertical(id="end-call"):
            yield Label("End the call — outcome", classes="title")
            yield OptionList(
                *(Option(OUTCOME_LABELS[o], id=o.value) for o in self._outcomes),
                id="outcomes",
            )
            yield Label("Note (optional)")
            yield PlainInput(id="note", compact=True, placeholder="what the agent wants on record")
            yield Label("Enter ends the call · Esc goes back", classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        """Preselect the likely outcome and focus the list."""
        options = self.query_one("#outcomes", OptionList)
        options.highlighted = self._outcomes.index(self._likely)
        options.focus()

    @on(OptionList.OptionSelected)
    @on(Input.Submitted)
    def action_finish(self) -> None:
        """End the call with the highlighted outcome."""
        options = self.query_one("#outcomes", OptionList)
        index = options.highlighted if options.highlighted is not None else 0
        note = self.query_one("#note", Input).value.strip()
        self.dismiss(CallEnding(self._outcomes[index], note))
