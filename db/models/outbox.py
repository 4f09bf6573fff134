"""The outbox: events and notices waiting to leave (the rules live in ``db.delivery.outbox``)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import OUTBOX_FAILED, OUTBOX_PENDING, Base, enum_column
from db.types import UTCDateTime, utcnow


class OutboxState(StrEnum):
    """Where one outbox row stands."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    # A notice not sent: its recipient was no longer an active admin when it was due.
    CANCELED = "canceled"


class OutboxChannel(StrEnum):
    """How an outbox row leaves: the operator's webhook(s), or an e-mail notice."""

    WEBHOOK = "webhook"
    EMAIL = "email"


class OutboxEvent(Base):
    """One event or notice waiting to leave, written with the decision it reports.

    ``payload`` is the JSON body exactly as sent. No personal data: the
    references the billing system knows (``tenant_ref``, ``product_name``) and
    dates; an e-mail notice names its recipient by ``recipient_user_id`` and
    the address is read only when it is sent. ``claim`` and ``next_attempt_at``
    form a worker's lease (``db.delivery.outbox``). On PostgreSQL only the
    delivery role moves states; revision 0014's ``outbox_state_guard`` allows
    the desk role only a supervisor's retry of a failed row, and
    ``outbox_event_guard`` an ``expedited.approved`` / ``expedited.final`` event
    only for a real approval / a final request.
    """

    __tablename__ = "outbox_event"
    __table_args__ = (
        Index(
            "ix_outbox_event_due",
            "next_attempt_at",
            "id",
            sqlite_where=text(OUTBOX_PENDING),
            postgresql_where=text(OUTBOX_PENDING),
        ),
        Index(
            "ix_outbox_event_failed",
            "created_at",
            "id",
            sqlite_where=text(OUTBOX_FAILED),
            postgresql_where=text(OUTBOX_FAILED),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    type: Mapped[str] = mapped_column(String(64))
    channel: Mapped[OutboxChannel] = mapped_column(enum_column(OutboxChannel, "channel"))
    tenant_ref: Mapped[str] = mapped_column(String(64))
    product_name: Mapped[str] = mapped_column(String(200), default="")
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("cancellation_request.id"), default=None, index=True
    )
    recipient_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("account_user.id"), default=None
    )
    service_ends_on: Mapped[date | None] = mapped_column(Date, default=None)
    data_deletion_on: Mapped[date | None] = mapped_column(Date, default=None)
    request_hash: Mapped[str] = mapped_column(String(64), default="")
    payload: Mapped[str] = mapped_column(Text)
    state: Mapped[OutboxState] = mapped_column(
        enum_column(OutboxState, "state"), default=OutboxState.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claim: Mapped[str | None] = mapped_column(String(36), default=None)
    acked_targets: Mapped[str] = mapped_column(Text, default="[]")
    last_error: Mapped[str] = mapped_column(Text, default="")
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
