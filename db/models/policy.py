"""The limits that protect customers, as the operator set them (``callgate policy``).

One row per key an operator set; a key without a row has the code's default
(``verification.protection``). Who set it and when are on the row and in the
``policy.set`` audit event (old and new value). On PostgreSQL only the owner
may write this table: ``db.roles`` grants the desk and delivery roles SELECT alone.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base
from db.types import UTCDateTime


class PolicySetting(Base):
    """One limit an operator set: its key, its canonical value, who and when."""

    __tablename__ = "policy_setting"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(64))
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime())
