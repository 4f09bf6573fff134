"""The limits that protect customers (PRODUCT.md section 8): their names, defaults and ranges.

The one home of which limits are the database's rather than a desk's, and of
the values each may take. An operator sets them with ``callgate policy set
KEY VALUE`` (``db.policy`` stores them, one row per key set, each change
audited); every desk reads the same values from the database, never from its
own settings file, so whoever holds a desk's files cannot lift a guess limit
or shorten a cooling-off. A tier is the key ``tier.<action>``, with the rule
of ``verification.tiers.parse_tiers`` (never below the action's default).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING

from verification.session import Limits

if TYPE_CHECKING:
    # Imported where used: the desk's first screen reads its settings (which
    # ask ``is_policy_key``) before it may import the policy.
    from verification.policy import Action
    from verification.tiers import Tier

# The whole-number limits, each with its default and its range: a bound every
# date computation with it stays inside, and beyond any sensible policy.
RANGES: dict[str, tuple[int, int]] = {
    "max_misses": (1, 100),
    "verification_expiry_minutes": (1, 1_440),
    "tenant_lock_calls": (1, 100),
    "tenant_max_misses": (1, 1_000),
    "tenant_lock_window_hours": (1, 8_784),
    "signin_lock_after": (1, 100),
    # Inside the 3 days of expedited deletion.
    "expedited_cooling_off_hours": (1, 72),
}
TIER_PREFIX = "tier."


class PolicyError(ValueError):
    """A policy key or value that cannot be used; the message says why."""


@dataclass(frozen=True)
class Protection:
    """The limits in force: the code's defaults with the operator's values applied."""

    max_misses: int = Limits.max_misses
    verification_expiry_minutes: int = Limits.expiry_minutes
    tenant_lock_calls: int = Limits.tenant_lock_calls
    tenant_max_misses: int = Limits.tenant_max_misses
    tenant_lock_window_hours: int = Limits.tenant_lock_window_hours
    signin_lock_after: int = 5
    expedited_cooling_off_hours: int = 24
    # Overrides of the default tiers, as ``verification.tiers.parse_tiers`` returns them.
    tiers: tuple[tuple[Action, Tier], ...] = ()

    @property
    def limits(self) -> Limits:
        """The verification session's limits."""
        return Limits(
            self.max_misses,
            self.verification_expiry_minutes,
            self.tenant_lock_calls,
            self.tenant_lock_window_hours,
            self.tenant_max_misses,
        )


NUMBER_KEYS = tuple(f.name for f in fields(Protection) if f.name in RANGES)


def keys() -> tuple[str, ...]:
    """Every policy key: the numbers, then one ``tier.<action>`` per action."""
    from verification.policy import Action

    return (*NUMBER_KEYS, *(f"{TIER_PREFIX}{action.value}" for action in Action))


def is_policy_key(name: str) -> bool:
    """Whether ``name`` (a settings key, or ``tiers``) is one of the database's limits."""
    return name in RANGES or name == "tiers" or name.startswith(TIER_PREFIX)


def parse(key: str, text: str) -> str:
    """``text`` as the stored value of ``key`` (canonical), or PolicyError saying why."""
    value = text.strip()
    if key in RANGES:
        low, high = RANGES[key]
        if not value.isascii() or not value.isdigit() or not low <= int(value) <= high:
            raise PolicyError(f"{key} must be a whole number from {low} to {high}, got {text!r}")
        return str(int(value))
    if key.startswith(TIER_PREFIX):
        from verification.tiers import TierError, parse_tiers

        try:
            ((_, tier),) = parse_tiers({key.removeprefix(TIER_PREFIX): value})
        except TierError as exc:
            raise PolicyError(str(exc).replace(" in [tiers]", "")) from None
        return tier.value
    raise PolicyError(f"unknown policy key {key!r} (known: {', '.join(keys())})")


def protection(stored: Mapping[str, str]) -> Protection:
    """The limits in force given the stored ``key -> value`` rows.

    A stored value this version cannot use (a key it does not know, a value
    out of today's range) keeps the default: the database's own constraint
    (``db.models.policy``) is what keeps hostile values out.
    """
    from verification.policy import Action
    from verification.tiers import Tier

    numbers: dict[str, int] = {}
    tiers: list[tuple[Action, Tier]] = []
    for key, value in sorted(stored.items()):
        try:
            canonical = parse(key, value)
        except PolicyError:
            continue
        if key in RANGES:
            numbers[key] = int(canonical)
        else:
            tiers.append((Action(key.removeprefix(TIER_PREFIX)), Tier(canonical)))
    return replace(Protection(), **numbers, tiers=tuple(tiers))


def default_text(key: str) -> str:
    """The code's default for ``key``, as ``policy show`` prints it."""
    if key in RANGES:
        return str(getattr(Protection(), key))
    from verification.policy import Action
    from verification.tiers import DEFAULT_TIERS

    return DEFAULT_TIERS[Action(key.removeprefix(TIER_PREFIX))].value
