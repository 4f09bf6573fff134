"""The supervisor queue reads each kind from its partial index on SQLite.

A plan is what keeps the queue's cost flat at a million calls (PRODUCT.md
section 9): a kind read through another index walks every call of an outcome.
SQLite keeps no statistics unless asked, so the plans are what its defaults
choose; this asks SQLite itself which index each of the queue's reads uses.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from db import review
from tests.helpers.review_data import make_staff


def _queue_statements(engine: Engine, factory: sessionmaker[Session]) -> list[tuple[str, Any]]:
    staff = make_staff(factory)
    sent: list[tuple[str, Any]] = []

    def record(conn: object, cursor: object, statement: str, params: Any, *_: object) -> None:
        sent.append((statement, params))

    event.listen(engine, "before_cursor_execute", record)
    try:
        review.queue(factory, staff.supervisor.id)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return sent


def _plan(engine: Engine, statement: str, params: Any) -> str:
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params).all()
    return " | ".join(str(row[-1]) for row in rows)


def test_calls_that_ended_with_misses_come_from_their_partial_index(
    engine: Engine, factory: sessionmaker[Session]
) -> None:
    [(statement, params)] = [
        (s, p) for s, p in _queue_statements(engine, factory) if "misses > 0" in s
    ]
    plan = _plan(engine, statement, params)
    assert "ix_call_unreviewed_misses" in plan, plan
    assert "TEMP B-TREE" not in plan, plan  # the index gives the order too


def test_failed_verifications_come_from_their_partial_index(
    engine: Engine, factory: sessionmaker[Session]
) -> None:
    [(statement, params)] = [
        (s, p) for s, p in _queue_statements(engine, factory) if "verification_failed" in s
    ]
    plan = _plan(engine, statement, params)
    assert "ix_call_unreviewed_failed" in plan, plan
