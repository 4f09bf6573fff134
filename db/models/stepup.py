"""Proof of possession in a call (PRODUCT.md section 5): code sends, code tries, callbacks.

Only a code's scrypt hash is stored, never the code; a send names its
destination by reference (an ``AccountUser`` for e-mail, none for the tenant's
phone), never by address or number, so nothing here is a contact to purge.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, enum_column
from db.types import UTCDateTime
from verification.otp import Channel


class CodeSend(Base):
    """A one-time code sent in a call: the channel, the destination's reference, the hash.

    ``account_user_id`` is the admin the e-mail went to; None with channel
    ``sms`` is the tenant's phone on file.
    """

    __tablename__ = "code_send"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id"), index=True)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "channel"))
    account_user_id: Mapped[int | None] = mapped_column(ForeignKey("account_user.id"), default=None)
    code_hash: Mapped[str] = mapped_column(String(255))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CodeTry(Base):
    """A code the caller read back and the agent typed: whether it matched, when.

    A wrong one is a miss of the call and of its tenant like an item mismatch
    (``db.desk.guessing``, ``db.desk.views.verification_of``).
    """

    __tablename__ = "code_try"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id"), index=True)
    matched: Mapped[bool] = mapped_column(Boolean)
    tried_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class Callback(Base):
    """A callback to the number on file: when the number was shown, and the outcome.

    ``answered`` is None until the agent records it (``answered_at``).
    """

    __tablename__ = "callback"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id"), index=True)
    shown_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answered: Mapped[bool | None] = mapped_column(Boolean, default=None)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
