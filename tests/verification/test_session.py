"""The verification session: misses, lock, expiry, the gate; the tenant lockout rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from verification.items import required_items
from verification.kinds import CheckResult, Item
from verification.session import (
    CheckRecord,
    ItemStatus,
    Limits,
    VerificationSession,
    miss_lock_time,
    tenant_lock_time,
)

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
LIMITS = Limits()
REQUIRED = required_items(has_pin=False)
MATCH, MISMATCH = CheckResult.MATCH, CheckResult.MISMATCH


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def all_matched(start: float = 0) -> list[CheckRecord]:
    return [CheckRecord(item, MATCH, minutes(start + i)) for i, item in enumerate(REQUIRED)]


def session(
    records: list[CheckRecord], required: tuple[Item, ...] = REQUIRED
) -> VerificationSession:
    return VerificationSession(required, records, LIMITS)


def test_fresh_call_has_everything_to_ask() -> None:
    s = session([])
    assert all(status is ItemStatus.NOT_ASKED for status in s.statuses(T0).values())
    assert s.misses_left == 3
    assert not s.locked
    assert s.expires_at is None
    assert s.next_item(T0) is Item.USER_ID


def test_gate_opens_when_every_item_matched_and_caller_is_admin() -> None:
    gate = session(all_matched()).gate(minutes(10), caller_is_admin=True, tenant_locked=False)
    assert gate.open
    assert gate.reasons == ()


def test_gate_lists_items_not_yet_verified() -> None:
    records = all_matched()[:1]
    gate = session(records).gate(minutes(2), caller_is_admin=True, tenant_locked=False)
    assert not gate.open
    assert gate.reasons == (
        "not yet verified: phone number, primary contact, organization, street address",
    )


def test_non_admin_is_reported_only_once_verified() -> None:
    partial = session(all_matched()[:2]).gate(
        minutes(5), caller_is_admin=False, tenant_locked=False
    )
    assert "caller is not an admin of this subscription" not in partial.reasons
    full = session(all_matched()).gate(minutes(5), caller_is_admin=False, tenant_locked=False)
    assert full.reasons == ("caller is not an admin of this subscription",)


def test_tenant_lock_closes_the_gate() -> None:
    gate = session(all_matched()).gate(minutes(5), caller_is_admin=True, tenant_locked=True)
    assert gate.reasons == ("tenant locked for phone cancellation — transfer to a supervisor",)


def test_pin_is_required_when_the_tenant_has_one() -> None:
    s = session(all_matched(), required=required_items(has_pin=True))
    gate = s.gate(minutes(5), caller_is_admin=True, tenant_locked=False)
    assert gate.reasons == ("not yet verified: support PIN",)


def test_three_misses_allowed_the_fourth_locks() -> None:
    misses = [CheckRecord(Item.PHONE, MISMATCH, minutes(i)) for i in range(4)]
    after_three = session(misses[:3])
    assert after_three.misses_left == 0
    assert not after_three.locked
    locked = session(misses)
    assert locked.locked
    assert locked.locked_at == minutes(3)
    gate = locked.gate(minutes(5), caller_is_admin=True, tenant_locked=False)
    assert gate.reasons == ("call locked after 4 misses",)


def test_misses_count_across_items() -> None:
    items = [Item.USER_ID, Item.PHONE, Item.ADDRESS, Item.ORGANIZATION]
    records = [CheckRecord(item, MISMATCH, minutes(i)) for i, item in enumerate(items)]
    assert session(records).locked


def test_nothing_counts_after_the_lock() -> None:
    records = [CheckRecord(Item.PHONE, MISMATCH, minutes(i)) for i in range(4)]
    records += all_matched(start=10)
    s = session(records)
    assert s.locked
    assert s.status(Item.USER_ID, minutes(20)) is ItemStatus.NOT_ASKED


def test_miss_then_match_is_matched_and_still_costs_a_miss() -> None:
    s = session([CheckRecord(Item.PHONE, MISMATCH, T0), CheckRecord(Item.PHONE, MATCH, minutes(1))])
    assert s.status(Item.PHONE, minutes(2)) is ItemStatus.MATCHED
    assert s.misses_left == 2


def test_latest_result_of_an_item_wins() -> None:
    s = session([CheckRecord(Item.PHONE, MATCH, T0), CheckRecord(Item.PHONE, MISMATCH, minutes(1))])
    assert s.status(Item.PHONE, minutes(2)) is ItemStatus.MISSED


def test_verification_expires_from_the_first_match() -> None:
    s = session(all_matched())
    assert s.expires_at == minutes(30)
    assert s.verified(minutes(29.9))
    assert not s.expired(minutes(29.9))
    assert s.expired(minutes(30))
    assert not s.verified(minutes(30))
    gate = s.gate(minutes(30), caller_is_admin=True, tenant_locked=False)
    assert gate.reasons == ("verification expired — ask the items again",)
    assert all(status is ItemStatus.NOT_ASKED for status in s.statuses(minutes(30)).values())


def test_after_expiry_items_are_asked_again_in_a_new_round() -> None:
    records = all_matched() + all_matched(start=40)
    s = session(records)
    assert s.expires_at == minutes(70)
    assert s.gate(minutes(50), caller_is_admin=True, tenant_locked=False).open


def test_old_round_matches_are_void_after_expiry() -> None:
    records = [*all_matched(), CheckRecord(Item.USER_ID, MATCH, minutes(45))]
    s = session(records)
    assert s.status(Item.USER_ID, minutes(46)) is ItemStatus.MATCHED
    assert s.status(Item.PHONE, minutes(46)) is ItemStatus.NOT_ASKED


def test_misses_survive_expiry() -> None:
    records = [CheckRecord(Item.PHONE, MISMATCH, T0), *all_matched(start=1)]
    records += [CheckRecord(Item.PHONE, MISMATCH, minutes(60 + i)) for i in range(3)]
    assert session(records).locked


def test_expiry_is_configurable() -> None:
    s = VerificationSession(REQUIRED, all_matched(), Limits(expiry_minutes=5))
    assert s.expired(minutes(5))


def test_records_are_taken_in_time_order() -> None:
    records = all_matched()
    assert session(list(reversed(records))).expires_at == session(records).expires_at


# --- tenant lockout -----------------------------------------------------------------


def hours(n: float) -> datetime:
    return T0 + timedelta(hours=n)


def locked(
    calls: list[datetime], cleared_at: datetime | None, now: datetime, limits: Limits
) -> bool:
    """Whether the tenant is locked at ``now``: it has a lock time."""
    return tenant_lock_time(calls, cleared_at, now, limits) is not None


def test_two_locked_calls_within_a_day_lock_the_tenant() -> None:
    assert locked([hours(0), hours(23)], None, hours(30), LIMITS)
    assert tenant_lock_time([hours(0), hours(23)], None, hours(30), LIMITS) == hours(23)


def test_window_is_inclusive_at_exactly_24_hours() -> None:
    assert locked([hours(0), hours(24)], None, hours(25), LIMITS)
    assert not locked([hours(0), hours(24.01)], None, hours(25), LIMITS)


def test_one_locked_call_does_not_lock() -> None:
    assert not locked([hours(0)], None, hours(1), LIMITS)


def test_lock_lasts_until_cleared() -> None:
    calls = [hours(0), hours(1)]
    assert locked(calls, None, hours(24 * 30), LIMITS)
    assert not locked(calls, hours(2), hours(3), LIMITS)


def test_calls_at_or_before_clearance_are_ignored() -> None:
    assert not locked([hours(0), hours(1)], hours(1), hours(2), LIMITS)
    assert locked([hours(0), hours(1), hours(2)], hours(0), hours(3), LIMITS)


def test_future_calls_do_not_count() -> None:
    assert not locked([hours(0), hours(5)], None, hours(4), LIMITS)


@pytest.mark.parametrize("calls", [1, 3])
def test_threshold_is_configurable(calls: int) -> None:
    limits = Limits(tenant_lock_calls=calls)
    assert locked([hours(i) for i in range(calls)], None, hours(5), limits)
    assert not locked([hours(i) for i in range(calls - 1)], None, hours(5), limits)


# --- misses across calls --------------------------------------------------------


def test_the_fifth_miss_within_a_day_locks_whatever_the_calls() -> None:
    limits = Limits()
    start = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    misses = [start + timedelta(hours=5 * n) for n in range(limits.tenant_max_misses)]
    now = misses[-1]
    assert miss_lock_time(misses[:-1], None, now, limits) is None
    assert miss_lock_time(misses, None, now, limits) == misses[-1]


def test_misses_further_apart_than_the_window_never_lock() -> None:
    limits = Limits()
    start = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    misses = [start + timedelta(hours=7 * n) for n in range(10)]
    # Any 24 hours hold at most 4 of these.
    assert miss_lock_time(misses, None, misses[-1], limits) is None


def test_misses_before_a_clearance_or_after_now_do_not_count() -> None:
    limits = Limits()
    start = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    misses = [start + timedelta(minutes=n) for n in range(8)]
    assert miss_lock_time(misses, misses[3], misses[-1], limits) is None
    assert miss_lock_time(misses, misses[2], misses[-1], limits) == misses[-1]
    assert miss_lock_time(misses, None, misses[3], limits) is None


def test_a_wrong_code_is_a_miss_that_changes_no_item() -> None:
    wrong_code = [CheckRecord(None, MISMATCH, minutes(10 + i)) for i in range(3)]
    s = session(all_matched() + wrong_code)
    assert s.misses == 3 and s.misses_left == 0 and not s.locked
    assert s.verified(minutes(13))
    assert all(status is ItemStatus.MATCHED for status in s.statuses(minutes(13)).values())
    locked = session([*all_matched(), *wrong_code, CheckRecord(None, MISMATCH, minutes(14))])
    assert locked.locked and locked.locked_at == minutes(14)


def test_the_round_starts_at_its_first_match_and_ends_with_it() -> None:
    assert session([]).round_start(T0) is None
    done = session(all_matched(start=2))
    assert done.round_start(minutes(3)) == minutes(2)
    assert done.round_start(minutes(31.9)) == minutes(2)
    assert done.round_start(minutes(32)) is None
    again = session([*all_matched(start=2), *all_matched(start=40)])
    assert again.round_start(minutes(41)) == minutes(40)


def test_a_locked_call_has_no_round() -> None:
    records = [CheckRecord(Item.USER_ID, MATCH, T0)]
    records += [CheckRecord(Item.PHONE, MISMATCH, minutes(n)) for n in range(1, 5)]
    assert session(records).round_start(minutes(5)) is None
