"""The supervisor desk's papercuts of issue "Every key lands…", each driven by keys and mouse."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker
from textual.widgets import Input

from db.demo import DemoReport
from db.models import CancellationRequest
from db.settings import Settings
from tests.helpers.review_data import PASSPHRASE, Staff, expedited_call, make_account, make_staff
from tests.tui.conftest import START, screen_text
from tests.tui.drive import answer, end_call, settle, sign_in, signed_in, until
from tests.tui.test_supervisor import decide, open_queue, open_requests, open_row
from tui.screens.desk import DeskScreen
from tui.screens.summary_modal import SummaryModal
from tui.screens.supervisor_queue import SupervisorQueueScreen
from tui.screens.supervisor_request import SupervisorRequestScreen
from tui.screens.supervisor_request_text import event_details
from tui.screens.supervisor_requests import SupervisorRequestsScreen
from tui.widgets.item_form import field_id
from verification.items import ITEM_SPECS
from verification.kinds import Item

TODAY = START.astimezone().date()
CALLER = "jose.perez@contoso.example.com"


@pytest.fixture
def staff(factory: sessionmaker[Session]) -> Staff:
    return make_staff(factory)


async def test_the_request_reads_as_decided_once_approved(
    factory: sessionmaker[Session], staff: Staff, make_app
) -> None:
    account = make_account(factory, "Contoso", "+14255550100", TODAY)
    expedited_call(factory, staff.agent, account, START - timedelta(days=1))
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await sign_in(pilot, "sue", PASSPHRASE)
        await open_row(pilot, await open_queue(pilot), "expedited")
        assert isinstance(app.screen, SupervisorRequestScreen)
        before = screen_text(app)
        assert "Expedited deletion: not asked → waiting for a supervisor\n" in before + "\n"

        await decide(pilot, "a", "caller confirmed twice")

        text = screen_text(app)
        deleted_by = TODAY + timedelta(days=3)
        assert "waiting for a supervisor → now approved" in text
        assert f"Data deleted on: 2027-02-19 → now {deleted_by:%Y-%m-%d}" in text


# --- a key that does nothing says why ---------------------------------------------


async def test_sign_out_on_the_supervisor_desk_says_where_it_works(
    factory: sessionmaker[Session], staff: Staff, make_app
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await sign_in(pilot, "sue", PASSPHRASE)
        await open_queue(pilot)
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert isinstance(app.screen, SupervisorQueueScreen)
        assert "Sign out from the call desk" in screen_text(app)


async def test_f6_over_the_read_back_says_to_close_it_first(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    app = make_app()
    async with signed_in(app, factory, "supervisor", size=(80, 24), call=True) as pilot:
        await end_call(pilot)
        assert isinstance(app.screen, SummaryModal)
        await pilot.press("f6")
        await settle(pilot)
        assert isinstance(app.screen, SummaryModal)
        assert "Close this dialog first" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)
        assert isinstance(app.screen, SupervisorQueueScreen)


async def test_approving_a_disputed_request_says_why_not(
    factory: sessionmaker[Session], staff: Staff, make_app
) -> None:
    from db.expedited.disputes import dispute_request

    account = make_account(factory, "Contoso", "+14255550100", TODAY)
    _call, request_id = expedited_call(factory, staff.agent, account, START - timedelta(hours=1))
    with factory() as session:
        request = session.get(CancellationRequest, request_id)
        assert request is not None
        reference = request.reference
    dispute_request(factory, staff.agent2.id, reference, "the admin never asked", START)
    app = make_app()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await sign_in(pilot, "sue", PASSPHRASE)
        await open_row(pilot, await open_queue(pilot), "disputed")
        assert isinstance(app.screen, SupervisorRequestScreen)
        for key, says in (
            ("a", "This request is disputed"),
            ("l", "not locked"),
            ("d", "nothing to dispute"),
        ):
            app.clear_notifications()
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, SupervisorRequestScreen), key
            assert says in "".join(n.message for n in app._notifications), key


# --- the timeline in words ---------------------------------------------------------


@pytest.mark.parametrize("width", [80, 120])
async def test_the_timeline_names_things_and_wraps_at_words(
    factory: sessionmaker[Session], staff: Staff, make_app, width: int
) -> None:
    account = make_account(factory, "Contoso", "+14255550100", TODAY)
    expedited_call(factory, staff.agent, account, START - timedelta(days=1))
    app = make_app()
    # Tall enough for the whole timeline: the width is what is tested.
    async with app.run_test(size=(width, 80)) as pilot:
        await sign_in(pilot, "sue", PASSPHRASE)
        await open_row(pilot, await open_queue(pilot), "expedited")
        await decide(pilot, "a", "caller confirmed twice")
        screen = app.screen
        assert isinstance(screen, SupervisorRequestScreen) and screen.detail is not None
        text = screen_text(app)
        timeline = text[text.index("Timeline (audit events)") :]
        for raw in (
            "agent_id",
            "request_hash",
            "request_id",
            "subscription_id",
            "approval_id",
            "=",
        ):
            assert raw not in timeline, raw
        [request] = screen.detail.requests
        assert f"request {request.reference}" in timeline
        assert "by ana" in timeline and f"hash {request.request_hash[:8]}" in timeline
        assert "User ID · match · rules" in timeline
        # Every word of every row is whole on some line: none is cut at the column's edge.
        words = set(timeline.split())
        for entry in screen.detail.timeline:
            for word in event_details(entry.payload, screen.detail).split():
                assert word in words, (word, entry.type)


# --- the search box and the dates ----------------------------------------------------


async def test_the_list_finds_the_last_four_and_says_a_date_does_not_exist(
    factory: sessionmaker[Session], staff: Staff, make_app
) -> None:
    account = make_account(factory, "Contoso", "+14255550101", TODAY)
    expedited_call(factory, staff.agent, account, START - timedelta(days=1))
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "sue", PASSPHRASE)
        screen = await open_requests(pilot)
        search = screen.query_one("#f-org", Input)
        search.value = "0101"  # the last four digits the list shows
        await until(pilot, lambda: "by last four digits" in screen_text(app))
        assert "1 call by last four digits" in screen_text(app)
        assert "•••0101" in screen_text(app)
        screen.query_one("#f-since", Input).value = "2026-02-30"
        await settle(pilot)
        assert "2026-02-30 does not exist: 2026-02 has 28 days." in screen_text(app)


# --- the mouse ---------------------------------------------------------------------


async def test_a_double_click_opens_a_queue_row(
    factory: sessionmaker[Session], staff: Staff, make_app
) -> None:
    account = make_account(factory, "Contoso", "+14255550100", TODAY)
    expedited_call(factory, staff.agent, account, START - timedelta(days=1))
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "sue", PASSPHRASE)
        await open_queue(pilot)
        # The first row sits under the header line.
        await pilot.click("#queue", offset=(4, 1))
        await settle(pilot)
        assert isinstance(app.screen, SupervisorQueueScreen)  # one click highlights
        await pilot.double_click("#queue", offset=(4, 1))
        await settle(pilot)
        assert isinstance(app.screen, SupervisorRequestScreen)


async def test_a_click_on_an_identity_item_asks_it(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    app = make_app()
    async with signed_in(app, factory, size=(80, 24), call=True) as pilot:
        desk = app.screen
        assert isinstance(desk, DeskScreen)
        await pilot.click("#items", offset=(2, 3))  # Organization, before the user ID
        await settle(pilot)
        assert "Ask the user ID first" in screen_text(app)
        await answer(pilot, Item.USER_ID, {"value": CALLER})
        labels = [state.item for state in desk.view.items]
        await pilot.click("#items", offset=(2, 1 + labels.index(Item.ADDRESS)))
        await settle(pilot)
        assert app.focused is not None
        assert app.focused.id == field_id(Item.ADDRESS, ITEM_SPECS[Item.ADDRESS].fields[0])
        await pilot.click("#items", offset=(2, 1 + labels.index(Item.USER_ID)))
        await settle(pilot)
        assert "already matched" in screen_text(app)


# --- the theme is remembered --------------------------------------------------------


async def test_the_chosen_theme_is_there_at_the_next_start(make_app) -> None:
    from tui.theme_state import state_file

    first = make_app()
    async with first.run_test(size=(80, 24)) as pilot:
        default = first.theme
        first.theme = "nord"  # as the palette's "Change theme" sets it
        await pilot.pause()
    again = make_app()
    async with again.run_test(size=(80, 24)):
        assert again.theme == "nord" != default
    # A file the desk cannot read is no theme, never a desk that does not start.
    state_file().write_text("{not json", encoding="utf-8")
    broken = make_app()
    async with broken.run_test(size=(80, 24)):
        assert broken.theme == default


async def test_the_settings_name_the_theme_until_the_user_picks_one(
    settings: Settings, desk_factory, clock
) -> None:
    from dataclasses import replace

    from tui.app import CallgateApp
    from tui.theme_state import save_theme

    app = CallgateApp(replace(settings, theme="nord"), lambda: desk_factory, clock=clock)
    async with app.run_test(size=(80, 24)):
        assert app.theme == "nord"
    save_theme("gruvbox")  # the user's own choice wins over the operator's default
    again = CallgateApp(replace(settings, theme="nord"), lambda: desk_factory, clock=clock)
    async with again.run_test(size=(80, 24)):
        assert again.theme == "gruvbox"


# --- the keys the desk lists are its own ------------------------------------------


async def test_the_palette_offers_the_desks_help_not_textuals_keys_panel(
    factory: sessionmaker[Session], staff: Staff, make_app
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "sue", PASSPHRASE)
        for screen in (app.screen, await open_queue(pilot)):
            titles = [c.title for c in app.get_system_commands(screen)]
            # Textual's panel lists PgUp/PgDn as page keys and squeezes the desk to 50 columns.
            assert "Keys" not in titles and "Help" in titles


# --- toasts and footers at 80 columns ---------------------------------------------


def _footer(app) -> str:
    return screen_text(app).splitlines()[-1]


async def test_toasts_keep_off_dialogs_and_leave_with_their_screen(
    factory: sessionmaker[Session], staff: Staff, make_app
) -> None:
    from textual.widgets._toast import Toast

    account = make_account(factory, "Contoso", "+14255550100", TODAY)
    expedited_call(factory, staff.agent, account, START - timedelta(days=1))
    app = make_app()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await sign_in(pilot, "sue", PASSPHRASE)
        await open_row(pilot, await open_queue(pilot), "expedited")
        await pilot.press("l")  # not locked: a notice says so
        await pilot.press("o")  # the note dialog opens over it
        await settle(pilot)
        dialog = app.screen.query_one("#decision").region
        shown = [t for t in app.screen.query(Toast) if t.visible]
        assert shown, "the notice is still to be read"
        assert all(not t.region.overlaps(dialog) for t in shown)
        under = app.screen_stack[-2]
        assert not any(t.visible for t in under.query(Toast))  # none through the backdrop
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, SupervisorRequestScreen)
        await pilot.press("escape")  # the notice belonged to the call's screen
        await settle(pilot)
        assert not app._notifications


async def test_every_footer_key_is_whole_at_80_columns(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    app = make_app()
    async with signed_in(app, factory, "supervisor", size=(80, 24), call=True) as pilot:
        # A supervisor mid-call: the call's keys fill the line, F6 is in F1's help.
        assert _footer(app).split("▏")[0].rstrip().endswith("f1 Help")
        await end_call(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert "f6 Supervisor" in _footer(app)
        await pilot.press("f6")
        await settle(pilot)
        queue = app.screen
        assert isinstance(queue, SupervisorQueueScreen)
        await pilot.press("a")
        await settle(pilot)
        requests = app.screen
        assert isinstance(requests, SupervisorRequestsScreen)
        requests.query_one("#requests").focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, SupervisorRequestScreen)
        assert _footer(app).split("▏")[0].rstrip().endswith("f1 Help")


async def test_the_page_keys_keep_their_order_wherever_the_focus_is(
    factory: sessionmaker[Session], staff: Staff, make_app
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "sue", PASSPHRASE)
        await open_queue(pilot)
        await pilot.press("a")
        await settle(pilot)
        footers = []
        # No focus at all, as after a click on a notice: the screen's own order shows.
        for target in ("#f-org", "#requests", None):
            app.screen.set_focus(app.screen.query_one(target) if target else None)
            await pilot.pause()
            footers.append(_footer(app))
        assert all(f.index("Prev page") < f.index("Next page") for f in footers), footers
