"""Two call outcomes: "expedited" (only the data's deletion brought forward) and "declined"

Revision ID: 0021
Revises: 0020

An expedited-only call was recorded as "canceled" while nothing was
canceled, and a verified admin who chose to change nothing had no outcome
that fit. ``call.outcome`` is a VARCHAR with a CHECK constraint of the
values (``db.models.base.enum_column``): the constraint takes the two new
ones. Calls already recorded keep their outcome; downgrading refuses while
a call holds a new value.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BEFORE = (
    "canceled",
    "auto_renew_off",
    "informed",
    "denied_not_admin",
    "verification_failed",
    "abandoned",
    "escalated",
)
_AFTER = (*_BEFORE[:1], "expedited", *_BEFORE[1:3], "declined", *_BEFORE[3:])


def _constraint(values: tuple[str, ...]) -> None:
    listed = ", ".join(f"'{value}'" for value in values)
    with op.batch_alter_table("call", recreate="auto") as batch:
        batch.drop_constraint(op.f("ck_call_outcome"), type_="check")
        batch.create_check_constraint(op.f("ck_call_outcome"), f"outcome IN ({listed})")


def upgrade() -> None:
    _constraint(_AFTER)


def downgrade() -> None:
    _constraint(_BEFORE)
