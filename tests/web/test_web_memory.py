"""A tiny run of the per-tab memory benchmark, so ``make bench`` cannot rot unnoticed."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from benchmarks.web_memory import web_tab_memory


@pytest.mark.slow
def test_memory_per_tab_measures_one_desk_process_per_tab(db_url: str, engine: Engine) -> None:
    figure = web_tab_memory(db_url, tabs=2)
    assert figure.unit == "MiB"
    # Each desk process loads Python, Textual and SQLAlchemy: tens of MiB, never zero.
    assert figure.measured > 20
    assert "for 2 tabs" in figure.note
    processes = int(figure.note.split("RSS of ")[1].split()[0])
    assert processes >= 2
