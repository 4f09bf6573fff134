"""Accounts sync: inactive tenants and users, and the on-file value of each check

Revision ID: 0006
Revises: 0005

A sync marks tenants and users no longer in the system of record inactive
instead of deleting them (calls refer to them). ``item_check.on_file`` keeps
the value a check was judged against, so history survives a changed record.
Until this revision a record could never change after its import, so the
record on file today is what every existing check was judged against: it is
copied in, rendered as ``db.calls.on_file_text`` renders it for the
supervisor, except for purged calls, whose personal data stays blank.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each part prefixed with ", ", the first two characters dropped: the
# non-blank parts joined by ", " on both backends.
_ADDRESS = (
    "substr("
    + " || ".join(
        f"CASE WHEN t.{part} <> '' THEN ', ' || t.{part} ELSE '' END"
        for part in ("address_line1", "address_line2", "city", "region", "postal_code", "country")
    )
    + ", 3)"
)
_RENDERED = {
    "phone": "t.phone_e164",
    "contact_name": "t.contact_first_name || ' ' || t.contact_last_name",
    "organization": "t.organization",
    "address": _ADDRESS,
    "pin": "CASE WHEN t.support_pin_hash IS NULL THEN '(none)' ELSE '(set)' END",
}


def upgrade() -> None:
    for table in ("tenant", "account_user"):
        op.add_column(
            table, sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    op.add_column("item_check", sa.Column("on_file", sa.Text(), nullable=True))
    unpurged = "c.id = item_check.call_id AND c.purged_at IS NULL"
    for item, rendered in _RENDERED.items():
        op.execute(
            f'UPDATE item_check SET on_file = (SELECT {rendered} FROM "call" c'
            f" JOIN tenant t ON t.id = c.tenant_id WHERE {unpurged})"
            f" WHERE item = '{item}'"
        )
    op.execute(
        'UPDATE item_check SET on_file = (SELECT u.user_id FROM "call" c'
        f" JOIN account_user u ON u.id = c.caller_user_id WHERE {unpurged})"
        " WHERE item = 'user_id' AND result = 'match'"
    )


def downgrade() -> None:
    op.drop_column("item_check", "on_file")
    for table in ("account_user", "tenant"):
        op.drop_column(table, "active")
