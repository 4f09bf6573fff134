"""Risk tiers and proof of possession (PRODUCT.md section 5): the one home of the rule.

Each action has a tier (the defaults below; the settings' ``[tiers]`` table
may raise them, never lower one: ``parse_tiers`` refuses an action set below
what it does — cancel now ends service, expedited deprovisioning alone or
with cancel now destroys data — so no setting makes deleting data take only
the PIN, or nothing). ``step_up`` says whether an action may proceed given the
possession factors proven in this call, or which factor is missing, as one
sentence for the gate. The PIN counts only where the tenant has one, and
never suffices to destroy data.

A factor proves possession for the verification it was proven in (``held``):
PRODUCT.md section 4 lets a verification hold 30 minutes within its call, and
a code or an answered callback holds exactly as long. Once the verification
lapses the items are asked again (perhaps of another admin of the tenant),
and the factor must be proven again in the new round; a proof never carries
from one round, or one call, to the next.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from verification.policy import Action


class Tier(StrEnum):
    """How much harm an action does if a caller was not who they claimed."""

    REVERSIBLE = "reversible"
    ENDS_SERVICE = "ends_service"
    DESTROYS_DATA = "destroys_data"


class Factor(StrEnum):
    """Something the caller has, proven in this call."""

    CODE = "code"
    CALLBACK = "callback"
    PIN = "pin"


@dataclass(frozen=True)
class Proof:
    """A factor proven at ``at`` (aware UTC): a matched code, an answered callback."""

    factor: Factor
    at: datetime


def held(proofs: Iterable[Proof], round_start: datetime | None) -> tuple[Factor, ...]:
    """The factors that count now: those proven in the verification holding now.

    ``round_start`` is when that verification began
    (``VerificationSession.round_start``); None, no verification holds and
    nothing counts. Proofs of an earlier round are void.
    """
    if round_start is None:
        return ()
    current = {proof.factor for proof in proofs if proof.at >= round_start}
    return tuple(factor for factor in Factor if factor in current)


DEFAULT_TIERS: Mapping[Action, Tier] = {
    Action.AUTO_RENEW_OFF: Tier.REVERSIBLE,
    Action.CANCEL_NOW: Tier.ENDS_SERVICE,
    Action.EXPEDITED_DEPROVISIONING: Tier.DESTROYS_DATA,
    Action.CANCEL_NOW_WITH_EXPEDITED: Tier.DESTROYS_DATA,
}

# How the gate's sentence names each action.
_PHRASES: Mapping[Action, str] = {
    Action.AUTO_RENEW_OFF: "auto-renew off",
    Action.CANCEL_NOW: "cancel now",
    Action.EXPEDITED_DEPROVISIONING: "expedited deprovisioning",
    Action.CANCEL_NOW_WITH_EXPEDITED: "cancel now with expedited deprovisioning",
}


def phrase(action: Action) -> str:
    """How the desk names ``action`` in a sentence ("cancel now")."""
    return _PHRASES[action]


class TierError(ValueError):
    """A ``[tiers]`` entry naming an unknown action or tier."""


# What each tier says an action does, for the refusal of a lowered tier.
_DOES: Mapping[Tier, str] = {
    Tier.REVERSIBLE: "can be undone",
    Tier.ENDS_SERVICE: "ends service",
    Tier.DESTROYS_DATA: "destroys data",
}


def parse_tiers(table: Mapping[str, object]) -> tuple[tuple[Action, Tier], ...]:
    """The overrides of a ``[tiers]`` table (action name → tier name), validated.

    Raises TierError naming the first unknown action or tier, or an action
    set below its default tier (what the action does).
    """
    actions = ", ".join(a.value for a in Action)
    tiers = ", ".join(t.value for t in Tier)
    parsed: list[tuple[Action, Tier]] = []
    for name, value in table.items():
        if name not in Action.__members__.values():
            raise TierError(f"unknown action {name!r} in [tiers] (known: {actions})")
        if not isinstance(value, str) or value not in Tier.__members__.values():
            raise TierError(f"unknown tier {value!r} for {name} in [tiers] (known: {tiers})")
        action, tier = Action(name), Tier(value)
        floor = DEFAULT_TIERS[action]
        if _rank(tier) < _rank(floor):
            raise TierError(
                f"{name} cannot be {value}: it {_DOES[floor]}, so its tier is at least "
                f"{floor.value} in [tiers]"
            )
        parsed.append((action, tier))
    return tuple(parsed)


def _rank(tier: Tier) -> int:
    return list(Tier).index(tier)


def tier_map(overrides: Iterable[tuple[Action, Tier]] = ()) -> dict[Action, Tier]:
    """Every action's tier: the defaults with the settings' overrides applied."""
    return {**DEFAULT_TIERS, **dict(overrides)}


@dataclass(frozen=True)
class StepUp:
    """Whether the action may proceed; if not, the missing factor in one sentence."""

    proceed: bool
    missing: str = ""


def step_up(action: Action, tier: Tier, proven: Iterable[Factor], has_pin: bool) -> StepUp:
    """Whether ``action`` of ``tier`` may proceed with the factors ``proven`` in this call.

    A PIN proven for a tenant with none cannot be (the desk never asks it);
    it counts for nothing rather than opening the gate.
    """
    held = set(proven)
    if not has_pin:
        held.discard(Factor.PIN)
    phrase = _PHRASES[action]
    match tier:
        case Tier.REVERSIBLE:
            return StepUp(True)
        case Tier.ENDS_SERVICE:
            if held:
                return StepUp(True)
            options = "a code, a callback or the PIN" if has_pin else "a code or a callback"
            return StepUp(False, f"{phrase} needs {options}")
        case Tier.DESTROYS_DATA:
            if held & {Factor.CODE, Factor.CALLBACK}:
                return StepUp(True)
            tail = " — the PIN alone is not enough" if has_pin else ""
            return StepUp(False, f"{phrase} needs a code or a callback{tail}")
