"""Outbox: a notice canceled at send time

Revision ID: 0017
Revises: 0014

A notice to an admin whom a sync made inactive (or no longer an admin, or
whose tenant went inactive) before the worker ran is not sent: the worker
marks it ``canceled`` (``db.delivery.outbox``), a state of its own so it is
neither counted as delivered nor parked for a supervisor. The state's CHECK
gains the value; SQLite rebuilds the table for it, so its partial indexes
are dropped first and made again after, with the predicates ``db.models``
declares.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OUTBOX_PENDING = "state = 'pending'"
OUTBOX_FAILED = "state = 'failed'"
_INDEXES = (
    ("ix_outbox_event_due", ["next_attempt_at", "id"], OUTBOX_PENDING),
    ("ix_outbox_event_failed", ["created_at", "id"], OUTBOX_FAILED),
)


def _states(*values: str) -> None:
    for name, _columns, _where in _INDEXES:
        op.drop_index(name, table_name="outbox_event")
    allowed = ", ".join(f"'{value}'" for value in values)
    with op.batch_alter_table("outbox_event") as batch:
        batch.drop_constraint(op.f("ck_outbox_event_state"), type_="check")
        batch.create_check_constraint(op.f("ck_outbox_event_state"), f"state IN ({allowed})")
    for name, columns, where in _INDEXES:
        op.create_index(
            name,
            "outbox_event",
            columns,
            sqlite_where=sa.text(where),
            postgresql_where=sa.text(where),
        )


def upgrade() -> None:
    _states("pending", "delivered", "failed", "canceled")


def downgrade() -> None:
    op.execute("UPDATE outbox_event SET state = 'failed' WHERE state = 'canceled'")
    _states("pending", "delivered", "failed")
