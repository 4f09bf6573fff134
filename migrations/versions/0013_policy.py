"""The limits that protect customers, in the database

Revision ID: 0013
Revises: 0012

Misses per call and per tenant, their windows, the tiers, the cooling-off,
the sign-in lockout and the verification expiry were a desk's settings, so
whoever held a desk's settings file could lift them. They are now rows an
operator sets with ``callgate policy set`` (``db.policy``); a key without a
row has the code's default (``verification.protection``). On PostgreSQL the
desk and delivery roles may only read this table (``db.roles``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "policy_setting",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.String(64), nullable=False),
        sa.Column("set_by", sa.String(64), nullable=False),
        sa.Column("set_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_policy_setting")),
    )


def downgrade() -> None:
    op.drop_table("policy_setting")
