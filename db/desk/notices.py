"""What follows an action once its request is stored: cooling-off and the admins' notices.

Called by ``take_action`` in the action's own transaction, right after the
request is flushed. An expedited request gets the end of its cooling-off
(``verification.cooling``, from ``expedited_cooling_off_hours``); every
action of the two upper tiers (``verification.tiers.tier_map`` of the
settings) queues one notice per admin of the tenant (``db.delivery.notices``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from db.delivery.notices import NoticeKind, action_notice, queue_notices
from db.models import Agent, Call, CancellationRequest, Subscription, Tenant
from db.policy import protection_of
from db.settings import Settings
from verification.cooling import cooling_off_until
from verification.policy import Action, Option, SubscriptionFacts
from verification.tiers import Tier, tier_map

# The tiers whose actions the tenant's admins are told of.
NOTIFIED_TIERS = frozenset({Tier.ENDS_SERVICE, Tier.DESTROYS_DATA})


def after_request(
    session: Session,
    *,
    call: Call,
    tenant: Tenant,
    request: CancellationRequest,
    option: Option,
    facts: SubscriptionFacts,
    settings: Settings,
    actor: str,
    now: datetime,
) -> None:
    """Start the cooling-off of an expedited request and queue the admins' notices."""
    if option.needs_approval:
        hours = protection_of(session).expedited_cooling_off_hours
        request.cooling_off_until = cooling_off_until(now, hours)
    action = Action(request.action)
    if tier_map(protection_of(session).tiers)[action] not in NOTIFIED_TIERS:
        return
    agent = session.get(Agent, call.agent_id)
    assert agent is not None  # a foreign key
    notice = action_notice(
        action=action,
        reference=request.reference,
        organization=tenant.organization,
        product=_product(session, request),
        agent=agent.display_name,
        at=now,
        facts=facts,
        effects=option.effects,
        cooling_off_until=request.cooling_off_until,
    )
    queue_notices(
        session, kind=NoticeKind.ACTION, request=request, notice=notice, actor=actor, now=now
    )


def _product(session: Session, request: CancellationRequest) -> str:
    """The product name of the request's subscription."""
    subscription = session.get(Subscription, request.subscription_id)
    assert subscription is not None  # a foreign key
    return subscription.product_name
