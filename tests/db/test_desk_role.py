"""The desk role on a real PostgreSQL server: it can do the desk's work and nothing more.

The tables belong to the migrating owner (the cluster's ``postgres`` user);
``callgate db grant-desk`` sets up the desk's role, and these tests connect as
it, as a desk would.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select, text, update
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session, sessionmaker

from db import desk, review
from db.audit.chain import verify_chain
from db.delivery.worker import Deliverer
from db.engine import make_sessionmaker, unit_of_work
from db.migrate import prepare_for_desk
from db.models import (
    CancellationRequest,
    OutboxChannel,
    OutboxEvent,
    OutboxState,
    Tenant,
    UserIdLock,
)
from db.staff.signin import authenticate
from tests.db.conftest import DESK_ROLE
from tests.helpers.outbox_data import webhook_rows, webhook_settings
from tests.helpers.policy import DEFAULTS, set_limits
from tests.helpers.receiver import running_receiver
from tests.helpers.review_data import (
    PASSPHRASE,
    SETTINGS,
    expedited_call,
    make_account,
    make_staff,
    stated,
    verified_call,
)
from tests.helpers.totp import TOTP_SECRET
from tui.cli import main as cli
from verification.kinds import Decision, Item
from verification.policy import Action
from verification.session import ItemStatus
from verification.totp import code_at, time_step

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 12, 1, 21, 0, tzinfo=UTC)
ROLE = DESK_ROLE


def test_the_desk_role_does_the_desks_work(
    pg_factory: sessionmaker[Session], desk_engine: Engine
) -> None:
    today = NOW.astimezone().date()
    staff = make_staff(pg_factory)
    account = make_account(pg_factory, "Contoso", "+14255550100", today)
    factory = make_sessionmaker(desk_engine)
    prepare_for_desk(desk_engine)

    assert not authenticate(factory, "nobody", PASSPHRASE, NOW).ok  # counted as the role
    assert not authenticate(factory, staff.agent.username, "wrong passphrase", NOW).ok
    assert authenticate(factory, staff.agent2.username, PASSPHRASE, NOW).ok
    view = desk.start_call(factory, staff.agent.id, staff.agent.username, SETTINGS, NOW)
    for item in (Item.USER_ID, Item.PHONE):
        view = desk.submit_item(
            factory, view.call_id, staff.agent.username, item, stated(account)[item], SETTINGS, NOW
        )

    matched = {i.item for i in view.items if i.status == ItemStatus.MATCHED}
    assert matched == {Item.USER_ID, Item.PHONE}
    assert verify_chain(desk_engine).ok


def test_the_desk_role_appends_where_functions_are_revoked_from_public(
    pg_engine: Engine, pg_url: str, pg_factory: sessionmaker[Session], desk_engine: Engine
) -> None:
    staff = make_staff(pg_factory)
    with pg_engine.begin() as connection:  # a hardened server: nothing runs by default
        connection.execute(text("REVOKE EXECUTE ON FUNCTION audit_chain_head(bigint) FROM PUBLIC"))
    assert cli(["--db", pg_url, "db", "grant-desk", ROLE]) == 0

    factory = make_sessionmaker(desk_engine)
    view = desk.start_call(factory, staff.agent.id, staff.agent.username, SETTINGS, NOW)
    assert view.call_id and verify_chain(desk_engine).ok


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET actor = 'mallory'",
        "DELETE FROM audit_event",
        "TRUNCATE audit_event",
        "ALTER TABLE audit_event DISABLE TRIGGER USER",
        "ALTER TABLE audit_event DISABLE TRIGGER ALL",
        "DROP TRIGGER audit_event_no_update_delete ON audit_event",
        "DROP TABLE audit_event",
        "ALTER TABLE audit_event OWNER TO callgate_desk",
        "CREATE TABLE audit_event_copy (seq integer)",
        "UPDATE alembic_version SET version_num = '0001'",
        "DELETE FROM call",
        # The limits that protect customers are the owner's (``callgate policy``).
        "INSERT INTO policy_setting VALUES ('tenant_max_misses', '1000', 'x', now())",
        "UPDATE policy_setting SET value = '1000'",
        "DELETE FROM policy_setting",
    ],
)
def test_the_desk_role_cannot_touch_the_audit_table_or_the_schema(
    pg_factory: sessionmaker[Session], desk_engine: Engine, statement: str
) -> None:
    make_staff(pg_factory)  # some events to protect
    before = verify_chain(desk_engine)

    refused = pytest.raises(DatabaseError, match=r"permission denied|must be owner")
    with refused, desk_engine.begin() as connection:
        connection.execute(text(statement))

    after = verify_chain(desk_engine)
    assert after.ok and (after.count, after.head_hash) == (before.count, before.head_hash)


def test_grant_desk_is_for_postgres_and_never_for_a_powerful_role(
    pg_url: str, pg_engine: Engine, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["--db", pg_url, "db", "grant-desk", "postgres"]) == 1
    assert "superuser" in capsys.readouterr().err
    assert cli(["--db", pg_url, "db", "grant-desk", "Robert'); DROP TABLE call;--"]) == 2
    assert "must be 1-63 characters" in capsys.readouterr().err
    assert cli(["--db", db_url, "db", "grant-desk", ROLE]) == 2
    assert "PostgreSQL" in capsys.readouterr().err


def test_a_whole_expedited_request_as_the_desk_and_delivery_roles(
    pg_factory: sessionmaker[Session], desk_engine: Engine, delivery_engine: Engine
) -> None:
    """An agent's call asking expedited deletion, another supervisor's approval, and the
    delivery run that makes it final and tells the billing system: each as its role."""
    today = NOW.astimezone().date()
    staff = make_staff(pg_factory)  # agents add: the owner's
    account = make_account(pg_factory, "Contoso", "+14255550100", today)  # an import's
    desks = make_sessionmaker(desk_engine)
    prepare_for_desk(desk_engine)
    # The supervisor's code, checked by the database: the desk role cannot read the secret.
    sue, code = staff.supervisor.username, code_at(TOTP_SECRET, time_step(NOW))
    assert authenticate(desks, sue, PASSPHRASE, NOW).code_needed
    assert authenticate(desks, sue, PASSPHRASE, NOW, code).ok

    _call_id, request_id = expedited_call(desks, staff.agent, account, NOW)
    with desks() as session:
        seen = session.get_one(CancellationRequest, request_id).request_hash
    review.decide_expedited(
        desks, staff.supervisor.id, request_id, Decision.APPROVED, "confirmed", seen, NOW
    )

    later = NOW + timedelta(hours=DEFAULTS.expedited_cooling_off_hours, minutes=1)
    with running_receiver() as receiver:
        deliverer = Deliverer(
            make_sessionmaker(delivery_engine),
            webhook_settings(receiver.url),
            webhook_secret="s3cret",
            smtp_password="",
            clock=lambda: later,
        )
        deliverer.run_due()
        deliverer.close()
    with pg_factory() as session:
        assert session.get_one(CancellationRequest, request_id).final_at == later
        webhook = OutboxEvent.channel == OutboxChannel.WEBHOOK
        states = set(session.scalars(select(OutboxEvent.state).where(webhook)))
    assert states == {OutboxState.DELIVERED}
    assert "expedited.final" in {r.event["type"] for r in receiver.requests}
    assert verify_chain(desk_engine).ok


def test_the_desk_role_lifts_locks_and_retries_a_parked_delivery(
    pg_factory: sessionmaker[Session], desk_engine: Engine
) -> None:
    today = NOW.astimezone().date()
    staff = make_staff(pg_factory)
    account = make_account(pg_factory, "Contoso", "+14255550100", today)
    desks = make_sessionmaker(desk_engine)
    renewing = make_account(pg_factory, "Fabrikam", "+14255550101", today, canceled_days_ago=None)
    view = verified_call(desks, staff.agent, renewing, NOW)
    [option] = [
        o for o in view.subscriptions[0].decision.options if o.action is Action.AUTO_RENEW_OFF
    ]
    desk.take_action(
        desks, view.call_id, staff.agent.username, renewing.subscription_id, option.action,
        option.checklist, SETTINGS, NOW,
    )  # fmt: skip
    with unit_of_work(pg_factory) as session:  # what a tenant lock, a user-ID lock and a
        session.get_one(Tenant, account.tenant_id).locked_at = NOW  # worker's parking leave
        lock = UserIdLock(key="k" * 64, masked="a***@x.example", locked_at=NOW)
        session.add(lock)
        session.execute(update(OutboxEvent).values(state=OutboxState.FAILED, attempts=5))
    set_limits(pg_factory, signin_lock_after=3)
    for _ in range(3):
        authenticate(desks, staff.agent2.username, "wrong passphrase", NOW + timedelta(hours=1))

    later = NOW + timedelta(hours=2)
    review.clear_tenant_lock(desks, staff.supervisor.id, account.tenant_id, "called back", later)
    review.clear_user_id_lock(desks, staff.supervisor.id, lock.id, "typo", later)
    review.reset_locked_agent(desks, staff.supervisor.id, staff.agent2.id, "forgot", later)
    [row] = webhook_rows(pg_factory)
    review.retry_delivery(desks, staff.supervisor.id, row.id, later)

    with pg_factory() as session:
        tenant = session.get_one(Tenant, account.tenant_id)
        assert tenant.locked_at is None and tenant.lock_cleared_at == later
        assert session.get_one(UserIdLock, lock.id).cleared_at == later
        assert session.get_one(OutboxEvent, row.id).state is OutboxState.PENDING
    assert authenticate(desks, staff.agent2.username, PASSPHRASE, later).ok
    assert verify_chain(desk_engine).ok
