"""The records on file: tenants, their domains and users, subscriptions."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Computed,
    Date,
    ForeignKey,
    String,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.models.base import Base, enum_column
from db.types import UTCDateTime, utcnow
from verification.kinds import (
    Channel,
    ExpeditedState,
    SubscriptionKind,
    SubscriptionStatus,
)


class Tenant(Base):
    """The customer organization on file.

    On PostgreSQL the desk role writes only ``locked_at`` and ``lock_cleared_at``
    (``db.roles``), and revision 0014's ``tenant_lock_guard`` lifts a lock only
    with an active supervisor's ``LockClearance`` at that time.
    """

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
    """A subscription on file, and what the desks' decisions made of it.

    On PostgreSQL revision 0014's ``subscription_expedited_guard`` lets
    ``expedited`` become approved only with an approval of its request.
    """

    __tablename__ = "subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    product_name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[SubscriptionKind] = mapped_column(enum_column(SubscriptionKind, "kind"))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "channel"))
    term_start: Mapped[date] = mapped_column(Date)
    term_end: Mapped[date] = mapped_column(Date)
    auto_renew: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[SubscriptionStatus] = mapped_column(enum_column(SubscriptionStatus, "status"))
    canceled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    data_deletion_on: Mapped[date | None] = mapped_column(Date, default=None)
    expedited: Mapped[ExpeditedState] = mapped_column(
        enum_column(ExpeditedState, "expedited"), default=ExpeditedState.NONE, index=True
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    tenant: Mapped[Tenant] = relationship(back_populates="subscriptions")
