"""Locks beyond the tenant's own: unknown user IDs, and the reasons locks were cleared."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base
from db.types import UTCDateTime


class UserIdLock(Base):
    """A stated user ID that matches no account, locked after repeated misses.

    ``key`` is a SHA-256 of the normalized user ID and ``masked`` its masked
    form for the supervisor: the value itself is never stored here.
    """

    __tablename__ = "user_id_lock"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), index=True)
    masked: Mapped[str] = mapped_column(String(320))
    locked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class LockClearance(Base):
    """A supervisor lifting a lock, with the reason (staff free text: purgeable).

    The audit event names this row; the reason stays out of the chain so that
    purge can blank it (PRODUCT.md section 7).
    """

    __tablename__ = "lock_clearance"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenant.id"), default=None)
    user_id_lock_id: Mapped[int | None] = mapped_column(ForeignKey("user_id_lock.id"), default=None)
    supervisor_id: Mapped[int] = mapped_column(ForeignKey("agent.id"))
    reason: Mapped[str] = mapped_column(Text)
    cleared_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
