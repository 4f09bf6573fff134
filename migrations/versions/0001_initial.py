"""Initial schema: everything in PRODUCT.md section 3.

Revision ID: 0001
Revises:
Create Date: 2026-11-26

Written from ``alembic revision --autogenerate`` and reviewed by hand: the
enum columns are plain VARCHARs with their CHECK constraints spelled out, so
this revision keeps building the same schema whatever the enums in the code
become later (a new member needs a new revision).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = sa.DateTime(timezone=True)


def _choice(
    table: str, column: str, *values: str, nullable: bool = False
) -> tuple[sa.Column[str], sa.CheckConstraint]:
    """A VARCHAR(32) column and the CHECK constraint limiting it to ``values``."""
    allowed = ", ".join(f"'{value}'" for value in values)
    return (
        sa.Column(column, sa.String(length=32), nullable=nullable),
        sa.CheckConstraint(f"{column} IN ({allowed})", name=op.f(f"ck_{table}_{column}")),
    )


def upgrade() -> None:
    op.create_table(
        "agent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        *_choice("agent", "role", "agent", "supervisor"),
        sa.Column("passphrase_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_signins", sa.Integer(), nullable=False),
        sa.Column("locked_at", UTC_TIME, nullable=True),
        sa.Column("last_signin_at", UTC_TIME, nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent")),
        sa.UniqueConstraint("username", name=op.f("uq_agent_username")),
    )
    op.create_table(
        "audit_event",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("occurred_at", UTC_TIME, nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_event")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_event_hash")),
    )
    op.create_index(op.f("ix_audit_event_type"), "audit_event", ["type"])

    op.create_table(
        "tenant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("organization", sa.String(length=200), nullable=False),
        sa.Column("contact_first_name", sa.String(length=100), nullable=False),
        sa.Column("contact_last_name", sa.String(length=100), nullable=False),
        sa.Column("phone_e164", sa.String(length=20), nullable=False),
        sa.Column("address_line1", sa.String(length=200), nullable=False),
        sa.Column("address_line2", sa.String(length=200), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("region", sa.String(length=100), nullable=False),
        sa.Column("postal_code", sa.String(length=20), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("support_pin_hash", sa.String(length=255), nullable=True),
        sa.Column("locked_at", UTC_TIME, nullable=True),
        sa.Column("lock_cleared_at", UTC_TIME, nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenant")),
        sa.UniqueConstraint("ref", name=op.f("uq_tenant_ref")),
    )
    op.create_index(op.f("ix_tenant_phone_e164"), "tenant", ["phone_e164"])

    op.create_table(
        "tenant_domain",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_tenant_domain_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenant_domain")),
        sa.UniqueConstraint("tenant_id", "domain", name=op.f("uq_tenant_domain_tenant_id")),
    )
    op.create_table(
        "account_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=320), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_account_user_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_user")),
        sa.UniqueConstraint("user_id", name=op.f("uq_account_user_user_id")),
    )
    op.create_index(op.f("ix_account_user_tenant_id"), "account_user", ["tenant_id"])

    op.create_table(
        "subscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("product_name", sa.String(length=200), nullable=False),
        *_choice("subscription", "kind", "trial", "paid"),
        *_choice("subscription", "channel", "direct", "product_key", "open", "fpp"),
        sa.Column("term_start", sa.Date(), nullable=False),
        sa.Column("term_end", sa.Date(), nullable=False),
        sa.Column("auto_renew", sa.Boolean(), nullable=False),
        *_choice("subscription", "status", "active", "expiring", "canceled", "expired"),
        sa.Column("canceled_at", UTC_TIME, nullable=True),
        sa.Column("data_deletion_on", sa.Date(), nullable=True),
        *_choice("subscription", "expedited", "none", "pending", "approved", "rejected"),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_subscription_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription")),
    )
    op.create_index(op.f("ix_subscription_tenant_id"), "subscription", ["tenant_id"])

    op.create_table(
        "call",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("started_at", UTC_TIME, nullable=False),
        sa.Column("ended_at", UTC_TIME, nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=True),
        sa.Column("caller_user_id", sa.Integer(), nullable=True),
        *_choice("call", "state", "open", "verified", "locked", "closed"),
        *_choice(
            "call",
            "outcome",
            "canceled",
            "auto_renew_off",
            "informed",
            "denied_not_admin",
            "verification_failed",
            "abandoned",
            "escalated",
            nullable=True,
        ),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("verified_at", UTC_TIME, nullable=True),
        sa.Column("reviewed_at", UTC_TIME, nullable=True),
        sa.Column("reviewed_by_id", sa.Integer(), nullable=True),
        sa.Column("purged_at", UTC_TIME, nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"], name=op.f("fk_call_agent_id_agent")),
        sa.ForeignKeyConstraint(
            ["caller_user_id"],
            ["account_user.id"],
            name=op.f("fk_call_caller_user_id_account_user"),
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by_id"], ["agent.id"], name=op.f("fk_call_reviewed_by_id_agent")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_call_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call")),
    )
    # Composite indexes serve the supervisor queue's keyset pagination and filters.
    op.create_index("ix_call_started_at_id", "call", ["started_at", "id"])
    op.create_index("ix_call_agent_id_started_at", "call", ["agent_id", "started_at"])
    op.create_index("ix_call_tenant_id_started_at", "call", ["tenant_id", "started_at"])
    op.create_index("ix_call_outcome_started_at", "call", ["outcome", "started_at"])
    op.create_index("ix_call_agent_id_state", "call", ["agent_id", "state"])

    op.create_table(
        "item_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        *_choice(
            "item_check",
            "item",
            "user_id",
            "phone",
            "contact_name",
            "organization",
            "address",
            "pin",
        ),
        sa.Column("stated", sa.Text(), nullable=True),
        sa.Column("normalized", sa.Text(), nullable=True),
        *_choice("item_check", "result", "match", "mismatch"),
        sa.Column("rules_version", sa.String(length=32), nullable=False),
        sa.Column("checked_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["call.id"], name=op.f("fk_item_check_call_id_call")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_check")),
    )
    op.create_index(op.f("ix_item_check_call_id"), "item_check", ["call_id"])

    op.create_table(
        "cancellation_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("checklist", sa.Text(), nullable=False),
        sa.Column("before", sa.Text(), nullable=False),
        sa.Column("after", sa.Text(), nullable=False),
        sa.Column("needs_approval", sa.Boolean(), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"], ["call.id"], name=op.f("fk_cancellation_request_call_id_call")
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscription.id"],
            name=op.f("fk_cancellation_request_subscription_id_subscription"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cancellation_request")),
    )
    op.create_index(op.f("ix_cancellation_request_call_id"), "cancellation_request", ["call_id"])
    op.create_index(
        op.f("ix_cancellation_request_subscription_id"),
        "cancellation_request",
        ["subscription_id"],
    )

    op.create_table(
        "approval",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("requester_id", sa.Integer(), nullable=False),
        sa.Column("approver_id", sa.Integer(), nullable=False),
        *_choice("approval", "decision", "approved", "rejected"),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["approver_id"], ["agent.id"], name=op.f("fk_approval_approver_id_agent")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["cancellation_request.id"],
            name=op.f("fk_approval_request_id_cancellation_request"),
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"], ["agent.id"], name=op.f("fk_approval_requester_id_agent")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval")),
    )
    op.create_index(op.f("ix_approval_request_id"), "approval", ["request_id"])

    op.create_table(
        "review_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["agent.id"], name=op.f("fk_review_note_author_id_agent")
        ),
        sa.ForeignKeyConstraint(["call_id"], ["call.id"], name=op.f("fk_review_note_call_id_call")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_note")),
    )
    op.create_index(op.f("ix_review_note_call_id"), "review_note", ["call_id"])


def downgrade() -> None:
    # Children before parents; each table's indexes go with it.
    for table in (
        "review_note",
        "approval",
        "cancellation_request",
        "item_check",
        "call",
        "subscription",
        "account_user",
        "tenant_domain",
        "tenant",
        "audit_event",
        "agent",
    ):
        op.drop_table(table)
