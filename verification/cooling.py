"""The cooling-off of expedited deprovisioning (PRODUCT.md section 5): the one home of the rule.

An expedited request becomes final only once BOTH hold: the cooling-off
period after the request has run out, and a supervisor approved it; so it is
final at ``max(cooling_off_until, approved_at)`` and never before either.
Until then any agent or supervisor may dispute it (quoting its reference,
with a reason), and a disputed request never becomes final. The period is
fixed when the request is made (``cooling_off_until``), so a later change of
``expedited_cooling_off_hours`` never moves a date already sent to the
tenant's admins. Every function takes the time it reasons about: no clock
is read here.

The deletion date that follows ("deleted by") is ``policy_effects.approve_expedited``'s,
fed with the day it becomes final (``final_on``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

# The setting's bounds: at most the 3 days of expedited deletion, so the
# period always fits inside them (PRODUCT.md section 5 "inside the 3 days").
MIN_HOURS = 1
MAX_HOURS = 72


class Standing(StrEnum):
    """Where an expedited request stands on its way to being final."""

    COOLING_OFF = "cooling off"
    WAITING_APPROVAL = "waiting for approval"
    DUE = "due to become final"
    FINAL = "final"
    DISPUTED = "disputed"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Expedited:
    """What the rule needs to know about one expedited request.

    ``approved_at`` is the time of the decision that stands if it is an
    approval (None while waiting, or once rejected: see ``rejected``).
    """

    requested_at: datetime
    cooling_off_until: datetime
    approved_at: datetime | None = None
    rejected: bool = False
    disputed_at: datetime | None = None
    final_at: datetime | None = None


def cooling_off_until(requested_at: datetime, hours: int) -> datetime:
    """When the cooling-off of a request made at ``requested_at`` ends."""
    if not MIN_HOURS <= hours <= MAX_HOURS:
        raise ValueError(f"cooling-off hours must be between {MIN_HOURS} and {MAX_HOURS}")
    return requested_at + timedelta(hours=hours)


def final_time(until: datetime, approved_at: datetime) -> datetime:
    """When an approved request becomes final: the later of the period's end and the approval."""
    return max(until, approved_at)


def standing(request: Expedited, now: datetime) -> Standing:
    """Where ``request`` stands at ``now``."""
    if request.final_at is not None:
        return Standing.FINAL
    if request.disputed_at is not None:
        return Standing.DISPUTED
    if request.rejected:
        return Standing.REJECTED
    if request.approved_at is None:
        cooling = now < request.cooling_off_until
        return Standing.COOLING_OFF if cooling else Standing.WAITING_APPROVAL
    if now < final_time(request.cooling_off_until, request.approved_at):
        return Standing.COOLING_OFF
    return Standing.DUE


def due_final(request: Expedited, now: datetime) -> datetime | None:
    """The time ``request`` became final if it is due to be marked final at ``now``, else None."""
    if standing(request, now) is not Standing.DUE:
        return None
    assert request.approved_at is not None  # DUE only once approved
    return final_time(request.cooling_off_until, request.approved_at)


def dispute_refusal(request: Expedited, now: datetime) -> str | None:
    """Why ``request`` cannot be disputed at ``now``, or None when it can.

    A dispute is recorded until the request is final, even after the
    cooling-off ran out while it still waited for an approval: until then it
    can still be stopped. A rejected request deletes nothing early.
    """
    match standing(request, now):
        case Standing.FINAL | Standing.DUE:
            return "it is already final: the data is being deleted and a dispute cannot stop it"
        case Standing.DISPUTED:
            return "it is already disputed: a supervisor will look at it"
        case Standing.REJECTED:
            return "a supervisor rejected it: the data is kept, there is nothing to stop"
        case _:
            return None
