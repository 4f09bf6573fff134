"""The least-privilege roles on PostgreSQL, one per job (PRODUCT.md sections 7 and 8).

The owner of the tables runs migrations, policy, agents, import and sync, and
purge. The desks connect as the desk role (``grant_desk``); ``callgate
deliver`` as the delivery role (``grant_delivery``). Neither owns anything, so
neither can drop or disable a trigger. This module is the one home of what
each may do, table by table and, for UPDATE, column by column (``DESK`` and
``DELIVERY``): a column no desk code path writes is not granted, so on-file
values and PIN hashes are written only by import and sync, outbox states only
by the delivery role (the desk's one outbox change, a supervisor retrying a
parked delivery, is held to that transition by revision 0014's
``outbox_state_guard``), ``final_at`` only by the delivery role, and agents
only by the owner: the desk may not read ``agent.passphrase_hash`` nor the
second factor's ``totp_secret`` and ``totp_last_step`` (revision 0020), nor write
any agent column; it signs in and unlocks through revision 0014's SECURITY
DEFINER functions, which it may execute. What a desk may still write is held
by that revision's triggers (approvals, cooling-off, tenant locks).

Each role also runs with ``lock_timeout``, ``statement_timeout`` and
``idle_in_transaction_session_timeout`` set on it, so one session sitting on
the chain's lock stalls the others for seconds, not for ever. Granting revokes
whatever the role had first, so running it again (after ``db upgrade`` added a
table) leaves exactly these rights; a table missing from the map gets none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

AUDIT_TABLE = "audit_event"
# A held lock fails the waiting statement after this; the desk says "busy".
LOCK_TIMEOUT = "5s"
# No statement of a desk's runs longer than this (the slowest queue query is far below).
STATEMENT_TIMEOUT = "15s"
# A transaction left open (a desk frozen mid-write) is ended, and its locks with it.
IDLE_IN_TRANSACTION_TIMEOUT = "60s"
ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")

_AGENT_READABLE = (
    "id, username, display_name, role, active, failed_signins, locked_at, "
    "last_signin_at, signin_not_before, created_at"
)


@dataclass(frozen=True)
class Job:
    """What one role may do: per table, the privileges as GRANT lists them."""

    name: str
    tables: dict[str, tuple[str, ...]]
    functions: tuple[str, ...]


# The chain's lock and head in one call (revision 0012, ``db.audit.chain``).
CHAIN_HEAD = "audit_chain_head(bigint)"
# Sign-in and the supervisor's unlock (revisions 0014 and 0020, ``db.staff``).
SIGNIN_FUNCTIONS = (
    "agent_signin_salt(text)",
    "agent_sign_in(text, text, text, text, timestamp with time zone)",
    "agent_unlock(bigint, bigint)",
)

# Found by the desk and review code paths (``grep`` for attribute writes) and
# held by running them as this role (tests/db/test_desk_role.py).
DESK = Job(
    "desk",
    {
        "account_user": ("SELECT",),
        # UPDATE on one column only so that start_call may lock the row
        # (FOR UPDATE needs it); revision 0014's agent_guard refuses any change.
        "agent": (f"SELECT ({_AGENT_READABLE})", "UPDATE (last_signin_at)"),
        "agent_reset": ("SELECT", "INSERT"),
        "alembic_version": ("SELECT",),
        "approval": ("SELECT", "INSERT"),
        AUDIT_TABLE: ("SELECT", "INSERT"),
        "call": (
            "SELECT",
            "INSERT",
            "UPDATE (ended_at, tenant_id, caller_user_id, state, outcome, notes, "
            "verified_at, reviewed_at, reviewed_by_id, misses)",
        ),
        "callback": ("SELECT", "INSERT", "UPDATE (answered, answered_at)"),
        "cancellation_request": ("SELECT", "INSERT", "UPDATE (cooling_off_until)"),
        "code_send": ("SELECT", "INSERT"),
        "code_try": ("SELECT", "INSERT"),
        "dispute": ("SELECT", "INSERT", "UPDATE (resolved_at)"),
        # A staff member's wrong dispute references (db.expedited.disputes).
        "dispute_miss": ("SELECT", "INSERT", "UPDATE (misses, window_start)"),
        "item_check": ("SELECT", "INSERT"),
        "lock_clearance": ("SELECT", "INSERT"),
        "outbox_event": ("SELECT", "INSERT", "UPDATE (state, attempts, next_attempt_at, claim)"),
        # The limits that protect customers: the owner's (``callgate policy``).
        "policy_setting": ("SELECT",),
        "review_note": ("SELECT", "INSERT"),
        "signin_failure": ("SELECT",),
        "subscription": (
            "SELECT",
            "UPDATE (status, auto_renew, canceled_at, data_deletion_on, expedited, updated_at)",
        ),
        "tenant": ("SELECT", "UPDATE (locked_at, lock_cleared_at)"),
        "tenant_domain": ("SELECT",),
        "user_id_lock": ("SELECT", "INSERT", "UPDATE (cleared_at)"),
    },
    (CHAIN_HEAD, *SIGNIN_FUNCTIONS),
)

# ``db.delivery.outbox`` (claim, record, release) and ``db.expedited.cooling``
# (finalize_due: reads the request, its approvals, dispute and subscription,
# marks it final and enqueues its event).
DELIVERY = Job(
    "delivery",
    {
        # Read whole: the ORM loads whole rows (a notice's recipient, the tenant's ref).
        "account_user": ("SELECT",),
        "alembic_version": ("SELECT",),
        "approval": ("SELECT",),
        AUDIT_TABLE: ("SELECT", "INSERT"),
        "cancellation_request": ("SELECT", "UPDATE (final_at)"),
        "dispute": ("SELECT",),
        "outbox_event": (
            "SELECT",
            "INSERT",
            "UPDATE (state, attempts, next_attempt_at, claim, acked_targets, last_error, "
            "delivered_at)",
        ),
        "policy_setting": ("SELECT",),
        "subscription": ("SELECT",),
        "tenant": ("SELECT",),
    },
    (CHAIN_HEAD,),
)


class DeskRoleError(ValueError):
    """The role cannot be set up as asked; the message says why."""


def grant_desk(engine: Engine, role: str) -> list[str]:
    """Create ``role`` (LOGIN, no password) if absent and give it exactly the desk's rights.

    Run as the tables' owner. Refuses a role that is a superuser, or owns or
    could take any callgate table, since such a role could disable triggers.
    Returns the statements run, for the operator to see.
    """
    return grant(engine, role, DESK)


def grant_delivery(engine: Engine, role: str) -> list[str]:
    """As ``grant_desk``, for the role ``callgate deliver`` connects as."""
    return grant(engine, role, DELIVERY)


def grant(engine: Engine, role: str, job: Job) -> list[str]:
    """Give ``role`` exactly ``job``'s rights (see ``grant_desk``)."""
    check_request(engine, role)
    with engine.begin() as connection:
        tables = _tables(connection)
        if AUDIT_TABLE not in tables:
            raise DeskRoleError(
                "the database has no callgate schema yet: run `callgate db upgrade`"
            )
        _refuse_powerful(connection, role)
        statements = _statements(connection, role, tables, job)
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


def _column_grants(connection: Connection, role: str) -> dict[str, list[str]]:
    """The columns of this schema's tables on which ``role`` holds a column-level grant."""
    rows = connection.execute(
        text(
            "SELECT c.relname, a.attname FROM pg_attribute a "
            "JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema() "
            "CROSS JOIN LATERAL aclexplode(a.attacl) g "
            "WHERE g.grantee = (SELECT oid FROM pg_roles WHERE rolname = :r) "
            "GROUP BY c.relname, a.attname, a.attnum ORDER BY c.relname, a.attnum"
        ),
        {"r": role},
    ).all()
    found: dict[str, list[str]] = {}
    for table, column in rows:
        found.setdefault(table, []).append(column)
    return found


def _statements(connection: Connection, role: str, tables: list[str], job: Job) -> list[str]:
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
        f'REVOKE ALL ON ALL FUNCTIONS IN SCHEMA "{schema}" FROM {quoted}',
        f'GRANT USAGE ON ALL SEQUENCES IN SCHEMA "{schema}" TO {quoted}',
    ]
    granted = _column_grants(connection, role) if exists else {}
    for table in sorted(tables):
        # Column grants survive a table-wide REVOKE ALL; each column's must go too.
        if table in granted:
            names = ", ".join(f'"{c}"' for c in granted[table])
            statements.append(f'REVOKE ALL ({names}) ON "{schema}"."{table}" FROM {quoted}')
        for rights in job.tables.get(table, ()):
            statements.append(f'GRANT {rights} ON "{schema}"."{table}" TO {quoted}')
    # Granted by name, so a server that revoked functions from PUBLIC still
    # lets the role do its work; REVOKE ... FROM PUBLIC keeps the others out.
    for function in job.functions:
        if connection.execute(text("SELECT to_regprocedure(:f)"), {"f": function}).scalar():
            statements.append(f'GRANT EXECUTE ON FUNCTION "{schema}".{function} TO {quoted}')
    statements += [
        f"ALTER ROLE {quoted} SET lock_timeout = '{LOCK_TIMEOUT}'",
        f"ALTER ROLE {quoted} SET statement_timeout = '{STATEMENT_TIMEOUT}'",
        f"ALTER ROLE {quoted} SET idle_in_transaction_session_timeout = "
        f"'{IDLE_IN_TRANSACTION_TIMEOUT}'",
    ]
    return statements
