"""Step-up verification: one-time code sends and tries, callbacks

Revision ID: 0009
Revises: 0008

PRODUCT.md section 5 "Risk tiers and proof of possession": a code is kept
only as its scrypt hash, its destination only as a reference (the admin's
account user, or none for the tenant's phone); a try records whether it
matched (a wrong one is a miss, so it is found by time like item checks);
a callback records when the number on file was shown and the outcome.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "code_send",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("account_user_id", sa.Integer(), nullable=True),
        sa.Column("code_hash", sa.String(length=255), nullable=False),
        sa.Column("sent_at", UTC_TIME, nullable=False),
        sa.CheckConstraint("channel IN ('sms', 'email')", name=op.f("ck_code_send_channel")),
        sa.ForeignKeyConstraint(["call_id"], ["call.id"], name=op.f("fk_code_send_call_id_call")),
        sa.ForeignKeyConstraint(
            ["account_user_id"],
            ["account_user.id"],
            name=op.f("fk_code_send_account_user_id_account_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_code_send")),
    )
    op.create_index(op.f("ix_code_send_call_id"), "code_send", ["call_id"])
    op.create_table(
        "code_try",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("matched", sa.Boolean(), nullable=False),
        sa.Column("tried_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["call.id"], name=op.f("fk_code_try_call_id_call")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_code_try")),
    )
    op.create_index(op.f("ix_code_try_call_id"), "code_try", ["call_id"])
    op.create_index(op.f("ix_code_try_tried_at"), "code_try", ["tried_at"])
    op.create_table(
        "callback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("shown_at", UTC_TIME, nullable=False),
        sa.Column("answered", sa.Boolean(), nullable=True),
        sa.Column("answered_at", UTC_TIME, nullable=True),
        sa.ForeignKeyConstraint(["call_id"], ["call.id"], name=op.f("fk_callback_call_id_call")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback")),
    )
    op.create_index(op.f("ix_callback_call_id"), "callback", ["call_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_callback_call_id"), table_name="callback")
    op.drop_table("callback")
    op.drop_index(op.f("ix_code_try_tried_at"), table_name="code_try")
    op.drop_index(op.f("ix_code_try_call_id"), table_name="code_try")
    op.drop_table("code_try")
    op.drop_index(op.f("ix_code_send_call_id"), table_name="code_send")
    op.drop_table("code_send")
