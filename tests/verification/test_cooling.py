"""The cooling-off rule of expedited deprovisioning, with an injected clock.

Final only once BOTH the cooling-off ran out and a supervisor approved; a
dispute stops it for good; the deletion date never precedes the day it is final.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from verification.cooling import (
    Expedited,
    Standing,
    cooling_off_until,
    dispute_refusal,
    due_final,
    final_time,
    standing,
)
from verification.kinds import Channel, ExpeditedState, SubscriptionKind, SubscriptionStatus
from verification.policy import EXPEDITED_DELETION, SubscriptionFacts
from verification.policy_effects import approve_expedited

ASKED = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
UNTIL = cooling_off_until(ASKED, 24)


def test_the_period_runs_from_the_request_and_is_bounded() -> None:
    assert ASKED + timedelta(hours=24) == UNTIL
    for hours in (0, 73):
        with pytest.raises(ValueError, match="between 1 and 72"):
            cooling_off_until(ASKED, hours)


def test_an_early_approval_waits_out_the_period() -> None:
    request = Expedited(ASKED, UNTIL, approved_at=ASKED + timedelta(hours=1))
    assert standing(request, ASKED + timedelta(hours=2)) is Standing.COOLING_OFF
    assert due_final(request, UNTIL - timedelta(seconds=1)) is None
    assert due_final(request, UNTIL) == UNTIL
    assert due_final(request, UNTIL + timedelta(days=2)) == UNTIL  # the time it became final


def test_the_period_alone_does_not_make_it_final() -> None:
    request = Expedited(ASKED, UNTIL)
    assert standing(request, UNTIL + timedelta(days=5)) is Standing.WAITING_APPROVAL
    assert due_final(request, UNTIL + timedelta(days=5)) is None
    late = Expedited(ASKED, UNTIL, approved_at=UNTIL + timedelta(days=5))
    assert due_final(late, UNTIL + timedelta(days=6)) == UNTIL + timedelta(days=5)


def test_a_dispute_stops_it_for_good_and_after_final_none_is_taken() -> None:
    approved = ASKED + timedelta(hours=1)
    disputed = Expedited(ASKED, UNTIL, approved_at=approved, disputed_at=ASKED + timedelta(hours=2))
    assert standing(disputed, UNTIL + timedelta(days=9)) is Standing.DISPUTED
    assert due_final(disputed, UNTIL + timedelta(days=9)) is None
    assert dispute_refusal(Expedited(ASKED, UNTIL, approved_at=approved), ASKED) is None
    assert dispute_refusal(Expedited(ASKED, UNTIL), UNTIL + timedelta(days=1)) is None
    assert "already disputed" in (dispute_refusal(disputed, ASKED) or "")
    final = Expedited(ASKED, UNTIL, approved_at=approved, final_at=UNTIL)
    assert "already final" in (dispute_refusal(final, UNTIL) or "")
    # Due but not marked yet: final all the same, by the rule.
    due = Expedited(ASKED, UNTIL, approved_at=approved)
    assert "already final" in (dispute_refusal(due, UNTIL) or "")
    rejected = Expedited(ASKED, UNTIL, rejected=True)
    assert "rejected" in (dispute_refusal(rejected, ASKED) or "")


def _facts(deletion: date) -> SubscriptionFacts:
    return SubscriptionFacts(
        kind=SubscriptionKind.PAID,
        channel=Channel.DIRECT,
        status=SubscriptionStatus.CANCELED,
        term_start=date(2026, 1, 1),
        term_end=date(2027, 1, 1),
        auto_renew=False,
        canceled_on=date(2026, 11, 20),
        data_deletion_on=deletion,
        expedited=ExpeditedState.PENDING,
    )


def test_the_deletion_date_stays_inside_the_3_days_and_never_before_final() -> None:
    kept = date(2027, 2, 18)
    approved_on = date(2026, 11, 26)
    inside = approve_expedited(_facts(kept), approved_on, final_on=date(2026, 11, 27))
    assert inside.data_deletion_on == approved_on + EXPEDITED_DELETION
    later = approve_expedited(_facts(kept), approved_on, final_on=date(2026, 12, 1))
    assert later.data_deletion_on == date(2026, 12, 1)
    # An earlier date already on record stands.
    soon = approve_expedited(_facts(date(2026, 11, 27)), approved_on, final_on=date(2026, 11, 28))
    assert soon.data_deletion_on == date(2026, 11, 27)


moments = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
)


@given(
    asked=moments,
    hours=st.integers(1, 72),
    approval_delay=st.timedeltas(timedelta(0), timedelta(days=30)),
    now_delay=st.timedeltas(timedelta(0), timedelta(days=60)),
)
def test_final_never_precedes_the_approval_nor_the_period(
    asked: datetime, hours: int, approval_delay: timedelta, now_delay: timedelta
) -> None:
    until = cooling_off_until(asked, hours)
    approved = asked + approval_delay
    now = asked + now_delay
    final = due_final(Expedited(asked, until, approved_at=approved), now)
    if final is not None:
        assert final >= approved and final >= asked + timedelta(hours=hours)
        assert final <= now
        assert final == final_time(until, approved)
    else:
        assert now < max(until, approved)
