"""The cancellation policy of PRODUCT.md section 5, as a decision table.

``decide`` says what the agent may offer for one subscription today, with the
warnings, the checklist the caller confirms and the dates that follow;
``apply`` computes the subscription after an offered action. Every
subscription kind, channel and status has a row: a member added to those
enums without one makes ``decide`` raise ``PolicyGap`` (and the tests fail).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
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


def decide(facts: SubscriptionFacts, domains: Sequence[str], today: date) -> PolicyDecision:
    """What the policy allows for a subscription today.

    ``domains`` are the tenant's custom domains, listed in the checklist of
    any cancellation before the end of the term.
    """
    row = _KIND_ROWS.get(facts.kind)
    if row is None:
        raise PolicyGap(f"no cancellation policy for subscription kind {facts.kind!r}")
    return row(facts, tuple(domains), today)


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


# --- the rows -----------------------------------------------------------------

Row = Callable[[SubscriptionFacts, tuple[str, ...], date], PolicyDecision]


def _trial(facts: SubscriptionFacts, domains: tuple[str, ...], today: date) -> PolicyDecision:
    # Seed: a trial "automatically expires at the end of the trial period and all
    # data is permanently deleted": then, not 90 days later (an earlier date stands).
    end = facts.term_end
    deletion = min(facts.data_deletion_on or end, end)
    if _ended(facts, today):
        return _informed(
            f"A trial that ended on {_d(end)}: its data was deleted on {_d(deletion)}. "
            "There is nothing to cancel.",
            (("trial ended", end), ("data deleted", deletion)),
        )
    when = f"on {_d(deletion)}, before" if deletion != end else "when"
    return _informed(
        f"A trial can't be canceled. It expires by itself, and all its data is "
        f"permanently deleted {when} the trial ends on {_d(end)}.",
        (("trial ends", end), ("data deleted", deletion)),
    )


def _paid(facts: SubscriptionFacts, domains: tuple[str, ...], today: date) -> PolicyDecision:
    row = _PAID_STATUS_ROWS.get(facts.status)
    if row is None:
        raise PolicyGap(f"no cancellation policy for status {facts.status!r}")
    if facts.status in _RUNNING and _ended(facts, today):
        row = _ended_row
    return row(facts, domains, today)


def _running(facts: SubscriptionFacts, domains: tuple[str, ...], today: date) -> PolicyDecision:
    row = _CHANNEL_ROWS.get(facts.channel)
    if row is None:
        raise PolicyGap(f"no cancellation policy for channel {facts.channel!r}")
    return row(facts, domains, today)


def _direct(facts: SubscriptionFacts, domains: tuple[str, ...], today: date) -> PolicyDecision:
    deletion = _deletion_after_term(facts)
    renewing = facts.status is SubscriptionStatus.ACTIVE and facts.auto_renew
    options: list[Option] = []
    if renewing:
        message = (
            f"The subscription renews on {_d(facts.term_end)}. The caller can turn "
            f"auto-renew off (it then expires at the end of the term) or cancel now."
        )
        options.append(
            Option(
                Action.AUTO_RENEW_OFF,
                "Turn auto-renew off (cancel at the end of the term)",
                warnings=(),
                checklist=(),
                effects=(("expires", facts.term_end), ("data deleted", deletion)),
                needs_approval=False,
            )
        )
    else:
        message = (
            f"Auto-renew is already off: the subscription expires on {_d(facts.term_end)} "
            f"and its data is deleted on {_d(deletion)}. The caller can still cancel now."
        )
    warnings = ("Early termination fees may apply.",)
    options += _cancel_now_options(warnings, domains, today)
    return PolicyDecision(message, tuple(options), _term_dates(facts, deletion))


def _product_key(facts: SubscriptionFacts, domains: tuple[str, ...], today: date) -> PolicyDecision:
    deletion = _deletion_after_term(facts)
    message = (
        f"Bought with a product key: it can be canceled now but not refunded. "
        f"Otherwise it expires on {_d(facts.term_end)}."
    )
    warnings = (
        "Early termination fees may apply.",
        "No refund for a product-key subscription: the caller may ask the partner "
        "they bought it from.",
    )
    options = _cancel_now_options(warnings, domains, today)
    return PolicyDecision(message, tuple(options), _term_dates(facts, deletion))


def _volume(facts: SubscriptionFacts, domains: tuple[str, ...], today: date) -> PolicyDecision:
    deletion = _deletion_after_term(facts)
    channel = "Open" if facts.channel is Channel.OPEN else "FPP"
    return _informed(
        f"Bought through {channel}: it already expires at the end of its term on "
        f"{_d(facts.term_end)}. There is nothing to cancel.",
        _term_dates(facts, deletion),
    )


def _canceled_row(
    facts: SubscriptionFacts, domains: tuple[str, ...], today: date
) -> PolicyDecision:
    deletion = facts.data_deletion_on or (facts.canceled_on or today) + DATA_RETENTION
    dates = _canceled_dates(facts, deletion)
    if deletion <= today:
        return _informed(f"Canceled; its data was deleted on {_d(deletion)}.", dates)
    if facts.expedited is ExpeditedState.PENDING:
        return _informed(
            "Canceled; expedited deprovisioning is waiting for a supervisor's approval. "
            f"Until then its data is kept until {_d(deletion)}.",
            dates,
        )
    if facts.expedited is ExpeditedState.APPROVED:
        return _informed(
            f"Canceled; expedited deprovisioning was approved: its data is deleted by "
            f"{_d(deletion)}.",
            dates,
        )
    option = Option(
        Action.EXPEDITED_DEPROVISIONING,
        "Expedited deprovisioning (delete the data within 3 days)",
        warnings=_EXPEDITED_WARNINGS,
        checklist=(_IRREVERSIBLE_CHECK,),
        effects=(
            ("data deleted by, if approved today", min(deletion, today + EXPEDITED_DELETION)),
            ("data deleted otherwise", deletion),
        ),
        needs_approval=True,
    )
    message = (
        f"Canceled; its data is kept until {_d(deletion)}. The caller may ask for "
        f"expedited deprovisioning: the data is then deleted within 3 days of approval."
    )
    return PolicyDecision(message, (option,), dates)


def _ended_row(facts: SubscriptionFacts, domains: tuple[str, ...], today: date) -> PolicyDecision:
    deletion = _deletion_after_term(facts)
    if facts.status in _RUNNING:
        # The record lags behind the calendar: say so rather than offer a
        # cancellation of something that has already run out.
        lead = (
            f"Its term ended on {_d(facts.term_end)}, so it has expired "
            f"(the record still says {facts.status.value})."
        )
    else:
        lead = f"Expired on {_d(facts.term_end)}."
    if deletion <= today:
        tail = f" Its data was deleted on {_d(deletion)}."
    else:
        tail = f" Its data is deleted on {_d(deletion)}."
    return _informed(lead + tail, _term_dates(facts, deletion))


def _cancel_now_options(
    warnings: tuple[str, ...], domains: tuple[str, ...], today: date
) -> list[Option]:
    checklist: list[str] = []
    if domains:
        checklist.append(
            "Custom domains removed and their DNS records (NS) pointed elsewhere: "
            + ", ".join(domains)
        )
    checklist.append("Data backed up: whatever is left is deleted 90 days after cancellation")
    deletion = today + DATA_RETENTION
    return [
        Option(
            Action.CANCEL_NOW,
            "Cancel now (before the end of the term)",
            warnings=warnings,
            checklist=tuple(checklist),
            effects=(("canceled", today), ("data deleted", deletion)),
            needs_approval=False,
        ),
        Option(
            Action.CANCEL_NOW_WITH_EXPEDITED,
            "Cancel now with expedited deprovisioning (data deleted within 3 days)",
            warnings=warnings + _EXPEDITED_WARNINGS,
            checklist=(*checklist, _IRREVERSIBLE_CHECK),
            effects=(
                ("canceled", today),
                ("data deleted by, if approved today", today + EXPEDITED_DELETION),
                ("data deleted if not approved", deletion),
            ),
            needs_approval=True,
        ),
    ]


_EXPEDITED_WARNINGS = (
    "Irreversible: all data is permanently deleted within 3 days of approval.",
    "Only by phone, and only once a supervisor other than you approves it.",
)
_IRREVERSIBLE_CHECK = "Caller confirms that deleting all data within 3 days is irreversible"


def _informed(message: str, dates: Dates) -> PolicyDecision:
    return PolicyDecision(message, (), dates, Outcome.INFORMED)


def _ended(facts: SubscriptionFacts, today: date) -> bool:
    # The last day of the term is still inside it.
    return facts.status is SubscriptionStatus.EXPIRED or facts.term_end < today


def _deletion_after_term(facts: SubscriptionFacts) -> date:
    return facts.data_deletion_on or facts.term_end + DATA_RETENTION


def _term_dates(facts: SubscriptionFacts, deletion: date) -> Dates:
    return (
        ("term started", facts.term_start),
        ("term ends", facts.term_end),
        ("data deleted", deletion),
    )


def _canceled_dates(facts: SubscriptionFacts, deletion: date) -> Dates:
    dates: list[tuple[str, date]] = [("term started", facts.term_start)]
    if facts.canceled_on is not None:
        dates.append(("canceled", facts.canceled_on))
    dates.append(("data deleted", deletion))
    return tuple(dates)


def _d(day: date) -> str:
    """A date as read out: unambiguous in every locale."""
    return f"{day.day} {day:%B %Y}"


_RUNNING = frozenset({SubscriptionStatus.ACTIVE, SubscriptionStatus.EXPIRING})

_CHANNEL_ROWS: dict[Channel, Row] = {
    Channel.DIRECT: _direct,
    Channel.PRODUCT_KEY: _product_key,
    Channel.OPEN: _volume,
    Channel.FPP: _volume,
}

_PAID_STATUS_ROWS: dict[SubscriptionStatus, Row] = {
    SubscriptionStatus.ACTIVE: _running,
    SubscriptionStatus.EXPIRING: _running,
    SubscriptionStatus.CANCELED: _canceled_row,
    SubscriptionStatus.EXPIRED: _ended_row,
}

_KIND_ROWS: dict[SubscriptionKind, Row] = {
    SubscriptionKind.TRIAL: _trial,
    SubscriptionKind.PAID: _paid,
}
