"""What may be offered for one subscription today: the decision table of PRODUCT.md section 5.

``decide`` says what the agent may offer, with the warnings, the checklist
the caller confirms and the dates that follow. Every subscription kind,
channel and status has a row here: a member added to those enums without one
makes ``decide`` raise ``PolicyGap`` (and the tests fail).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from verification.kinds import (
    Channel,
    ExpeditedState,
    Outcome,
    SubscriptionKind,
    SubscriptionStatus,
)
from verification.policy import (
    DATA_RETENTION,
    EXPEDITED_DELETION,
    Action,
    Dates,
    Option,
    PolicyDecision,
    PolicyGap,
    SubscriptionFacts,
)
from verification.policy_dates import (
    canceled_dates,
    deletion_after_term,
    ended,
    read_out,
    term_dates,
)


def decide(facts: SubscriptionFacts, domains: Sequence[str], today: date) -> PolicyDecision:
    """What the policy allows for a subscription today.

    ``domains`` are the tenant's custom domains, listed in the checklist of
    any cancellation before the end of the term.
    """
    row = _KIND_ROWS.get(facts.kind)
    if row is None:
        raise PolicyGap(f"no cancellation policy for subscription kind {facts.kind!r}")
    return row(facts, tuple(domains), today)


# --- the rows -----------------------------------------------------------------

Row = Callable[[SubscriptionFacts, tuple[str, ...], date], PolicyDecision]


def _trial(facts: SubscriptionFacts, domains: tuple[str, ...], today: date) -> PolicyDecision:
    # Seed: a trial "automatically expires at the end of the trial period and all
    # data is permanently deleted": then, not 90 days later (an earlier date stands).
    end = facts.term_end
    deletion = min(facts.data_deletion_on or end, end)
    if ended(facts, today):
        return _informed(
            f"A trial that ended on {read_out(end)}: its data was deleted on {read_out(deletion)}. "
            "There is nothing to cancel.",
            (("trial ended", end), ("data deleted", deletion)),
        )
    when = f"on {read_out(deletion)}, before" if deletion != end else "when"
    return _informed(
        f"A trial can't be canceled. It expires by itself, and all its data is "
        f"permanently deleted {when} the trial ends on {read_out(end)}.",
        (("trial ends", end), ("data deleted", deletion)),
    )


def _paid(facts: SubscriptionFacts, domains: tuple[str, ...], today: date) -> PolicyDecision:
    row = _PAID_STATUS_ROWS.get(facts.status)
    if row is None:
        raise PolicyGap(f"no cancellation policy for status {facts.status!r}")
    if facts.status in _RUNNING and ended(facts, today):
        row = _ended_row
    return row(facts, domains, today)


def _running(facts: SubscriptionFacts, domains: tuple[str, ...], today: date) -> PolicyDecision:
    row = _CHANNEL_ROWS.get(facts.channel)
    if row is None:
        raise PolicyGap(f"no cancellation policy for channel {facts.channel!r}")
    return row(facts, domains, today)


def _direct(facts: SubscriptionFacts, domains: tuple[str, ...], today: date) -> PolicyDecision:
    deletion = deletion_after_term(facts)
    renewing = facts.status is SubscriptionStatus.ACTIVE and facts.auto_renew
    options: list[Option] = []
    if renewing:
        message = (
            f"The subscription renews on {read_out(facts.term_end)}. The caller can turn "
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
            f"Auto-renew is already off: the subscription expires on {read_out(facts.term_end)} "
            f"and its data is deleted on {read_out(deletion)}. The caller can still cancel now."
        )
    warnings = ("Early termination fees may apply.",)
    options += _cancel_now_options(warnings, domains, today)
    return PolicyDecision(message, tuple(options), term_dates(facts, deletion))


def _product_key(facts: SubscriptionFacts, domains: tuple[str, ...], today: date) -> PolicyDecision:
    deletion = deletion_after_term(facts)
    message = (
        f"Bought with a product key: it can be canceled now but not refunded. "
        f"Otherwise it expires on {read_out(facts.term_end)}."
    )
    warnings = (
        "Early termination fees may apply.",
        "No refund for a product-key subscription: the caller may ask the partner "
        "they bought it from.",
    )
    options = _cancel_now_options(warnings, domains, today)
    return PolicyDecision(message, tuple(options), term_dates(facts, deletion))


def _volume(facts: SubscriptionFacts, domains: tuple[str, ...], today: date) -> PolicyDecision:
    deletion = deletion_after_term(facts)
    channel = "Open" if facts.channel is Channel.OPEN else "FPP"
    return _informed(
        f"Bought through {channel}: it already expires at the end of its term on "
        f"{read_out(facts.term_end)}. There is nothing to cancel.",
        term_dates(facts, deletion),
    )


def _canceled_row(
    facts: SubscriptionFacts, domains: tuple[str, ...], today: date
) -> PolicyDecision:
    deletion = facts.data_deletion_on or (facts.canceled_on or today) + DATA_RETENTION
    dates = canceled_dates(facts, deletion)
    if deletion <= today:
        return _informed(f"Canceled; its data was deleted on {read_out(deletion)}.", dates)
    if facts.expedited is ExpeditedState.PENDING:
        return _informed(
            "Canceled; expedited deprovisioning is waiting for a supervisor's approval. "
            f"Until then its data is kept until {read_out(deletion)}.",
            dates,
        )
    if facts.expedited is ExpeditedState.APPROVED:
        return _informed(
            f"Canceled; expedited deprovisioning was approved: its data is deleted by "
            f"{read_out(deletion)}.",
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
        f"Canceled; its data is kept until {read_out(deletion)}. The caller may ask for "
        f"expedited deprovisioning: the data is then deleted within 3 days of approval."
    )
    return PolicyDecision(message, (option,), dates)


def _ended_row(facts: SubscriptionFacts, domains: tuple[str, ...], today: date) -> PolicyDecision:
    deletion = deletion_after_term(facts)
    if facts.status in _RUNNING:
        # The record lags behind the calendar: say so rather than offer a
        # cancellation of something that has already run out.
        lead = (
            f"Its term ended on {read_out(facts.term_end)}, so it has expired "
            f"(the record still says {facts.status.value})."
        )
    else:
        lead = f"Expired on {read_out(facts.term_end)}."
    if deletion <= today:
        tail = f" Its data was deleted on {read_out(deletion)}."
    else:
        tail = f" Its data is deleted on {read_out(deletion)}."
    return _informed(lead + tail, term_dates(facts, deletion))


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
