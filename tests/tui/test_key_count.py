"""Every key counted: whole calls of each kind, and the keys that are not the caller's words.

A key is the caller's when it writes down what they said: the characters and
the one Enter that ends each part of an answer (a field). Everything else is
the desk's: starting the call, choosing and confirming the action, ticking its
points, ending the call. PRODUCT.md sections 6 and 9: a whole cancel-now call
needs at most 10 of those.

The calls run on the default risk tiers with codes going to a real SMTP
server on loopback: an action that needs proof of possession costs the desk
one key (Enter on the first destination), and the code the caller reads back
is the caller's words like any answer.
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
from tests.tui.drive import known_passphrase, last_call, on_file, settle, sign_in, text
from tui.screens.desk import DeskScreen
from tui.screens.end_call_modal import OUTCOME_LABELS, EndCallModal
from tui.screens.summary_modal import SummaryModal
from tui.widgets.item_form import field_id
from verification.items import ITEM_SPECS
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
    """Presses keys on the pilot and counts the desk's apart from the caller's."""

    def __init__(self, pilot: Pilot[int]) -> None:
        self.pilot = pilot
        self.desk: list[str] = []
        self.field_ends = 0

    async def press(self, *keys: str) -> None:
        """Keys of the desk's own."""
        self.desk.extend(keys)
        await self.pilot.press(*keys)
        await settle(self.pilot)

    async def read_back(self, inbox: Inbox) -> None:
        """The caller reads the code from the e-mail; it is written down, then Enter."""
        [*_, code] = inbox.codes()
        assert isinstance(self.pilot.app.focused, Input), self.pilot.app.focused
        self.pilot.app.post_message(events.Paste(code))
        await self.pilot.pause()
        self.field_ends += 1
        await self.pilot.press("enter")
        await settle(self.pilot)

    async def state(self, item: Item, stated: Mapping[str, str]) -> None:
        """Write down one answer as said: each part, then Enter; no Tab anywhere."""
        app = self.pilot.app
        for field in ITEM_SPECS[item].fields:
            assert app.focused is not None and app.focused.id == field_id(item, field), (
                f"expected {item}/{field} to have focus, not {app.focused!r}"
            )
            if stated.get(field):
                app.post_message(events.Paste(stated[field]))
                await self.pilot.pause()
            self.field_ends += 1
            await self.pilot.press("enter")
        await settle(self.pilot)


CALLS = [
    # caller, pin, the action keys after the gate opens, outcome
    (
        "jose.perez@contoso.example.com",
        None,
        ("c", "enter", CODE, "space", "space", "enter"),
        Outcome.CANCELED,
    ),
    ("j.mueller@mueller-soehne.example", DEMO_PIN, ("c", "space", "enter"), Outcome.CANCELED),
    ("liam.oconnor@wideworld.example", None, ("r", "enter"), Outcome.AUTO_RENEW_OFF),
    (
        "maria.garcia@adventure-works.example",
        None,
        ("x", "enter", CODE, "space", "enter"),
        Outcome.CANCELED,
    ),
    ("zoe@zoes-bakery.example", None, ("f4",), Outcome.INFORMED),
    ("kim.lee@contoso.example.com", None, ("f4",), Outcome.DENIED_NOT_ADMIN),
]


@pytest.mark.parametrize(("caller", "pin", "action", "outcome"), CALLS)
async def test_a_whole_call_needs_at_most_ten_desk_keys(
    factory: sessionmaker[Session],
    demo: DemoReport,
    make_app,
    inbox: Inbox,
    caller: str,
    pin: str | None,
    action: tuple[str, ...],
    outcome: Outcome,
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "agent", known_passphrase(factory, "agent"))
        keys = Keys(pilot)
        await keys.press("n")
        for item, stated in on_file(factory, caller, pin=pin).items():
            await keys.state(item, stated)
        for key in action:
            if key == CODE:
                await keys.read_back(inbox)
            else:
                await keys.press(key)
        # The end of the call is offered at once, what happened preselected.
        assert isinstance(app.screen, EndCallModal)
        await keys.press("enter")
        assert isinstance(app.screen, SummaryModal)
        assert f"Call #1 closed: {OUTCOME_LABELS[outcome]}" in text(app)
        # The summary waits for the next call: its n is the next call's key.
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)
        assert app.screen.view is not None and app.screen.view.call_id == 2

    assert len(keys.desk) <= DESK_KEY_BUDGET, keys.desk
    with factory() as session:
        from db.models import Call

        first = session.get(Call, 1)
        assert first is not None
        assert first.state is CallState.CLOSED
        assert first.outcome is outcome
    assert last_call(factory).state is CallState.OPEN
