"""Supervisor queue: partial indexes of what waits, instead of 0003's full ones

Revision ID: 0004
Revises: 0003

The queue asks for the newest few rows among those waiting (failed
verifications not reviewed, early cancellations, requests needing approval).
Indexes that hold only those rows, ordered by time, answer it in a few page
reads however many calls are stored; 0003's (state, started_at) and (action,
created_at) indexes made the database sort every match. Both SQLite and
PostgreSQL have partial indexes; the predicates are the ones ``db.models``
declares and ``db.review`` queries with.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNREVIEWED_FAILED = "reviewed_at IS NULL AND (state = 'locked' OR outcome = 'verification_failed')"
EARLY_CANCELLATION = "action IN ('cancel_now', 'cancel_now_with_expedited')"
NEEDS_APPROVAL = "needs_approval"


def _partial(name: str, table: str, columns: list[str], where: str) -> None:
    op.create_index(
        name,
        table,
        columns,
        sqlite_where=sa.text(where),
        postgresql_where=sa.text(where),
    )


def upgrade() -> None:
    op.drop_index("ix_call_state_started_at", table_name="call")
    op.drop_index("ix_cancellation_request_action_created_at", table_name="cancellation_request")
    _partial("ix_call_unreviewed_failed", "call", ["started_at", "id"], UNREVIEWED_FAILED)
    _partial(
        "ix_cancellation_request_early",
        "cancellation_request",
        ["created_at", "id"],
        EARLY_CANCELLATION,
    )
    _partial(
        "ix_cancellation_request_needs_approval",
        "cancellation_request",
        ["created_at", "id"],
        NEEDS_APPROVAL,
    )


def downgrade() -> None:
    op.drop_index("ix_cancellation_request_needs_approval", table_name="cancellation_request")
    op.drop_index("ix_cancellation_request_early", table_name="cancellation_request")
    op.drop_index("ix_call_unreviewed_failed", table_name="call")
    op.create_index(
        "ix_cancellation_request_action_created_at",
        "cancellation_request",
        ["action", "created_at"],
    )
    op.create_index("ix_call_state_started_at", "call", ["state", "started_at"])
