"""One call as a supervisor sees it: checks side by side, requests, decisions, timeline."""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Footer, Static

from tui.screens.end_call_modal import OUTCOME_LABELS
from tui.screens.supervisor_base import Done, SupervisorScreen, local_time
from tui.widgets.fit_table import fit_columns
from tui.widgets.plain import cell, notify, plain
from verification.kinds import Decision, RequestStatus

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from db.agents import AgentInfo
    from db.expedited.disputes import DisputeResult
    from db.review import CallDetail, RequestLine

# What a supervisor can do with a disputed request (``db.review.request_lines.DISPUTED_REFUSAL``).
DISPUTED_HINT = "It can no longer become final: reject it (x) to keep the data."

# Stated and on-file values share the width left (``fit_columns``) and wrap in it.
CHECK_COLUMNS = (("Item", None), ("Result · rules", None), ("Stated", None), ("On file", None))
# The event and its details share the width left, wrapping at words.
TIMELINE_COLUMNS = (("#", None), ("Time", 16), ("Actor", None), ("Event", 14), ("Details", None))


class DetailLoaded(Message):
    """The call as it stands after a load or a decision."""

    def __init__(self, detail: CallDetail) -> None:
        super().__init__()
        self.detail = detail


class SupervisorRequestScreen(SupervisorScreen):
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

    def __init__(self, agent: AgentInfo, call_id: int) -> None:
        super().__init__(agent)
        self.call_id = call_id

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
            effect = f"Data deleted by {_day(request.deleted_by_if_approved)}, irreversibly."
        else:
            effect = f"Data kept until {_day(request.kept_until_if_rejected)}."
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

    @work(thread=True, group="load", exclusive=True)
    def _load(self) -> None:
        actor, call_id, now = self.agent.id, self.call_id, self.desk.clock()

        def load(factory: sessionmaker[Session]) -> None:
            from db.review import call_detail

            self.post_message(DetailLoaded(call_detail(factory, actor, call_id, now)))

        self.review_call("loading the call", load)

    @work(thread=True, group="decision")
    def _decide(self, request_id: int, decision: Decision, reason: str, seen: str) -> None:
        actor, now = self.agent.id, self.desk.clock()

        def decide(factory: sessionmaker[Session]) -> None:
            from db.review import decide_expedited

            detail = decide_expedited(factory, actor, request_id, decision, reason, seen, now)
            self.post_message(DetailLoaded(detail))
            self.post_message(Done(f"Expedited deprovisioning {decision.value}."))

        self.review_call("recording the decision", decide)

    @work(thread=True, group="decision")
    def _clear(self, tenant_id: int, reason: str) -> None:
        actor, now, call_id = self.agent.id, self.desk.clock(), self.call_id

        def clear(factory: sessionmaker[Session]) -> None:
            from db.review import call_detail, clear_tenant_lock

            clear_tenant_lock(factory, actor, tenant_id, reason, now)
            self.post_message(DetailLoaded(call_detail(factory, actor, call_id, now)))
            self.post_message(Done("Lock cleared: the next call proceeds."))

        self.review_call("clearing the lock", clear)

    @work(thread=True, group="decision")
    def _note(self, text: str) -> None:
        actor, now, call_id = self.agent.id, self.desk.clock(), self.call_id

        def note(factory: sessionmaker[Session]) -> None:
            from db.review import add_review_note

            self.post_message(DetailLoaded(add_review_note(factory, actor, call_id, text, now)))
            self.post_message(Done("Note added."))

        self.review_call("adding the note", note)

    @work(thread=True, group="decision")
    def _reviewed(self) -> None:
        actor, now, call_id = self.agent.id, self.desk.clock(), self.call_id

        def reviewed(factory: sessionmaker[Session]) -> None:
            from db.review import mark_reviewed

            self.post_message(DetailLoaded(mark_reviewed(factory, actor, call_id, now)))
            self.post_message(Done("Marked reviewed."))

        self.review_call("marking the call reviewed", reviewed)

    # --- drawing ----------------------------------------------------------------

    def on_detail_loaded(self, message: DetailLoaded) -> None:
        """Redraw every section from the new detail."""
        detail = self.detail = message.detail
        title = f"Call #{detail.call_id} — {detail.organization or 'no account found'}"
        self.query_one("#request-title", Static).update(plain(title))
        self.query_one("#summary", Static).update(plain(*_summary(detail)))
        self._draw_tables()
        # A blank line between requests.
        requests = [line for r in detail.requests for line in ("", *_request_lines(r))][1:]
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
            (str(e.seq), local_time(e.at), e.actor, _event_words(e.type), _details(e.payload))
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


def _summary(detail: CallDetail) -> list[str]:
    outcome = OUTCOME_LABELS[detail.outcome] if detail.outcome else "—"
    reviewed = (
        f"reviewed by {detail.reviewed_by} {local_time(detail.reviewed_at)}"
        if detail.reviewed_at
        else "not reviewed"
    )
    lines = [
        f"Agent {detail.agent} · {local_time(detail.started_at)} → {local_time(detail.ended_at)}",
        f"State {detail.state.value} · outcome: {outcome} · {reviewed}",
    ]
    if detail.tenant_locked:
        lines.append("The organization is LOCKED for phone cancellation (l clears it).")
    if detail.notes:
        # One line per note: the call keeps its notes newline-separated.
        lines += f"Agent's notes: {detail.notes}".split("\n")
    return lines


def _request_lines(request: RequestLine) -> list[str]:
    lines = [f"{request.action_label} — {request.product_name}: {request.status}"]
    if request.reference:
        lines.append(f"  reference {request.reference}")
    lines += _expedited_lines(request)
    if request.tampered:
        lines.append("  ⚠ the stored request does not match its hash: it cannot be decided")
    for change in request.changes:
        value = f"{change.before} → {change.after}" if change.changed else change.after
        lines.append(f"  {change.label}: {value}")
    if request.checklist:
        lines.append("  Checklist the agent ticked with the caller:")
        lines += [f"    ✓ {point}" for point in request.checklist]
    for approval in request.approvals:
        void = "" if approval.valid else " (void: the request changed)"
        lines.append(
            f"  {approval.decision.value} by {approval.approver} "
            f"{local_time(approval.decided_at)}: {approval.reason}{void}"
        )
    return lines


def _expedited_lines(request: RequestLine) -> list[str]:
    """Where an expedited request stands: its cooling-off, final time and dispute."""
    lines = []
    if request.final_at is not None:
        lines.append(f"  final since {local_time(request.final_at)}")
    elif request.cooling_off_until is not None:
        lines.append(f"  cooling off until {local_time(request.cooling_off_until)}")
    if request.final_if_approved is not None:
        lines.append(f"  final at {local_time(request.final_if_approved)} if approved now")
    dispute = request.dispute
    if dispute is not None:
        lines.append(f"  disputed by {dispute.by} {local_time(dispute.at)}: {dispute.reason}")
        if dispute.resolved_at is None:
            lines.append(f"  {DISPUTED_HINT}")
    return lines


def _day(day: date | None) -> str:
    return "—" if day is None else f"{day:%Y-%m-%d}"


def _event_words(event_type: str) -> str:
    """An audit event type that wraps at words ("subscription cancel now")."""
    return event_type.replace(".", " ").replace("_", " ")


def _details(payload: str) -> str:
    """The event's payload without the call id every row shares; hashes to 12 digits."""
    values = {k: v for k, v in json.loads(payload).items() if k != "call_id"}
    return " ".join(f"{k}={_short(v)}" for k, v in values.items())


def _short(value: object) -> str:
    """A SHA-256 hex digest cut to its first 12 digits (enough to tell two apart)."""
    text = str(value)
    if len(text) == 64 and all(c in "0123456789abcdef" for c in text):
        return f"{text[:12]}…"
    return text
