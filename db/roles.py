"""The least-privilege role desks connect as on PostgreSQL (PRODUCT.md section 7).

Migrations run as the owner of the tables; the desks run as a role that owns
nothing, so it cannot drop or disable the audit table's triggers, and may only
read and append to the audit table (through ``audit_chain_head``, which it may
execute). On the other tables it may read, insert
and update (the desks delete nothing); on ``alembic_version`` and
``policy_setting`` (the limits, ``callgate policy``) only read; on
the sequences only take the next value. This module is the one home of that
list: ``grant_desk`` revokes whatever the role had first, so running it again
(after ``db upgrade`` added a table) leaves exactly these rights.
"""

from __future__ import annotations

import re

from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

AUDIT_TABLE = "audit_event"
VERSION_TABLE = "alembic_version"
AUDIT_RIGHTS = "SELECT, INSERT"
VERSION_RIGHTS = "SELECT"
# The limits that protect customers: only the owner sets them (``callgate policy``).
POLICY_TABLE = "policy_setting"
TABLE_RIGHTS = "SELECT, INSERT, UPDATE"
# The chain's lock and head in one call (revision 0012, ``db.audit.chain``).
CHAIN_HEAD = "audit_chain_head(bigint)"
ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class DeskRoleError(ValueError):
    """The desk role cannot be set up as asked; the message says why."""


def grant_desk(engine: Engine, role: str) -> list[str]:
    """Create ``role`` (LOGIN, no password) if absent and give it exactly the desk's rights.

    Run as the tables' owner. Refuses a role that is a superuser, or owns or
    could take any callgate table, since such a role could disable triggers.
    Returns the statements run, for the operator to see.
    """
    check_request(engine, role)
    with engine.begin() as connection:
        tables = _tables(connection)
        if AUDIT_TABLE not in tables:
            raise DeskRoleError(
                "the database has no callgate schema yet: run `callgate db upgrade`"
            )
        _refuse_powerful(connection, role)
        statements = _statements(connection, role, tables)
        for statement in statements:
            connection.execute(text(statement))
    return statements


def check_request(engine: Engine, role: str) -> None:
    """Refuse, before connecting, a database without roles or a name that is not a role's."""
    if engine.dialect.name != "postgresql":
        raise DeskRoleError("a desk role is for PostgreSQL; a SQLite file has no roles")
    if not ROLE_NAME.fullmatch(role):
        raise DeskRoleError(
            f"role {role!r} must be 1-63 characters of a-z, 0-9 and '_', not starting with a digit"
        )


def _tables(connection: Connection) -> list[str]:
    return list(
        connection.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        ).scalars()
    )


def _refuse_powerful(connection: Connection, role: str) -> None:
    """A superuser, the owner, or a member of the owner's role could disable triggers."""
    row = connection.execute(
        text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = :r"), {"r": role}
    ).first()
    if row is not None and (row[0] or row[1]):
        raise DeskRoleError(f"role {role} is a superuser or bypasses row security: choose another")
    owns = (
        connection.execute(
            text(
                "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() "
                "AND pg_has_role(:r, tableowner, 'MEMBER')"
            ),
            {"r": role},
        ).scalar_one()
        if row is not None
        else 0
    )
    if owns:
        raise DeskRoleError(
            f"role {role} owns (or is a member of the owner of) the callgate tables: "
            "the desk role must be another role"
        )


def _statements(connection: Connection, role: str, tables: list[str]) -> list[str]:
    quoted = f'"{role}"'
    exists = connection.execute(
        text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}
    ).first()
    database = connection.execute(text("SELECT current_database()")).scalar_one()
    schema = connection.execute(text("SELECT current_schema()")).scalar_one()
    statements = (
        [] if exists else [f"CREATE ROLE {quoted} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE"]
    )
    statements += [
        f'GRANT CONNECT ON DATABASE "{database}" TO {quoted}',
        f'GRANT USAGE ON SCHEMA "{schema}" TO {quoted}',
        f'REVOKE CREATE ON SCHEMA "{schema}" FROM {quoted}',
        f'REVOKE ALL ON ALL TABLES IN SCHEMA "{schema}" FROM {quoted}',
        f'REVOKE ALL ON ALL SEQUENCES IN SCHEMA "{schema}" FROM {quoted}',
        f'GRANT USAGE ON ALL SEQUENCES IN SCHEMA "{schema}" TO {quoted}',
    ]
    for table in sorted(tables):
        rights = {
            AUDIT_TABLE: AUDIT_RIGHTS,
            VERSION_TABLE: VERSION_RIGHTS,
            POLICY_TABLE: VERSION_RIGHTS,
        }.get(table, TABLE_RIGHTS)
        statements.append(f'GRANT {rights} ON "{schema}"."{table}" TO {quoted}')
    # Every append calls it; granted by name, so a server that revoked
    # functions from PUBLIC still lets the desks write the audit chain.
    if connection.execute(text("SELECT to_regprocedure(:f)"), {"f": CHAIN_HEAD}).scalar():
        statements.append(f'GRANT EXECUTE ON FUNCTION "{schema}".{CHAIN_HEAD} TO {quoted}')
    return statements
