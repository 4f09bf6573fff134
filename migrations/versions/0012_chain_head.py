"""The chain head in one round trip on PostgreSQL

Revision ID: 0012
Revises: 0011

An append took the chain's advisory lock and then read the head: two round
trips for every audit event, and the head read could not share the locking
statement (a statement reads the snapshot taken before it waited for the
lock). ``audit_chain_head(key)`` does both in one call: a VOLATILE PL/pgSQL
function takes a fresh snapshot for each query it runs, so its head read
comes after the lock was granted. SQLite has no functions and needs none:
its ``BEGIN IMMEDIATE`` is the lock.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UP = """CREATE FUNCTION audit_chain_head(lock_key bigint, OUT seq integer, OUT hash text)
    LANGUAGE plpgsql VOLATILE AS $$
    BEGIN
        PERFORM pg_advisory_xact_lock(lock_key);
        SELECT e.seq, e.hash INTO seq, hash FROM audit_event e ORDER BY e.seq DESC LIMIT 1;
    END
    $$"""
_DOWN = "DROP FUNCTION IF EXISTS audit_chain_head(bigint)"


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute(_UP)


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute(_DOWN)
