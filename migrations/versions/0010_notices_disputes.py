"""Request references, the cooling-off of expedited deprovisioning, disputes

Revision ID: 0010
Revises: 0009

PRODUCT.md section 5 "Notice": every request gets a short reference
(``CG-XXX-XXX``) read to the caller and printed in the admins' notice;
requests made before this revision get one here, drawn by the database so
the step also runs offline (``db.migrate``'s rule). An expedited request keeps
the end of its cooling-off and the time it became final; those made before
this revision were never announced with a period, so none is imposed on
them (the period ends when they were made). ``dispute`` holds the reason
of a dispute in a purgeable column, never in the audit chain.
"""

from __future__ import annotations

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


# A random symbol of ALPHABET per position, drawn by the database so the
# step is SQL that also runs offline (``callgate db upgrade --sql``). 32
# divides 256, so a byte modulo 32 (PostgreSQL: the random bytes of
# gen_random_uuid(), a strong source, unlike random()) and the low five bits
# of SQLite's random() are uniform.
_SYMBOL = {
    "postgresql": "substr('{alphabet}', get_byte(uuid_send(gen_random_uuid()), 0) % 32 + 1, 1)",
    "sqlite": "substr('{alphabet}', (random() & 31) + 1, 1)",
}
# Rows sharing a reference, all but the first of each: drawn again until none is left.
_REPEATED = (
    "id IN (SELECT id FROM (SELECT id, row_number() OVER"
    " (PARTITION BY reference ORDER BY id) AS n FROM cancellation_request) AS d WHERE n > 1)"
)


def _draw(dialect: str, where: str) -> str:
    """An UPDATE giving the rows matched by ``where`` a fresh random CG-XXX-XXX reference."""
    symbol = _SYMBOL[dialect].format(alphabet=ALPHABET)
    body = [symbol] * 6
    reference = " || ".join(["'CG-'", *body[:3], "'-'", *body[3:]])
    return f"UPDATE cancellation_request SET reference = {reference} WHERE {where}"


def _give_references(dialect: str) -> None:
    """Every existing request gets a unique reference, drawn as the desk draws one."""
    if dialect == "postgresql":
        # One DO block: the redraw loop runs in the server, with or without a
        # live connection here.
        op.execute(
            f"""DO $$
BEGIN
    {_draw(dialect, "true")};
    LOOP
        {_draw(dialect, _REPEATED)};
        EXIT WHEN NOT FOUND;
    END LOOP;
END
$$"""
        )
        return
    # SQLite has no procedural SQL; it is never migrated offline (batch mode
    # needs the live table), so the loop may run here.
    connection = op.get_bind()
    connection.execute(sa.text(_draw(dialect, "true")))
    while connection.execute(sa.text(_draw(dialect, _REPEATED))).rowcount:
        pass


def upgrade() -> None:
    # Added NOT NULL with a server default, so SQLite adds them in place
    # instead of copying a table that approvals and the outbox reference.
    with op.batch_alter_table("cancellation_request") as batch:
        batch.add_column(sa.Column("reference", sa.String(16), nullable=False, server_default=""))
        batch.add_column(sa.Column("cooling_off_until", UTC_TIME, nullable=True))
        batch.add_column(sa.Column("final_at", UTC_TIME, nullable=True))
    _give_references(op.get_context().dialect.name)
    op.execute(
        "UPDATE cancellation_request SET cooling_off_until = created_at WHERE needs_approval"
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
