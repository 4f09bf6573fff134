"""Reasons for resetting an agent, in a purgeable row

Revision ID: 0011
Revises: 0010

Clearing a lock asks a reason (``lock_clearance``); resetting an agent
locked by failed sign-ins now does too. ``agent_reset`` keeps that reason
out of the audit chain, which names the row, so purge can blank it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "agent_reset",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reset_at", UTC_TIME, nullable=False),
        sa.Column("purged_at", UTC_TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agent.id"], name=op.f("fk_agent_reset_agent_id_agent")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_reset")),
    )
    op.create_index(op.f("ix_agent_reset_reset_at"), "agent_reset", ["reset_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_agent_reset_reset_at"), table_name="agent_reset")
    op.drop_table("agent_reset")
