"""The limits that protect customers, stored in the database (``callgate policy``).

Which keys there are and what each may hold is ``verification.protection``;
this module reads and writes them. Every desk reads them through
``protection_of(session)``, once per unit of work (kept in ``session.info``),
so a value an operator sets reaches every running desk at its next check and
no desk's own files can change it. Each change is one ``policy.set`` audit
event with the key, the old and the new value (numbers and tier names, never
personal data) in the transaction that writes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.audit.chain import append_event
from db.engine import unit_of_work
from db.models import PolicySetting
from verification.protection import (
    TIER_PREFIX,
    Protection,
    default_text,
    keys,
    parse,
    protection,
)

POLICY_EVENT = "policy.set"
CACHE_KEY = "callgate.protection"


@dataclass(frozen=True)
class PolicyLine:
    """One key as ``policy show`` prints it; ``set_by``/``set_at`` are None for a default."""

    key: str
    value: str
    default: str
    set_by: str | None
    set_at: datetime | None


@dataclass(frozen=True)
class PolicyChange:
    """What ``policy set`` changed (``old`` is the value in force before it)."""

    key: str
    old: str
    new: str


def protection_of(session: Session) -> Protection:
    """The limits in force, read once per session (one unit of work) from the database."""
    cached = session.info.get(CACHE_KEY)
    if isinstance(cached, Protection):
        return cached
    rows = session.execute(select(PolicySetting.key, PolicySetting.value)).all()
    found = protection({key: value for key, value in rows})
    session.info[CACHE_KEY] = found
    return found


def read_protection(factory: sessionmaker[Session]) -> Protection:
    """The limits in force, in a unit of work of their own."""
    with factory() as session:
        return protection_of(session)


def policy_lines(factory: sessionmaker[Session]) -> list[PolicyLine]:
    """Every key with the value in force, its default, and who set it."""
    with factory() as session:
        stored = {row.key: row for row in session.scalars(select(PolicySetting))}
        in_force = protection_of(session)
    lines = []
    for key in keys():
        row = stored.get(key)
        value = _in_force(in_force, key)
        lines.append(
            PolicyLine(
                key,
                value,
                default_text(key),
                row.set_by if row is not None else None,
                row.set_at if row is not None else None,
            )
        )
    return lines


def set_policy(
    factory: sessionmaker[Session], key: str, text: str, *, actor: str, now: datetime
) -> PolicyChange:
    """Set ``key`` to ``text`` (``PolicyError`` when it cannot be), audited with old and new."""
    value = parse(key, text)
    with unit_of_work(factory) as session:
        old = _in_force(protection_of(session), key)
        row = session.get(PolicySetting, key, with_for_update=True)
        if row is None:
            session.add(PolicySetting(key=key, value=value, set_by=actor, set_at=now))
        else:
            row.value, row.set_by, row.set_at = value, actor, now
        append_event(
            session,
            actor=actor,
            type=POLICY_EVENT,
            payload={"key": key, "old": old, "new": value},
            at=now,
        )
        session.info.pop(CACHE_KEY, None)
    return PolicyChange(key, old, value)


def _in_force(limits: Protection, key: str) -> str:
    if key.startswith(TIER_PREFIX):
        from verification.policy import Action
        from verification.tiers import tier_map

        return tier_map(limits.tiers)[Action(key.removeprefix(TIER_PREFIX))].value
    return str(getattr(limits, key))
