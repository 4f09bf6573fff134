"""The terms of the cancellation policy (PRODUCT.md section 5), and its two periods.

What the policy reasons about (``SubscriptionFacts``), what the agent can do
(``Action``) and what it answers with (``PolicyDecision``, each ``Option`` it offers).
The periods are set here and nowhere else: data is kept ``DATA_RETENTION``
(90 days) after a term ends or a cancellation, and deleted within
``EXPEDITED_DELETION`` (3 days) of an approved expedited deprovisioning.
What may be offered is ``verification.policy_table.decide``'s; what an
action or a supervisor's decision does is ``verification.policy_effects``'.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from verification.kinds import (
    Channel,
    ExpeditedState,
    Outcome,
    SubscriptionKind,
    SubscriptionStatus,
)

DATA_RETENTION = timedelta(days=90)
EXPEDITED_DELETION = timedelta(days=3)

Dates = tuple[tuple[str, date], ...]


class Action(StrEnum):
    """What the agent can do to a subscription."""

    AUTO_RENEW_OFF = "auto_renew_off"
    CANCEL_NOW = "cancel_now"
    EXPEDITED_DEPROVISIONING = "expedited_deprovisioning"
    CANCEL_NOW_WITH_EXPEDITED = "cancel_now_with_expedited"


class PolicyGap(LookupError):
    """A kind, channel or status the policy table has no row for (a bug)."""


class NotOffered(ValueError):
    """An action applied to a subscription the policy does not offer it for."""


@dataclass(frozen=True)
class SubscriptionFacts:
    """What the policy needs to know about one subscription."""

    kind: SubscriptionKind
    channel: Channel
    status: SubscriptionStatus
    term_start: date
    term_end: date
    auto_renew: bool
    canceled_on: date | None = None
    data_deletion_on: date | None = None
    expedited: ExpeditedState = ExpeditedState.NONE


@dataclass(frozen=True)
class Option:
    """One action the agent may offer, with what the caller must hear and confirm."""

    action: Action
    label: str
    warnings: tuple[str, ...]
    checklist: tuple[str, ...]
    effects: Dates
    needs_approval: bool


@dataclass(frozen=True)
class PolicyDecision:
    """What the desk says (``message``), may offer, and the dates that stand.

    ``outcome`` is the call outcome to record when there is nothing to offer.
    """

    message: str
    options: tuple[Option, ...]
    dates: Dates
    outcome: Outcome | None = None
