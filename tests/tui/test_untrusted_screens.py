"""Hostile text through every screen of both desks: no crash, the literal text on screen.

Hypothesis draws markup, control characters and long text (``HOSTILE``) for
imported fields (organization, contact name, address, product name), stated
values, end-of-call notes, supervisor notes and reasons, and agent display
names. Each example is one desk run on the test database (new tenants and
staff per example); what is asserted is read from the terminal as exported,
as a screenshot would show it. Sized for a shared 2-core machine.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from textual import events
from textual.widgets import Checkbox, DataTable, Input

from db.models import Approval, Call, CancellationRequest, ItemCheck, ReviewNote
from db.staff.agents import add_agent
from tests.helpers.hostile import (
    HOSTILE,
    HOSTILE_TEXT,
    expedited_call,
    import_tenant,
    locked_call,
    probe,
    shown,
    stored_user_fields,
    verified_call,
)
from tests.helpers.review_data import PASSPHRASE
from tests.helpers.totp import TOTP_SECRET
from tests.tui.conftest import START
from tests.tui.drive import answer, last_call, settle, sign_in, start_call, text
from tui.app import CallgateApp
from tui.screens.checklist_modal import ChecklistModal
from tui.screens.decision_modal import DecisionModal
from tui.screens.end_call_modal import EndCallModal
from tui.screens.summary_modal import SummaryModal
from tui.screens.supervisor_numbers import SupervisorNumbersScreen
from tui.screens.supervisor_queue import SupervisorQueueScreen
from tui.screens.supervisor_request import SupervisorRequestScreen
from tui.screens.supervisor_requests import SupervisorRequestsScreen
from tui.widgets.item_form import field_id
from verification.errors import echo
from verification.kinds import Item, Role

TODAY = START.date()
SIZE = (160, 60)
# What a terminal would act on instead of showing (bar newline, between lines).
RAW_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
EXAMPLES = settings(
    max_examples=4,
    deadline=None,
    # One database for the test, new rows per example: that is the point.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_serial = itertools.count(1)


def assert_shown(app: CallgateApp, *values: str) -> str:
    """Each value's start, as the desk must show it, is on screen; nothing raw is."""
    screen = text(app)
    assert not RAW_CONTROL.search(screen), repr(RAW_CONTROL.search(screen))
    for value in values:
        assert probe(value) in screen, (probe(value), screen)
    return screen


def column(screen: str, header: str, width: int) -> str:
    """A wrapping table column, read top to bottom with its whitespace removed."""
    lines = screen.splitlines()
    top = next(i for i, line in enumerate(lines) if header in line and "Item" in line)
    start = lines[top].index(header)
    return "".join("".join(line[start : start + width].split()) for line in lines[top + 1 :])


async def _agent_walk(make_app: Callable[[], CallgateApp], factory, t: dict[str, str]) -> None:
    n = next(_serial)
    caller = f"caller{n}@hostile.example"
    import_tenant(factory, TODAY, "DEMO-07", f"HX-A{n}", caller, product_name=t["product"])
    product = stored_user_fields(factory, caller)["product_name"]
    agent = add_agent(factory, f"agent{n}", t["display"], Role.AGENT, PASSPHRASE)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, agent.username, PASSPHRASE)
        assert_shown(app, agent.display_name)  # the call bar
        await start_call(pilot)
        await answer(pilot, Item.USER_ID, {"value": caller})
        await answer(pilot, Item.PHONE, {"value": t["phone"]})
        typed = app.screen.query_one(f"#{field_id(Item.PHONE, 'value')}", Input).value
        screen = assert_shown(app)
        if "(not counted)" in screen and "not a phone number" in screen:
            assert probe(echo(typed)) in screen
        await pilot.press("f4")
        await pilot.pause()
        assert isinstance(app.screen, EndCallModal)
        await _paste(pilot, "#note", t["note"])
        assert_shown(app)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, SummaryModal)
        assert_shown(app)
        assert last_call(factory).notes  # kept as typed
        await pilot.press("enter", "ctrl+o")
        await settle(pilot)

        # Verified through the database, as a call the desk finds open at sign-in.
        verified_call(factory, agent, caller, START)
        await sign_in(pilot, agent.username, PASSPHRASE)
        await pilot.press("enter")  # resume it
        await settle(pilot)
        assert "Gate OPEN" in assert_shown(app, product)  # the table and the detail
        await pilot.press("x")
        assert isinstance(app.screen, ChecklistModal)
        assert_shown(app, product)
        await pilot.press(*["space"] * len(app.screen.query(Checkbox)), "enter")
        await settle(pilot)
        # The ticked checklist was the confirmation: the end of the call is offered.
        assert isinstance(app.screen, EndCallModal)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, SummaryModal)
        assert_shown(app, product)  # read back with its dates


def test_hostile_text_through_the_agent_desk(factory: sessionmaker[Session], make_app) -> None:
    @EXAMPLES
    @given(
        st.fixed_dictionaries(
            {"product": HOSTILE, "display": HOSTILE, "phone": HOSTILE_TEXT, "note": HOSTILE_TEXT}
        )
    )
    def walk(t: dict[str, str]) -> None:
        asyncio.run(_agent_walk(make_app, factory, t))

    walk()


async def _paste(pilot, selector: str, value: str) -> None:
    """Focus a field and paste ``value`` into it, as a terminal delivers a paste."""
    pilot.app.screen.query_one(selector, Input).focus()
    await pilot.pause()
    pilot.app.post_message(events.Paste(value))
    await pilot.pause()


async def _decide(pilot, key: str, reason: str) -> None:
    """Press a decision key, paste the reason in the modal, confirm."""
    await pilot.press(key)
    await pilot.pause()
    assert isinstance(pilot.app.screen, DecisionModal)
    assert_shown(pilot.app)
    await _paste(pilot, "#reason", reason)
    await pilot.press("enter")
    await settle(pilot)


async def _open(pilot, call_id: int) -> None:
    """Open ``call_id``'s row of the queue."""
    queue = pilot.app.screen
    assert isinstance(queue, SupervisorQueueScreen)
    index = next(i for i, row in enumerate(queue.rows) if row.call_id == call_id)
    queue.query_one("#queue", DataTable).move_cursor(row=index)
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(pilot.app.screen, SupervisorRequestScreen)


async def _scroll_to(pilot, selector: str) -> None:
    pilot.app.screen.query_one(selector).scroll_visible(animate=False, top=True)
    await settle(pilot)


def _stated_values(factory: sessionmaker[Session], call_id: int) -> list[str]:
    """The first field of every recorded check of the call, as stored."""
    with factory() as session:
        rows = session.scalars(select(ItemCheck.stated).where(ItemCheck.call_id == call_id))
        return [next(iter(json.loads(row).values())) for row in rows if row]


def _squeezed(value: str) -> str:
    return "".join(shown(value).split())[:12]


async def _supervisor_walk(make_app: Callable[[], CallgateApp], factory, t: dict[str, str]) -> None:
    n = next(_serial)
    hostile, normal = f"bad{n}@hostile.example", f"good{n}@hostile.example"
    fields = {k: t[k] for k in ("organization", "contact_first_name", "address_line1")}
    import_tenant(factory, TODAY, "DEMO-11", f"HX-B{n}", hostile, **fields)
    import_tenant(factory, TODAY, "DEMO-07", f"HX-C{n}", normal, product_name=t["product"])
    on_file_b = stored_user_fields(factory, hostile)
    product = stored_user_fields(factory, normal)["product_name"]
    agent = add_agent(factory, f"ag{n}", "Agent", Role.AGENT, PASSPHRASE)
    boss = add_agent(
        factory, f"sup{n}", t["display"], Role.SUPERVISOR, PASSPHRASE, totp_secret=TOTP_SECRET
    )
    said = t["stated"]
    stated = [
        (Item.PHONE, {"value": said}),
        (Item.CONTACT_NAME, {"first": said, "last": "Park"}),
        (Item.ORGANIZATION, {"value": said}),
    ]
    failed = locked_call(factory, agent, hostile, stated, t["note"], START)
    asked = expedited_call(factory, agent, normal, t["note"], START)
    with factory() as session:
        # The call keeps its notes one per line: the first line of this one.
        note = session.get_one(Call, failed).notes.split("\n")[0]
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, boss.username, PASSPHRASE)
        assert_shown(app, boss.display_name)
        await pilot.press("f6")
        await settle(pilot)
        assert_shown(app, on_file_b["organization"])  # the failed check waits here

        await _open(pilot, failed)
        assert_shown(app, on_file_b["organization"], note)  # title, agent's notes
        await _scroll_to(pilot, "#checks")
        screen = assert_shown(app)
        # The columns fit the screen (tui.widgets.fit_table): read the widths drawn.
        widths = {c.label.plain: c.width for c in app.screen.query_one("#checks").columns.values()}
        stated_column = column(screen, "Stated", widths["Stated"])
        on_file_column = column(screen, "On file", widths["On file"])
        for value in _stated_values(factory, failed):
            assert _squeezed(value) in stated_column, (value, stated_column)
        on_file = {
            Item.CONTACT_NAME: on_file_b["contact_first_name"],
            Item.ORGANIZATION: on_file_b["organization"],
        }
        for item in _checked(factory, failed) & on_file.keys():
            assert _squeezed(on_file[item]) in on_file_column, (on_file[item], on_file_column)
        await _decide(pilot, "o", t["review"])
        with factory() as session:
            [review] = session.scalars(select(ReviewNote.text).where(ReviewNote.call_id == failed))
        await _scroll_to(pilot, "#notes-text")
        assert_shown(app, review)
        await pilot.press("escape")
        await settle(pilot)

        await _open(pilot, asked)
        await _scroll_to(pilot, "#requests-text")
        assert_shown(app, product)
        await _decide(pilot, "a", t["reason"])
        with factory() as session:
            reasons = select(Approval.reason).join(CancellationRequest)
            [reason] = session.scalars(reasons.where(CancellationRequest.call_id == asked))
        await _scroll_to(pilot, "#requests-text")
        assert_shown(app, product, reason)
        await pilot.press("escape")
        await settle(pilot)

        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, SupervisorRequestsScreen)
        assert_shown(app, on_file_b["organization"])
        await pilot.press("escape", "s")
        await settle(pilot)
        assert isinstance(app.screen, SupervisorNumbersScreen)
        assert_shown(app)


def _checked(factory: sessionmaker[Session], call_id: int) -> set[Item]:
    with factory() as session:
        return set(session.scalars(select(ItemCheck.item).where(ItemCheck.call_id == call_id)))


IMPORTED = ("organization", "contact_first_name", "address_line1", "product", "display")
TYPED = ("stated", "note", "review", "reason")


def test_hostile_text_through_the_supervisor_desk(factory: sessionmaker[Session], make_app) -> None:
    @EXAMPLES
    @given(
        st.fixed_dictionaries(
            dict.fromkeys(IMPORTED, HOSTILE) | dict.fromkeys(TYPED, HOSTILE_TEXT),
        )
    )
    def walk(t: dict[str, str]) -> None:
        asyncio.run(_supervisor_walk(make_app, factory, t))

    walk()
