"""The hardening findings walked through the real desks (issue 11, items 1 and 4).

A caller who guesses the support PIN, hangs up and calls again is stopped by
the desk itself after ``tenant_max_misses`` wrong guesses; a supervisor who
takes a call, misses an item and opens that call on the supervisor desk reads
nothing the caller missed.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from db.demo import DEMO_PIN, DemoReport
from db.models import ItemCheck, Tenant
from db.settings import Settings
from tests.helpers.policy import DEFAULTS
from tests.tui.drive import (
    answer,
    end_call,
    known_passphrase,
    on_file,
    settle,
    sign_in,
    start_call,
    text,
)
from tui.screens.supervisor_queue import SupervisorQueueScreen
from tui.screens.supervisor_request import SupervisorRequestScreen
from tui.screens.supervisor_requests import SupervisorRequestsScreen
from tui.widgets.item_form import field_id, form_fields
from verification.kinds import CheckResult, Item

PIN_CALLER = "j.mueller@mueller-soehne.example"
BLIND_CALLER = "jose.perez@contoso.example.com"


def _asks(app: object, item: Item) -> bool:
    focused = app.focused  # type: ignore[attr-defined]
    return focused is not None and focused.id == field_id(item, form_fields(item)[0][0])


def _pin_misses(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(ItemCheck)
                .where(ItemCheck.item == Item.PIN, ItemCheck.result == CheckResult.MISMATCH)
            )
            or 0
        )


async def test_hanging_up_between_pin_guesses_locks_the_tenant_on_the_desk(
    factory: sessionmaker[Session], demo: DemoReport, settings: Settings, make_app
) -> None:
    answers = on_file(factory, PIN_CALLER, DEMO_PIN)
    public = {item: fields for item, fields in answers.items() if item is not Item.PIN}
    guesses = (f"{n:04d}" for n in range(1000, 10_000) if f"{n:04d}" != DEMO_PIN)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "agent", known_passphrase(factory, "agent"))
        for _ in range(4):
            await start_call(pilot)
            for item, fields in public.items():
                if not _asks(app, item):
                    break  # the desk takes no more items from this caller
                await answer(pilot, item, fields)
            else:
                for _ in range(DEFAULTS.max_misses):
                    app.screen.query_one("#" + field_id(Item.PIN, "value")).focus()
                    await settle(pilot)
                    await answer(pilot, Item.PIN, {"value": next(guesses)})
            await end_call(pilot)
            await pilot.press("enter")  # the read-back summary
            await settle(pilot)
        # The next call is stopped as soon as the account is found.
        await start_call(pilot)
        await answer(pilot, Item.USER_ID, public[Item.USER_ID])
        assert "locked for phone cancellation" in text(app)
        assert not _asks(app, Item.PHONE)

    assert _pin_misses(factory) <= DEFAULTS.tenant_max_misses
    with factory() as session:
        tenant = session.scalars(select(Tenant).where(Tenant.ref == "DEMO-03")).one()
        assert tenant.locked_at is not None


async def test_a_supervisor_reads_nothing_their_own_open_call_missed(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    stated = on_file(factory, BLIND_CALLER)
    phone = stated[Item.PHONE]["value"]
    organization = stated[Item.ORGANIZATION]["value"]
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "supervisor", known_passphrase(factory, "supervisor"))
        await start_call(pilot)
        await answer(pilot, Item.USER_ID, stated[Item.USER_ID])
        await answer(pilot, Item.PHONE, {"value": "030 1234567"})
        await pilot.press("f6")
        await settle(pilot)
        assert isinstance(app.screen, SupervisorQueueScreen)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, SupervisorRequestsScreen)
        listed = text(app)
        assert organization not in listed and phone[-4:] not in listed
        app.screen.query_one("#requests").focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, SupervisorRequestScreen)
        shown = text(app)
        digits = "".join(ch for ch in shown if ch.isdigit())
        assert phone.lstrip("+") not in digits
        assert organization not in shown
        # Their own call's tenant: refused on the supervisor desk while the call is open.
        assert "hidden while you have a call open with this organization" in shown
