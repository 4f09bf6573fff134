"""Dispute a request: its reference and a reason typed, Enter records it.

Either desk opens it (PRODUCT.md section 5, "Notice"): the agent desk from
the palette or F3, the supervisor desk from a request's detail, with the
reference filled in. The dispute is recorded by ``db.expedited.disputes.dispute_request``
in a thread worker; a refusal (a mistyped reference, a request already final)
is shown here so nothing typed is lost, and success dismisses the modal with
the ``DisputeResult``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, Static

from tui import messages
from tui.widgets.plain import PlainInput, plain

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from db.expedited.disputes import DisputeResult
    from db.staff.agents import AgentInfo
    from tui.app import CallgateApp

HINT = "Enter: record the dispute · Esc: back"
EXPLAIN = (
    "A dispute stops expedited deprovisioning that is not final yet: the data "
    "is kept and a supervisor reviews it."
)


class DisputeRefusedHere(Message):
    """The dispute was not recorded; ``detail`` says why (shown in the modal)."""

    def __init__(self, detail: str) -> None:
        super().__init__()
        self.detail = detail


class DisputeModal(ModalScreen["DisputeResult | None"]):
    """Returns the recorded dispute, or None when Esc goes back."""

    CSS_PATH = "dispute_modal.tcss"
    AUTO_FOCUS = "#dispute-reference"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "Back")]

    def __init__(self, agent: AgentInfo, reference: str = "") -> None:
        super().__init__()
        self.agent = agent
        self._reference = reference
        self._busy = False

    def compose(self) -> ComposeResult:
        with Vertical(id="dispute"):
            yield Label("Dispute a request", classes="title")
            yield Static(EXPLAIN, classes="line")
            yield Label("Reference (CG-…)")
            yield PlainInput(self._reference, id="dispute-reference", compact=True)
            yield Label("Reason")
            yield PlainInput(id="dispute-reason", compact=True)
            yield Static(HINT, id="dispute-hint", classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        """With the reference known, start on the reason."""
        if self._reference:
            self.query_one("#dispute-reason", Input).focus()

    @on(Input.Submitted, "#dispute-reference")
    def _to_reason(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#dispute-reason", Input).focus()

    @on(Input.Submitted, "#dispute-reason")
    def _confirm(self, event: Input.Submitted) -> None:
        event.stop()
        reference = self.query_one("#dispute-reference", Input).value.strip()
        reason = event.value.strip()
        if not reference:
            self._say("Type the reference the caller reads out first.")
            self.query_one("#dispute-reference", Input).focus()
            return
        if not reason:
            self._say(f"Give the reason first ({HINT})")
            return
        if not self._busy:
            self._busy = True
            self._say("Recording the dispute…")
            self._record(reference, reason)

    def _say(self, text: str) -> None:
        self.query_one("#dispute-hint", Static).update(plain(text))

    @work(thread=True, group="dispute", exclusive=True)
    def _record(self, reference: str, reason: str) -> None:
        desk = cast("CallgateApp", self.app)
        actor, now = self.agent.id, desk.clock()

        def record(factory: sessionmaker[Session]) -> None:
            from db.expedited.disputes import DisputeRefused, dispute_request

            try:
                result: DisputeResult = dispute_request(factory, actor, reference, reason, now)
            except DisputeRefused as exc:
                self.post_message(DisputeRefusedHere(exc.message))
            else:
                self.app.call_from_thread(self.dismiss, result)

        desk.db_call(self, "recording the dispute", record)

    def on_dispute_refused_here(self, message: DisputeRefusedHere) -> None:
        """Say why, keep what was typed."""
        self._busy = False
        self._say(f"{message.detail} ({HINT})")

    def on_database_failed(self, message: messages.DatabaseFailed) -> None:
        """The app said what failed; the same Enter tries again."""
        self._busy = False
        self._say(HINT)
