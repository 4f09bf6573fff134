"""Blind verification on screen: no on-file value of an unmatched item is ever shown."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from db.demo import DemoReport
from tests.tui.drive import answer, known_passphrase, sign_in, start_call, text
from tui.app import CallgateApp
from verification.kinds import Item

CALLER = "jose.perez@contoso.example.com"
# Contoso's record (db.demo), in the forms a screen could show it. The user ID
# is stated and matched first, so only the other items' values are secret.
ON_FILE = (
    "+14255550101",
    "4255550101",
    "425-555-0101",
    "(425) 555-0101",
    "555-0101",
    "José",
    "Jose",
    "Pérez",
    "Perez",
    "Contoso",
    "CONTOSO",
    "North Main",
    "N Main",
    "Suite 400",
    "Ste 400",
    "Springfield",
    "SPRINGFIELD",
    "62704",
    "contoso.example.com",  # the custom domains are shown only once the gate opens
)
# What the caller wrongly states: none of it overlaps the record.
WRONG = (
    (Item.PHONE, {"value": "206-555-0142"}),
    (Item.CONTACT_NAME, {"first": "Jon", "last": "Smith"}),
    (Item.ORGANIZATION, {"value": "Fabrikam"}),
    (
        Item.ADDRESS,
        {
            "line1": "1 Lake Road",
            "city": "Chicago",
            "region": "IL",
            "postal_code": "60601",
            "country": "US",
        },
    ),
)


def leaks(app: CallgateApp) -> list[str]:
    """The on-file values the screen shows now, case-sensitively for names.

    The matched user ID contains lowercase "jose", "perez" and "contoso": it
    was said by the caller, so only the record's own spellings count.
    """
    screen = text(app)
    return [value for value in ON_FILE if value in screen.replace(CALLER, "")]


async def test_no_on_file_value_is_rendered_during_a_failing_call(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    app = make_app()
    seen: list[str] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "agent", known_passphrase(factory, "agent"))
        await start_call(pilot)
        await answer(pilot, Item.USER_ID, {"value": CALLER})
        assert leaks(app) == []
        for number, (item, stated) in enumerate(WRONG):
            if number:
                await pilot.press("pagedown")  # a miss stays on its item: move on
            await answer(pilot, item, stated)
            seen.append(text(app))
            assert leaks(app) == [], f"after stating {item}"
        await pilot.press("f4")
        assert leaks(app) == [], "in the end-call dialog"
        await pilot.press("enter")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert leaks(app) == [], "in the summary"
        seen.append(text(app))

    # The steps really were misses and a lock, not something that hid them.
    assert "✗ Miss" in seen[0]
    assert "closed: Verification failed" in seen[-1]
