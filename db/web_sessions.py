"""Audit events of browser sessions (``callgate serve``): one home for their payloads.

A session is one browser tab's app process. Its start and end are events on
the audit chain with the session id and, at the end, why it ended and how long
it lasted. The remote address never enters the chain: it is personal data,
and the chain must survive a purge intact; the server logs it instead.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy.orm import Session, sessionmaker

from db.audit.chain import append_event
from db.engine import unit_of_work

# Who the events are by: the server, before any agent has signed in on the tab.
ACTOR = "web"
STARTED = "web.session_started"
ENDED = "web.session_ended"


class EndReason(StrEnum):
    """Why a browser session ended."""

    CLOSED = "closed"  # the tab went away, or the desk quit
    IDLE = "idle"  # no key for web_idle_minutes
    SHUTDOWN = "shutdown"  # the server stopped


def session_started(factory: sessionmaker[Session], session_id: str, at: datetime) -> None:
    """Record that a tab opened a session (its app process started)."""
    with unit_of_work(factory) as session:
        append_event(session, actor=ACTOR, type=STARTED, payload={"session": session_id}, at=at)


def session_ended(
    factory: sessionmaker[Session],
    session_id: str,
    reason: EndReason,
    started_at: datetime,
    at: datetime,
) -> None:
    """Record that a session ended, why, and after how many whole seconds."""
    payload = {
        "session": session_id,
        "reason": reason.value,
        "seconds": int((at - started_at).total_seconds()),
    }
    with unit_of_work(factory) as session:
        append_event(session, actor=ACTOR, type=ENDED, payload=payload, at=at)
