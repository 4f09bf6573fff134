"""Failed dispute references counted per staff member

Revision ID: 0018
Revises: 0012

A dispute is found by the reference read out; one process tried thousands
of references a second, and the answers told which existed. ``dispute_miss``
counts, per agent, the references that led to no disputable request in the
current window, so ``db.expedited.disputes`` refuses that agent's disputes
past the limit (one row per agent, updated in place).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "dispute_miss",
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("misses", sa.Integer(), nullable=False),
        sa.Column("window_start", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agent.id"], name=op.f("fk_dispute_miss_agent_id_agent")
        ),
        sa.PrimaryKeyConstraint("agent_id", name=op.f("pk_dispute_miss")),
    )


def downgrade() -> None:
    op.drop_table("dispute_miss")
