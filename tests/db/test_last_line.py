"""The database's last line on PostgreSQL (PRODUCT.md section 8), attacked as the roles.

Each test writes what an independent attack wrote with the desk role's (or
the delivery role's) credentials, around the Python rules, and expects the
database to refuse it: the grants of ``db.roles`` or the triggers and
functions of revision 0014. The desks' own paths as these roles are
tests/db/test_desk_role.py.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from db import desk, review
from db.audit.chain import _PG_CHAIN_LOCK_KEY, append_event, verify_chain
from db.engine import make_sessionmaker, unit_of_work
from db.models import CancellationRequest
from db.roles import IDLE_IN_TRANSACTION_TIMEOUT, LOCK_TIMEOUT, STATEMENT_TIMEOUT
from db.staff import signin
from db.staff.agents import disable_agent
from tests.db.conftest import DELIVERY_ROLE, DESK_ROLE
from tests.helpers.policy import DEFAULTS
from tests.helpers.review_data import (
    PASSPHRASE,
    SETTINGS,
    Staff,
    expedited_call,
    make_account,
    make_staff,
)
from tui.commands.common import BUSY_MESSAGE, friendly_error
from verification.hashing import derive_key, hash_secret
from verification.kinds import Decision

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 12, 1, 21, 0, tzinfo=UTC)
# Every refusal, of a grant or of a revision 0014 check, is SQLSTATE 42501.
REFUSED = "InsufficientPrivilege"
SIGN_IN = "agent_sign_in(text, text, text, text, timestamp with time zone)"


@dataclass(frozen=True)
class World:
    """Staff and accounts made by the owner, an expedited request made by a desk."""

    staff: Staff
    desks: sessionmaker[Session]
    tenant_id: int
    subscription_id: int
    request_id: int
    call_id: int


@pytest.fixture
def world(pg_factory: sessionmaker[Session], desk_engine: Engine) -> World:
    staff = make_staff(pg_factory)
    account = make_account(pg_factory, "Contoso", "+14255550100", NOW.astimezone().date())
    desks = make_sessionmaker(desk_engine)
    call_id, request_id = expedited_call(desks, staff.agent, account, NOW)
    return World(staff, desks, account.tenant_id, account.subscription_id, request_id, call_id)


def refused(engine: Engine, statement: str, **params: object) -> None:
    """``statement`` (with deferred checks run at its commit) is refused by the database."""
    with pytest.raises(DatabaseError, match=REFUSED), engine.begin() as connection:
        connection.execute(text(statement), params)


def scalar(engine: Engine, statement: str, **params: object) -> object:
    with engine.connect() as connection:
        return connection.execute(text(statement), params).scalar()


# --- agents: no role change, no passphrase but through sign-in and reset ----------


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT passphrase_hash FROM agent",
        "SELECT totp_secret FROM agent",  # whoever reads it mints codes (revision 0020)
        "SELECT totp_last_step FROM agent",
        "UPDATE agent SET totp_secret = NULL",
        "UPDATE agent SET totp_last_step = NULL",
        "UPDATE agent SET role = 'supervisor'",
        "UPDATE agent SET passphrase_hash = :known",
        "UPDATE agent SET locked_at = NULL, failed_signins = 0, signin_not_before = NULL",
        "UPDATE agent SET last_signin_at = now()",  # the one column granted, to lock rows
        "INSERT INTO agent (username, display_name, role, passphrase_hash, active, "
        "failed_signins, created_at) VALUES ('eve', 'Eve', 'supervisor', :known, true, 0, now())",
        "UPDATE signin_failure SET locked_at = NULL",
        "UPDATE tenant SET support_pin_hash = NULL",
        "UPDATE tenant SET phone_e164 = '+14255550199'",
        "UPDATE account_user SET is_admin = true",
        "INSERT INTO tenant_domain (tenant_id, domain) VALUES (1, 'evil.example')",
        "UPDATE approval SET decision = 'approved'",
        "UPDATE cancellation_request SET final_at = now()",
        "UPDATE outbox_event SET delivered_at = now()",
    ],
)
def test_the_desk_role_cannot_read_hashes_nor_write_staff_or_on_file_values(
    world: World, desk_engine: Engine, pg_engine: Engine, statement: str
) -> None:
    before = scalar(pg_engine, "SELECT string_agg(passphrase_hash || role, ',') FROM agent")
    refused(desk_engine, statement, known=hash_secret("known to mallory"))
    after = scalar(pg_engine, "SELECT string_agg(passphrase_hash || role, ',') FROM agent")
    assert after == before


def test_signing_in_as_the_desk_role_is_limited_by_the_database(
    world: World, desk_engine: Engine, delivery_engine: Engine
) -> None:
    """The desk holds no hash; guessing through the function locks, whatever it asks."""
    sue = world.staff.supervisor.username
    with desk_engine.begin() as connection:
        salt = connection.execute(text("SELECT * FROM agent_signin_salt(:n)"), {"n": sue}).one()
        fake = connection.execute(text("SELECT * FROM agent_signin_salt('nobody')")).one()
        again = connection.execute(text("SELECT * FROM agent_signin_salt('nobody')")).one()
    # An unknown name answers alike: the same shape, a salt of its own, every time.
    assert (fake.n, fake.r, fake.p, fake.dklen, len(fake.salt)) == (
        salt.n, salt.r, salt.p, salt.dklen, len(salt.salt),
    )  # fmt: skip
    assert fake == again and fake.salt != salt.salt

    # The desk cannot ask for more tries: the number is the policy's, read by the function.
    attempt = text(f"SELECT * FROM {SIGN_IN.split('(')[0]}(:n, 'k', :key, NULL, :at)")
    with desk_engine.begin() as connection:
        for guess in range(DEFAULTS.signin_lock_after):  # the clock moved past every wait
            at = NOW + timedelta(days=guess)
            row = connection.execute(attempt, {"n": sue, "key": f"guess{guess}", "at": at}).one()
        assert row.locked and row.locking and row.reason == "wrong_passphrase"
        right = derive_key(PASSPHRASE, salt.salt, salt.n, salt.r, salt.p, salt.dklen)
        row = connection.execute(
            attempt, {"n": sue, "key": right, "at": NOW + timedelta(days=200)}
        ).one()
    assert row.reason == "locked"
    # Only the roles granted it may try at all.
    assert not scalar(
        delivery_engine, "SELECT has_function_privilege(:r, :f, 'EXECUTE')",
        r=DELIVERY_ROLE, f=SIGN_IN,
    )  # fmt: skip


def test_the_sign_in_waits_are_the_same_in_python_and_in_the_database(pg_engine: Engine) -> None:
    source = str(scalar(pg_engine, "SELECT prosrc FROM pg_proc WHERE proname = 'agent_sign_in'"))
    delays = ", ".join(str(d) for d in signin._DELAYS_SECONDS)
    assert f"ARRAY[{delays}]" in source


def test_an_agent_is_unlocked_only_by_another_active_supervisor(
    world: World, desk_engine: Engine
) -> None:
    staff = world.staff
    unlock = "SELECT agent_unlock(:by, :who)"
    refused(desk_engine, unlock, by=staff.agent.id, who=staff.agent2.id)
    refused(desk_engine, unlock, by=staff.supervisor.id, who=staff.supervisor.id)


# --- approvals and the decisions they allow ----------------------------------------

_APPROVE = (
    "INSERT INTO approval (request_id, request_hash, requester_id, approver_id, decision, "
    "reason, decided_at) SELECT id, request_hash, :requester, :approver, 'approved', 'ok', now() "
    "FROM cancellation_request WHERE id = :request"
)


@pytest.mark.parametrize("who", ["agent", "disabled", "not_the_requester", "own_call"])
def test_an_approval_needs_an_active_supervisor_other_than_the_requester(
    world: World, pg_factory: sessionmaker[Session], desk_engine: Engine, who: str
) -> None:
    staff, request = world.staff, world.request_id
    requester, approver = staff.agent.id, staff.supervisor.id
    if who == "agent":
        approver = staff.agent2.id
    elif who == "disabled":
        disable_agent(pg_factory, staff.supervisor.username)
    elif who == "not_the_requester":
        requester = staff.supervisor2.id
    else:  # a supervisor's own call, approved by themselves
        account = make_account(pg_factory, "Fabrikam", "+14255550101", NOW.astimezone().date())
        request = expedited_call(world.desks, staff.supervisor, account, NOW)[1]
        requester = approver
    refused(desk_engine, _APPROVE, requester=requester, approver=approver, request=request)


def test_a_temporary_table_does_not_stand_in_for_the_agents(
    world: World, desk_engine: Engine
) -> None:
    """A desk's temporary ``agent`` (searched first by default) fools no trigger."""
    with pytest.raises(DatabaseError, match=REFUSED), desk_engine.begin() as connection:
        connection.execute(
            text(
                "CREATE TEMP TABLE agent AS SELECT id, username, 'supervisor'::text AS role, "
                "true AS active FROM public.agent"
            )
        )
        params = {"requester": world.staff.agent.id, "approver": world.staff.agent2.id}
        connection.execute(text(_APPROVE), {**params, "request": world.request_id})


def test_a_forged_approval_event_is_refused_even_correctly_chained(
    world: World, desk_engine: Engine
) -> None:
    before = verify_chain(desk_engine)
    with pytest.raises(DatabaseError, match=REFUSED), unit_of_work(world.desks) as session:
        append_event(
            session,
            actor=world.staff.supervisor.username,
            type="expedited.approved",
            payload={"approval_id": 1, "request_id": world.request_id, "call_id": world.call_id},
        )
    after = verify_chain(desk_engine)
    assert after.ok and after.count == before.count


@pytest.mark.parametrize("event", ["expedited.approved", "expedited.final"])
def test_the_billing_system_is_told_only_of_real_approvals_and_finals(
    world: World, desk_engine: Engine, event: str
) -> None:
    refused(
        desk_engine,
        "INSERT INTO outbox_event (event_id, type, channel, tenant_ref, product_name, "
        "request_id, request_hash, payload, state, attempts, next_attempt_at, acked_targets, "
        "last_error, created_at) SELECT gen_random_uuid()::text, :type, 'webhook', 'contoso', "
        "'x', id, request_hash, '{}', 'pending', 0, now(), '[]', '', now() "
        "FROM cancellation_request WHERE id = :request",
        type=event,
        request=world.request_id,
    )


def test_an_expedited_state_is_approved_only_by_an_approval(
    world: World, desk_engine: Engine
) -> None:
    refused(
        desk_engine,
        "UPDATE subscription SET expedited = 'approved' WHERE id = :s",
        s=world.subscription_id,
    )


# --- cooling-off and final -------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        "cooling_off_until = cooling_off_until - interval '1 hour'",
        "cooling_off_until = NULL",
    ],
)
def test_a_cooling_off_is_never_moved_earlier(
    world: World, desk_engine: Engine, change: str
) -> None:
    refused(
        desk_engine, f"UPDATE cancellation_request SET {change} WHERE id = :r", r=world.request_id
    )


def test_final_only_once_approved_and_cooled_off_even_for_the_delivery_role(
    world: World, delivery_engine: Engine
) -> None:
    final = "UPDATE cancellation_request SET final_at = :at WHERE id = :r"
    cooled = NOW + timedelta(hours=DEFAULTS.expedited_cooling_off_hours, minutes=1)
    refused(delivery_engine, final, at=cooled, r=world.request_id)  # never approved
    with world.desks() as session:
        seen = session.get_one(CancellationRequest, world.request_id).request_hash
    review.decide_expedited(
        world.desks, world.staff.supervisor.id, world.request_id, Decision.APPROVED, "ok", seen, NOW
    )
    refused(delivery_engine, final, at=NOW + timedelta(minutes=5), r=world.request_id)
    refused(
        delivery_engine,
        "UPDATE cancellation_request SET cooling_off_until = :at WHERE id = :r",
        at=NOW,
        r=world.request_id,
    )
    with delivery_engine.begin() as connection:  # once the period is over: allowed
        connection.execute(text(final), {"at": cooled, "r": world.request_id})


# --- tenant locks ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "statements",
    [
        ["UPDATE tenant SET locked_at = NULL WHERE id = :t"],
        ["UPDATE tenant SET locked_at = locked_at - interval '1 day' WHERE id = :t"],
        ["UPDATE tenant SET lock_cleared_at = now() WHERE id = :t"],
        [  # a clearance naming an agent who is no supervisor
            "INSERT INTO lock_clearance (tenant_id, supervisor_id, reason, cleared_at) "
            "VALUES (:t, :agent, 'x', '2026-12-01T22:00Z')",
            "UPDATE tenant SET locked_at = NULL, lock_cleared_at = '2026-12-01T22:00Z' "
            "WHERE id = :t",
        ],
    ],
)
def test_a_tenant_lock_is_lifted_only_by_a_supervisors_clearance(
    world: World, pg_engine: Engine, desk_engine: Engine, statements: list[str]
) -> None:
    with pg_engine.begin() as connection:
        connection.execute(text("UPDATE tenant SET locked_at = :at"), {"at": NOW})
    params = {"t": world.tenant_id, "agent": world.staff.agent.id}
    with pytest.raises(DatabaseError, match=REFUSED), desk_engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement), params)
    assert scalar(pg_engine, "SELECT locked_at FROM tenant WHERE id = :t", t=world.tenant_id)


# --- the outbox ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        "state = 'delivered'",
        "state = 'failed'",
        "next_attempt_at = 'infinity'",
        "attempts = 99",
    ],
)
def test_the_desk_role_only_retries_a_parked_delivery(
    world: World, desk_engine: Engine, delivery_engine: Engine, change: str
) -> None:
    refused(desk_engine, f"UPDATE outbox_event SET {change}")
    with delivery_engine.begin() as connection:  # the worker's own
        connection.execute(text(f"UPDATE outbox_event SET {change}"))


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE subscription SET status = 'active'",
        "UPDATE tenant SET locked_at = NULL",
        "UPDATE agent SET role = 'supervisor'",
        "INSERT INTO approval (request_id, request_hash, requester_id, approver_id, decision, "
        "reason, decided_at) VALUES (1, '', 1, 3, 'approved', '', now())",
        "UPDATE call SET notes = ''",
    ],
)
def test_the_delivery_role_touches_nothing_but_the_outbox_and_finals(
    world: World, delivery_engine: Engine, statement: str
) -> None:
    refused(delivery_engine, statement)


# --- timeouts: a held chain lock stalls a desk for seconds --------------------------------


@pytest.fixture
def chain_held(pg_engine: Engine, desk_engine: Engine) -> Iterator[None]:
    """The chain's lock held by another session (as the attack did), for at most 60 s."""
    with pg_engine.begin() as connection:  # shorter than the role's, so the test is quick
        connection.execute(text(f"ALTER ROLE {DESK_ROLE} SET lock_timeout = '200ms'"))
    desk_engine.dispose()  # role settings apply to new sessions
    holder = pg_engine.connect()
    holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_CHAIN_LOCK_KEY})
    holder.commit()
    # Should the desk wait for ever, the lock goes and the test fails instead of hanging.
    release = threading.Timer(60, holder.invalidate)
    release.start()
    yield
    release.cancel()
    holder.close()


def test_the_roles_run_with_timeouts(
    desk_engine: Engine, delivery_engine: Engine, pg_engine: Engine
) -> None:
    for role in (DESK_ROLE, DELIVERY_ROLE):
        config = scalar(pg_engine, "SELECT rolconfig FROM pg_roles WHERE rolname = :r", r=role)
        assert set(config) >= {  # type: ignore[call-overload]
            f"lock_timeout={LOCK_TIMEOUT}",
            f"statement_timeout={STATEMENT_TIMEOUT}",
            f"idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_TIMEOUT}",
        }


def test_a_held_chain_lock_makes_the_desk_busy_not_stuck(world: World, chain_held: None) -> None:
    agent = world.staff.agent2
    with pytest.raises(OperationalError) as caught:
        desk.start_call(world.desks, agent.id, agent.username, SETTINGS, NOW)
    assert friendly_error(caught.value) == BUSY_MESSAGE
