"""The README's screenshot is made by scripts/screenshot.py and is current."""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def script(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """scripts/screenshot.py as a module, in the time zone its main() sets."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    spec = importlib.util.spec_from_file_location("screenshot", REPO / "scripts" / "screenshot.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    monkeypatch.undo()
    time.tzset()


async def test_the_readme_screenshot_is_current(script: ModuleType, tmp_path: Path) -> None:
    out = tmp_path / "desk.svg"
    await script.render(out, tmp_path / "demo.db")
    svg = out.read_text()
    assert "Miss" in svg and "Call&#160;#1" in svg
    assert svg == (REPO / "docs" / "desk.svg").read_text(), (
        "the desk changed: run .venv/bin/python scripts/screenshot.py and commit docs/desk.svg"
    )
