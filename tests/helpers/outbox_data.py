"""Outbox rows made the way the desks make them: by real decisions.

Each account is an active, auto-renewing subscription whose admin calls and
turns auto-renew off, so every event in these tests was written by
``db.desk.take_action`` in the decision's own transaction.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db import desk
from db.delivery.outbox import enqueue_notice
from db.engine import unit_of_work
from db.models import OutboxChannel, OutboxEvent, Tenant
from db.settings import Settings
from db.staff.agents import AgentInfo
from tests.helpers.review_data import SETTINGS, make_account, verified_call
from verification.kinds import Outcome
from verification.policy import Action


def turn_auto_renew_off(
    factory: sessionmaker[Session], agent: AgentInfo, count: int, now: datetime
) -> list[str]:
    """``count`` calls, each turning auto-renew off for a new tenant; their event ids."""
    today = now.astimezone().date()
    for index in range(count):
        account = make_account(
            factory, f"Org {index:03d}", f"+1425555{index:04d}", today, canceled_days_ago=None
        )
        view = verified_call(factory, agent, account, now)
        [sub] = view.subscriptions
        [option] = [o for o in sub.decision.options if o.action is Action.AUTO_RENEW_OFF]
        desk.take_action(
            factory,
            view.call_id,
            agent.username,
            sub.id,
            Action.AUTO_RENEW_OFF,
            option.checklist,
            SETTINGS,
            now,
        )
        desk.end_call(factory, view.call_id, agent.username, Outcome.AUTO_RENEW_OFF, "", now)
    return event_ids(factory)


def queue_plain_notice(
    factory: sessionmaker[Session], organization: str, phone: str, today: date, now: datetime
) -> tuple[OutboxEvent, str]:
    """A ``notice.test`` e-mail (subject "s") to the admin of a new tenant: (row, address)."""
    account = make_account(factory, organization, phone, today)
    with unit_of_work(factory) as session:
        tenant = session.get(Tenant, account.tenant_id)
        assert tenant is not None
        row = enqueue_notice(
            session,
            type="notice.test",
            tenant=tenant,
            recipient=tenant.users[0],
            subject="s",
            body="b",
            now=now,
        )
        return row, account.user_id


def event_ids(factory: sessionmaker[Session]) -> list[str]:
    """Every event id in the outbox, oldest first."""
    with factory() as session:
        return list(session.scalars(select(OutboxEvent.event_id).order_by(OutboxEvent.id)))


def rows(factory: sessionmaker[Session]) -> list[OutboxEvent]:
    """Every outbox row, oldest first."""
    with factory() as session:
        return list(session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)))


def webhook_rows(factory: sessionmaker[Session]) -> list[OutboxEvent]:
    """Every webhook event in the outbox, oldest first (the admins' notices left out)."""
    return [r for r in rows(factory) if r.channel is OutboxChannel.WEBHOOK]


def notice_rows(factory: sessionmaker[Session]) -> list[OutboxEvent]:
    """Every e-mail notice in the outbox, oldest first."""
    return [r for r in rows(factory) if r.channel is OutboxChannel.EMAIL]


def webhook_settings(*urls: str, **changes: Any) -> Settings:
    """Settings that deliver to ``urls``, with fast retries unless ``changes`` say otherwise."""
    values: dict[str, Any] = {
        "database_url": "sqlite://",
        "webhook_urls": urls,
        "delivery_max_attempts": 5,
        "delivery_retry_base_seconds": 10,
        "delivery_retry_max_seconds": 600,
        "delivery_timeout_seconds": 5,
    }
    values.update(changes)
    return Settings(**values)
