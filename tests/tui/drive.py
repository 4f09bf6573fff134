"""Driving the desk as an agent does: keys in, screen text and database rows out."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from textual import events
from textual.pilot import Pilot

from db.models import AccountUser, Call, Tenant
from db.staff.agents import get_agent, reset_agent
from tests.helpers.totp import TOTP_SECRET, next_code
from tests.tui.conftest import screen_text
from tui.app import CallgateApp
from tui.widgets.item_form import field_id, form_fields
from verification.kinds import Item, Role

PASSPHRASE = "demo passphrase for tests"


def known_passphrase(factory: sessionmaker[Session], username: str) -> str:
    """Give a demo agent a passphrase the test knows (demo ones are random).

    A supervisor also gets the tests' second factor (``TOTP_SECRET``), which
    ``sign_in`` types the code of.
    """
    supervisor = get_agent(factory, username).role is Role.SUPERVISOR
    reset_agent(
        factory,
        username,
        PASSPHRASE,
        reason="a passphrase the test knows",
        totp_secret=TOTP_SECRET if supervisor else None,
    )
    return PASSPHRASE


def on_file(
    factory: sessionmaker[Session], user_id: str, pin: str | None = None
) -> dict[Item, dict[str, str]]:
    """What a genuine caller with ``user_id`` states for every item, by field."""
    with factory() as session:
        user = session.scalars(select(AccountUser).where(AccountUser.user_id == user_id)).one()
        tenant: Tenant = user.tenant
        answers = {
            Item.USER_ID: {"value": user_id},
            Item.PHONE: {"value": tenant.phone_e164},
            Item.CONTACT_NAME: {
                "first": tenant.contact_first_name,
                "last": tenant.contact_last_name,
            },
            Item.ORGANIZATION: {"value": tenant.organization},
            Item.ADDRESS: {
                "line1": tenant.address_line1,
                "line2": tenant.address_line2,
                "city": tenant.city,
                "region": tenant.region,
                "postal_code": tenant.postal_code,
                "country": tenant.country,
            },
        }
        if tenant.support_pin_hash is not None:
            assert pin is not None, "this tenant has a support PIN: pass it"
            answers[Item.PIN] = {"value": pin}
        return answers


async def settle(pilot: Pilot[int]) -> None:
    """Let every database worker finish and the screen catch up.

    Three rounds: a message a worker posts may start another worker (a
    decision reloads the detail; a queue action reloads the queue).
    """
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def until(pilot: Pilot[int], condition: Callable[[], bool], seconds: float = 5) -> None:
    """Wait for something the desk does on a timer (its one-second tick, a delay)."""
    for _ in range(int(seconds / 0.1)):
        if condition():
            break
        await pilot.pause(0.1)
    await settle(pilot)


async def sign_in(
    pilot: Pilot[int], username: str, passphrase: str, *, typed: bool = False
) -> None:
    """Give the credentials, Enter after each, as on the sign-in screen.

    With ``typed`` every character is a key press, as an agent types;
    otherwise each value arrives as one paste (faster in the pilot). When the
    screen then asks for the second factor's code, the code an authenticator
    app would show at the desk's clock is typed too.
    """
    if typed:
        await pilot.click("#username")
        await pilot.press(*username, "enter", *passphrase, "enter")
    else:
        for value in (username, passphrase):
            pilot.app.post_message(events.Paste(value))
            await pilot.pause()
            await pilot.press("enter")
    await settle(pilot)
    if pilot.app.screen.has_class("-code"):
        app: CallgateApp = pilot.app  # type: ignore[assignment]
        code = next_code(app.factory(), username.strip().lower(), app.clock())
        await pilot.press(*code, "enter")
        await settle(pilot)


async def start_call(pilot: Pilot[int]) -> None:
    """Press n on the idle desk."""
    await pilot.press("n")
    await settle(pilot)


@asynccontextmanager
async def signed_in(
    app: CallgateApp,
    factory: sessionmaker[Session],
    username: str = "agent",
    *,
    size: tuple[int, int] = (80, 24),
    call: bool = False,
) -> AsyncIterator[Pilot[int]]:
    """The app running at ``size``, ``username`` (a demo account) signed in; a call started too."""
    async with app.run_test(size=size, notifications=True) as pilot:
        await sign_in(pilot, username, known_passphrase(factory, username))
        if call:
            await start_call(pilot)
        yield pilot


async def answer(
    pilot: Pilot[int], item: Item, stated: Mapping[str, str], keys: bool = False
) -> None:
    """Put ``stated`` in ``item``'s fields (Tab between them) and press Enter.

    With ``keys`` every character is a key press, as typed; otherwise each
    field's text arrives as one paste (the pilot spends ~60 ms per key). The
    desk must already have focused the item's first field: that is how the
    agent knows which question to read out next.
    """
    app = pilot.app
    fields = [field for field, _ in form_fields(item)]
    stated = typed(item, stated)
    assert app.focused is not None and app.focused.id == field_id(item, fields[0]), (
        f"expected the first field of {item} to have focus, not {app.focused!r}"
    )
    for number, field in enumerate(fields):
        if number:
            await pilot.press("tab")
        await pilot.press("ctrl+u")
        value = stated.get(field, "")
        if keys:
            await pilot.press(*value)
        elif value:
            app.post_message(events.Paste(value))
            await pilot.pause()
    await pilot.press("enter")
    await settle(pilot)


def typed(item: Item, stated: Mapping[str, str]) -> dict[str, str]:
    """``stated`` by the desk's fields: the contact's whole name is one field."""
    if item is Item.CONTACT_NAME and "name" not in stated:
        return {"name": f"{stated.get('first', '')} {stated.get('last', '')}".strip()}
    return dict(stated)


def one_line(address: Mapping[str, str]) -> str:
    """An address as a caller says it in one go: its parts, commas between."""
    names = ("line1", "line2", "city")
    head = [address[n] for n in names if address.get(n)]
    tail = " ".join(address[n] for n in ("region", "postal_code") if address.get(n))
    return ", ".join([*head, tail, *([address["country"]] if address.get("country") else [])])


async def burst(pilot: Pilot[int], keys: str | list[str]) -> None:
    """Keys arriving together, as one read from the terminal (a paste without
    bracketed paste, a slow SSH link): all queued at once, then settled.

    ``pilot.press`` waits after each key, so it never shows what a burst does.
    """
    for key in keys:
        character = {"tab": "\t", "enter": "\r"}.get(key, key)
        pilot.app.post_message(events.Key("space" if key == " " else key, character))
    await settle(pilot)


async def verify_all(
    pilot: Pilot[int], answers: Mapping[Item, Mapping[str, str]], keys: bool = False
) -> None:
    """Answer every item the desk asks for, in the order it asks."""
    for item, stated in answers.items():
        await answer(pilot, item, stated, keys)


async def end_call(pilot: Pilot[int], *keys: str) -> None:
    """F4, optionally move in the outcome list, Enter; then dismiss the summary."""
    await pilot.press("f4")
    await pilot.pause()
    await pilot.press(*keys, "enter")
    await settle(pilot)


def text(app: CallgateApp) -> str:
    """The screen as the agent sees it now."""
    return screen_text(app)


def last_call(factory: sessionmaker[Session]) -> Call:
    """The most recent call, with its checks loaded."""
    with factory() as session:
        call = session.scalars(select(Call).order_by(Call.id.desc())).first()
        assert call is not None
        _ = list(call.checks)
        return call
