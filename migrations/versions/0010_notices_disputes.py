"""Request references, the cooling-off of expedited deprovisioning, disputes

Revision ID: 0010
Revises: 0009

PRODUCT.md section 5 "Notice": every request gets a short reference
(``CG-XXX-XXX``) read to the caller and printed in the admins' notice;
requests made before this revision get one here. An expedited request keeps
the end of its cooling-off and the time it became final; those made before
this revision were never announced with a period, so none is imposed on
them (the period ends when they were made). ``dispute`` holds the reason
of a dispute in a purgeable column, never in the audit chain.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = sa.DateTime(timezone=True)
DISPUTE_OPEN = "resolved_at IS NULL"
# verification.reference's alphabet, copied: a revision never imports code that may change.
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def _reference(taken: set[str]) -> str:
    while True:
        body = "".join(secrets.choice(ALPHABET) for _ in range(6))
        reference = f"CG-{body[:3]}-{body[3:]}"
        if reference not in taken:
            taken.add(reference)
            return reference


def upgrade() -> None:
    # Added NOT NULL with a server default, so SQLite adds them in place
    # instead of copying a table that approvals and the outbox reference.
    with op.batch_alter_table("cancellation_request") as batch:
        batch.add_column(sa.Column("reference", sa.String(16), nullable=False, server_default=""))
        batch.add_column(sa.Column("cooling_off_until", UTC_TIME, nullable=True))
        batch.add_column(sa.Column("final_at", UTC_TIME, nullable=True))
    connection = op.get_bind()
    ids = connection.execute(sa.text("SELECT id FROM cancellation_request ORDER BY id")).scalars()
    taken: set[str] = set()
    for request_id in list(ids):
        connection.execute(
            sa.text("UPDATE cancellation_request SET reference = :ref WHERE id = :id"),
            {"ref": _reference(taken), "id": request_id},
        )
    connection.execute(
        sa.text(
            "UPDATE cancellation_request SET cooling_off_until = created_at WHERE needs_approval"
        )
    )
    op.create_index(
        op.f("ix_cancellation_request_reference"),
        "cancellation_request",
        ["reference"],
        unique=True,
    )
    op.create_table(
        "dispute",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("disputed_at", UTC_TIME, nullable=False),
        sa.Column("resolved_at", UTC_TIME, nullable=True),
        sa.Column("purged_at", UTC_TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["cancellation_request.id"],
            name=op.f("fk_dispute_request_id_cancellation_request"),
        ),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"], name=op.f("fk_dispute_agent_id_agent")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispute")),
        sa.UniqueConstraint("request_id", name=op.f("uq_dispute_request_id")),
    )
    op.create_index(
        "ix_dispute_open",
        "dispute",
        ["disputed_at", "id"],
        sqlite_where=sa.text(DISPUTE_OPEN),
        postgresql_where=sa.text(DISPUTE_OPEN),
    )


def downgrade() -> None:
    op.drop_index("ix_dispute_open", table_name="dispute")
    op.drop_table("dispute")
    op.drop_index(op.f("ix_cancellation_request_reference"), table_name="cancellation_request")
    with op.batch_alter_table("cancellation_request") as batch:
        batch.drop_column("final_at")
        batch.drop_column("cooling_off_until")
        batch.drop_column("reference")
