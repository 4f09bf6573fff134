"""Sign-in waits kept by the database, and failures of unknown usernames counted

Revision ID: 0005
Revises: 0004

``agent.signin_not_before``: no sign-in of that account is checked before it
(the wait after repeated failures, enforced whatever the screen does).
``signin_failure``: the same count, wait and lock for usernames that name no
account, keyed by a SHA-256 of the typed name so the name itself is not kept,
and no agent row is ever created for it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("agent", sa.Column("signin_not_before", UTC_TIME, nullable=True))
    op.create_table(
        "signin_failure",
        sa.Column("name_hash", sa.String(length=64), nullable=False),
        sa.Column("failed_signins", sa.Integer(), nullable=False),
        sa.Column("signin_not_before", UTC_TIME, nullable=True),
        sa.Column("locked_at", UTC_TIME, nullable=True),
        sa.PrimaryKeyConstraint("name_hash", name=op.f("pk_signin_failure")),
    )


def downgrade() -> None:
    op.drop_table("signin_failure")
    with op.batch_alter_table("agent") as batch:
        batch.drop_column("signin_not_before")
