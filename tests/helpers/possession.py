"""Proof of possession for tests about something else: an answered callback.

Tests of what follows an action of the upper tiers (requests, approvals,
notices, exports) prove possession the way a desk does without a code
sender: the agent is shown the number on file, calls back, and records that
the customer answered (``db.desk.callback_shown`` / ``callback_result``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from db import desk
from db.desk import CallView
from db.settings import Settings


def answered_callback(
    factory: sessionmaker[Session], call_id: int, actor: str, settings: Settings, now: datetime
) -> CallView:
    """Record an answered callback in the call: a possession factor for every tier."""
    shown = desk.callback_shown(factory, call_id, actor, settings, now)
    return desk.callback_result(factory, call_id, actor, shown.callback_id, True, settings, now)
