"""The limits that protect customers, set for a test as an operator sets them.

``set_limits`` goes through ``db.policy.set_policy`` (audited, the ranges
checked), so a test sets only what an operator could. ``without_step_up``
is the one seam below that: tests of other things take actions without the
factor step, although no operator may lower a tier below its default.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from db.policy import CACHE_KEY, protection_of, read_protection, set_policy
from verification.policy import Action
from verification.protection import Protection
from verification.tiers import Tier

# Every action reversible: no possession factor asked.
NO_STEP_UP = tuple((action, Tier.REVERSIBLE) for action in Action)
DEFAULTS = Protection()


def set_limits(factory: sessionmaker[Session], **values: int) -> None:
    """Set each limit (``tenant_max_misses=100``) that is not already in force."""
    in_force = read_protection(factory)
    for key, value in values.items():
        if getattr(in_force, key) != value:
            set_policy(factory, key, str(value), actor="test", now=datetime.now(UTC))


class _LoweredTiers(sessionmaker[Session]):
    """Sessions that start with the stored limits in ``Session.info``, every tier reversible."""

    def __call__(self, **local_kw: Any) -> Session:
        session = super().__call__(**local_kw)
        with super().__call__() as reading:
            stored = protection_of(reading)
        session.info[CACHE_KEY] = replace(stored, tiers=NO_STEP_UP)
        return session


def without_step_up(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """Sessions on the same database whose policy has every action reversible.

    ``db.policy.protection_of`` keeps the limits of a unit of work in
    ``Session.info``; these sessions start with the limits stored now there,
    the tiers lowered, as no operator could set them.
    """
    return _LoweredTiers(**factory.kw)
