"""The desk at a glance: calls per day as a chart, pass rate, outcomes, per agent."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Footer, Sparkline, Static

from db.review.figures import EXPEDITED
from tui.screens.end_call_modal import OUTCOME_LABELS
from tui.screens.supervisor_base import SupervisorScreen
from tui.widgets.plain import cell
from verification.kinds import Outcome

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from db.review import Numbers


class NumbersLoaded(Message):
    """The numbers, freshly aggregated."""

    def __init__(self, numbers: Numbers) -> None:
        super().__init__()
        self.numbers = numbers


def duration(seconds: float | None) -> str:
    """``m:ss`` for a handle time; a dash when there is none."""
    if seconds is None:
        return "—"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}:{rest:02d}"


def percent(share: float | None) -> str:
    """A share as a whole percentage; a dash when undefined."""
    return "—" if share is None else f"{share:.0%}"


class SupervisorNumbersScreen(SupervisorScreen):
    """Numbers over the last 30 days, computed by the database."""

    CSS_PATH = "supervisor.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f5", "refresh", "Refresh"),
        Binding("escape", "close", "Back"),
    ]

    def compose(self) -> ComposeResult:
        yield Static("Supervisor desk — numbers, last 30 days", classes="screen-title")
        with VerticalScroll(id="numbers-body"):
            yield Static("Calls per day", classes="section")
            yield Sparkline([], id="per-day")
            yield Static("", id="per-day-axis", classes="axis")
            yield Static("Loading…", id="totals")
            yield Static("Per agent", classes="section")
            table: DataTable[str] = DataTable(id="agents", cursor_type="none", show_cursor=False)
            table.add_columns(
                "Agent", "Calls", "Verified", "Failed", "Canceled", "Expedited", "Mean handle"
            )
            yield table
        yield Footer()

    def on_mount(self) -> None:
        """Aggregate."""
        self._load()

    def action_refresh(self) -> None:
        """Aggregate again."""
        self._load()

    def action_close(self) -> None:
        """Back to the queue."""
        self.app.pop_screen()

    @work(thread=True, group="load", exclusive=True)
    def _load(self) -> None:
        actor, now = self.agent.id, self.desk.clock()

        def load(factory: sessionmaker[Session]) -> None:
            from db.review import numbers

            self.post_message(NumbersLoaded(numbers(factory, actor, now)))

        self.review_call("computing the numbers", load)

    def on_numbers_loaded(self, message: NumbersLoaded) -> None:
        """Draw the chart, the totals and the agent table."""
        n = message.numbers
        self.query_one("#per-day", Sparkline).data = [float(c) for c in n.calls_per_day]
        busiest = max(n.calls_per_day, default=0)
        self.query_one("#per-day-axis", Static).update(
            f"{n.first_day:%Y-%m-%d} … {n.last_day:%Y-%m-%d} · busiest day {busiest} calls"
        )
        outcomes = " · ".join(f"{_outcome_word(name)} {count}" for name, count in n.outcomes)
        outcomes = outcomes or "none"
        self.query_one("#totals", Static).update(
            f"Calls {n.calls} · verification pass rate {percent(n.pass_rate)} "
            f"({n.verified} verified, {n.failed} failed) · "
            f"median handle time {duration(n.median_handle_seconds)}\n"
            f"Outcomes: {outcomes}"
        )
        table = self.query_one("#agents", DataTable)
        table.clear()
        for agent in n.agents:
            table.add_row(
                cell(agent.agent),
                str(agent.calls),
                str(agent.verified),
                str(agent.failed),
                str(agent.canceled),
                str(agent.expedited),
                duration(agent.average_handle_seconds),
            )


def _outcome_word(name: str) -> str:
    """An outcome as the desk says it ("Verification failed"); "open" for calls not ended."""
    if name == "open":
        return "Still open"
    if name == EXPEDITED:
        return "Expedited deletion only"
    return OUTCOME_LABELS[Outcome(name)]
