"""One call as a supervisor sees it: checks side by side, requests, decisions, timeline."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Static

from tui.screens.supervisor_base import local_time
from tui.screens.supervisor_request_text import (
    day_text,
    event_details,
    event_words,
    request_lines,
    summary_lines,
)
from tui.screens.supervisor_request_workers import DetailLoaded, RequestWorkers
from tui.widgets.fit_table import fit_columns
from tui.widgets.plain import cell, notify, plain
from verification.kinds import Decision, RequestStatus

if TYPE_CHECKING:
    from db.expedited.disputes import DisputeResult
    from db.review import CallDetail, RequestLine

# Stated and on-file values share the width left (``fit_columns``) and wrap in it.
CHECK_COLUMNS = (("Item", None), ("Result · rules", None), ("Stated", None), ("On file", None))
# The event and its details share the width left, wrapping at words.
TIMELINE_COLUMNS = (("#", None), ("Time", 16), ("Actor", None), ("Event", 14), ("Details", None))


class SupervisorRequestScreen(RequestWorkers):
    """The whole story of one call, and the decisions a supervisor can take on it."""

    CSS_PATH = "supervisor.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "decide('approved')", "Approve"),
        Binding("x", "decide('rejected')", "Reject"),
        Binding("l", "clear_lock", "Clear lock"),
        Binding("o", "note", "Note"),
        Binding("v", "reviewed", "Reviewed"),
        Binding("d", "dispute", "Dispute"),
        Binding("escape", "close", "Back"),
        # Reached only when the key above is dimmed: it then says why.
        Binding("a,x,v", "why", show=False),
    ]

    detail: CallDetail | None = None

    def compose(self) -> ComposeResult:
        yield Static(plain(f"Call #{self.call_id}"), id="request-title", classes="screen-title")
        with VerticalScroll(id="request-body"):
            yield Static("Loading…", id="summary")
            yield Static("Identity checks", classes="section")
            yield DataTable(id="checks", cursor_type="none", show_cursor=False)
            yield Static("Requests", classes="section")
            yield Static("", id="requests-text")
            yield Static("Review notes", classes="section")
            yield Static("", id="notes-text")
            yield Static("Timeline (audit events)", classes="section")
            yield DataTable(id="timeline", cursor_type="none", show_cursor=False)
        yield Footer()

    def on_mount(self) -> None:
        """Load the call."""
        self._load()

    # --- keys -------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer a decision only when it can be taken; dim it on one's own call."""
        detail = self.detail
        if action == "why":
            return self.detail is not None and self.detail.agent_id == self.agent.id
        if action not in ("decide", "clear_lock", "note", "reviewed", "dispute"):
            return True
        if detail is None:
            return False
        own = detail.agent_id == self.agent.id
        if action == "decide":
            if self._waiting(Decision(str(parameters[0]))) is None:
                return False
            return None if own else True
        if action == "dispute":
            # Anyone may dispute, their own call too: a dispute only keeps data.
            return self._disputable() is not None
        if action == "clear_lock":
            return detail.tenant_locked
        if action == "reviewed":
            if detail.reviewed_at is not None:
                return False
            return None if own else True
        return True

    def action_why(self) -> None:
        """A dimmed decision on one's own call says why."""
        self.notify(
            "This is your own call: another supervisor must decide on it.",
            title="Not yours to decide",
            severity="warning",
        )

    def _waiting(self, decision: Decision) -> RequestLine | None:
        """The request ``decision`` can be taken on: a waiting one, or a disputed one to reject."""
        if self.detail is None:
            return None
        open_to = {RequestStatus.WAITING}
        if decision is Decision.REJECTED:
            open_to.add(RequestStatus.DISPUTED)
        return next(
            (r for r in self.detail.requests if r.status in open_to and not r.tampered),
            None,
        )

    def _disputable(self) -> RequestLine | None:
        """An expedited request of this call that is not final, disputed or rejected yet."""
        if self.detail is None:
            return None
        open_to = {RequestStatus.WAITING, RequestStatus.APPROVED}
        return next(
            (r for r in self.detail.requests if r.needs_approval and r.status in open_to),
            None,
        )

    def action_dispute(self) -> None:
        """Dispute the call's expedited request, its reference filled in."""
        from tui.screens.dispute_modal import DisputeModal

        request = self._disputable()
        if request is None:
            return

        def recorded(result: DisputeResult | None) -> None:
            if result is not None:
                notify(self, result.message, title="Disputed", timeout=10)
                self._load()

        self.app.push_screen(DisputeModal(self.agent, request.reference), recorded)

    def action_close(self) -> None:
        """Back to the list this call was opened from."""
        self.app.pop_screen()

    def action_decide(self, decision: str) -> None:
        """Approve or reject the waiting expedited request, with a reason."""
        from tui.screens.decision_modal import DecisionModal

        chosen = Decision(decision)
        request = self._waiting(chosen)
        if request is None or self.detail is None or self.detail.agent_id == self.agent.id:
            return
        verb = "Approve" if chosen is Decision.APPROVED else "Reject"
        if chosen is Decision.APPROVED:
            effect = f"Data deleted by {day_text(request.deleted_by_if_approved)}, irreversibly."
        else:
            effect = f"Data kept until {day_text(request.kept_until_if_rejected)}."
        lines = (
            f"{request.action_label} of {request.product_name}",
            effect,
            f"Bound to request hash {request.request_hash[:16]}…",
        )

        def decided(reason: str | None) -> None:
            if reason is not None:
                self._decide(request.request_id, chosen, reason, request.request_hash)

        self.app.push_screen(DecisionModal(f"{verb} expedited deprovisioning", lines), decided)

    def action_clear_lock(self) -> None:
        """Lift the tenant's lock for phone cancellation, with a reason."""
        from tui.screens.decision_modal import DecisionModal

        detail = self.detail
        if detail is None or detail.tenant_id is None or not detail.tenant_locked:
            return
        tenant_id = detail.tenant_id

        def decided(reason: str | None) -> None:
            if reason is not None:
                self._clear(tenant_id, reason)

        lines = ("Its next call proceeds; earlier locked calls no longer count.",)
        title = f"Clear the lock of {detail.organization}"
        self.app.push_screen(DecisionModal(title, lines), decided)

    def action_note(self) -> None:
        """Add a review note to the call."""
        from tui.screens.decision_modal import DecisionModal

        def written(text: str | None) -> None:
            if text is not None:
                self._note(text)

        modal = DecisionModal(f"Note on call #{self.call_id}", (), prompt="Note")
        self.app.push_screen(modal, written)

    def action_reviewed(self) -> None:
        """Record that this call was reviewed."""
        if self.check_action("reviewed", ()):
            self._reviewed()

    # --- workers ----------------------------------------------------------------

    # --- drawing ----------------------------------------------------------------

    def on_detail_loaded(self, message: DetailLoaded) -> None:
        """Redraw every section from the new detail."""
        detail = self.detail = message.detail
        title = f"Call #{detail.call_id} — {detail.organization or 'no account found'}"
        self.query_one("#request-title", Static).update(plain(title))
        self.query_one("#summary", Static).update(plain(*summary_lines(detail)))
        self._draw_tables()
        # A blank line between requests.
        requests = [line for r in detail.requests for line in ("", *request_lines(r))][1:]
        self.query_one("#requests-text", Static).update(
            plain(*requests) if requests else "No action was taken."
        )
        notes = [f"{local_time(n.at)} {n.author}: {n.text}" for n in detail.review_notes]
        self.query_one("#notes-text", Static).update(plain(*notes) if notes else "None yet.")
        self.refresh_bindings()

    def on_resize(self) -> None:
        """Column widths follow the screen's: fit them again."""
        self._draw_tables()

    def _draw_tables(self) -> None:
        """The checks and the timeline, their columns fitted to the width, rows wrapping."""
        detail = self.detail
        if detail is None:
            return
        checks = self.query_one("#checks", DataTable)
        rows = [
            (c.label, f"{c.result.value} {c.rules_version}", c.stated, c.on_file)
            for c in detail.checks
        ]
        fit_columns(checks, CHECK_COLUMNS, rows)
        for label, result, stated, on_file in rows:
            # Long addresses wrap instead of running off the screen.
            checks.add_row(
                label, result, cell(stated, fold=True), cell(on_file, fold=True), height=None
            )
        timeline = self.query_one("#timeline", DataTable)
        events = [
            (str(e.seq), local_time(e.at), e.actor, event_words(e.type), event_details(e.payload))
            for e in detail.timeline
        ]
        fit_columns(timeline, TIMELINE_COLUMNS, events)
        for seq, at, actor, event, details in events:
            timeline.add_row(
                seq,
                at,
                cell(actor, fold=True),
                cell(event, fold=True),
                cell(details, fold=True),
                height=None,
            )
