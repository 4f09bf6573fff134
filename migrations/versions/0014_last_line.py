"""The database's last line on PostgreSQL: triggers and functions a desk cannot get around

Revision ID: 0014
Revises: 0013

The rules live in Python (``db.review``, ``db.expedited``, ``db.delivery``,
``db.staff.agents``); these are the database's own refusals of what someone holding
the desk role's credentials could write around them (PRODUCT.md section 8).
The desk role owns none of it, so it can neither drop nor disable them; the
grants that go with them are ``db.roles`` (the one home of who may write which
column). Each trigger refuses with SQLSTATE 42501 (insufficient_privilege):

- ``approval_guard``: an approval's approver is an active supervisor, not its
  requester, and the requester is the agent of the request's call.
- ``subscription_expedited_guard`` (deferred to commit, since the decision
  writes the subscription before its approval): ``expedited`` becomes
  ``approved`` only with an approval of the request's current hash.
- ``audit_event_approved_guard``: an ``expedited.approved`` event names an
  approved approval of its request, by the event's actor, so a forged,
  correctly chained event is refused. ``outbox_event_guard`` does the same for
  the billing system's ``expedited.approved`` event, and lets an
  ``expedited.final`` event out only for a request marked final.
- ``cancellation_request_guard``: a cooling-off is never moved earlier nor
  dropped, and never ends before the request was made; ``final_at`` is set
  only once, not before the cooling-off ends, on an approved, undisputed request.
- ``tenant_lock_guard`` (deferred: the clearance row is written after the
  tenant): a tenant's lock is lifted (``locked_at`` to NULL or earlier, or
  ``lock_cleared_at`` moved) only with a clearance row by an active
  supervisor at that time.
- ``agent_guard``: a role that may not write ``passphrase_hash`` (the desk)
  changes no agent column; it holds UPDATE on one only to lock the row.
- ``outbox_state_guard``: a role that may not write ``delivered_at`` (the desk)
  may make exactly one change to an outbox row, the supervisor's retry of a
  parked delivery (failed to pending, attempts 0, unclaimed).

Sign-in (``agent_signin_salt``, ``agent_sign_in``) and the supervisor's unlock
(``agent_unlock``) are SECURITY DEFINER functions owned by the migrating
owner, with ``search_path`` fixed: the desk role may not read
``agent.passphrase_hash`` at all, so it never holds a hash to crack offline.
It asks for the scrypt parameters and salt (a deterministic fake for a name
that is no agent's, so both answer alike), derives the key itself (the slow
part stays in the desk process, not the server) and hands the derived key to
``agent_sign_in``, which compares it with the stored one and keeps the
failure count, the wait and the lock, so guessing is limited by the
database. Chosen over a guarded column (a trigger on writes of
``passphrase_hash``) because a hash the desk can read can be cracked offline
however its writes are guarded. The number of failures before a lock is the
policy's ``signin_lock_after`` (``policy_setting``, read by the function, never
asked of the desk; 1-100, else the default 5); the
waits are the database's, measured on the desk's clock (``at``: the tests'
clocks are not the server's), so a desk lying about the time skips waits but
not the lock. SQLite has no roles: a single trusted desk, none of this applies.

What this cannot hold: all desks share one role, so the database cannot tell
which person is at a desk. A desk role's holder can still name a real, active
supervisor (not the requester) as approver or clearer; the rows and events
then carry that name. Binding decisions to a live supervisor sign-in (a token
``agent_sign_in`` issues and the decision's transaction presents) would close
it. Nor can the owner of the tables revoke ``pg_advisory_lock`` from PUBLIC
(the bootstrap superuser owns it): a session holding the chain's key is cut
short by the role's timeouts, not prevented.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The desk role's refusals all carry this SQLSTATE (insufficient_privilege).
_REFUSE = "USING ERRCODE = 'insufficient_privilege'"

_FUNCTIONS = [
    f"""CREATE FUNCTION approval_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NOT EXISTS (SELECT 1 FROM agent WHERE id = NEW.approver_id
                       AND role = 'supervisor' AND active) THEN
            RAISE EXCEPTION 'an approval needs an active supervisor as approver' {_REFUSE};
        END IF;
        IF NEW.approver_id = NEW.requester_id OR NOT EXISTS (
            SELECT 1 FROM cancellation_request r JOIN call c ON c.id = r.call_id
            WHERE r.id = NEW.request_id AND c.agent_id = NEW.requester_id
              AND c.agent_id <> NEW.approver_id) THEN
            RAISE EXCEPTION 'an approval is by a supervisor other than the requester' {_REFUSE};
        END IF;
        RETURN NEW;
    END $$""",
    f"""CREATE FUNCTION subscription_expedited_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.expedited = 'approved' AND OLD.expedited IS DISTINCT FROM 'approved'
           AND NOT EXISTS (
            SELECT 1 FROM cancellation_request r JOIN approval a ON a.request_id = r.id
            WHERE r.subscription_id = NEW.id AND a.request_hash = r.request_hash
              AND a.decision = 'approved') THEN
            RAISE EXCEPTION 'expedited deprovisioning is approved only by an approval' {_REFUSE};
        END IF;
        RETURN NULL;
    END $$""",
    f"""CREATE FUNCTION audit_event_approved_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        body jsonb := NEW.payload::jsonb;
    BEGIN
        IF NOT EXISTS (
            SELECT 1 FROM approval a JOIN agent s ON s.id = a.approver_id
            WHERE a.id = (body->>'approval_id')::bigint
              AND a.request_id = (body->>'request_id')::bigint
              AND a.decision = 'approved' AND s.username = NEW.actor) THEN
            RAISE EXCEPTION 'an expedited.approved event needs its approval' {_REFUSE};
        END IF;
        RETURN NEW;
    END $$""",
    f"""CREATE FUNCTION outbox_event_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.type = 'expedited.approved' AND NOT EXISTS (
            SELECT 1 FROM approval a JOIN cancellation_request r ON r.id = a.request_id
            WHERE a.request_id = NEW.request_id AND a.request_hash = r.request_hash
              AND a.decision = 'approved') THEN
            RAISE EXCEPTION 'an expedited.approved event needs its approval' {_REFUSE};
        END IF;
        IF NEW.type = 'expedited.final' AND NOT EXISTS (
            SELECT 1 FROM cancellation_request r
            WHERE r.id = NEW.request_id AND r.final_at IS NOT NULL) THEN
            RAISE EXCEPTION 'an expedited.final event needs a final request' {_REFUSE};
        END IF;
        RETURN NEW;
    END $$""",
    f"""CREATE FUNCTION cancellation_request_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND OLD.cooling_off_until IS NOT NULL
           AND (NEW.cooling_off_until IS NULL OR NEW.cooling_off_until < OLD.cooling_off_until)
        THEN
            RAISE EXCEPTION 'a cooling-off is never moved earlier' {_REFUSE};
        END IF;
        IF NEW.cooling_off_until < NEW.created_at THEN
            RAISE EXCEPTION 'a cooling-off never ends before its request was made' {_REFUSE};
        END IF;
        IF TG_OP = 'UPDATE' AND OLD.final_at IS NOT NULL
           AND NEW.final_at IS DISTINCT FROM OLD.final_at THEN
            RAISE EXCEPTION 'a final request stays final' {_REFUSE};
        END IF;
        IF NEW.final_at IS NOT NULL AND (TG_OP = 'INSERT' OR OLD.final_at IS NULL) AND (
            NEW.cooling_off_until IS NULL OR NEW.final_at < NEW.cooling_off_until
            OR EXISTS (SELECT 1 FROM dispute d WHERE d.request_id = NEW.id)
            OR NOT EXISTS (
                SELECT 1 FROM approval a WHERE a.request_id = NEW.id
                AND a.request_hash = NEW.request_hash AND a.decision = 'approved'
                AND NOT EXISTS (
                    SELECT 1 FROM approval later WHERE later.request_id = NEW.id
                    AND later.request_hash = NEW.request_hash
                    AND (later.decided_at, later.id) > (a.decided_at, a.id)))) THEN
            RAISE EXCEPTION 'final only once approved, undisputed and cooled off' {_REFUSE};
        END IF;
        RETURN NEW;
    END $$""",
    f"""CREATE FUNCTION tenant_lock_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD.locked_at IS NOT NULL AND (NEW.locked_at IS NULL OR NEW.locked_at < OLD.locked_at)
           OR NEW.lock_cleared_at IS DISTINCT FROM OLD.lock_cleared_at THEN
            IF NEW.lock_cleared_at IS NULL OR NOT EXISTS (
                SELECT 1 FROM lock_clearance c JOIN agent s ON s.id = c.supervisor_id
                WHERE c.tenant_id = NEW.id AND c.cleared_at = NEW.lock_cleared_at
                  AND s.role = 'supervisor' AND s.active) THEN
                RAISE EXCEPTION 'a tenant lock is lifted only by a supervisor''s clearance'
                    {_REFUSE};
            END IF;
        END IF;
        RETURN NULL;
    END $$""",
    # The desk role holds UPDATE on one agent column only so that it may lock
    # the row (start_call serializes an agent's desks with FOR UPDATE): it
    # may not change anything. Sign-in and unlock run as the owner.
    f"""CREATE FUNCTION agent_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NOT has_column_privilege('agent', 'passphrase_hash', 'UPDATE')
           AND NEW IS DISTINCT FROM OLD THEN
            RAISE EXCEPTION 'agents change only through sign-in, unlock and the owner' {_REFUSE};
        END IF;
        RETURN NEW;
    END $$""",
    f"""CREATE FUNCTION outbox_state_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        -- The delivery role and the owner may write delivered_at; a desk may not.
        IF has_column_privilege('outbox_event', 'delivered_at', 'UPDATE') THEN
            RETURN NEW;
        END IF;
        IF NOT (OLD.state = 'failed' AND NEW.state = 'pending' AND NEW.attempts = 0
                AND NEW.claim IS NULL) THEN
            RAISE EXCEPTION 'a desk only retries a failed delivery' {_REFUSE};
        END IF;
        RETURN NEW;
    END $$""",
]

# Waits after the n-th failure in a row, as ``db.staff.agents._DELAYS_SECONDS`` (a
# test holds them equal); the most failures before a lock, as the setting's
# maximum (``db.settings.MAXIMUMS``), whatever a desk asks.
_SIGNIN = [
    """CREATE FUNCTION agent_signin_salt(
        name text, OUT n integer, OUT r integer, OUT p integer, OUT salt text, OUT dklen integer)
    LANGUAGE plpgsql STABLE SECURITY DEFINER AS $$
    DECLARE
        parts text[];
    BEGIN
        SELECT string_to_array(passphrase_hash, '$') INTO parts FROM agent WHERE username = name;
        BEGIN
            IF array_length(parts, 1) = 6 AND parts[1] = 'scrypt' THEN
                n := parts[2]::integer; r := parts[3]::integer; p := parts[4]::integer;
                salt := parts[5];
                dklen := length(decode(parts[6], 'base64'));
                RETURN;
            END IF;
        EXCEPTION WHEN others THEN
            NULL;  -- a malformed hash answers as an unknown name
        END;
        -- Not an agent's: a salt of its own, the same on every ask, the usual cost.
        n := 16384; r := 8; p := 1; dklen := 32;
        salt := encode(substr(sha256(convert_to('callgate signin salt:' || name, 'UTF8')), 1, 16),
                       'base64');
    END $$""",
    """CREATE FUNCTION agent_sign_in(
        name text, name_key text, derived_key text, at timestamptz,
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
            ELSIF NOT a.active THEN
                reason := 'disabled';
            END IF;
            IF reason IS NULL THEN
                UPDATE agent SET failed_signins = 0, signin_not_before = NULL, last_signin_at = at
                WHERE id = a.id;
                failures := 0; locked := false; locking := false;
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
    # The supervisor's unlock: the counters only, never the passphrase.
    f"""CREATE FUNCTION agent_unlock(supervisor_id bigint, target_id bigint) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
    BEGIN
        IF NOT EXISTS (SELECT 1 FROM agent WHERE id = supervisor_id
                       AND role = 'supervisor' AND active) OR supervisor_id = target_id THEN
            RAISE EXCEPTION 'only another active supervisor unlocks an agent' {_REFUSE};
        END IF;
        UPDATE agent SET failed_signins = 0, signin_not_before = NULL, locked_at = NULL
        WHERE id = target_id;
    END $$""",
]
_SIGNIN_NAMES = (
    "agent_signin_salt(text)",
    "agent_sign_in(text, text, text, timestamptz)",
    "agent_unlock(bigint, bigint)",
)
_GUARD_NAMES = (
    "approval_guard()",
    "subscription_expedited_guard()",
    "audit_event_approved_guard()",
    "outbox_event_guard()",
    "cancellation_request_guard()",
    "tenant_lock_guard()",
    "outbox_state_guard()",
    "agent_guard()",
)
# Every function finds the tables in the schema it was made in and pg_temp
# last: otherwise a desk's temporary table named ``agent`` would be read first.
_FIX_SEARCH_PATH = f"""DO $do$
DECLARE
    f text;
BEGIN
    FOREACH f IN ARRAY ARRAY{list(_GUARD_NAMES + _SIGNIN_NAMES)!r}::text[] LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path = %I, pg_temp', f, current_schema());
    END LOOP;
END $do$"""
# Only the roles granted it (``db.roles``) may sign in or unlock.
_REVOKE_PUBLIC = [f"REVOKE EXECUTE ON FUNCTION {f} FROM PUBLIC" for f in _SIGNIN_NAMES]

_TRIGGERS = [
    """CREATE TRIGGER approval_guard BEFORE INSERT OR UPDATE ON approval
    FOR EACH ROW EXECUTE FUNCTION approval_guard()""",
    """CREATE CONSTRAINT TRIGGER subscription_expedited_guard AFTER UPDATE ON subscription
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION subscription_expedited_guard()""",
    """CREATE TRIGGER audit_event_approved_guard BEFORE INSERT ON audit_event
    FOR EACH ROW WHEN (NEW.type = 'expedited.approved')
    EXECUTE FUNCTION audit_event_approved_guard()""",
    """CREATE TRIGGER outbox_event_guard BEFORE INSERT ON outbox_event
    FOR EACH ROW EXECUTE FUNCTION outbox_event_guard()""",
    """CREATE TRIGGER cancellation_request_guard BEFORE INSERT OR UPDATE ON cancellation_request
    FOR EACH ROW EXECUTE FUNCTION cancellation_request_guard()""",
    """CREATE CONSTRAINT TRIGGER tenant_lock_guard AFTER UPDATE ON tenant
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tenant_lock_guard()""",
    """CREATE TRIGGER agent_guard BEFORE UPDATE ON agent
    FOR EACH ROW EXECUTE FUNCTION agent_guard()""",
    """CREATE TRIGGER outbox_state_guard BEFORE UPDATE ON outbox_event
    FOR EACH ROW EXECUTE FUNCTION outbox_state_guard()""",
]

_DROP = [
    "DROP TRIGGER IF EXISTS agent_guard ON agent",
    "DROP FUNCTION IF EXISTS agent_guard()",
    *(f"DROP FUNCTION IF EXISTS {f}" for f in _SIGNIN_NAMES),
    "DROP TRIGGER IF EXISTS outbox_state_guard ON outbox_event",
    "DROP TRIGGER IF EXISTS tenant_lock_guard ON tenant",
    "DROP TRIGGER IF EXISTS cancellation_request_guard ON cancellation_request",
    "DROP TRIGGER IF EXISTS outbox_event_guard ON outbox_event",
    "DROP TRIGGER IF EXISTS audit_event_approved_guard ON audit_event",
    "DROP TRIGGER IF EXISTS subscription_expedited_guard ON subscription",
    "DROP TRIGGER IF EXISTS approval_guard ON approval",
    "DROP FUNCTION IF EXISTS outbox_state_guard()",
    "DROP FUNCTION IF EXISTS tenant_lock_guard()",
    "DROP FUNCTION IF EXISTS cancellation_request_guard()",
    "DROP FUNCTION IF EXISTS outbox_event_guard()",
    "DROP FUNCTION IF EXISTS audit_event_approved_guard()",
    "DROP FUNCTION IF EXISTS subscription_expedited_guard()",
    "DROP FUNCTION IF EXISTS approval_guard()",
]


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        for statement in [*_FUNCTIONS, *_SIGNIN, *_TRIGGERS, _FIX_SEARCH_PATH, *_REVOKE_PUBLIC]:
            op.execute(statement)


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        for statement in _DROP:
            op.execute(statement)
