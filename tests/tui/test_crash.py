"""A desk killed with SIGKILL mid-call loses nothing entered; the call comes back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.demo import DemoReport
from db.desk import open_call_for_agent
from db.models import Agent
from db.settings import Settings
from tests.helpers.policy import DEFAULTS
from tests.tui.conftest import START
from tests.tui.drive import known_passphrase, settle, sign_in, text
from tui.screens.desk import DeskScreen
from tui.screens.recovered_modal import RecoveredCallModal
from tui.widgets.item_form import field_id
from verification.kinds import Item

REPO = Path(__file__).resolve().parents[2]
CALLER = "jose.perez@contoso.example.com"


@pytest.mark.slow
async def test_a_killed_desk_loses_nothing_and_the_call_comes_back(
    factory: sessionmaker[Session], demo: DemoReport, settings: Settings, make_app
) -> None:
    passphrase = known_passphrase(factory, "agent")
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.tui.desk_child", settings.database_url, CALLER, passphrase],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.strip() == "ready", child.stderr.read() if child.stderr else ""
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    with factory() as session:
        agent_id = session.scalars(select(Agent.id).where(Agent.username == "agent")).one()
    view = open_call_for_agent(factory, agent_id, settings, START)
    assert view is not None
    statuses = {state.item: state.status for state in view.items}
    assert statuses[Item.USER_ID] == "matched"
    assert statuses[Item.PHONE] == "matched"
    assert statuses[Item.CONTACT_NAME] == "missed"
    assert view.misses_left == DEFAULTS.max_misses - 1

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "agent", passphrase)
        assert isinstance(app.screen, RecoveredCallModal)
        assert f"Call #{view.call_id}" in text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)
        screen = text(app)
        assert (
            "✓ User ID" in screen and "✓ Phone number" in screen and "✗ Primary contact" in screen
        )
        assert f"Misses left: {DEFAULTS.max_misses - 1}" in screen
        assert app.focused.id == field_id(Item.ORGANIZATION, "value")
