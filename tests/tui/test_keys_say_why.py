"""No key that does nothing without saying why; no key that loses a call unasked."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker
from textual.widgets import Markdown

from db.demo import DemoReport
from tests.tui.drive import (
    answer,
    on_file,
    settle,
    signed_in,
    text,
    until,
    verify_all,
)
from tui.screens.confirm_modal import ConfirmModal
from tui.screens.desk import DeskScreen
from tui.screens.help_modal import HelpModal
from verification.kinds import Item

CALLER = "jose.perez@contoso.example.com"
TRIAL_CALLER = "zoe@zoes-bakery.example"


async def test_sign_out_mid_call_says_why(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    app = make_app()
    async with signed_in(app, factory, call=True) as pilot:
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)
        assert "sign out is only between calls" in text(app)


async def test_a_dimmed_action_says_why(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    app = make_app()
    async with signed_in(app, factory, size=(120, 40), call=True) as pilot:
        await answer(pilot, Item.USER_ID, {"value": CALLER})
        await pilot.press("f7")  # gate closed: dimmed
        await settle(pilot)
        assert "The gate is closed" in text(app)
        await pilot.press("f4", "enter")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await verify_all(pilot, on_file(factory, TRIAL_CALLER))
        await pilot.press("c")  # a trial: nothing to cancel
        await settle(pilot)
        screen = text(app)
        assert "Not offered for" in screen and "A trial can't be" in screen


async def test_quit_mid_call_asks_first(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    app = make_app()
    async with signed_in(app, factory, call=True) as pilot:
        await pilot.press("ctrl+q")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        assert "Call #1 is still open" in text(app)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)
        assert app.is_running
        await pilot.press("ctrl+q")
        await settle(pilot)
        await pilot.press("y")
        await pilot.pause()
    assert app.return_code == 0


async def test_question_mark_opens_help_only_outside_a_field(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    app = make_app()
    async with signed_in(app, factory, call=True) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, DeskScreen)
        assert app.focused is not None and app.focused.value == "?"
        await pilot.press("f1")
        assert isinstance(app.screen, HelpModal)
        shown = app.screen.query_one(Markdown).source
        assert "Ctrl+O" in shown and "Ctrl+Q" in shown
        await pilot.press("escape")
        await pilot.press("ctrl+u")
        await verify_all(pilot, on_file(factory, CALLER))
        assert "Gate OPEN" in text(app)
        await pilot.press("question_mark")  # the subscription table has focus
        assert isinstance(app.screen, HelpModal)


async def test_supervisor_help_on_the_supervisor_desk(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    app = make_app()
    async with signed_in(app, factory, "supervisor") as pilot:
        await pilot.press("f6")
        await settle(pilot)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpModal)
        shown = app.screen.query_one(Markdown).source
        assert "supervisor desk" in shown and "clear the organization's lock" in shown


async def test_below_80x24_a_notice_covers_the_desk_and_nothing_is_lost(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    from tui.screens.too_small import TooSmallScreen

    app = make_app()
    async with signed_in(app, factory, call=True) as pilot:
        await pilot.press(*"jose")
        await pilot.resize_terminal(60, 20)
        await settle(pilot)
        assert isinstance(app.screen, TooSmallScreen)
        assert "too small (60×20)" in text(app)
        await pilot.resize_terminal(40, 12)
        await settle(pilot)
        assert "too small (40×12)" in text(app)
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)
        assert app.focused is not None and app.focused.value == "jose"


async def test_the_palette_screenshot_is_saved_and_says_where(
    factory: sessionmaker[Session],
    demo: DemoReport,
    make_app,
    tmp_path,
    monkeypatch,
) -> None:
    home = tmp_path / "home"  # no Downloads folder here, as on a desk machine
    home.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    app = make_app()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        app.deliver_screenshot()
        await until(pilot, lambda: list(work.glob("*.svg")) != [])
        (saved,) = work.glob("*.svg")
        assert "<svg" in saved.read_text()
        await until(pilot, lambda: "Saved screenshot" in text(app))
        assert "Failed" not in text(app)


async def test_the_keys_panel_closes_with_escape(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    app = make_app()
    async with signed_in(app, factory, size=(120, 40)) as pilot:
        app.action_show_help_panel()
        await pilot.pause()
        assert app.screen.query("HelpPanel")
        await pilot.press("escape")
        await pilot.pause()
        assert not app.screen.query("HelpPanel")
        assert isinstance(app.screen, DeskScreen)


async def test_a_blank_country_shows_the_desks_default_region(
    factory: sessionmaker[Session], demo: DemoReport, settings, make_app
) -> None:
    from dataclasses import replace

    from tui.app import CallgateApp
    from tui.widgets.item_form import field_id

    app = CallgateApp(replace(settings, default_region="GB"), lambda: factory)
    async with signed_in(app, factory):
        country = app.screen.query_one(f"#{field_id(Item.ADDRESS, 'country')}")
        assert country.placeholder == "blank = GB"


async def test_the_footer_keeps_help_in_sight_at_80x24_mid_call(
    factory: sessionmaker[Session], demo: DemoReport, make_app
) -> None:
    app = make_app()
    async with signed_in(app, factory, call=True) as pilot:
        await settle(pilot)
        footer = text(app).splitlines()[-1]
        assert "f1 Help" in footer and "f9 Expedite" in footer, footer
