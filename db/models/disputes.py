"""Disputes of expedited deprovisioning (PRODUCT.md section 5, "Notice").

A dispute stops a request that is not final yet: it can never become final
after one. ``reason`` is what the agent or supervisor wrote (free text, may
quote the caller): it lives here, purgeable, never in the audit chain.
``resolved_at`` is set when a supervisor settles it (a rejection keeps the data).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import DISPUTE_OPEN, Base
from db.types import UTCDateTime, utcnow


class Dispute(Base):
    """One dispute of one request (at most one: a request is stopped once)."""

    __tablename__ = "dispute"
    __table_args__ = (
        # The supervisor queue's disputes not settled yet, newest first (partial).
        Index(
            "ix_dispute_open",
            "disputed_at",
            "id",
            sqlite_where=text(DISPUTE_OPEN),
            postgresql_where=text(DISPUTE_OPEN),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("cancellation_request.id"), unique=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agent.id"))
    reason: Mapped[str] = mapped_column(Text)
    disputed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class DisputeMiss(Base):
    """How many references one staff member typed lately that led to no disputable request.

    Counted from ``window_start``; ``db.expedited.disputes`` refuses that
    member's disputes once ``misses`` reach the limit, until the window ends.
    One row per agent, updated in place: the desks delete nothing.
    """

    __tablename__ = "dispute_miss"

    agent_id: Mapped[int] = mapped_column(ForeignKey("agent.id"), primary_key=True)
    misses: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
