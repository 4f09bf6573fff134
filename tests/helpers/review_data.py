"""Data for the supervisor desk's tests, made the way the desk makes it.

Tenants are inserted directly (they come from an import in real life); calls,
checks and requests go through ``db.desk``, so the rows, hashes and audit
events are the ones the agent desk writes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import product

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db import desk
from db.engine import unit_of_work
from db.models import AccountUser, Agent, Call, CancellationRequest, Subscription, Tenant
from db.settings import Settings
from db.staff.agents import AgentInfo, add_agent
from tests.helpers.policy import set_limits
from tests.helpers.possession import answered_callback
from tests.helpers.totp import TOTP_SECRET
from verification.hashing import hash_secret
from verification.kinds import (
    CallState,
    Channel,
    ExpeditedState,
    Item,
    Outcome,
    Role,
    SubscriptionKind,
    SubscriptionStatus,
)
from verification.pin import hash_pin
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
        supervisor=add_agent(
            factory, "sue", "Sue Supervisor", Role.SUPERVISOR, PASSPHRASE, totp_secret=TOTP_SECRET
        ),
        supervisor2=add_agent(
            factory, "sid", "Sid Supervisor", Role.SUPERVISOR, PASSPHRASE, totp_secret=TOTP_SECRET
        ),
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
    pin: str | None = None,
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
            support_pin_hash=hash_pin(pin) if pin else None,
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
    view = answered_callback(factory, view.call_id, agent.username, SETTINGS, now)
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
    desk.end_call(factory, view.call_id, agent.username, Outcome.EXPEDITED, "", now)
    return view.call_id, pending.request_id


def canceled_now_call(
    factory: sessionmaker[Session], agent: AgentInfo, account: Account, now: datetime
) -> tuple[int, tuple[str, ...]]:
    """A closed call that cancelled an active subscription now (possession by callback).

    Returns ``(call_id, the checklist the agent ticked)``.
    """
    view = verified_call(factory, agent, account, now)
    view = answered_callback(factory, view.call_id, agent.username, SETTINGS, now)
    [sub] = view.subscriptions
    [option] = [o for o in sub.decision.options if o.action is Action.CANCEL_NOW]
    desk.take_action(
        factory, view.call_id, agent.username, sub.id, option.action, option.checklist,
        SETTINGS, now,
    )  # fmt: skip
    desk.end_call(factory, view.call_id, agent.username, Outcome.CANCELED, "", now)
    return view.call_id, option.checklist


def missed_call(
    factory: sessionmaker[Session],
    agent: AgentInfo,
    account: Account,
    now: datetime,
    *,
    end: bool = True,
    phone: str = "+14255550199",
) -> desk.CallView:
    """A call in which the caller names the account, then gives a wrong ``phone`` (one miss).

    Ended as abandoned unless ``end`` is False; returns the view after the miss.
    """
    view = desk.start_call(factory, agent.id, agent.username, SETTINGS, now)
    user = {"value": account.user_id}
    desk.submit_item(factory, view.call_id, agent.username, Item.USER_ID, user, SETTINGS, now)
    wrong = {"value": phone}
    view = desk.submit_item(factory, view.call_id, agent.username, Item.PHONE, wrong, SETTINGS, now)
    if end:
        desk.end_call(factory, view.call_id, agent.username, Outcome.ABANDONED, "", now)
    return view


def failed_call(
    factory: sessionmaker[Session], agent: AgentInfo, account: Account, now: datetime
) -> int:
    """A call locked by wrong phone numbers, ended as verification failed.

    Failed calls lock by the locked-calls rule; misses across calls (which
    lock a tenant sooner) are tested on their own in tests/db/test_guessing.py.
    """
    set_limits(factory, tenant_max_misses=100)
    view = desk.start_call(factory, agent.id, agent.username, SETTINGS, now)
    user = {"value": account.user_id}
    desk.submit_item(factory, view.call_id, agent.username, Item.USER_ID, user, SETTINGS, now)
    tries = 0
    while not view.locked:  # a new wrong number each time: the same one twice counts once
        wrong = {"value": f"+1425555019{tries}"}
        tries += 1
        view = desk.submit_item(
            factory, view.call_id, agent.username, Item.PHONE, wrong, SETTINGS, now
        )
    desk.end_call(factory, view.call_id, agent.username, Outcome.VERIFICATION_FAILED, "", now)
    return view.call_id


@dataclass(frozen=True)
class Made:
    """A call as made, to compute what a query should return."""

    call_id: int
    started_at: datetime
    ended_at: datetime | None
    agent_id: int
    tenant_id: int | None
    outcome: Outcome | None
    verified: bool
    state: CallState


def many_calls(
    factory: sessionmaker[Session], count: int, now: datetime
) -> tuple[int, list[Made], dict[int, tuple[str, str, set[str], set[str]]]]:
    """``count`` calls on few distinct start times (ties), spread over agents and tenants.

    Returns the supervisor's id, the calls, and each tenant's (organization,
    phone, kinds, channels).
    """
    rng = random.Random(6)
    today = now.astimezone().date()
    hashed = hash_secret(PASSPHRASE)
    with unit_of_work(factory) as session:
        agents = [
            Agent(
                username=name,
                display_name=name,
                role=role,
                passphrase_hash=hashed,
                totp_secret=TOTP_SECRET if role is Role.SUPERVISOR else None,
            )
            for name, role in (("ana", Role.AGENT), ("bo", Role.AGENT), ("sue", Role.SUPERVISOR))
        ]
        session.add_all(agents)
        orgs = ["Contoso", "contoso pharma", "Fabrikam", "Ørsted Energi", "Northwind"]
        tenants: dict[int, tuple[str, str, set[str], set[str]]] = {}
        for n, org in enumerate(orgs):
            tenant = Tenant(
                ref=f"t{n}",
                organization=org,
                contact_first_name="Jo",
                contact_last_name="Park",
                phone_e164=f"+1425555{n:04d}",
                address_line1="1 Main St",
                city="Springfield",
                country="US",
            )
            session.add(tenant)
            session.flush()
            kinds, channels = set(), set()
            for kind, channel in rng.sample(list(product(SubscriptionKind, Channel)), 2):
                session.add(
                    Subscription(
                        tenant_id=tenant.id,
                        product_name="P",
                        kind=kind,
                        channel=channel,
                        term_start=today,
                        term_end=today,
                        status=SubscriptionStatus.ACTIVE,
                    )
                )
                kinds.add(kind.value)
                channels.add(channel.value)
            tenants[tenant.id] = (org, tenant.phone_e164, kinds, channels)
        session.flush()
        starts = [now - timedelta(days=d, hours=h) for d in range(0, 40, 3) for h in (0, 5)]
        made = []
        for _ in range(count):
            started = rng.choice(starts)
            outcome = rng.choice([*Outcome, None])
            ended = None if outcome is None else started + timedelta(seconds=rng.randint(30, 900))
            state = CallState.OPEN if outcome is None else CallState.CLOSED
            call = Call(
                # Unfinished calls are ana's: the supervisor signs in without one to recover.
                agent_id=(rng.choice(agents) if outcome else agents[0]).id,
                started_at=started,
                ended_at=ended,
                tenant_id=rng.choice([*tenants, None]),
                state=state,
                outcome=outcome,
                verified_at=started if rng.random() < 0.6 else None,
            )
            session.add(call)
            session.flush()
            made.append(
                Made(
                    call.id,
                    started,
                    ended,
                    call.agent_id,
                    call.tenant_id,
                    outcome,
                    call.verified_at is not None,
                    state,
                )
            )
        return agents[2].id, made, tenants


def fix_references(factory: sessionmaker[Session], *references: str) -> None:
    """Give the requests, in order, these references instead of random ones.

    For pictures only (snapshots): a reference is drawn from ``secrets``, so
    a snapshot showing one would differ on every run.
    """
    with unit_of_work(factory) as session:
        requests = session.scalars(select(CancellationRequest).order_by(CancellationRequest.id))
        for request, reference in zip(requests, references, strict=False):
            request.reference = reference
