"""The current item: the question to read out, its fields, and the last result.

Every item's fields are composed once and switched, so what the agent typed for
an item survives moving away and back, and a failed save never loses it.

The fields are what the agent types, not always the item's own
(``form_fields``): the contact's whole name is one field (the record's split
is ``verification.full_name``), and the address's line 1 takes the whole
address with commas, which fills the other fields as it is typed
(``verification.address_line``) for the agent to see before Enter. When
Enter checks, and when it moves on, is ``ItemForm.entered``.
"""

from __future__ import annotations

from typing import ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import ContentSwitcher, Input, Label, Static

from tui.widgets.plain import PlainInput, plain
from verification.items import ITEM_ORDER, ITEM_SPECS
from verification.kinds import Item

# The one sentence the agent reads to the caller after any miss: it never says
# which part was wrong (PRODUCT.md section 4, "Blind").
MISS_SENTENCE = "That doesn't match our records."
# The address parts without which Enter moves on instead of checking.
REQUIRED_ADDRESS = ("line1", "city", "postal_code")
_ADDRESS_WORDS = {
    "line1": "line 1",
    "city": "city",
    "postal_code": "postal code",
    "region": "region",
    "country": "country",
}


def form_fields(item: Item) -> tuple[tuple[str, str], ...]:
    """The fields the agent types ``item`` in, with their labels."""
    if item is Item.CONTACT_NAME:
        return (("name", "First Last"),)
    spec = ITEM_SPECS[item]
    return tuple(zip(spec.fields, spec.field_labels, strict=True))


def field_id(item: Item, field: str) -> str:
    """The DOM id of one field of one item."""
    return f"field-{item.value}-{field}"


class FieldInput(PlainInput):
    """A one-line field: Enter moves on or checks, as ``ItemForm.entered`` decides.

    Keys arriving together (a slow SSH link, a terminal without bracketed
    paste) must act in the order typed. The app hands each key to the field
    focused as it takes it, but a field types its keys in later. So Enter is
    a priority binding that holds every key typed after it
    (``tui.key_hold``) and queues itself behind the keys before it
    (``EnterQueued``): the decision reads the answer as it was at the Enter,
    and the keys behind it go where the decision leads (the next field, the
    next question, the same one after a miss).
    """

    class EnterQueued(Message):
        """Enter in ``field``, queued behind the keys typed before it."""

        def __init__(self, field: FieldInput) -> None:
            super().__init__()
            self.field = field

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "enter", "Check", priority=True),
        Binding("tab", "app.focus_next", "Next field", show=False, priority=True),
        Binding("shift+tab", "app.focus_previous", "Previous field", show=False, priority=True),
        Binding("down", "app.focus_next", "Next field", show=False, priority=True),
        Binding("up", "app.focus_previous", "Previous field", show=False, priority=True),
    ]

    def action_enter(self) -> None:
        """Hold the keys behind this Enter until the keys before it are in."""
        hold = getattr(self.app, "hold_keys", None)
        if hold is not None:
            hold()
        self.post_message(self.EnterQueued(self))


class ItemForm(Vertical):
    """Question, fields, inline input error and the result of the last check."""

    class Check(Message):
        """Enter asked for ``item`` to be checked with ``stated``."""

        def __init__(self, item: Item, stated: dict[str, str]) -> None:
            super().__init__()
            self.item = item
            self.stated = stated

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        # A blank country is this region (set by the desk from its settings).
        self.default_region = "US"

    def compose(self) -> ComposeResult:
        with ContentSwitcher(initial=f"item-{ITEM_ORDER[0].value}", id="item-switcher"):
            for item in ITEM_ORDER:
                spec = ITEM_SPECS[item]
                with Vertical(id=f"item-{item.value}", classes="item-pane"):
                    yield Static(spec.label, classes="item-label")
                    yield Static(plain(f"“{spec.question}”"), classes="question")
                    for field, label in form_fields(item):
                        with Horizontal(classes="field-row"):
                            yield Label(label, classes="field-label")
                            yield FieldInput(
                                id=field_id(item, field), password=spec.secret, compact=True
                            )
        yield Static("", id="input-error")
        yield Static("", id="check-result")

    def on_mount(self) -> None:
        """Line 1 says it takes the whole address."""
        self._field(Item.ADDRESS, "line1").placeholder = "or all of it: 1 Main St, City, ST 12345"

    def _field(self, item: Item, field: str) -> FieldInput:
        return self.query_one(f"#{field_id(item, field)}", FieldInput)

    def _fields(self, item: Item) -> list[FieldInput]:
        return [self._field(item, field) for field, _ in form_fields(item)]

    def show_item(self, item: Item) -> None:
        """Switch to ``item``'s question and fields, and focus its first field."""
        self.query_one("#item-switcher", ContentSwitcher).current = f"item-{item.value}"
        self.show_error("")
        first = self._fields(item)[0]
        # At once, so the keys held while the last check ran go to the new question.
        self.screen.set_focus(first)
        # Asked again after a miss: typing replaces the old answer, arrows keep it.
        first.select_all()

    def values(self, item: Item) -> dict[str, str]:
        """What the agent typed for ``item``, by field name."""
        return {field: self._field(item, field).value for field, _ in form_fields(item)}

    def clear(self, item: Item) -> None:
        """Blank ``item``'s fields (after a match, so nothing stale is kept)."""
        for field in self._fields(item):
            field.value = ""

    def reset(self) -> None:
        """Blank every field and message, ready for the next call."""
        for item in ITEM_ORDER:
            self.clear(item)
        self.show_error("")
        self.show_result("", None)

    # --- Enter ----------------------------------------------------------------

    @on(FieldInput.EnterQueued)
    def _enter_queued(self, message: FieldInput.EnterQueued) -> None:
        message.stop()
        self.entered(message.field)

    def entered(self, field: FieldInput) -> None:
        """Enter in ``field``: check its item, or move on (and give the held keys back).

        One-field items check. The address checks from line 1 holding the
        whole address, and from any part once line 1, the city and the
        postal code are filled and nothing after it is (the last part
        typed; line 2 or a region left blank need no Enter), or from the
        country with line 1 and the city; otherwise Enter goes to the next
        part, and from the country to the part still missing.
        """
        item = next(i for i in ITEM_ORDER if field in self._fields(i))
        fields = self._fields(item)
        position = fields.index(field)
        if item is Item.ADDRESS:
            whole = position == 0 and self._split_line1(apply=True)
            values = self.values(item)
            filled = all(values[name].strip() for name in REQUIRED_ADDRESS)
            after = [f.value.strip() for f in fields[position + 1 :]]
            last = position + 1 == len(fields)
            checks = filled and (whole or not any(after))
            checks = checks or (last and all(values[n].strip() for n in ("line1", "city")))
            if not checks and (whole or last):
                missing = [n for n in REQUIRED_ADDRESS if not values[n].strip()]
                words = " and ".join(_ADDRESS_WORDS[n] for n in missing)
                self.show_error(f"⚠ The {words} still to type (not checked).")
                self._move(self._field(item, missing[0]))
                return
        else:
            checks = position + 1 == len(fields)
        if checks:
            self.post_message(self.Check(item, self.values(item)))
        else:
            self._move(fields[position + 1])

    def _move(self, field: FieldInput) -> None:
        self.screen.set_focus(field)
        release = getattr(self.app, "release_keys", None)
        if release is not None:
            release()

    # --- the address in one line ---------------------------------------------

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        if event.input.id == field_id(Item.ADDRESS, "line1"):
            self._split_line1(apply=False)

    @on(events.DescendantBlur)
    def _left(self, event: events.DescendantBlur) -> None:
        if event.widget.id == field_id(Item.ADDRESS, "line1"):
            self._split_line1(apply=True)

    def _split_line1(self, *, apply: bool) -> bool:
        """Fill the parts from a whole address in line 1; ``apply``: line 1 keeps its street."""
        line1 = self._field(Item.ADDRESS, "line1")
        from verification.address_line import split_address, whole_address

        if not whole_address(line1.value):
            return False
        parts = split_address(line1.value, self.default_region)
        if parts is None:
            return False
        for name, value in parts.items():
            if name != "line1":
                self._field(Item.ADDRESS, name).value = value
        if apply:
            line1.value = parts["line1"]
        else:
            self.show_error(f"Read as street “{parts['line1']}”: Enter checks the fields below.")
        return True

    # --- messages -------------------------------------------------------------

    def focus_error(self, item: Item, detail: str) -> None:
        """After an input error, the field it is about (by its words), else the one Enter was in.

        Its text selected, so the answer typed again replaces it.
        """
        fields = dict(zip([f for f, _ in form_fields(item)], self._fields(item), strict=True))
        named = [f for name, f in fields.items() if _ADDRESS_WORDS.get(name, "~") in detail]
        focused = self.screen.focused
        target = named[0] if named else focused if focused in fields.values() else None
        field = target if isinstance(target, FieldInput) else next(iter(fields.values()))
        self.screen.set_focus(field)
        field.select_all()

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
