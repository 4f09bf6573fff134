"""Risk tiers and proof of possession (PRODUCT.md section 5): the one home of the rule.

Each action has a tier (the defaults below; the settings' ``[tiers]`` table
may change them). ``step_up`` says whether an action may proceed given the
possession factors proven in this call, or which factor is missing, as one
sentence for the gate. The PIN counts only where the tenant has one, and
never suffices to destroy data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
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


def parse_tiers(table: Mapping[str, object]) -> tuple[tuple[Action, Tier], ...]:
    """The overrides of a ``[tiers]`` table (action name → tier name), validated.

    Raises TierError naming the first unknown action or tier.
    """
    actions = ", ".join(a.value for a in Action)
    tiers = ", ".join(t.value for t in Tier)
    parsed: list[tuple[Action, Tier]] = []
    for name, value in table.items():
        if name not in Action.__members__.values():
            raise TierError(f"unknown action {name!r} in [tiers] (known: {actions})")
        if not isinstance(value, str) or value not in Tier.__members__.values():
            raise TierError(f"unknown tier {value!r} for {name} in [tiers] (known: {tiers})")
        parsed.append((Action(name), Tier(value)))
    return tuple(parsed)


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
