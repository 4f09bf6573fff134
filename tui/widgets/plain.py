"""Data is never markup: the one home of how the desk shows untrusted text.

Everything a caller states, an import carries, or an agent or supervisor
types (names, organizations, product names, notes, reasons, input errors that
quote typed text, display names) reaches a widget through this module, as a
Textual ``Content`` or a Rich ``Text``: never a string a widget would read as
markup (PRODUCT.md §4 "Untrusted text"). Characters a terminal would act on
instead of showing are made visible here too, so a value cannot move the
cursor, recolour or clear the screen, reorder a line or break it: C0 controls
and DEL become their control pictures (``\\x1b`` → ␛, ``\\r`` → ␍, ``\\n`` → ␊);
C1 controls, bidirectional overrides, line and paragraph separators and lone
surrogates become �. Newlines belong to the screens, never to a value:
``plain`` takes the lines of a block as separate arguments.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widgets import Input

if TYPE_CHECKING:
    from textual.app import App
    from textual.notifications import SeverityLevel
    from textual.widget import Widget

_PICTURES = {code: chr(0x2400 + code) for code in range(0x20)} | {0x7F: "\u2421"}
_REPLACED = {code: "\ufffd" for code in range(0x80, 0xA0)} | {
    ord(char): "\ufffd"
    for char in "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2066\u2067\u2068\u2069\u2028\u2029"
}
_TABLE = _PICTURES | _REPLACED


def visible(text: str) -> str:
    """``text`` with every character a terminal would act on shown as a symbol."""
    shown = text.translate(_TABLE)
    if shown.isprintable():  # the common case: nothing else to look at
        return shown
    # Lone surrogates cannot be written to the terminal at all.
    return "".join("\ufffd" if 0xD800 <= ord(char) <= 0xDFFF else char for char in shown)


def plain(*lines: str) -> Content:
    """Lines of text for a widget, shown literally, joined with newlines."""
    return Content("\n".join(visible(line) for line in lines))


def cell(value: str, *, fold: bool = False) -> Text:
    """One table cell: a line cut at the column's edge, or with ``fold`` wrapped
    onto as many lines as it needs (for rows of height None)."""
    if fold:
        return Text(visible(value), overflow="fold")
    # As DataTable draws a plain string in a row of height 1.
    return Text(visible(value), no_wrap=True, end="")


def notify(
    target: Widget | App[Any],
    *lines: str,
    title: str = "",
    severity: SeverityLevel = "information",
    timeout: float | None = None,
) -> None:
    """A notice whose lines may quote data (a product name, a database message)."""
    target.notify(
        "\n".join(visible(line) for line in lines),
        title=visible(title),
        severity=severity,
        timeout=timeout,
        markup=False,
    )


class PlainInput(Input):
    """A field for typed data: a paste cannot bring control characters in.

    Keys only type printable characters; a paste is shown and kept as
    ``visible`` makes it, so the value stored is the value seen.
    """

    def replace(self, text: str, start: int, end: int) -> None:
        """Replace ``start:end`` with ``text`` made visible (see the module)."""
        super().replace(visible(text), start, end)


class TabInput(PlainInput):
    """A field Tab leaves at once: "2026-12-01⇥2026-12-31" typed in one burst splits at the Tab.

    Tab normally moves focus only once it has bubbled back up to the app,
    after the keys behind it were typed into this field; as a priority
    binding it moves as the app takes the key (``tui.widgets.item_form``).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "app.focus_next", "Next field", show=False, priority=True),
        Binding("shift+tab", "app.focus_previous", "Previous field", show=False, priority=True),
    ]
