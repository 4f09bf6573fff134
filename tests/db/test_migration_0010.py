"""Revision 0010 gives every existing request a reference, drawn by SQL.

The step runs in the database (offline too, see test_offline_sql.py): each
request made before 0010 gets a unique ``CG-XXX-XXX``, and those that needed
approval a cooling-off that ended when they were made.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import Engine, text

import migrations
from db.migrate import upgrade
from tests.db.conftest import BACKENDS, engine_at
from tests.helpers.requests_0009 import REFERENCE, seed_requests


@pytest.fixture(params=BACKENDS)
def old_engine(request: pytest.FixtureRequest) -> Engine:
    return engine_at(request, "0009")


def _revision() -> ModuleType:
    path = Path(migrations.__file__).parent / "versions" / "0010_notices_disputes.py"
    spec = importlib.util.spec_from_file_location("revision_0010", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_existing_requests_get_unique_references_and_no_cooling_off(old_engine: Engine) -> None:
    seed_requests(old_engine, count=40)
    upgrade(old_engine)
    with old_engine.connect() as c:
        rows = c.execute(
            text(
                "SELECT reference, needs_approval, cooling_off_until = created_at,"
                " cooling_off_until IS NULL FROM cancellation_request ORDER BY id"
            )
        ).all()
    assert all(REFERENCE.fullmatch(reference) for reference, *_ in rows)
    assert len({reference for reference, *_ in rows}) == 40
    assert all(bool(ended) for _, approval, ended, _ in rows if approval)
    assert all(bool(none) for _, approval, _, none in rows if not approval)


def test_repeated_references_are_drawn_again_but_the_first(old_engine: Engine) -> None:
    # Random draws may repeat (a billion references): the redraw statement
    # 0010 loops on until nothing is repeated.
    revision = _revision()
    seed_requests(old_engine, count=3)
    dialect = old_engine.dialect.name
    with old_engine.begin() as c:
        c.execute(text("ALTER TABLE cancellation_request ADD COLUMN reference VARCHAR(16)"))
        c.execute(text("UPDATE cancellation_request SET reference = 'CG-AAA-AAA'"))
        c.execute(text(revision._draw(dialect, revision._REPEATED)))
        references = c.execute(
            text("SELECT reference FROM cancellation_request ORDER BY id")
        ).scalars()
        first, *others = list(references)
    assert first == "CG-AAA-AAA"
    assert all(REFERENCE.fullmatch(other) and other != first for other in others)
