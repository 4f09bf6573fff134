"""The verification session: attempts, lockout, expiry and the gate.

A session is rebuilt from the checks stored for a call; it holds no clock
(``now`` is always passed in), so the same records always give the same
answer.

Rules (PRODUCT.md section 4): a call allows ``max_misses`` mismatches in all;
the next one locks it. A verification holds ``expiry_minutes`` from the first
match of the current round; once that lapses every match is void and the
items must be asked again (misses still count). The gate opens only when
every required item is matched, the verification has not expired, neither
the call nor the tenant is locked, and the caller is an admin. The round a
verification holds in (``round_start``) also bounds the possession factors
proven in it: a new round asks for them again (``verification.tiers.held``).
A match holds only for the on-file value it was judged against: an item
whose record changed since (``changed``, an accounts sync during the call)
is not matched until it is asked again, and the gate says why.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from verification.items import ITEM_SPECS
from verification.kinds import CheckResult, Item


class ItemStatus(StrEnum):
    """Where one item stands in the current round."""

    NOT_ASKED = "not_asked"
    MATCHED = "matched"
    MISSED = "missed"


@dataclass(frozen=True)
class Limits:
    """The configurable limits (``verification.protection``: set by ``callgate policy``)."""

    max_misses: int = 3
    expiry_minutes: int = 30
    tenant_lock_calls: int = 2
    tenant_lock_window_hours: int = 24
    tenant_max_misses: int = 5


@dataclass(frozen=True)
class CheckRecord:
    """One stored check: which item, its result, when (aware UTC).

    ``item`` None is a miss outside the items: a wrong one-time code
    (``verification.otp``). It counts toward the call's misses like any
    mismatch and changes no item's status.
    """

    item: Item | None
    result: CheckResult
    at: datetime


@dataclass(frozen=True)
class Gate:
    """Whether the cancel action is open, and if not, why (one short sentence each)."""

    open: bool
    reasons: tuple[str, ...]


class VerificationSession:
    """The state of a call's verification, rebuilt from its stored checks."""

    def __init__(
        self,
        required: Sequence[Item],
        records: Iterable[CheckRecord],
        limits: Limits,
        changed: Iterable[Item] = (),
    ) -> None:
        self.required: tuple[Item, ...] = tuple(required)
        self.limits = limits
        # Items whose latest match was judged against a value no longer on file.
        self.changed: frozenset[Item] = frozenset(changed)
        self.misses = 0
        self.locked_at: datetime | None = None
        self.expires_at: datetime | None = None
        self._results: dict[Item, CheckResult] = {}
        # Stored order breaks ties between checks made in the same instant.
        for record in sorted(records, key=lambda r: r.at):
            self._apply(record)

    def _apply(self, record: CheckRecord) -> None:
        if self.locked_at is not None:
            return  # nothing counts once the call is locked
        if self.expires_at is not None and record.at >= self.expires_at:
            self._results.clear()
            self.expires_at = None
        if record.result is CheckResult.MISMATCH:
            self.misses += 1
            if self.misses > self.limits.max_misses:
                self.locked_at = record.at
        elif self.expires_at is None:
            self.expires_at = record.at + timedelta(minutes=self.limits.expiry_minutes)
        if record.item is not None:
            self._results[record.item] = record.result

    @property
    def locked(self) -> bool:
        """Whether the call is locked (one miss more than allowed)."""
        return self.locked_at is not None

    @property
    def misses_left(self) -> int:
        """How many more misses the call allows before the next one locks it."""
        return max(0, self.limits.max_misses - self.misses)

    def expired(self, now: datetime) -> bool:
        """Whether the current round's matches have lapsed at ``now``."""
        return self.expires_at is not None and now >= self.expires_at

    def round_start(self, now: datetime) -> datetime | None:
        """When the verification holding at ``now`` began (its first match), or None.

        None while no verification holds: before the first match, after it
        lapsed (until the next match starts a new round), or on a locked call.
        A possession factor counts only if proven at or after this moment
        (``verification.tiers.held``).
        """
        if self.locked or self.expires_at is None or self.expired(now):
            return None
        return self.expires_at - timedelta(minutes=self.limits.expiry_minutes)

    def status(self, item: Item, now: datetime) -> ItemStatus:
        """Where ``item`` stands at ``now``: expired matches count as not asked."""
        if self.expired(now):
            return ItemStatus.NOT_ASKED
        result = self._results.get(item)
        if result is CheckResult.MATCH:
            return ItemStatus.NOT_ASKED if item in self.changed else ItemStatus.MATCHED
        if result is CheckResult.MISMATCH:
            return ItemStatus.MISSED
        return ItemStatus.NOT_ASKED

    def statuses(self, now: datetime) -> dict[Item, ItemStatus]:
        """Every required item's status, in asking order."""
        return {item: self.status(item, now) for item in self.required}

    def record_changed(self, item: Item, now: datetime) -> bool:
        """Whether ``item`` matched in this round against a value no longer on file."""
        return (
            item in self.changed
            and not self.expired(now)
            and self._results.get(item) is CheckResult.MATCH
        )

    def next_item(self, now: datetime) -> Item | None:
        """The first required item not yet matched, or None when all are."""
        for item in self.required:
            if self.status(item, now) is not ItemStatus.MATCHED:
                return item
        return None

    def verified(self, now: datetime) -> bool:
        """Whether every required item is matched, unexpired, on an unlocked call."""
        return not self.locked and self.next_item(now) is None

    def gate(self, now: datetime, caller_is_admin: bool, tenant_locked: bool) -> Gate:
        """Whether the cancel action is open at ``now``, with the reasons if not.

        Whether the caller is an admin is only reported once every item is
        verified: before that the desk knows no account for certain, and
        saying "not an admin" would reveal something about one.
        """
        reasons: list[str] = []
        if self.locked:
            reasons.append(f"call locked after {self.misses} misses")
        if tenant_locked:
            reasons.append("tenant locked for phone cancellation — transfer to a supervisor")
        if self.expired(now):
            reasons.append("verification expired — ask the items again")
        elif not self.locked:
            # One reason for them all: the item list beside the gate shows each
            # one's state, and a line per item filled an 80x24 screen.
            stale = [item for item in self.required if self.record_changed(item, now)]
            reasons.extend(
                f"the {_noun(item)} on file changed since it was matched — ask it again"
                for item in stale
            )
            waiting = [
                _noun(item)
                for item in self.required
                if self.status(item, now) is not ItemStatus.MATCHED and item not in stale
            ]
            if waiting:
                reasons.append("not yet verified: " + ", ".join(waiting))
        if self.verified(now) and not caller_is_admin:
            reasons.append("caller is not an admin of this subscription")
        return Gate(open=not reasons, reasons=tuple(reasons))


def _noun(item: Item) -> str:
    label = ITEM_SPECS[item].label
    # "User ID" reads "user ID" mid-sentence; acronyms keep their capitals.
    return label[:1].lower() + label[1:]


def tenant_lock_time(
    locked_call_times: Iterable[datetime],
    cleared_at: datetime | None,
    now: datetime,
    limits: Limits,
) -> datetime | None:
    """When the tenant became locked for phone cancellation, or None if it is not.

    A tenant locks once ``tenant_lock_calls`` of its calls were locked within
    ``tenant_lock_window_hours`` of each other, and stays locked until a
    supervisor clears it: calls locked at or before ``cleared_at`` no longer
    count, nor do any after ``now``.
    """
    return _burst(locked_call_times, limits.tenant_lock_calls, cleared_at, now, limits)


def miss_lock_time(
    miss_times: Iterable[datetime],
    cleared_at: datetime | None,
    now: datetime,
    limits: Limits,
) -> datetime | None:
    """When misses counted across calls lock a tenant (or a stated user ID), or None.

    Hanging up must not buy new guesses (PRODUCT.md section 4 "Attempts"): the
    misses of every call and every agent add up, and the ``tenant_max_misses``-th
    within ``tenant_lock_window_hours`` locks, so no sequence of calls gives a
    caller more than that many guesses a day. Misses at or before
    ``cleared_at`` no longer count, nor do any after ``now``.
    """
    return _burst(miss_times, limits.tenant_max_misses, cleared_at, now, limits)


def _burst(
    times: Iterable[datetime],
    count: int,
    cleared_at: datetime | None,
    now: datetime,
    limits: Limits,
) -> datetime | None:
    """The moment ``count`` of ``times`` first fell within the window, or None."""
    window = timedelta(hours=limits.tenant_lock_window_hours)
    kept = sorted(t for t in times if t <= now and (cleared_at is None or t > cleared_at))
    span = count - 1
    for first, last in zip(kept, kept[span:], strict=False):
        if last - first <= window:
            return last
    return None
