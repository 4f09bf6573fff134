"""A term's dates as the policy states them: the one home of its end and its deletion day.

The last day of a term is still inside it; a term that has run out has ended
whatever its record says. Its data is deleted ``DATA_RETENTION`` after the
term's end, unless an earlier deletion date is already on record. Dates are
read out as "3 March 2025", unambiguous in every locale.
"""

from __future__ import annotations

from datetime import date

from verification.kinds import SubscriptionStatus
from verification.policy import DATA_RETENTION, Dates, SubscriptionFacts


def ended(facts: SubscriptionFacts, today: date) -> bool:
    """Whether the term is over today (or the record says it expired)."""
    # The last day of the term is still inside it.
    return facts.status is SubscriptionStatus.EXPIRED or facts.term_end < today


def deletion_after_term(facts: SubscriptionFacts) -> date:
    """The day the data is deleted after the term: the one on record, if any."""
    return facts.data_deletion_on or facts.term_end + DATA_RETENTION


def term_dates(facts: SubscriptionFacts, deletion: date) -> Dates:
    """The dates that stand for a running or ended term."""
    return (
        ("term started", facts.term_start),
        ("term ends", facts.term_end),
        ("data deleted", deletion),
    )


def canceled_dates(facts: SubscriptionFacts, deletion: date) -> Dates:
    """The dates that stand for a canceled subscription."""
    dates: list[tuple[str, date]] = [("term started", facts.term_start)]
    if facts.canceled_on is not None:
        dates.append(("canceled", facts.canceled_on))
    dates.append(("data deleted", deletion))
    return tuple(dates)


def read_out(day: date) -> str:
    """A date as read out: unambiguous in every locale."""
    return f"{day.day} {day:%B %Y}"
