"""All requests: every call, newest first, filtered and paged in SQL.

Filters apply as the supervisor types (the organization after a short pause),
each change reads only the first page; later pages continue from the last
row shown (keyset), so nothing ever loads every call. A result that arrives
after a newer filter was set is dropped.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Input, Select, Static

from tui.screens.end_call_modal import OUTCOME_LABELS
from tui.screens.supervisor_base import Done, SupervisorScreen, local_time
from tui.widgets.plain import TabInput, cell, plain
from verification.kinds import Channel, Outcome, SubscriptionKind

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from db.agents import AgentInfo
    from db.review import Cursor, Page, RequestFilter

# Long enough to skip the queries of a word being typed, short enough to feel live.
DEBOUNCE_SECONDS = 0.3
# Filters show words, never codes ("Product key", not product_key).
KIND_WORDS = {SubscriptionKind.TRIAL: "Trial", SubscriptionKind.PAID: "Paid"}
CHANNEL_WORDS = {
    Channel.DIRECT: "Bought direct",
    Channel.PRODUCT_KEY: "Product key",
    Channel.OPEN: "Open license",
    Channel.FPP: "Retail box (FPP)",
}
SUBSCRIPTION_CHOICES = [(KIND_WORDS[k], f"kind:{k.value}") for k in SubscriptionKind] + [
    (CHANNEL_WORDS[c], f"channel:{c.value}") for c in Channel
]


class PageLoaded(Message):
    """One page for the filter of generation ``generation``."""

    def __init__(self, generation: int, page: Page) -> None:
        super().__init__()
        self.generation = generation
        self.page = page


class AgentsLoaded(Message):
    """The staff, for the agent filter."""

    def __init__(self, agents: tuple[AgentInfo, ...]) -> None:
        super().__init__()
        self.agents = agents


def parse_day(text: str) -> date | None:
    """A typed ``YYYY-MM-DD``; None when empty. Raises ValueError, said for the desk."""
    text = text.strip()
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        raise ValueError("Dates are YYYY-MM-DD.") from None


def date_range(since_text: str, until_text: str) -> tuple[date | None, date | None]:
    """The From and To days typed; ValueError (its message for the desk) when no call can match."""
    since, until = parse_day(since_text), parse_day(until_text)
    if since and until and since > until:
        raise ValueError(f"From {since} is after To {until}: no call can match. Swap them?")
    return since, until


class SupervisorRequestsScreen(SupervisorScreen):
    """Filters on top, the calls below; Enter opens one."""

    CSS_PATH = "supervisor.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("pagedown", "next_page", "Next page", priority=True),
        Binding("pageup", "previous_page", "Prev page", priority=True),
        Binding("f9", "export", "Export"),
        Binding("escape", "close", "Back"),
    ]

    def __init__(self, agent: AgentInfo) -> None:
        super().__init__(agent)
        self._generation = 0
        self._pages: list[Cursor | None] = [None]
        self._page: Page | None = None
        self._debounce: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static("Supervisor desk — all requests", classes="screen-title")
        with Horizontal(classes="filters"):
            yield TabInput(
                placeholder="CG-reference, user ID, phone or organization…",
                id="f-org",
                compact=True,
            )
            yield TabInput(placeholder="From YYYY-MM-DD", id="f-since", compact=True)
            yield TabInput(placeholder="To YYYY-MM-DD", id="f-until", compact=True)
        with Horizontal(classes="filters"):
            yield Select[int]([], prompt="Any agent", id="f-agent", compact=True)
            yield Select(
                [(OUTCOME_LABELS[o], o.value) for o in Outcome],
                prompt="Any outcome",
                id="f-outcome",
                compact=True,
            )
            yield Select(SUBSCRIPTION_CHOICES, prompt="Any subscription", id="f-sub", compact=True)
        table: DataTable[str] = DataTable(id="requests", cursor_type="row", zebra_stripes=True)
        table.add_columns(
            "#", "Started", "Agent", "Organization", "Phone", "State", "Outcome", "Rev", "Reference"
        )
        yield table
        yield Static("Loading…", id="requests-status", classes="status")
        yield Footer()

    def on_mount(self) -> None:
        """Load the staff for the agent filter and the first page."""
        self._load_agents()
        self._refilter()

    # --- filters ----------------------------------------------------------------

    def current_filter(self) -> RequestFilter:
        """The filter the widgets show; raises ValueError, its message for the desk.

        Dates must be days, From no later than To (``date_range``); the search
        box is read by ``db.review.parse_search`` (one rule): a reference,
        user ID or phone that cannot be one raises ``InputError``.
        """
        from db.review import RequestFilter, parse_search

        since, until = date_range(
            self.query_one("#f-since", Input).value, self.query_one("#f-until", Input).value
        )
        agent = self.query_one("#f-agent", Select).value
        outcome = self.query_one("#f-outcome", Select).value
        sub = self.query_one("#f-sub", Select).value
        kind, channel = _kind_or_channel(sub if isinstance(sub, str) else "")
        filters = RequestFilter(
            started_from=_local_midnight(since) if since else None,
            started_before=_local_midnight(until + timedelta(days=1)) if until else None,
            agent_id=agent if isinstance(agent, int) else None,
            outcome=Outcome(outcome) if isinstance(outcome, str) else None,
            kind=kind,
            channel=channel,
            search=self.query_one("#f-org", Input).value,
            region=self.desk.settings.default_region,
        )
        parse_search(filters.search, filters.region)
        return filters

    @on(Input.Changed, "#f-org")
    def _org_typed(self) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(DEBOUNCE_SECONDS, self._refilter)

    @on(Input.Changed, "#f-since, #f-until")
    @on(Select.Changed)
    def _filter_changed(self) -> None:
        self._refilter()

    def _refilter(self) -> None:
        """Start again from the first page of the new filter."""
        self._generation += 1
        self._pages = [None]
        try:
            filters = self.current_filter()
        except ValueError as exc:
            # No rows of another filter stay under a message about this one.
            self._page = None
            self.query_one("#requests", DataTable).clear()
            self._status(str(exc))
            return
        self._fetch(self._generation, filters, None)

    # --- keys -------------------------------------------------------------------

    def action_close(self) -> None:
        """Back to the queue."""
        self.app.pop_screen()

    def action_next_page(self) -> None:
        """The page after the last row shown."""
        if self._page is None or self._page.next is None:
            return
        self._pages.append(self._page.next)
        self._fetch_current()

    def action_previous_page(self) -> None:
        """The page before: its start was kept on the way down."""
        if len(self._pages) > 1:
            self._pages.pop()
            self._fetch_current()

    def _fetch_current(self) -> None:
        try:
            filters = self.current_filter()
        except ValueError:
            return
        self._fetch(self._generation, filters, self._pages[-1])

    def action_export(self) -> None:
        """Export the current filter, masked, to a file in the user data directory."""
        try:
            filters = self.current_filter()
        except ValueError as exc:
            self._status(str(exc))
            return
        self._export(filters)

    @on(DataTable.RowSelected, "#requests")
    def _open(self, event: DataTable.RowSelected) -> None:
        from tui.screens.supervisor_request import SupervisorRequestScreen

        if event.row_key.value is not None:
            self.app.push_screen(SupervisorRequestScreen(self.agent, int(event.row_key.value)))

    # --- workers ----------------------------------------------------------------

    @work(thread=True, group="db")
    def _fetch(self, generation: int, filters: RequestFilter, after: Cursor | None) -> None:
        actor = self.agent.id

        def fetch(factory: sessionmaker[Session]) -> None:
            from db.review import list_requests

            self.post_message(PageLoaded(generation, list_requests(factory, actor, filters, after)))

        self.review_call("loading the calls", fetch)

    @work(thread=True, group="db")
    def _load_agents(self) -> None:
        def load(factory: sessionmaker[Session]) -> None:
            from db.agents import list_agents

            self.post_message(AgentsLoaded(tuple(list_agents(factory))))

        self.review_call("loading the agents", load)

    @work(thread=True, group="db")
    def _export(self, filters: RequestFilter) -> None:
        actor, now = self.agent, self.desk.clock()

        def export(factory: sessionmaker[Session]) -> None:
            from db.export import write_export
            from db.review import require_supervisor
            from db.settings import user_data_dir

            with factory() as session:
                require_supervisor(session, actor.id)
            folder = user_data_dir() / "exports"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"callgate-calls-{now.astimezone():%Y%m%d-%H%M%S}.csv"
            with path.open("w", encoding="utf-8", newline="") as out:
                report = write_export(factory, out, "csv", filters, actor=actor.username, now=now)
            self.post_message(
                Done(
                    f"{report.rows} calls (masked) → {path}\n"
                    f"Audit chain head: event {report.head_seq} {report.head_hash}"
                )
            )

        self.review_call("exporting", export)

    # --- results ----------------------------------------------------------------

    def on_page_loaded(self, message: PageLoaded) -> None:
        """Show the page, unless the filter changed since it was asked for."""
        if message.generation != self._generation:
            return
        self._page = message.page
        table = self.query_one("#requests", DataTable)
        table.clear()
        for row in message.page.rows:
            table.add_row(
                str(row.call_id),
                local_time(row.started_at),
                cell(row.agent),
                cell(row.organization),
                cell(row.phone),
                row.state.value,
                OUTCOME_LABELS[row.outcome] if row.outcome else "",
                "✓" if row.reviewed else "",
                row.references,
                key=str(row.call_id),
            )
        shown = len(message.page.rows)
        more = " · PgDn next page" if message.page.next else ""
        back = " · PgUp previous" if len(self._pages) > 1 else ""
        searched = f" by {message.page.searched}" if message.page.searched else ""
        self._status(f"Page {len(self._pages)} · {shown} calls{searched}{more}{back} · F9 export")

    def on_agents_loaded(self, message: AgentsLoaded) -> None:
        """Fill the agent filter."""
        options = [(plain(a.username), a.id) for a in message.agents]
        self.query_one("#f-agent", Select).set_options(options)

    def _status(self, text: str) -> None:
        self.query_one("#requests-status", Static).update(plain(text))


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time()).astimezone()


def _kind_or_channel(value: str) -> tuple[SubscriptionKind | None, Channel | None]:
    if value.startswith("kind:"):
        return SubscriptionKind(value.removeprefix("kind:")), None
    if value.startswith("channel:"):
        return None, Channel(value.removeprefix("channel:"))
    return None, None
