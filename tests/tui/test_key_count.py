"""Every key counted literally: whole calls of each kind, every key not the caller's words.

A key is the caller's only when it is a character of what they said. Every
other key is the desk's and counted: starting the call, the Enter after each
answer, the action's key, the checklist's Enter, the Enter after the code,
ending the call. PRODUCT.md sections 6 and 9: a whole cancel-now call needs
at most 10 of those. The sign-in is not part of a call.

The calls run on the default risk tiers with codes going to a real SMTP
server on loopback; the code the caller reads back is the caller's words
like any answer (its Enter is not). The answers are typed as said: the
contact's whole name in its one field, the address in one line.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pytest
from sqlalchemy.orm import Session, sessionmaker
from textual import events
from textual.pilot import Pilot
from textual.widgets import Input

from db.demo import DEMO_PIN, DemoReport
from db.settings import Settings
from tests.helpers.gateways import Inbox, running_inbox
from tests.tui.drive import (
    known_passphrase,
    last_call,
    on_file,
    one_line,
    settle,
    sign_in,
    text,
    typed,
    until,
)
from tui.screens.desk import DeskScreen
from tui.screens.end_call_modal import OUTCOME_LABELS, EndCallModal
from tui.screens.summary_modal import SummaryModal
from tui.widgets.item_form import field_id, form_fields
from verification.kinds import CallState, Item, Outcome

DESK_KEY_BUDGET = 10
# Where a call's keys hold the code the caller reads back from the e-mail.
CODE = "<code>"


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with running_inbox() as server:
        yield server


@pytest.fixture
def step_up() -> bool:
    """These calls run on the default tiers: actions need their factor."""
    return True


@pytest.fixture
def settings(db_url: str, inbox: Inbox) -> Settings:
    """The default tiers, with codes sent by e-mail to the loopback SMTP server."""
    return Settings(
        database_url=db_url,
        smtp_host="127.0.0.1",
        smtp_port=inbox.port,
        smtp_tls="none",
        smtp_from="callgate@desk.example",
        delivery_timeout_seconds=5,
    )


class Keys:
    """Presses keys on the pilot and counts every one that is not a character of an answer."""

    def __init__(self, pilot: Pilot[int]) -> None:
        self.pilot = pilot
        self.desk: list[str] = []

    async def press(self, *keys: str) -> None:
        """Keys of the desk's own."""
        self.desk.extend(keys)
        await self.pilot.press(*keys)
        await settle(self.pilot)

    async def say(self, text: str) -> None:
        """The caller's words written down (one paste: characters, not counted), then Enter."""
        app = self.pilot.app
        assert isinstance(app.focused, Input), app.focused
        if text:
            app.post_message(events.Paste(text))
            await self.pilot.pause()
        await self.press("enter")

    async def read_back(self, inbox: Inbox) -> None:
        """The caller reads the code from the e-mail; it is written down, then Enter."""
        await until(self.pilot, lambda: bool(inbox.codes()))
        [*_, code] = inbox.codes()
        await self.say(code)

    async def state(self, item: Item, stated: Mapping[str, str]) -> None:
        """One answer as said, in the field the desk focused."""
        app = self.pilot.app
        first = form_fields(item)[0][0]
        assert app.focused is not None and app.focused.id == field_id(item, first), (
            f"expected {item} to have focus, not {app.focused!r}"
        )
        text = one_line(stated) if item is Item.ADDRESS else " ".join(typed(item, stated).values())
        await self.say(text)


# The phone numbers a stranger tries, each a miss, until the call locks.
WRONG_PHONES = ("+1 206 555 0101", "+1 206 555 0102", "+1 206 555 0103", "+1 206 555 0104")
LOCKED = "locked"

CALLS = [
    # kind, caller, pin, the action keys after the gate opens, outcome, keys at most
    (
        "cancel now",
        "jose.perez@contoso.example.com",
        None,
        ("c", "enter", CODE),
        Outcome.CANCELED,
        DESK_KEY_BUDGET,
    ),
    (
        "product key",
        "j.mueller@mueller-soehne.example",
        DEMO_PIN,
        ("c", "enter"),
        Outcome.CANCELED,
        10,
    ),
    (
        "auto-renew off",
        "liam.oconnor@wideworld.example",
        None,
        ("r", "enter"),
        Outcome.AUTO_RENEW_OFF,
        9,
    ),
    (
        "expedited",
        "maria.garcia@adventure-works.example",
        None,
        ("x", "enter", CODE),
        Outcome.EXPEDITED,
        10,
    ),
    ("informed", "zoe@zoes-bakery.example", None, ("f4",), Outcome.INFORMED, 8),
    ("not an admin", "kim.lee@contoso.example.com", None, ("f4",), Outcome.DENIED_NOT_ADMIN, 8),
    (
        "locked after misses",
        "jose.perez@contoso.example.com",
        None,
        LOCKED,
        Outcome.VERIFICATION_FAILED,
        8,
    ),
]


@pytest.mark.parametrize(("kind", "caller", "pin", "action", "outcome", "most"), CALLS)
async def test_a_whole_call_needs_at_most_ten_desk_keys(
    factory: sessionmaker[Session],
    demo: DemoReport,
    make_app,
    inbox: Inbox,
    kind: str,
    caller: str,
    pin: str | None,
    action: tuple[str, ...] | str,
    outcome: Outcome,
    most: int,
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "agent", known_passphrase(factory, "agent"))
        keys = Keys(pilot)
        await keys.press("n")
        answers = on_file(factory, caller, pin=pin)
        if action == LOCKED:
            await keys.state(Item.USER_ID, answers[Item.USER_ID])
            for wrong in WRONG_PHONES:
                await keys.say(wrong)
            await keys.press("f4")
        else:
            for item, stated in answers.items():
                await keys.state(item, stated)
            for key in action:
                if key == CODE:
                    await keys.read_back(inbox)
                else:
                    await keys.press(key)
        # The end of the call is offered at once, what happened preselected.
        assert isinstance(app.screen, EndCallModal), app.screen
        await keys.press("enter")
        assert isinstance(app.screen, SummaryModal)
        assert f"Call #1 closed: {OUTCOME_LABELS[outcome]}" in text(app)
        # The summary waits for the next call: its n is the next call's key.
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)
        assert app.screen.view is not None and app.screen.view.call_id == 2

    print(f"{kind}: {len(keys.desk)} keys: {' '.join(keys.desk)}")
    assert len(keys.desk) <= most <= DESK_KEY_BUDGET, keys.desk
    with factory() as session:
        from db.models import Call

        first = session.get(Call, 1)
        assert first is not None
        assert first.state is CallState.CLOSED
        assert first.outcome is outcome
    assert last_call(factory).state is CallState.OPEN
