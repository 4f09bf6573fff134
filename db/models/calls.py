"""Calls and what happened in them: item checks, requests, approvals, review notes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.models.base import (
    EARLY_CANCELLATION,
    NEEDS_APPROVAL,
    UNREVIEWED_FAILED,
    UNREVIEWED_MISSES,
    USER_ID_MISS,
    Base,
    enum_column,
)
from db.types import UTCDateTime, utcnow
from verification.kinds import (
    CallState,
    CheckResult,
    Decision,
    Item,
    Outcome,
)


class Call(Base):
    """One phone call taken by an agent."""

    __tablename__ = "call"
    __table_args__ = (
        Index("ix_call_started_at_id", "started_at", "id"),
        Index("ix_call_agent_id_started_at", "agent_id", "started_at"),
        Index("ix_call_tenant_id_started_at", "tenant_id", "started_at"),
        Index("ix_call_outcome_started_at", "outcome", "started_at"),
        Index("ix_call_agent_id_state", "agent_id", "state"),
        # The supervisor queue: failed verifications not yet reviewed, newest first.
        # Partial, so it holds only what waits; queries repeat its predicate verbatim.
        Index(
            "ix_call_unreviewed_failed",
            "started_at",
            "id",
            sqlite_where=text(UNREVIEWED_FAILED),
            postgresql_where=text(UNREVIEWED_FAILED),
        ),
        Index(
            "ix_call_unreviewed_misses",
            "started_at",
            "id",
            sqlite_where=text(UNREVIEWED_MISSES),
            postgresql_where=text(UNREVIEWED_MISSES),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agent.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenant.id"), default=None)
    caller_user_id: Mapped[int | None] = mapped_column(ForeignKey("account_user.id"), default=None)
    state: Mapped[CallState] = mapped_column(
        enum_column(CallState, "state"), default=CallState.OPEN
    )
    outcome: Mapped[Outcome | None] = mapped_column(enum_column(Outcome, "outcome"), default=None)
    notes: Mapped[str] = mapped_column(Text, default="")
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"), default=None)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # Kept by the desk with every check, so the queue finds calls that ended with misses.
    misses: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    checks: Mapped[list[ItemCheck]] = relationship(back_populates="call", order_by="ItemCheck.id")


class ItemCheck(Base):
    """One identity item stated by the caller and its result.

    ``on_file`` is the on-file value the item was judged against, rendered as
    the supervisor sees it (``db.calls.on_file_text``), so a later sync never rewrites
    what a past check was compared with. ``stated``, ``normalized`` and
    ``on_file`` are personal data: purge blanks them and keeps the result.
    """

    __tablename__ = "item_check"
    __table_args__ = (
        # Misses of one stated user ID across calls, found without a scan.
        Index(
            "ix_item_check_user_id_miss",
            "normalized",
            "checked_at",
            sqlite_where=text(USER_ID_MISS),
            postgresql_where=text(USER_ID_MISS),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id"), index=True)
    item: Mapped[Item] = mapped_column(enum_column(Item, "item"))
    stated: Mapped[str | None] = mapped_column(Text, default=None)
    normalized: Mapped[str | None] = mapped_column(Text, default=None)
    on_file: Mapped[str | None] = mapped_column(Text, default=None)
    result: Mapped[CheckResult] = mapped_column(enum_column(CheckResult, "result"))
    rules_version: Mapped[str] = mapped_column(String(32))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    call: Mapped[Call] = relationship(back_populates="checks")


class CancellationRequest(Base):
    """An action taken on a subscription during a call.

    ``before`` and ``after`` hold the subscription's state as JSON so a
    supervisor sees exactly what changed; ``request_hash`` binds approvals.
    ``reference`` is the short number read to the caller and printed in the
    admins' notice (``verification.reference``). An expedited request carries
    the end of its cooling-off (``cooling_off_until``, fixed when it is made)
    and, once it became final, ``final_at`` (``verification.cooling``). On
    PostgreSQL revision 0014's ``cancellation_request_guard`` never lets the
    cooling-off move earlier, nor ``final_at`` come before it or without an
    approval, or after a dispute; only the delivery role writes ``final_at``.
    """

    __tablename__ = "cancellation_request"
    # The supervisor queue, newest first: early cancellations, and requests
    # needing approval. Partial indexes; queries repeat their predicates verbatim.
    __table_args__ = (
        Index(
            "ix_cancellation_request_early",
            "created_at",
            "id",
            sqlite_where=text(EARLY_CANCELLATION),
            postgresql_where=text(EARLY_CANCELLATION),
        ),
        Index(
            "ix_cancellation_request_needs_approval",
            "created_at",
            "id",
            sqlite_where=text(NEEDS_APPROVAL),
            postgresql_where=text(NEEDS_APPROVAL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id"), index=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscription.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    checklist: Mapped[str] = mapped_column(Text, default="[]")
    before: Mapped[str] = mapped_column(Text, default="{}")
    after: Mapped[str] = mapped_column(Text, default="{}")
    needs_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    request_hash: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # A unique index rather than a constraint: revision 0010 adds it without
    # copying the table on SQLite (rows made before it get one backfilled).
    reference: Mapped[str] = mapped_column(String(16), index=True, unique=True, server_default="")
    cooling_off_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    final_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class Approval(Base):
    """A supervisor's decision on a request, bound to the request's hash.

    On PostgreSQL revision 0014's ``approval_guard`` refuses a row whose approver
    is not an active supervisor, or is the requester (the call's agent).
    """

    __tablename__ = "approval"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("cancellation_request.id"), index=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    requester_id: Mapped[int] = mapped_column(ForeignKey("agent.id"))
    approver_id: Mapped[int] = mapped_column(ForeignKey("agent.id"))
    decision: Mapped[Decision] = mapped_column(enum_column(Decision, "decision"))
    reason: Mapped[str] = mapped_column(Text)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReviewNote(Base):
    """A supervisor's note on a call."""

    __tablename__ = "review_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("agent.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
