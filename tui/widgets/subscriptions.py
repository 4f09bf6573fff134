"""The verified tenant's subscriptions and what the policy allows for each."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widgets import DataTable, Static

from tui.widgets.plain import cell, visible
from verification.kinds import Channel, ExpeditedState
from verification.policy import Action, Option

if TYPE_CHECKING:
    from db.desk import SubscriptionView

# The desk's action keys and the policy actions they stand for, in key order.
# "x" is expedited deprovisioning: with cancel-now when the subscription is
# still running, on its own when it is already canceled.
ACTION_KEYS: dict[str, tuple[str, tuple[Action, ...]]] = {
    "cancel_now": ("c/F7", (Action.CANCEL_NOW,)),
    "auto_renew_off": ("r/F8", (Action.AUTO_RENEW_OFF,)),
    "expedited": ("x/F9", (Action.CANCEL_NOW_WITH_EXPEDITED, Action.EXPEDITED_DEPROVISIONING)),
}
CHANNEL_NAMES = {
    Channel.DIRECT: "direct",
    Channel.PRODUCT_KEY: "key",
    Channel.OPEN: "Open",
    Channel.FPP: "FPP",
}
# Wide enough for most product names, narrow enough for the table to fit 80 columns.
PRODUCT_WIDTH = 22


def find_option(sub: SubscriptionView, kind: str) -> Option | None:
    """The policy option behind an action key (``cancel_now``…), if offered."""
    _key, actions = ACTION_KEYS[kind]
    offered = {option.action: option for option in sub.decision.options}
    return next((offered[a] for a in actions if a in offered), None)


def key_for(action: Action) -> str:
    """The key that offers ``action``."""
    return next(key for key, actions in ACTION_KEYS.values() if action in actions)


def format_date(day: date) -> str:
    """A date as the desk shows it (ISO: unambiguous, sorts)."""
    return day.isoformat()


def consequences(option: Option) -> tuple[str, ...]:
    """What the confirmation shows: warnings, the dates that follow, approval."""
    lines = [f"⚠ {warning}" for warning in option.warnings]
    for label, day in option.effects:
        # Said in full on the last screen before it happens: deletion is final.
        label = label.replace("data deleted", "data permanently deleted")
        lines.append(f"• {label.capitalize()}: {format_date(day)}")
    if option.needs_approval:
        lines.append("• Recorded as waiting for a supervisor's approval (not yours).")
    return tuple(lines)


def _allows(sub: SubscriptionView) -> str:
    """The action keys offered, as letters: the detail below spells them out."""
    keys = dict.fromkeys(key_for(o.action).split("/")[0] for o in sub.decision.options)
    return " ".join(keys) or "—"


def _status(sub: SubscriptionView) -> str:
    if sub.expedited is ExpeditedState.PENDING:
        return f"{sub.status.value}*"
    return sub.status.value


class SubscriptionTable(DataTable[Any]):
    """The subscriptions, whose action keys act as the app takes them.

    As priority bindings (here only, where no text is typed) the action
    runs before the next key is handed on, so "r⏎" typed together opens the
    checklist and its Enter confirms it, instead of the Enter choosing the
    row first. A key the desk dims falls through to its "why" binding.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(key, f"screen.act('{kind}')", show=False, priority=True)
        for kind, keys in (
            ("cancel_now", "c,f7"),
            ("auto_renew_off", "r,f8"),
            ("expedited", "x,f9"),
        )
        for key in keys.split(",")
    ]


class SubscriptionPanel(Vertical):
    """A table of subscriptions and, below it, the highlighted one's policy."""

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self._subs: tuple[SubscriptionView, ...] = ()
        self._note = ""

    def compose(self) -> ComposeResult:
        yield SubscriptionTable(id="sub-table", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="sub-detail-scroll"):
            yield Static("", id="sub-detail")

    def show(self, subs: tuple[SubscriptionView, ...], note: str = "") -> None:
        """Fill the table, keeping the highlighted row, and focus it.

        ``note`` is said under every subscription (no code sender configured).
        """
        self._note = note
        table = self.query_one(DataTable)
        row = table.cursor_row
        if subs != self._subs:
            self._subs = subs
            # Columns too, so their widths fit the new values ("canceled*").
            table.clear(columns=True)
            table.add_column("Product", width=PRODUCT_WIDTH)
            table.add_columns("Kind", "Status", "Term end", "Renew", "Allows")
            for sub in subs:
                table.add_row(
                    cell(sub.product_name),
                    f"{sub.kind.value}/{CHANNEL_NAMES[sub.channel]}",
                    _status(sub),
                    format_date(sub.term_end),
                    "on" if sub.auto_renew else "off",
                    _allows(sub),
                    key=str(sub.id),
                )
            if subs:
                table.move_cursor(row=min(row, len(subs) - 1))
        table.focus()
        self.show_detail()

    def selected(self) -> SubscriptionView | None:
        """The highlighted subscription."""
        if not self._subs:
            return None
        row = self.query_one(DataTable).cursor_row
        return self._subs[min(max(row, 0), len(self._subs) - 1)]

    def show_detail(self) -> None:
        """What the desk says about the highlighted subscription and its keys."""
        sub = self.selected()
        text = Text()
        if sub is None:
            text.append("No subscriptions on file.")
        else:
            text.append(f"{visible(sub.product_name)}\n", style="bold")
            text.append(f"{visible(sub.decision.message)}\n")
            if sub.expedited is ExpeditedState.PENDING:
                text.append("* Expedited deprovisioning pending a supervisor's approval.\n")
            dates = " · ".join(f"{label} {format_date(day)}" for label, day in sub.decision.dates)
            text.append(f"{dates}\n", style="dim")
            for option in sub.decision.options:
                text.append(f"[{key_for(option.action)}] ", style="bold")
                text.append(option.label)
                step = sub.step_up(option.action)
                if step is not None and step.needs_factor:
                    # The factor step comes first; the key opens it.
                    text.append(" · proof of possession first", style="dim")
                text.append("\n")
            if not sub.decision.options:
                text.append("Nothing (more) can be done for this subscription.", style="italic")
            elif self._note and any(s.needs_factor for s in sub.step_ups):
                text.append(
                    f"{visible(self._note[:1].upper() + self._note[1:])}.\n", style="italic"
                )
        self.query_one("#sub-detail", Static).update(text)
