"""Outbox: decisions and notices waiting to leave for the billing system and admins

Revision ID: 0007
Revises: 0006

One row per event, written in the transaction of the decision it reports and
delivered by ``callgate deliver``. Partial indexes hold only what a worker may
claim (pending, by due time) and what the supervisor queue shows (failed);
their predicates are the ones ``db.models`` declares and ``db.delivery.outbox`` queries.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = sa.DateTime(timezone=True)
OUTBOX_PENDING = "state = 'pending'"
OUTBOX_FAILED = "state = 'failed'"


def _choice(column: str, *values: str) -> tuple[sa.Column[str], sa.CheckConstraint]:
    allowed = ", ".join(f"'{value}'" for value in values)
    return (
        sa.Column(column, sa.String(length=32), nullable=False),
        sa.CheckConstraint(f"{column} IN ({allowed})", name=op.f(f"ck_outbox_event_{column}")),
    )


def upgrade() -> None:
    op.create_table(
        "outbox_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        *_choice("channel", "webhook", "email"),
        sa.Column("tenant_ref", sa.String(length=64), nullable=False),
        sa.Column("product_name", sa.String(length=200), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("recipient_user_id", sa.Integer(), nullable=True),
        sa.Column("service_ends_on", sa.Date(), nullable=True),
        sa.Column("data_deletion_on", sa.Date(), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        *_choice("state", "pending", "delivered", "failed"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTC_TIME, nullable=False),
        sa.Column("claim", sa.String(length=36), nullable=True),
        sa.Column("acked_targets", sa.Text(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("delivered_at", UTC_TIME, nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["cancellation_request.id"],
            name=op.f("fk_outbox_event_request_id_cancellation_request"),
        ),
        sa.ForeignKeyConstraint(
            ["recipient_user_id"],
            ["account_user.id"],
            name=op.f("fk_outbox_event_recipient_user_id_account_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_event")),
        sa.UniqueConstraint("event_id", name=op.f("uq_outbox_event_event_id")),
    )
    op.create_index(op.f("ix_outbox_event_request_id"), "outbox_event", ["request_id"])
    for name, columns, where in (
        ("ix_outbox_event_due", ["next_attempt_at", "id"], OUTBOX_PENDING),
        ("ix_outbox_event_failed", ["created_at", "id"], OUTBOX_FAILED),
    ):
        op.create_index(
            name,
            "outbox_event",
            columns,
            sqlite_where=sa.text(where),
            postgresql_where=sa.text(where),
        )


def downgrade() -> None:
    op.drop_index("ix_outbox_event_failed", table_name="outbox_event")
    op.drop_index("ix_outbox_event_due", table_name="outbox_event")
    op.drop_index(op.f("ix_outbox_event_request_id"), table_name="outbox_event")
    op.drop_table("outbox_event")
