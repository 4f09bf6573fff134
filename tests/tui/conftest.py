"""Fixtures for driving the desk headless: a settable clock, the app, screen text."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from db.demo import DemoReport, load_demo
from db.settings import Settings
from tests.helpers.policy import without_step_up
from tui.app import CallgateApp

# A fixed instant, so dates on screen and in the database are the same every run.
START = datetime(2026, 11, 26, 14, 0, 0, tzinfo=UTC)


@dataclass
class Clock:
    """A clock the test moves by hand; the app reads it for every ``now``."""

    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move time forward, e.g. ``advance(minutes=31)``."""
        self.now += timedelta(**delta)


@pytest.fixture(autouse=True)
def _own_state_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each test its own state directory: the theme remembered (``tui.theme_state``)
    is neither read from nor written to the user's own."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))


@pytest.fixture
def clock() -> Clock:
    """A frozen clock at ``START``."""
    return Clock()


@pytest.fixture
def settings(db_url: str) -> Settings:
    """Default settings on the test database."""
    return Settings(database_url=db_url)


@pytest.fixture
def step_up() -> bool:
    """Whether actions need their possession factor (the default tiers).

    Off here: the desk tests of other things take actions without the factor
    step. The step itself, and whole calls with it, are driven on the default
    tiers by test_stepup_desk.py and test_key_count.py, which set this True.
    """
    return False


@pytest.fixture
def desk_factory(factory: sessionmaker[Session], step_up: bool) -> sessionmaker[Session]:
    """The sessions the desk app gets: the test database, its tiers as ``step_up`` says."""
    return factory if step_up else without_step_up(factory)


@pytest.fixture
def make_app(
    settings: Settings, desk_factory: sessionmaker[Session], clock: Clock
) -> Callable[[], CallgateApp]:
    """A new desk app on the test database and the test clock."""
    return lambda: CallgateApp(settings, lambda: desk_factory, clock=clock)


_SVG_TEXT = re.compile(
    r'<text [^>]*x="([\d.]+)"[^>]*clip-path="url\(#[\w-]+-line-(\d+)\)">(.*?)</text>', re.S
)
# Rich's SVG export draws each terminal cell 12.2 units wide.
_CELL_WIDTH = 12.2


def screen_text(app: CallgateApp) -> str:
    """Everything the terminal shows now, line by line (rebuilt from the SVG export).

    The export is what a screenshot of the terminal would show, so a value that
    appears here was visible to the agent.
    """
    width, height = app.size
    grid = [[" "] * width for _ in range(height)]
    for x, line, text in _SVG_TEXT.findall(app.export_screenshot()):
        column = round(float(x) / _CELL_WIDTH)
        for offset, char in enumerate(html.unescape(text).replace("\xa0", " ")):
            if 0 <= column + offset < width and int(line) < height:
                grid[int(line)][column + offset] = char
    return "\n".join("".join(row).rstrip() for row in grid)


@pytest.fixture
def demo(factory: sessionmaker[Session]) -> DemoReport:
    """The demo tenants and staff, as ``callgate demo`` loads them, dated at ``START``."""
    return load_demo(factory, START.date())
