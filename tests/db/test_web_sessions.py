"""Browser sessions on the audit chain: ids, reason and length only, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.audit.chain import verify_chain
from db.models import AuditEvent
from db.web_sessions import ACTOR, ENDED, STARTED, EndReason, session_ended, session_started

OPENED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_a_session_start_and_end_are_chained_events(any_factory: sessionmaker[Session]) -> None:
    session_started(any_factory, "a1b2c3", OPENED)
    session_ended(any_factory, "a1b2c3", EndReason.IDLE, OPENED, OPENED + timedelta(minutes=31.5))

    with any_factory() as session:
        events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
        assert [(e.type, e.actor) for e in events] == [(STARTED, ACTOR), (ENDED, ACTOR)]
        assert json.loads(events[0].payload) == {"session": "a1b2c3"}
        assert json.loads(events[1].payload) == {
            "session": "a1b2c3",
            "reason": "idle",
            "seconds": 1890,
        }
        assert events[1].occurred_at == OPENED + timedelta(minutes=31.5)
        assert verify_chain(session).ok
