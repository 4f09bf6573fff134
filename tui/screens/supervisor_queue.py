"""The supervisor desk's first screen: everything that needs a decision."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable, Footer, Static

from tui.screens.supervisor_base import Done, SupervisorScreen, local_time
from tui.widgets.fit_table import fit_columns
from tui.widgets.open_table import OpenTable
from tui.widgets.plain import cell
from verification.kinds import QueueKind

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.orm import Session, sessionmaker

    from db.review import LockingCall, QueueRow

KIND_LABELS = {
    QueueKind.EXPEDITED: "Expedited",
    QueueKind.TENANT_LOCKED: "Tenant lock",
    QueueKind.USER_ID_LOCKED: "User ID lock",
    QueueKind.AGENT_LOCKED: "Agent lock",
    QueueKind.FAILED_VERIFICATION: "Failed check",
    QueueKind.ENDED_WITH_MISSES: "Misses",
    QueueKind.EARLY_CANCELLATION: "Cancel now",
    QueueKind.DELIVERY_FAILED: "Delivery failed",
    QueueKind.DISPUTED: "Disputed",
}
EMPTY_TEXT = "Nothing needs a decision. a: all requests · s: numbers"
RETRY_HINT = " · r retries a failed delivery"
# Organization and detail share the width left (``fit_columns``) and wrap in it.
QUEUE_COLUMNS = (
    ("What", None),
    ("Since", 16),
    ("Organization", None),
    ("Agent", None),
    ("Detail", None),
)
# The queue reads itself again this often (by the desk's clock); F5 at once.
REFRESH_SECONDS = 30


class QueueLoaded(Message):
    """The queue as the database has it now."""

    def __init__(self, rows: tuple[QueueRow, ...]) -> None:
        super().__init__()
        self.rows = rows


class SupervisorQueueScreen(SupervisorScreen):
    """Needs a decision: Enter opens the row's request (or resets a locked agent)."""

    CSS_PATH = "supervisor.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", priority=True),
        Binding("a", "all_requests", "All requests"),
        Binding("s", "numbers", "Numbers"),
        # Shown in the status line when a failed delivery waits, not in every footer.
        Binding("r", "retry_delivery", "Retry delivery", show=False),
        Binding("f5", "refresh", "Refresh"),
        Binding("escape", "close", "Back"),
    ]

    rows: tuple[QueueRow, ...] = ()
    _loaded_at: datetime | None = None
    _status = "Loading…"

    def compose(self) -> ComposeResult:
        yield Static("Supervisor desk — needs a decision", classes="screen-title")
        yield OpenTable(id="queue", cursor_type="row", zebra_stripes=True)
        yield Static("Loading…", id="queue-status", classes="status")
        yield Footer()

    def on_mount(self) -> None:
        """Load the queue, and again every REFRESH_SECONDS."""
        self._load()
        self.set_interval(1, self._tick)

    def _tick(self) -> None:
        """Say how old the queue is; past REFRESH_SECONDS, read it again."""
        if self._loaded_at is None:
            return
        age = int((self.desk.clock() - self._loaded_at).total_seconds())
        if age >= REFRESH_SECONDS:
            self._loaded_at = None
            self._load()
            return
        self.query_one("#queue-status", Static).update(
            f"{self._status} · updated {age} s ago, every {REFRESH_SECONDS} s (F5: now)"
        )

    def on_screen_resume(self) -> None:
        """Back from a request: it may have left the queue."""
        self._load()

    def action_refresh(self) -> None:
        """Read the queue again."""
        self._load()

    def action_close(self) -> None:
        """Back to the call desk."""
        self.app.pop_screen()

    def action_all_requests(self) -> None:
        """Every call, filtered and paged."""
        from tui.screens.supervisor_requests import SupervisorRequestsScreen

        self.app.push_screen(SupervisorRequestsScreen(self.agent))

    def action_numbers(self) -> None:
        """The desk at a glance."""
        from tui.screens.supervisor_numbers import SupervisorNumbersScreen

        self.app.push_screen(SupervisorNumbersScreen(self.agent))

    def action_open(self) -> None:
        """Open the highlighted row: its call, or the decision it needs."""
        table = self.query_one("#queue", DataTable)
        if not self.rows or table.cursor_row >= len(self.rows):
            return
        row = self.rows[table.cursor_row]
        if row.kind is QueueKind.AGENT_LOCKED and row.agent_id is not None:
            self._confirm_reset(row.agent_id, row.agent)
        elif len(row.calls) > 1:
            self._choose_call(row.calls)
        elif row.call_id is not None:
            from tui.screens.supervisor_request import SupervisorRequestScreen

            self.app.push_screen(SupervisorRequestScreen(self.agent, row.call_id))
        elif row.kind is QueueKind.TENANT_LOCKED and row.tenant_id is not None:
            self._confirm_clear(row.tenant_id, row.organization)
        elif row.kind is QueueKind.USER_ID_LOCKED and row.lock_id is not None:
            self._confirm_clear_user_id(row.lock_id)

    def on_open_table_opened(self) -> None:
        """A double click on a row opens it, as Enter does; one click highlights it."""
        self.action_open()

    def action_retry_delivery(self) -> None:
        """Send the highlighted failed delivery again (``callgate deliver`` picks it up)."""
        table = self.query_one("#queue", DataTable)
        if not self.rows or table.cursor_row >= len(self.rows):
            return
        row = self.rows[table.cursor_row]
        if row.kind is not QueueKind.DELIVERY_FAILED or row.outbox_id is None:
            self.notify("Only a failed delivery can be retried.", severity="warning")
            return
        self._retry(row.outbox_id)

    def _choose_call(self, calls: tuple[LockingCall, ...]) -> None:
        """The calls that locked a tenant: Enter opens one (``l`` there clears the lock)."""
        from tui.screens.calls_modal import CallsModal
        from tui.screens.end_call_modal import OUTCOME_LABELS
        from tui.screens.supervisor_request import SupervisorRequestScreen

        def chosen(call_id: int | None) -> None:
            if call_id is not None:
                self.app.push_screen(SupervisorRequestScreen(self.agent, call_id))

        lines = tuple(
            (
                c.call_id,
                f"#{c.call_id} · {local_time(c.started_at)} · {c.agent} · "
                f"{OUTCOME_LABELS[c.outcome] if c.outcome else 'still open'} · "
                f"{c.misses} {'miss' if c.misses == 1 else 'misses'}",
            )
            for c in calls
        )
        # The row's organization may be hidden (a call in progress): the title names none.
        title = "Calls that locked this organization, newest first"
        hint = "Enter opens a call (l there clears the lock) · Esc: back"
        self.app.push_screen(CallsModal(title, lines, hint), chosen)

    def _confirm_reset(self, agent_id: int, username: str) -> None:
        from tui.screens.decision_modal import DecisionModal

        def decided(reason: str | None) -> None:
            if reason is not None:
                self._reset(agent_id, reason)

        lines = ("Clears the failed sign-ins; the agent can sign in again.",)
        self.app.push_screen(DecisionModal(f"Reset agent {username}", lines), decided)

    def _confirm_clear(self, tenant_id: int, organization: str) -> None:
        from tui.screens.decision_modal import DecisionModal

        def decided(reason: str | None) -> None:
            if reason is not None:
                self._clear(tenant_id, reason)

        lines = ("Its next call proceeds; earlier locked calls no longer count.",)
        self.app.push_screen(DecisionModal(f"Clear the lock of {organization}", lines), decided)

    def _confirm_clear_user_id(self, lock_id: int) -> None:
        from tui.screens.decision_modal import DecisionModal

        def decided(reason: str | None) -> None:
            if reason is not None:
                self._clear_user_id(lock_id, reason)

        lines = ("Its next call is checked again; earlier misses no longer count.",)
        self.app.push_screen(DecisionModal("Clear the lock of this user ID", lines), decided)

    # --- workers ----------------------------------------------------------------

    @work(thread=True, group="load", exclusive=True)
    def _load(self) -> None:
        actor = self.agent.id

        def load(factory: sessionmaker[Session]) -> None:
            from db.review import queue

            self.post_message(QueueLoaded(queue(factory, actor)))

        self.review_call("loading the queue", load)

    @work(thread=True, group="decision")
    def _reset(self, agent_id: int, reason: str) -> None:
        actor, now = self.agent.id, self.desk.clock()

        def reset(factory: sessionmaker[Session]) -> None:
            from db.review import queue, reset_locked_agent

            info = reset_locked_agent(factory, actor, agent_id, reason, now)
            self.post_message(Done(f"{info.username} can sign in again."))
            self.post_message(QueueLoaded(queue(factory, actor)))

        self.review_call("resetting the agent", reset)

    @work(thread=True, group="decision")
    def _clear(self, tenant_id: int, reason: str) -> None:
        actor, now = self.agent.id, self.desk.clock()

        def clear(factory: sessionmaker[Session]) -> None:
            from db.review import clear_tenant_lock, queue

            clear_tenant_lock(factory, actor, tenant_id, reason, now)
            self.post_message(Done("Lock cleared: the next call proceeds."))
            self.post_message(QueueLoaded(queue(factory, actor)))

        self.review_call("clearing the lock", clear)

    @work(thread=True, group="decision")
    def _clear_user_id(self, lock_id: int, reason: str) -> None:
        actor, now = self.agent.id, self.desk.clock()

        def clear(factory: sessionmaker[Session]) -> None:
            from db.review import clear_user_id_lock, queue

            clear_user_id_lock(factory, actor, lock_id, reason, now)
            self.post_message(Done("Lock cleared: the user ID is checked again."))
            self.post_message(QueueLoaded(queue(factory, actor)))

        self.review_call("clearing the lock", clear)

    @work(thread=True, group="decision")
    def _retry(self, outbox_id: int) -> None:
        actor, now = self.agent.id, self.desk.clock()

        def retry(factory: sessionmaker[Session]) -> None:
            from db.review import queue, retry_delivery

            retry_delivery(factory, actor, outbox_id, now)
            self.post_message(Done("Delivery queued again: the deliver worker sends it next."))
            self.post_message(QueueLoaded(queue(factory, actor)))

        self.review_call("retrying the delivery", retry)

    # --- results ----------------------------------------------------------------

    def on_queue_loaded(self, message: QueueLoaded) -> None:
        """Show the rows, keeping the cursor where it was."""
        self.rows = message.rows
        self._draw_rows()
        status = f"{len(message.rows)} waiting · Enter opens" if message.rows else EMPTY_TEXT
        if any(row.kind is QueueKind.DELIVERY_FAILED for row in message.rows):
            status += RETRY_HINT
        self._status, self._loaded_at = status, self.desk.clock()
        self._tick()

    def on_resize(self) -> None:
        """Column widths follow the screen's: fit them again."""
        self._draw_rows()

    def _draw_rows(self) -> None:
        """The rows under columns fitted to the width, keeping the cursor where it was."""
        table = self.query_one("#queue", DataTable)
        cursor = table.cursor_row
        texts = [
            (KIND_LABELS[row.kind], local_time(row.at), row.organization, row.agent, row.detail)
            for row in self.rows
        ]
        fit_columns(table, QUEUE_COLUMNS, texts)
        for kind, since, organization, agent, detail in texts:
            table.add_row(
                kind,
                since,
                cell(organization, fold=True),
                cell(agent, fold=True),
                cell(detail, fold=True),
                height=None,  # a long organization or detail wraps instead of being cut
            )
        if self.rows:
            table.move_cursor(row=min(cursor, len(self.rows) - 1))
