"""The current item: the question to read out, its fields, and the last result.

Every item's fields are composed once and switched, so what the agent typed for
an item survives moving away and back, and a failed save never loses it.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import ContentSwitcher, Label, Static

from tui.widgets.plain import PlainInput, plain
from verification.items import ITEM_ORDER, ITEM_SPECS
from verification.kinds import Item

# The one sentence the agent reads to the caller after any miss: it never says
# which part was wrong (PRODUCT.md section 4, "Blind").
MISS_SENTENCE = "That doesn't match our records."


class FieldInput(PlainInput):
    """A one-line field: Enter moves to the item's next field, and checks it in the last.

    So a many-field answer (a name, an address) is typed as the caller says
    it, Enter after each part, with no Tab; up/down move between fields too.

    Keys arriving together (a slow SSH link, a terminal without bracketed
    paste) must act in the order typed. The app hands each key to the field
    focused as it takes it, but runs a field's ordinary bindings only once
    the key has bubbled back up, after the keys behind it were typed in. So
    these bindings have priority (run as the app takes the key): moving on
    changes the focus at once, and Enter in the last field queues its check
    behind the keys already in the field (``CheckRequested``), so the check
    reads the answer as it was at the Enter.
    """

    class CheckRequested(Message):
        """Enter in the item's last field, queued behind the keys typed before it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "enter", "Check", priority=True),
        Binding("tab", "app.focus_next", "Next field", show=False, priority=True),
        Binding("shift+tab", "app.focus_previous", "Previous field", show=False, priority=True),
        Binding("down", "app.focus_next", "Next field", show=False, priority=True),
        Binding("up", "app.focus_previous", "Previous field", show=False, priority=True),
    ]

    def action_enter(self) -> None:
        """On to the item's next field at once; in its last, check it once typed in."""
        pane = self.parent.parent if self.parent is not None else None
        fields = list(pane.query(FieldInput)) if pane is not None else [self]
        position = fields.index(self)
        if position + 1 < len(fields):
            # ``focus()`` would wait for the queue, and the keys behind it with it.
            self.screen.set_focus(fields[position + 1])
        else:
            self.post_message(self.CheckRequested())

    async def on_field_input_check_requested(self, message: CheckRequested) -> None:
        """The keys before the Enter are in: submit the answer as it stands now."""
        message.stop()
        await self.action_submit()


def field_id(item: Item, field: str) -> str:
    """The DOM id of one field of one item."""
    return f"field-{item.value}-{field}"


class ItemForm(Vertical):
    """Question, fields, inline input error and the result of the last check."""

    def compose(self) -> ComposeResult:
        with ContentSwitcher(initial=f"item-{ITEM_ORDER[0].value}", id="item-switcher"):
            for item in ITEM_ORDER:
                spec = ITEM_SPECS[item]
                with Vertical(id=f"item-{item.value}", classes="item-pane"):
                    yield Static(spec.label, classes="item-label")
                    yield Static(plain(f"“{spec.question}”"), classes="question")
                    for field, label in zip(spec.fields, spec.field_labels, strict=True):
                        with Horizontal(classes="field-row"):
                            yield Label(label, classes="field-label")
                            yield FieldInput(
                                id=field_id(item, field), password=spec.secret, compact=True
                            )
        yield Static("", id="input-error")
        yield Static("", id="check-result")

    def show_item(self, item: Item) -> None:
        """Switch to ``item``'s question and fields, and focus its first field."""
        self.query_one("#item-switcher", ContentSwitcher).current = f"item-{item.value}"
        self.show_error("")
        first = self.query_one(f"#{field_id(item, ITEM_SPECS[item].fields[0])}", FieldInput)
        # At once, so keys typed while the last check ran go to the new question.
        self.screen.set_focus(first)
        # Asked again after a miss: typing replaces the old answer, arrows keep it.
        first.select_all()

    def values(self, item: Item) -> dict[str, str]:
        """What the agent typed for ``item``, by field name."""
        return {
            field: self.query_one(f"#{field_id(item, field)}", FieldInput).value
            for field in ITEM_SPECS[item].fields
        }

    def clear(self, item: Item) -> None:
        """Blank ``item``'s fields (after a match, so nothing stale is kept)."""
        for field in ITEM_SPECS[item].fields:
            self.query_one(f"#{field_id(item, field)}", FieldInput).value = ""

    def reset(self) -> None:
        """Blank every field and message, ready for the next call."""
        for item in ITEM_ORDER:
            self.clear(item)
        self.show_error("")
        self.show_result("", None)

    def show_error(self, text: str) -> None:
        """The input error under the fields; not an attempt."""
        self.query_one("#input-error", Static).update(plain(text))

    def show_result(self, label: str, matched: bool | None, note: str = "") -> None:
        """The last check: "Match" (with ``note``), the miss sentence, or nothing (None)."""
        result = self.query_one("#check-result", Static)
        result.remove_class("match", "miss")
        if matched is None:
            result.update("")
        elif matched:
            result.add_class("match")
            result.update(plain(f"{label}: ✓ Match ({note})" if note else f"{label}: ✓ Match"))
        else:
            result.add_class("miss")
            result.update(plain(f"{label}: ✗ Miss", f"Say: “{MISS_SENTENCE}”"))
