"""What an action or a supervisor's decision does to a subscription: the home of its deletion dates.

``apply`` computes the subscription after an offered action (auto-renew off:
deleted ``DATA_RETENTION`` after the term; cancel now: after today), and
raises ``NotOffered`` for an action ``decide`` does not offer.
``approve_expedited`` and ``reject_expedited`` record a supervisor's decision
on a pending expedited deprovisioning, with the deletion day that follows.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from verification.kinds import ExpeditedState, SubscriptionStatus
from verification.policy import (
    DATA_RETENTION,
    EXPEDITED_DELETION,
    Action,
    NotOffered,
    PolicyGap,
    SubscriptionFacts,
)
from verification.policy_table import decide


def apply(action: Action, facts: SubscriptionFacts, today: date) -> SubscriptionFacts:
    """The subscription after ``action`` taken today.

    Raises NotOffered when the policy does not offer the action for it.
    """
    offered = {option.action for option in decide(facts, (), today).options}
    if action not in offered:
        raise NotOffered(f"{action.value} is not offered for this subscription")
    match action:
        case Action.AUTO_RENEW_OFF:
            return replace(
                facts,
                status=SubscriptionStatus.EXPIRING,
                auto_renew=False,
                data_deletion_on=facts.term_end + DATA_RETENTION,
            )
        case Action.CANCEL_NOW:
            return _canceled(facts, today)
        case Action.CANCEL_NOW_WITH_EXPEDITED:
            return replace(_canceled(facts, today), expedited=ExpeditedState.PENDING)
        case Action.EXPEDITED_DEPROVISIONING:
            return replace(facts, expedited=ExpeditedState.PENDING)
    raise PolicyGap(f"no effect defined for action {action!r}")


def approve_expedited(
    facts: SubscriptionFacts, approved_on: date, final_on: date | None = None
) -> SubscriptionFacts:
    """The subscription once a supervisor approved its expedited deprovisioning.

    ``final_on`` is the day the request becomes final (``verification.cooling``:
    the later of the cooling-off's end and the approval). The cooling-off runs
    *inside* the 3 days (PRODUCT.md section 5), not before them: the caller was
    told "within 3 days of approval", the setting is capped at 72 hours so the
    period always fits, and the admins' window to dispute is what the period
    buys, not a later deletion. So the data is deleted by the approval day plus
    3 days, and never before the day it becomes final (which only a long
    period over a daylight-saving change could otherwise reach); an earlier
    deletion date already on record stands.
    """
    _require_pending(facts)
    deletion = approved_on + EXPEDITED_DELETION
    if final_on is not None:
        deletion = max(deletion, final_on)
    if facts.data_deletion_on is not None:
        deletion = min(deletion, facts.data_deletion_on)
    return replace(facts, expedited=ExpeditedState.APPROVED, data_deletion_on=deletion)


def reject_expedited(facts: SubscriptionFacts) -> SubscriptionFacts:
    """The subscription once a supervisor rejected its expedited deprovisioning."""
    _require_pending(facts)
    return replace(facts, expedited=ExpeditedState.REJECTED)


def _require_pending(facts: SubscriptionFacts) -> None:
    if facts.expedited is not ExpeditedState.PENDING:
        raise NotOffered(f"no expedited deprovisioning is pending (it is {facts.expedited.value})")


def _canceled(facts: SubscriptionFacts, today: date) -> SubscriptionFacts:
    return replace(
        facts,
        status=SubscriptionStatus.CANCELED,
        auto_renew=False,
        canceled_on=today,
        data_deletion_on=today + DATA_RETENTION,
    )
