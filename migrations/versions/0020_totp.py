"""Staff sign-in's second factor: a TOTP secret per agent, checked by the database

Revision ID: 0020
Revises: 0018

``agent.totp_secret`` (base32, None when not enrolled) and
``agent.totp_last_step`` (the last time step a code was accepted for). On
PostgreSQL the desk role may read neither (``db.roles``): whoever reads the
secret mints codes, so, as with the passphrase hash, the code is checked
inside the database. ``agent_sign_in`` gains a ``code`` argument and, after
the right passphrase of an enrolled account, checks it with pgcrypto's
``hmac`` (``totp_code``: RFC 6238, SHA-1, six digits, 30-second steps, one
step either side), refuses a step at or before the last one accepted, and
counts a wrong code exactly as a wrong passphrase (same reasons order, same
count, wait and lock as revision 0014). Two answers are not counted, since
only the right passphrase reaches them: ``code_needed`` (no code given: the
desk asks for it and tries again) and ``second_factor_missing`` (a supervisor
not enrolled may not sign in; the operator enrolls with ``callgate agents
reset NAME --totp``). The same rules in Python for SQLite:
``verification.totp`` and ``db.staff.signin``.

pgcrypto is a trusted extension (PostgreSQL 13 and later): the owner creates
it without being a superuser. The functions find its ``hmac`` through their
fixed ``search_path`` (the callgate schema, pgcrypto's schema, pg_temp last).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_SIGN_IN = "agent_sign_in(text, text, text, timestamptz)"
_NEW_SIGN_IN = "agent_sign_in(text, text, text, text, timestamptz)"
_HELPERS = ("totp_base32(text)", "totp_code(bytea, bigint, integer)")

_FUNCTIONS = [
    # RFC 4648 base32 (the secret as authenticator apps take it) to bytes.
    """CREATE FUNCTION totp_base32(secret text) RETURNS bytea
    LANGUAGE plpgsql IMMUTABLE STRICT AS $$
    DECLARE
        alphabet constant text := 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
        clean text := upper(replace(rtrim(secret, '='), ' ', ''));
        bits bigint := 0;
        nbits integer := 0;
        v integer;
        result bytea := ''::bytea;
    BEGIN
        FOR i IN 1 .. length(clean) LOOP
            v := strpos(alphabet, substr(clean, i, 1)) - 1;
            IF v < 0 THEN
                RAISE EXCEPTION 'a TOTP secret is base32';
            END IF;
            bits := (bits << 5) | v;
            nbits := nbits + 5;
            IF nbits >= 8 THEN
                result := result
                    || set_byte('\\x00'::bytea, 0, ((bits >> (nbits - 8)) & 255)::integer);
                nbits := nbits - 8;
                bits := bits & ((1::bigint << nbits) - 1);
            END IF;
        END LOOP;
        RETURN result;
    END $$""",
    # RFC 4226 HOTP of the step counter (RFC 6238: the step is Unix time over 30 s).
    """CREATE FUNCTION totp_code(key bytea, step bigint, digits integer) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT AS $$
    DECLARE
        h bytea := hmac(int8send(step), key, 'sha1');
        o integer := get_byte(h, 19) & 15;
        bin bigint;
    BEGIN
        bin := ((get_byte(h, o) & 127)::bigint << 24) | (get_byte(h, o + 1)::bigint << 16)
            | (get_byte(h, o + 2)::bigint << 8) | get_byte(h, o + 3)::bigint;
        RETURN lpad(mod(bin, power(10, digits)::bigint)::text, digits, '0');
    END $$""",
    # Revision 0014's function with the code; the waits and the lock are unchanged
    # (``db.staff.signin._DELAYS_SECONDS``, tests/db/test_last_line.py).
    """CREATE FUNCTION agent_sign_in(
        name text, name_key text, derived_key text, code text, at timestamptz,
        OUT agent_id bigint, OUT reason text, OUT failures integer, OUT locked boolean,
        OUT locking boolean, OUT not_before timestamptz)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
    DECLARE
        delays integer[] := ARRAY[0, 0, 1, 2, 4, 8];
        -- The policy's (revision 0013, ``callgate policy``), never the desk's.
        most integer := LEAST(GREATEST(COALESCE((
            SELECT value::integer FROM policy_setting
            WHERE key = 'signin_lock_after' AND value ~ '^[0-9]{1,3}$'), 5), 1), 100);
        a agent%ROWTYPE;
        f signin_failure%ROWTYPE;
        was_locked timestamptz;
        now_step bigint;
        matched bigint;
    BEGIN
        SELECT * INTO a FROM agent WHERE username = name FOR UPDATE;
        IF FOUND THEN
            agent_id := a.id;
            IF a.locked_at IS NOT NULL THEN
                reason := 'locked';
            ELSIF a.signin_not_before IS NOT NULL AND at < a.signin_not_before THEN
                reason := 'too_early';
            ELSIF derived_key = '' OR split_part(a.passphrase_hash, '$', 6) <> derived_key THEN
                reason := 'wrong_passphrase';
            ELSIF a.totp_secret IS NOT NULL AND code IS NULL THEN
                reason := 'code_needed';
            ELSIF a.totp_secret IS NOT NULL THEN
                now_step := floor(extract(epoch FROM at) / 30)::bigint;
                FOR s IN now_step - 1 .. now_step + 1 LOOP
                    IF s > COALESCE(a.totp_last_step, -1)
                       AND totp_code(totp_base32(a.totp_secret), s, 6) = code THEN
                        matched := s;
                        EXIT;
                    END IF;
                END LOOP;
                IF matched IS NULL THEN
                    reason := 'wrong_code';
                END IF;
            END IF;
            IF reason IS NULL AND NOT a.active THEN
                reason := 'disabled';
            ELSIF reason IS NULL AND a.role = 'supervisor' AND a.totp_secret IS NULL THEN
                reason := 'second_factor_missing';
            END IF;
            IF reason IS NULL THEN
                UPDATE agent SET failed_signins = 0, signin_not_before = NULL, last_signin_at = at,
                    totp_last_step = COALESCE(matched, totp_last_step)
                WHERE id = a.id;
                failures := 0; locked := false; locking := false;
                RETURN;
            END IF;
            IF reason IN ('code_needed', 'second_factor_missing') THEN
                -- Only the right passphrase gets here: not a guess, nothing counted.
                failures := a.failed_signins; locked := false; locking := false;
                not_before := a.signin_not_before;
                RETURN;
            END IF;
            failures := a.failed_signins + 1;
            was_locked := a.locked_at;
        ELSE
            reason := 'unknown_username';
            INSERT INTO signin_failure (name_hash, failed_signins) VALUES (name_key, 0)
            ON CONFLICT DO NOTHING;
            SELECT * INTO f FROM signin_failure WHERE name_hash = name_key FOR UPDATE;
            failures := f.failed_signins + 1;
            was_locked := f.locked_at;
        END IF;
        not_before := at + make_interval(secs => delays[LEAST(failures, 6)]);
        locking := was_locked IS NULL AND failures >= most;
        locked := was_locked IS NOT NULL OR locking;
        IF agent_id IS NOT NULL THEN
            UPDATE agent SET failed_signins = failures, signin_not_before = not_before,
                locked_at = CASE WHEN locking THEN at ELSE locked_at END
            WHERE id = agent_id;
        ELSE
            UPDATE signin_failure SET failed_signins = failures, signin_not_before = not_before,
                locked_at = CASE WHEN locking THEN at ELSE locked_at END
            WHERE name_hash = name_key;
        END IF;
    END $$""",
]


def _fix_search_path(functions: Sequence[str]) -> str:
    """Each function finds the tables, then pgcrypto, then pg_temp (never a desk's temp table)."""
    return f"""DO $do$
DECLARE
    f text;
    crypto text := (SELECT n.nspname FROM pg_extension e
                    JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pgcrypto');
BEGIN
    FOREACH f IN ARRAY ARRAY{list(functions)!r}::text[] LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path = %I, %I, pg_temp',
                       f, current_schema(), crypto);
    END LOOP;
END $do$"""


def upgrade() -> None:
    op.add_column("agent", sa.Column("totp_secret", sa.String(length=64), nullable=True))
    op.add_column("agent", sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
    if op.get_context().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pgcrypto")
        op.execute(f"DROP FUNCTION {_OLD_SIGN_IN}")
        for statement in _FUNCTIONS:
            op.execute(statement)
        op.execute(_fix_search_path([*_HELPERS, _NEW_SIGN_IN]))
        # Only the roles granted it (``db.roles``) may sign in.
        op.execute(f"REVOKE EXECUTE ON FUNCTION {_NEW_SIGN_IN} FROM PUBLIC")


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {_NEW_SIGN_IN}")
        for helper in _HELPERS:
            op.execute(f"DROP FUNCTION IF EXISTS {helper}")
        # Revision 0014's function as it was (its text is that revision's).
        last_line = importlib.import_module("migrations.versions.0014_last_line")
        op.execute(last_line._SIGNIN[1])
        op.execute(
            f"""DO $do$ BEGIN EXECUTE format('ALTER FUNCTION {_OLD_SIGN_IN} SET search_path
            = %I, pg_temp', current_schema()); END $do$"""
        )
        op.execute(f"REVOKE EXECUTE ON FUNCTION {_OLD_SIGN_IN} FROM PUBLIC")
    with op.batch_alter_table("agent") as batch:
        batch.drop_column("totp_last_step")
        batch.drop_column("totp_secret")
