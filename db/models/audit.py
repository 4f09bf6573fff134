"""The audit chain's table (the chain's rules live in ``db.audit.chain``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base
from db.types import UTCDateTime


class AuditEvent(Base):
    """One link of the append-only, hash-chained audit log (PRODUCT.md section 7).

    ``payload`` is the canonical JSON text exactly as hashed, so verification
    never depends on how a driver round-trips JSON. Append-only by revision
    0002's triggers; on PostgreSQL revision 0014's ``audit_event_approved_guard``
    refuses an ``expedited.approved`` event without its approval.
    """

    __tablename__ = "audit_event"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(64), index=True)
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
