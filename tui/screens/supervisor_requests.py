"""All requests: every call, newest first, filtered and paged in SQL.

Filters apply as the supervisor types (the organization after a short pause),
each change reads only the first page; later pages continue from the last
row shown (keyset), so nothing ever loads every call. A result that arrives
after a newer filter was set is dropped.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, ClassVar, Literal

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Input, Select, Static

from tui.screens.end_call_modal import OUTCOME_LABELS
from tui.screens.supervisor_base import SupervisorScreen, local_time
from tui.widgets.plain import TabInput, cell, plain
from verification.kinds import Channel, Outcome, SubscriptionKind

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from db.review import Cursor, Page, RequestFilter
    from db.staff.agents import AgentInfo

# Long enough to skip the queries of a word being typed, short enough to feel live.
DEBOUNCE_SECONDS = 0.3
EXPORT_FORMATS: tuple[Literal["csv", "json"], ...] = ("csv", "json")
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


class Exported(Message):
    """An export's files, its rows and the audit chain head after it."""

    def __init__(self, paths: tuple[str, ...], rows: int, head_seq: int, head_hash: str) -> None:
        super().__init__()
        self.paths = paths
        self.rows = rows
        self.head_seq = head_seq
        self.head_hash = head_hash


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
        pass
    shape = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text)
    if shape is None:
        raise ValueError("Dates are YYYY-MM-DD.")
    year, month, _day = (int(part) for part in shape.groups())
    if year == 0:
        raise ValueError(f"{text} does not exist: years start at 0001.")
    if not 1 <= month <= 12:
        raise ValueError(f"{text} does not exist: a month is 01 to 12.")
    days = calendar.monthrange(year, month)[1]
    raise ValueError(f"{text} does not exist: {year}-{month:02d} has {days} days.")


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
        # In the order the table and scroll views bind them, so the footer keeps
        # one order wherever the focus is (its order is the first binding's).
        Binding("pageup", "previous_page", "Prev page", priority=True),
        Binding("pagedown", "next_page", "Next page", priority=True),
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
            from db.staff.agents import list_agents

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
            stem = folder / f"callgate-calls-{now.astimezone():%Y%m%d-%H%M%S}"
            written = []
            # Both formats, as the help promises: a spreadsheet and a program each get theirs.
            for fmt in EXPORT_FORMATS:
                path = stem.with_suffix(f".{fmt}")
                with path.open("w", encoding="utf-8", newline="") as out:
                    report = write_export(factory, out, fmt, filters, actor=actor.username, now=now)
                written.append(str(path))
            self.post_message(
                Exported(tuple(written), report.rows, report.head_seq, report.head_hash)
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
        self._status(
            f"Page {len(self._pages)} · {shown} {_calls(shown)}{searched}{more}{back} · F9 export"
        )

    def on_exported(self, message: Exported) -> None:
        """The files and the chain head, on screen until the supervisor closes them."""
        from tui.screens.exported_modal import ExportedModal

        lines = (
            f"{message.rows} {_calls(message.rows)}, personal data masked, written to:",
            *(f"  {path}" for path in message.paths),
            "",
            "Audit chain head (keep it with the files; `callgate audit verify --expect-head`):",
            f"  event {message.head_seq} {message.head_hash}",
        )
        self.app.push_screen(ExportedModal("Export written", lines))

    def on_agents_loaded(self, message: AgentsLoaded) -> None:
        """Fill the agent filter."""
        options = [(plain(a.username), a.id) for a in message.agents]
        self.query_one("#f-agent", Select).set_options(options)

    def _status(self, text: str) -> None:
        self.query_one("#requests-status", Static).update(plain(text))


def _calls(count: int) -> str:
    return "call" if count == 1 else "calls"


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time()).astimezone()


def _kind_or_channel(value: str) -> tuple[SubscriptionKind | None, Channel | None]:
    if value.startswith("kind:"):
        return SubscriptionKind(value.removeprefix("kind:")), None
    if value.startswith("channel:"):
        return None, Channel(value.removeprefix("channel:"))
    return None, None
