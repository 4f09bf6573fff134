"""SQLAlchemy models: everything in PRODUCT.md section 3.

Schema changes go through Alembic revisions in ``migrations/``; ``callgate db
check`` fails when these models and the revisions disagree.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    Computed,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from db.types import UTCDateTime, utcnow
from verification.kinds import (
    CallState,
    Channel,
    CheckResult,
    Decision,
    ExpeditedState,
    Item,
    Outcome,
    Role,
    SubscriptionKind,
    SubscriptionStatus,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Predicates of the supervisor queue's partial indexes. SQLite uses a partial
# index only when the query's WHERE holds the same terms with the same
# literals, so db.review builds its WHERE from these very strings.
UNREVIEWED_FAILED = "reviewed_at IS NULL AND (state = 'locked' OR outcome = 'verification_failed')"
EARLY_CANCELLATION = "action IN ('cancel_now', 'cancel_now_with_expedited')"
NEEDS_APPROVAL = "needs_approval"
# Calls that ended unlocked but with misses (hung up, transferred): a supervisor looks.
UNREVIEWED_MISSES = "reviewed_at IS NULL AND misses > 0 AND outcome IN ('abandoned', 'escalated')"
# Misses of a stated user ID, counted across calls (PRODUCT.md section 4 "Attempts").
USER_ID_MISS = "item = 'user_id' AND result = 'mismatch'"
# The outbox's partial indexes: what a worker may claim, and what the queue shows.
OUTBOX_PENDING = "state = 'pending'"
OUTBOX_FAILED = "state = 'failed'"


def _enum(cls: type[StrEnum], name: str) -> Enum:
    """A portable enum column: a VARCHAR with a CHECK constraint of its values."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Tenant(Base):
    """The customer organization on file."""

    __tablename__ = "tenant"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(64), unique=True)
    organization: Mapped[str] = mapped_column(String(200))
    # The supervisor desk's organization search: a prefix range on this
    # generated column uses its index on both backends. "C" collation on
    # PostgreSQL makes the range follow code points, as SQLite's BINARY does.
    organization_key: Mapped[str] = mapped_column(
        String(200).with_variant(String(200, collation="C"), "postgresql"),
        Computed("lower(organization)"),
        index=True,
    )
    contact_first_name: Mapped[str] = mapped_column(String(100))
    contact_last_name: Mapped[str] = mapped_column(String(100))
    phone_e164: Mapped[str] = mapped_column(String(20), index=True)
    address_line1: Mapped[str] = mapped_column(String(200))
    address_line2: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100))
    region: Mapped[str] = mapped_column(String(100), default="")
    postal_code: Mapped[str] = mapped_column(String(20), default="")
    country: Mapped[str] = mapped_column(String(2))
    support_pin_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None, index=True)
    lock_cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # False once a sync no longer finds the tenant in the system of record:
    # kept, because calls refer to it, but it can no longer be verified.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    domains: Mapped[list[TenantDomain]] = relationship(
        back_populates="tenant", cascade="all, delete-orphan", order_by="TenantDomain.domain"
    )
    users: Mapped[list[AccountUser]] = relationship(back_populates="tenant")
    subscriptions: Mapped[list[Subscription]] = relationship(
        back_populates="tenant", order_by="Subscription.id"
    )


class TenantDomain(Base):
    """A custom domain the tenant added to its subscription."""

    __tablename__ = "tenant_domain"
    __table_args__ = (UniqueConstraint("tenant_id", "domain"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"))
    domain: Mapped[str] = mapped_column(String(253))

    tenant: Mapped[Tenant] = relationship(back_populates="domains")


class AccountUser(Base):
    """A sign-in identity of a tenant; ``user_id`` is stored normalized."""

    __tablename__ = "account_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    # False once a sync no longer finds the user: its user ID is then a miss.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    tenant: Mapped[Tenant] = relationship(back_populates="users")


class Subscription(Base):
    __tablename__ = "subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    product_name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[SubscriptionKind] = mapped_column(_enum(SubscriptionKind, "kind"))
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "channel"))
    term_start: Mapped[date] = mapped_column(Date)
    term_end: Mapped[date] = mapped_column(Date)
    auto_renew: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[SubscriptionStatus] = mapped_column(_enum(SubscriptionStatus, "status"))
    canceled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    data_deletion_on: Mapped[date | None] = mapped_column(Date, default=None)
    expedited: Mapped[ExpeditedState] = mapped_column(
        _enum(ExpeditedState, "expedited"), default=ExpeditedState.NONE, index=True
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    tenant: Mapped[Tenant] = relationship(back_populates="subscriptions")


class Agent(Base):
    """A member of staff who signs in to the desk."""

    __tablename__ = "agent"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    passphrase_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_signins: Mapped[int] = mapped_column(Integer, default=0)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_signin_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # No sign-in is checked before this: the wait after failures, kept by the database.
    signin_not_before: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SigninFailure(Base):
    """Failed sign-ins under a username that names no agent, counted as an agent's are.

    Keyed by a SHA-256 of the typed name, never the name: it may be a
    passphrase typed into the wrong field.
    """

    __tablename__ = "signin_failure"

    # The same names as on ``Agent``: db.agents counts both kinds with one code path.
    name_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    failed_signins: Mapped[int] = mapped_column(Integer, default=0)
    signin_not_before: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


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
    state: Mapped[CallState] = mapped_column(_enum(CallState, "state"), default=CallState.OPEN)
    outcome: Mapped[Outcome | None] = mapped_column(_enum(Outcome, "outcome"), default=None)
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
    item: Mapped[Item] = mapped_column(_enum(Item, "item"))
    stated: Mapped[str | None] = mapped_column(Text, default=None)
    normalized: Mapped[str | None] = mapped_column(Text, default=None)
    on_file: Mapped[str | None] = mapped_column(Text, default=None)
    result: Mapped[CheckResult] = mapped_column(_enum(CheckResult, "result"))
    rules_version: Mapped[str] = mapped_column(String(32))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    call: Mapped[Call] = relationship(back_populates="checks")


class CancellationRequest(Base):
    """An action taken on a subscription during a call.

    ``before`` and ``after`` hold the subscription's state as JSON so a
    supervisor sees exactly what changed; ``request_hash`` binds approvals.
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


class Approval(Base):
    """A supervisor's decision on a request, bound to the request's hash."""

    __tablename__ = "approval"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("cancellation_request.id"), index=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    requester_id: Mapped[int] = mapped_column(ForeignKey("agent.id"))
    approver_id: Mapped[int] = mapped_column(ForeignKey("agent.id"))
    decision: Mapped[Decision] = mapped_column(_enum(Decision, "decision"))
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


class AuditEvent(Base):
    """One link of the append-only, hash-chained audit log (PRODUCT.md section 7).

    ``payload`` is the canonical JSON text exactly as hashed, so verification
    never depends on how a driver round-trips JSON.
    """

    __tablename__ = "audit_event"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(64), index=True)
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


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


class OutboxState(StrEnum):
    """Where one outbox row stands."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


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
    form a worker's lease (``db.outbox``).
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
    channel: Mapped[OutboxChannel] = mapped_column(_enum(OutboxChannel, "channel"))
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
        _enum(OutboxState, "state"), default=OutboxState.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claim: Mapped[str | None] = mapped_column(String(36), default=None)
    acked_targets: Mapped[str] = mapped_column(Text, default="[]")
    last_error: Mapped[str] = mapped_column(Text, default="")
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
