"""Guessing across calls: misses per call, user ID locks, lock clearances

Revision ID: 0008
Revises: 0007

PRODUCT.md section 4 "Attempts": misses count per tenant and per unknown
stated user ID over every call. ``call.misses`` lets the queue find calls
that ended unlocked with misses; a partial index finds one user ID's misses;
``user_id_lock`` records a locked unknown user ID (hashed, never in clear);
``lock_clearance`` holds a supervisor's reason for lifting a lock in a
purgeable column instead of the audit chain.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNREVIEWED_MISSES = "reviewed_at IS NULL AND misses > 0 AND outcome IN ('abandoned', 'escalated')"
UTC_TIME = sa.DateTime(timezone=True)
USER_ID_MISS = "item = 'user_id' AND result = 'mismatch'"


def upgrade() -> None:
    with op.batch_alter_table("call") as batch:
        batch.add_column(sa.Column("misses", sa.Integer(), nullable=False, server_default="0"))
    op.create_index(
        "ix_call_unreviewed_misses",
        "call",
        ["started_at", "id"],
        sqlite_where=sa.text(UNREVIEWED_MISSES),
        postgresql_where=sa.text(UNREVIEWED_MISSES),
    )
    op.create_index(
        "ix_item_check_user_id_miss",
        "item_check",
        ["normalized", "checked_at"],
        sqlite_where=sa.text(USER_ID_MISS),
        postgresql_where=sa.text(USER_ID_MISS),
    )
    op.create_table(
        "user_id_lock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("masked", sa.String(320), nullable=False),
        sa.Column("locked_at", UTC_TIME, nullable=False),
        sa.Column("cleared_at", UTC_TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_id_lock")),
    )
    op.create_index(op.f("ix_user_id_lock_key"), "user_id_lock", ["key"])
    op.create_table(
        "lock_clearance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=True),
        sa.Column("user_id_lock_id", sa.Integer(), nullable=True),
        sa.Column("supervisor_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("cleared_at", UTC_TIME, nullable=False),
        sa.Column("purged_at", UTC_TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_lock_clearance_tenant_id_tenant")
        ),
        sa.ForeignKeyConstraint(
            ["user_id_lock_id"],
            ["user_id_lock.id"],
            name=op.f("fk_lock_clearance_user_id_lock_id_user_id_lock"),
        ),
        sa.ForeignKeyConstraint(
            ["supervisor_id"], ["agent.id"], name=op.f("fk_lock_clearance_supervisor_id_agent")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lock_clearance")),
    )
    op.create_index(op.f("ix_lock_clearance_cleared_at"), "lock_clearance", ["cleared_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_lock_clearance_cleared_at"), table_name="lock_clearance")
    op.drop_table("lock_clearance")
    op.drop_index(op.f("ix_user_id_lock_key"), table_name="user_id_lock")
    op.drop_table("user_id_lock")
    op.drop_index("ix_item_check_user_id_miss", table_name="item_check")
    op.drop_index("ix_call_unreviewed_misses", table_name="call")
    with op.batch_alter_table("call") as batch:
        batch.drop_column("misses")
