"""Data for the supervisor desk's tests, made the way the desk makes it.

Tenants are inserted directly (they come from an import in real life); calls,
checks and requests go through ``db.desk``, so the rows, hashes and audit
events are the ones the agent desk writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from db import desk
from db.agents import AgentInfo, add_agent
from db.engine import unit_of_work
from db.models import AccountUser, Subscription, Tenant
from db.settings import Settings
from verification.kinds import (
    Channel,
    ExpeditedState,
    Item,
    Outcome,
    Role,
    SubscriptionKind,
    SubscriptionStatus,
)
from verification.policy import Action

PASSPHRASE = "correct horse battery"
SETTINGS = Settings(database_url="sqlite://")


@dataclass(frozen=True)
class Staff:
    """Two agents and two supervisors."""

    agent: AgentInfo
    agent2: AgentInfo
    supervisor: AgentInfo
    supervisor2: AgentInfo


@dataclass(frozen=True)
class Account:
    """A tenant on file and what its admin states to pass verification."""

    tenant_id: int
    subscription_id: int
    organization: str
    phone: str
    user_id: str


def make_staff(factory: sessionmaker[Session]) -> Staff:
    """The staff accounts every supervisor test uses."""
    return Staff(
        agent=add_agent(factory, "ana", "Ana Agent", Role.AGENT, PASSPHRASE),
        agent2=add_agent(factory, "bo", "Bo Agent", Role.AGENT, PASSPHRASE),
        supervisor=add_agent(factory, "sue", "Sue Supervisor", Role.SUPERVISOR, PASSPHRASE),
        supervisor2=add_agent(factory, "sid", "Sid Supervisor", Role.SUPERVISOR, PASSPHRASE),
    )


def make_account(
    factory: sessionmaker[Session],
    organization: str,
    phone: str,
    today: date,
    *,
    kind: SubscriptionKind = SubscriptionKind.PAID,
    channel: Channel = Channel.DIRECT,
    canceled_days_ago: int | None = 5,
) -> Account:
    """A US tenant with one admin and one subscription (cancelled, data kept, by default)."""
    ref = organization.lower().replace(" ", "-")
    user_id = f"admin@{ref}.example"
    with unit_of_work(factory) as session:
        tenant = Tenant(
            ref=ref,
            organization=organization,
            contact_first_name="Jo",
            contact_last_name="Park",
            phone_e164=phone,
            address_line1="1 Main St",
            address_line2="",
            city="Springfield",
            region="IL",
            postal_code="62704",
            country="US",
        )
        session.add(tenant)
        session.flush()
        session.add(
            AccountUser(user_id=user_id, display_name="Jo", tenant_id=tenant.id, is_admin=True)
        )
        canceled = canceled_days_ago is not None
        canceled_on = today - timedelta(days=canceled_days_ago or 0)
        subscription = Subscription(
            tenant_id=tenant.id,
            product_name="Business Standard",
            kind=kind,
            channel=channel,
            term_start=today - timedelta(days=200),
            term_end=today + timedelta(days=165),
            auto_renew=not canceled,
            status=SubscriptionStatus.CANCELED if canceled else SubscriptionStatus.ACTIVE,
            canceled_at=datetime.combine(canceled_on, datetime.min.time()).astimezone()
            if canceled
            else None,
            data_deletion_on=canceled_on + timedelta(days=90) if canceled else None,
            expedited=ExpeditedState.NONE,
        )
        session.add(subscription)
        session.flush()
        return Account(tenant.id, subscription.id, organization, phone, user_id)


def stated(account: Account) -> dict[Item, dict[str, str]]:
    """What the caller says for each item: everything right."""
    return {
        Item.USER_ID: {"value": account.user_id},
        Item.PHONE: {"value": account.phone},
        Item.CONTACT_NAME: {"first": "Jo", "last": "Park"},
        Item.ORGANIZATION: {"value": account.organization},
        Item.ADDRESS: {
            "line1": "1 Main Street",
            "line2": "",
            "city": "Springfield",
            "region": "Illinois",
            "postal_code": "62704",
            "country": "US",
        },
    }


def verified_call(
    factory: sessionmaker[Session], agent: AgentInfo, account: Account, now: datetime
) -> desk.CallView:
    """A call by ``agent`` in which the account's admin passed every item."""
    view = desk.start_call(factory, agent.id, agent.username, SETTINGS, now)
    for item, fields in stated(account).items():
        view = desk.submit_item(factory, view.call_id, agent.username, item, fields, SETTINGS, now)
    assert view.gate_open, view.gate_reasons
    return view


def expedited_call(
    factory: sessionmaker[Session], agent: AgentInfo, account: Account, now: datetime
) -> tuple[int, int]:
    """A closed call asking expedited deprovisioning: ``(call_id, request_id)``."""
    view = verified_call(factory, agent, account, now)
    [sub] = view.subscriptions
    [option] = [o for o in sub.decision.options if o.action is Action.EXPEDITED_DEPROVISIONING]
    view = desk.take_action(
        factory,
        view.call_id,
        agent.username,
        sub.id,
        Action.EXPEDITED_DEPROVISIONING,
        option.checklist,
        SETTINGS,
        now,
    )
    [pending] = view.pending_requests
    desk.end_call(factory, view.call_id, agent.username, Outcome.CANCELED, "", now)
    return view.call_id, pending.request_id


def failed_call(
    factory: sessionmaker[Session], agent: AgentInfo, account: Account, now: datetime
) -> int:
    """A call locked by wrong phone numbers, ended as verification failed."""
    view = desk.start_call(factory, agent.id, agent.username, SETTINGS, now)
    user = {"value": account.user_id}
    desk.submit_item(factory, view.call_id, agent.username, Item.USER_ID, user, SETTINGS, now)
    wrong = {"value": "+14255550199"}
    while not view.locked:
        view = desk.submit_item(
            factory, view.call_id, agent.username, Item.PHONE, wrong, SETTINGS, now
        )
    desk.end_call(factory, view.call_id, agent.username, Outcome.VERIFICATION_FAILED, "", now)
    return view.call_id
