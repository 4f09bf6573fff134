"""The agent desk's database service: one unit of work per desk action.

Every function takes a ``sessionmaker``, plain values and ``now`` (aware UTC,
passed in so tests control time), writes its audit event(s) in the same
transaction as the change, and returns frozen dataclasses, never ORM objects.

Blind verification is enforced here: an on-file value reaches a returned
dataclass only after its item matched in this call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Literal

from sqlalchemy.orm import Session, sessionmaker

from db.settings import Settings
from verification.kinds import (
    CallState,
    Channel,
    ExpeditedState,
    Item,
    Outcome,
    SubscriptionKind,
    SubscriptionStatus,
)

if TYPE_CHECKING:
    from verification.policy import Action, PolicyDecision

ItemStatus = Literal["not_asked", "matched", "missed"]


class ActionRefused(Exception):
    """A desk action cannot be taken now; the message says why, for the agent."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ItemState:
    """One identity item as the desk shows it; ``shown`` only after a match."""

    item: Item
    label: str
    question: str
    fields: tuple[str, ...]
    status: ItemStatus
    shown: str | None


@dataclass(frozen=True)
class SubscriptionView:
    """A subscription of the verified tenant with what the policy allows now."""

    id: int
    product_name: str
    kind: SubscriptionKind
    channel: Channel
    status: SubscriptionStatus
    term_start: date
    term_end: date
    auto_renew: bool
    canceled_at: datetime | None
    data_deletion_on: date | None
    expedited: ExpeditedState
    decision: PolicyDecision


@dataclass(frozen=True)
class PendingRequest:
    """A request of this call waiting for a supervisor (expedited deprovisioning)."""

    request_id: int
    subscription_id: int
    product_name: str
    action: str
    created_at: datetime


@dataclass(frozen=True)
class CallView:
    """Everything the desk shows about one call."""

    call_id: int
    agent_id: int
    started_at: datetime
    state: CallState
    outcome: Outcome | None
    tenant_found: bool
    tenant_locked: bool
    items: tuple[ItemState, ...]
    misses_left: int
    locked: bool
    gate_open: bool
    gate_reasons: tuple[str, ...]
    expires_at: datetime | None
    caller_is_admin: bool | None
    subscriptions: tuple[SubscriptionView, ...]
    pending_requests: tuple[PendingRequest, ...]
    notes: str


@dataclass(frozen=True)
class CallSummary:
    """What the agent reads back to the caller at the end of the call."""

    call_id: int
    outcome: Outcome
    lines: tuple[str, ...]


def start_call(
    factory: sessionmaker[Session], agent_id: int, actor: str, settings: Settings, now: datetime
) -> CallView:
    """Start a call for ``agent_id``; if the agent already has an open call, return it."""
    raise NotImplementedError


def open_call_for_agent(
    factory: sessionmaker[Session], agent_id: int, settings: Settings, now: datetime
) -> CallView | None:
    """The agent's call that is not closed (crash recovery), or None."""
    raise NotImplementedError


def load_call(
    factory: sessionmaker[Session], call_id: int, settings: Settings, now: datetime
) -> CallView:
    """The current view of one call."""
    raise NotImplementedError


def submit_item(
    factory: sessionmaker[Session],
    call_id: int,
    actor: str,
    item: Item,
    stated: Mapping[str, str],
    settings: Settings,
    now: datetime,
) -> CallView:
    """Check one stated item against the record on file and record the result."""
    raise NotImplementedError


def take_action(
    factory: sessionmaker[Session],
    call_id: int,
    actor: str,
    subscription_id: int,
    action: Action,
    confirmed: tuple[str, ...],
    settings: Settings,
    now: datetime,
) -> CallView:
    """Apply a cancellation action the policy offers; raises ``ActionRefused``."""
    raise NotImplementedError


def end_call(
    factory: sessionmaker[Session],
    call_id: int,
    actor: str,
    outcome: Outcome,
    note: str,
    now: datetime,
) -> CallSummary:
    """Close the call with an outcome that fits what happened in it."""
    raise NotImplementedError


def abandon_call(
    factory: sessionmaker[Session], call_id: int, actor: str, note: str, now: datetime
) -> CallSummary:
    """Close the call as abandoned."""
    return end_call(factory, call_id, actor, Outcome.ABANDONED, note, now)
