"""The desk's own people: agents and failed sign-ins under unknown names."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, enum_column
from db.types import UTCDateTime, utcnow
from verification.kinds import (
    Role,
)


class Agent(Base):
    """A member of staff who signs in to the desk.

    On PostgreSQL the desk role writes no column here and cannot read the
    hash nor the second factor's secret: revisions 0014 and 0020
    (``agent_sign_in``, ``agent_unlock``) and ``db.roles``.
    """

    __tablename__ = "agent"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    # Deferred: the desk role may not read it on PostgreSQL (db.roles), so no
    # load of an agent selects it; sign-in goes through revision 0014's functions.
    passphrase_hash: Mapped[str] = mapped_column(String(255), deferred=True)
    # The second factor's secret (base32, ``verification.totp``), None when not
    # enrolled; deferred and unreadable by the desk role like the hash, since
    # whoever reads it mints codes (revision 0020's ``agent_sign_in`` checks them).
    totp_secret: Mapped[str | None] = mapped_column(String(64), deferred=True, default=None)
    # The last time step a code was accepted for: a code for it or before is refused.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, deferred=True, default=None)
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

    # The same names as on ``Agent``: db.staff.agents counts both kinds with one code path.
    name_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    failed_signins: Mapped[int] = mapped_column(Integer, default=0)
    signin_not_before: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class AgentReset(Base):
    """An agent account unlocked, with the reason given (staff free text: purgeable).

    ``actor`` is who reset it, as the audit chain names them (a supervisor's
    username, or the operator). The ``agent.reset`` event names this row; the
    reason stays out of the chain so that purge can blank it, as with
    ``LockClearance``.
    """

    __tablename__ = "agent_reset"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agent.id"))
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    reset_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
