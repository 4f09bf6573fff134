"""Admins' notices (PRODUCT.md section 5, "Notice"): queued with the action, sent over SMTP.

Every action of the two upper tiers queues one e-mail per active admin of the
tenant, in the action's own transaction; a reversible one queues none. The
end-to-end tests send them to a real SMTP server (aiosmtpd) on loopback and
read what it received: the reference, the dates, the agent's display name and
how to dispute.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db import desk, review
from db.delivery.notices import day, when
from db.delivery.worker import Deliverer
from db.engine import unit_of_work
from db.models import AccountUser, AuditEvent, CancellationRequest, Tenant
from db.policy import set_policy
from db.settings import Settings
from tests.db.test_mail import Inbox, free_port
from tests.helpers.outbox_data import notice_rows
from tests.helpers.possession import answered_callback
from tests.helpers.review_data import (
    SETTINGS,
    Account,
    Staff,
    expedited_call,
    make_account,
    make_staff,
    verified_call,
)
from verification.kinds import Decision, Outcome
from verification.policy import DATA_RETENTION, Action

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
TODAY = NOW.astimezone().date()


def with_users(factory: sessionmaker[Session], account: Account) -> set[str]:
    """A second admin, a user who is no admin and an admin a sync removed; the admins' IDs."""
    second = f"second@{account.user_id.split('@')[1]}"
    with unit_of_work(factory) as session:
        session.add_all(
            [
                AccountUser(
                    user_id=second, display_name="Sam", tenant_id=account.tenant_id, is_admin=True
                ),
                AccountUser(
                    user_id=f"user@{second.split('@')[1]}",
                    display_name="Uma",
                    tenant_id=account.tenant_id,
                    is_admin=False,
                ),
                AccountUser(
                    user_id=f"gone@{second.split('@')[1]}",
                    display_name="Gil",
                    tenant_id=account.tenant_id,
                    is_admin=True,
                    active=False,
                ),
            ]
        )
    return {account.user_id, second}


def take(
    factory: sessionmaker[Session],
    staff: Staff,
    account: Account,
    action: Action,
    settings: Settings = SETTINGS,
) -> str:
    """The account's admin calls and ``action`` is taken; the request's reference."""
    view = verified_call(factory, staff.agent, account, NOW)
    view = answered_callback(factory, view.call_id, "ana", settings, NOW)
    [sub] = view.subscriptions
    [option] = [o for o in sub.decision.options if o.action is action]
    view = desk.take_action(
        factory, view.call_id, "ana", sub.id, action, option.checklist, settings, NOW
    )
    outcome = {
        Action.AUTO_RENEW_OFF: Outcome.AUTO_RENEW_OFF,
        Action.EXPEDITED_DEPROVISIONING: Outcome.EXPEDITED,
    }.get(action, Outcome.CANCELED)
    desk.end_call(factory, view.call_id, "ana", outcome, "", NOW)
    return view.requests_made[-1].reference


def recipients(factory: sessionmaker[Session]) -> set[str]:
    with factory() as session:
        ids = [r.recipient_user_id for r in notice_rows(factory)]
        return {
            u.user_id for u in session.scalars(select(AccountUser).where(AccountUser.id.in_(ids)))
        }


def test_a_cancel_now_tells_every_admin_with_the_reference_and_the_dates(
    any_factory: sessionmaker[Session],
) -> None:
    staff = make_staff(any_factory)
    account = make_account(any_factory, "Contoso", "+14255550100", TODAY, canceled_days_ago=None)
    admins = with_users(any_factory, account)
    reference = take(any_factory, staff, account, Action.CANCEL_NOW)

    notices = notice_rows(any_factory)
    assert len(notices) == 2 and recipients(any_factory) == admins
    body = json.loads(notices[0].payload)["body"]
    assert {json.loads(n.payload)["body"] for n in notices} == {body}
    assert f"Reference: {reference}" in body
    assert "Ana Agent" in body and when(NOW) in body
    assert f"service ends on {day(TODAY)}" in body
    assert f"data deleted: {day(TODAY + DATA_RETENTION)}" in body
    assert f"quote the reference {reference}" in body
    # The audit chain says how many, never to whom nor what.
    with any_factory() as session:
        [event] = session.scalars(
            select(AuditEvent).where(AuditEvent.type == "notices.queued")
        ).all()
        request = session.scalars(select(CancellationRequest)).one()
    assert json.loads(event.payload) == {
        "call_id": request.call_id,
        "request_id": request.id,
        "kind": "notice.action",
        "notices": 2,
    }


def test_auto_renew_off_tells_nobody_unless_its_tier_is_raised(
    factory: sessionmaker[Session],
) -> None:
    staff = make_staff(factory)
    quiet = make_account(factory, "Quiet", "+14255550101", TODAY, canceled_days_ago=None)
    take(factory, staff, quiet, Action.AUTO_RENEW_OFF)
    assert notice_rows(factory) == []
    told = make_account(factory, "Told", "+14255550102", TODAY, canceled_days_ago=None)
    set_policy(factory, "tier.auto_renew_off", "ends_service", actor="test", now=NOW)
    reference = take(factory, staff, told, Action.AUTO_RENEW_OFF)
    [notice] = notice_rows(factory)
    assert reference in json.loads(notice.payload)["body"]


def body_of(message: Message) -> str:
    """The text as the admin reads it (the transfer encoding undone)."""
    raw = message.get_payload(decode=True)
    assert isinstance(raw, bytes)
    return raw.decode(message.get_content_charset() or "utf-8").replace("\r\n", "\n")


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    """A plain SMTP relay on loopback (TLS and logins are test_mail's)."""
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, auth_require_tls=False)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def mail_settings(port: int) -> Settings:
    return Settings(
        database_url="sqlite://",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_tls="none",
        smtp_from="callgate@desk.example",
        delivery_timeout_seconds=5,
    )


def test_the_admins_receive_the_notice_and_how_to_dispute_it(
    factory: sessionmaker[Session], smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    staff = make_staff(factory)
    account = make_account(factory, "Fabrikam", "+14255550111", TODAY, canceled_days_ago=None)
    admins = with_users(factory, account)
    reference = take(factory, staff, account, Action.CANCEL_NOW_WITH_EXPEDITED)
    worker = Deliverer(
        factory, mail_settings(port), webhook_secret="", smtp_password="", clock=lambda: NOW
    )
    assert worker.run_due().delivered == 2
    assert {to for _sender, [to], _message in inbox.messages} == admins
    _sender, _to, message = inbox.messages[0]
    assert reference in message["Subject"]
    text = body_of(message)
    deadline = when(NOW + timedelta(hours=24))
    assert f"Reference: {reference}" in text and "Ana Agent" in text
    assert f"service ends on {day(TODAY)}" in text
    assert f"data deleted by, if approved today: {day(TODAY + timedelta(days=3))}" in text
    assert f"data deleted if not approved: {day(TODAY + DATA_RETENTION)}" in text
    assert f"final no earlier than {deadline}" in text
    assert f"quote the reference {reference} before {deadline}" in text


def test_an_approval_tells_the_admins_when_it_becomes_final(
    factory: sessionmaker[Session], smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    staff = make_staff(factory)
    account = make_account(factory, "Northwind", "+14255550122", TODAY)
    _call, request_id = expedited_call(factory, staff.agent, account, NOW)
    with factory() as session:
        request = session.get(CancellationRequest, request_id)
        assert request is not None
        seen, reference = request.request_hash, request.reference
    approved_at = NOW + timedelta(hours=2)
    review.decide_expedited(
        factory, staff.supervisor.id, request_id, Decision.APPROVED, "ok", seen, approved_at
    )
    worker = Deliverer(
        factory, mail_settings(port), webhook_secret="", smtp_password="", clock=lambda: approved_at
    )
    assert worker.run_due().delivered == 2  # the request's notice, then the approval's
    _sender, [to], message = inbox.messages[-1]
    assert to == account.user_id and "approved" in message["Subject"]
    text = body_of(message)
    deleted_by = approved_at.astimezone().date() + timedelta(days=3)
    assert f"It becomes final on {when(NOW + timedelta(hours=24))}" in text
    assert f"deleted by {day(deleted_by)}" in text and reference in text


def test_a_notice_to_an_admin_made_inactive_before_it_leaves_is_canceled(
    any_factory: sessionmaker[Session], smtp: tuple[Inbox, int]
) -> None:
    factory = any_factory
    inbox, port = smtp
    staff = make_staff(factory)
    account = make_account(factory, "Contoso", "+14255550100", TODAY, canceled_days_ago=None)
    [removed] = with_users(factory, account) - {account.user_id}
    take(factory, staff, account, Action.CANCEL_NOW)
    other = make_account(factory, "Litware", "+14255550133", TODAY, canceled_days_ago=None)
    take(factory, staff, other, Action.CANCEL_NOW)
    # After the notices were queued, a sync made one admin inactive, and the other
    # tenant inactive as a whole (what `accounts sync` does to those no longer on file).
    with unit_of_work(factory) as session:
        user = session.scalars(select(AccountUser).where(AccountUser.user_id == removed)).one()
        user.active = False
        tenant = session.get(Tenant, other.tenant_id)
        assert tenant is not None
        tenant.active = False
    worker = Deliverer(
        factory, mail_settings(port), webhook_secret="", smtp_password="", clock=lambda: NOW
    )
    report = worker.run_due()
    assert (report.delivered, report.canceled, report.retrying) == (1, 2, 0)
    assert [to for _sender, [to], _message in inbox.messages] == [account.user_id]
    notices = {r.recipient_user_id: r for r in notice_rows(factory)}
    states = sorted((r.state.value, r.last_error) for r in notices.values())
    assert states == [
        ("canceled", "not sent: recipient_inactive"),
        ("canceled", "not sent: tenant_inactive"),
        ("delivered", ""),
    ]
    assert all(r.claim is None for r in notices.values())
    with factory() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.type == "outbox.canceled")
        ).all()
    assert sorted(json.loads(e.payload)["reason"] for e in events) == [
        "recipient_inactive",
        "tenant_inactive",
    ]
    for event in events:
        payload = json.loads(event.payload)
        assert set(payload) == {"outbox_id", "event_id", "event_type", "attempts", "reason"}
        assert removed not in event.payload and "Litware" not in event.payload
    # Canceled is final: a later pass sends nothing, and nothing waits for a supervisor.
    assert worker.run_due().attempted == 0
    assert not [r for r in review.queue(factory, staff.supervisor.id) if r.outbox_id]
