"""The desk's pure decisions: which item to ask next, which outcomes fit."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from db.desk import CallView, ItemState, PendingRequest
from tui.screens.desk_view import next_item
from tui.screens.end_call_modal import likely_outcomes
from verification.items import ITEM_ORDER, ITEM_SPECS
from verification.kinds import CallState, Item, Outcome
from verification.session import ItemStatus

AT = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)


def items(**status: str) -> tuple[ItemState, ...]:
    """The five public items, each ``not_asked`` unless named, e.g. ``phone="missed"``."""
    return tuple(
        ItemState(
            item,
            ITEM_SPECS[item].label,
            ITEM_SPECS[item].question,
            ITEM_SPECS[item].fields,
            ItemStatus(status.get(item.value, "not_asked")),
            None,
        )
        for item in ITEM_ORDER
        if item is not Item.PIN
    )


VERIFIED = items(
    user_id="matched",
    phone="matched",
    contact_name="matched",
    organization="matched",
    address="matched",
)
CALL = CallView(
    call_id=1,
    agent_id=1,
    started_at=AT,
    state=CallState.OPEN,
    outcome=None,
    tenant_found=True,
    tenant_locked=False,
    items=items(),
    misses_left=3,
    locked=False,
    gate_open=False,
    gate_reasons=("not yet verified: user ID",),
    expires_at=None,
    caller_is_admin=None,
    subscriptions=(),
    pending_requests=(),
    notes="",
)
OPEN = replace(CALL, items=VERIFIED, gate_open=True, gate_reasons=(), caller_is_admin=True)


@pytest.mark.parametrize(
    ("view", "taken", "recovered", "offered", "likely"),
    [
        (CALL, (), False, (Outcome.ABANDONED, Outcome.ESCALATED), Outcome.ABANDONED),
        (
            replace(CALL, locked=True),
            (),
            False,
            (Outcome.VERIFICATION_FAILED, Outcome.ESCALATED, Outcome.ABANDONED),
            Outcome.VERIFICATION_FAILED,
        ),
        (
            replace(CALL, tenant_locked=True),
            (),
            False,
            (Outcome.ESCALATED, Outcome.ABANDONED),
            Outcome.ESCALATED,
        ),
        (
            replace(CALL, items=VERIFIED, caller_is_admin=False),
            (),
            False,
            (Outcome.DENIED_NOT_ADMIN, Outcome.ESCALATED, Outcome.ABANDONED),
            Outcome.DENIED_NOT_ADMIN,
        ),
        (
            OPEN,
            (),
            False,
            (Outcome.INFORMED, Outcome.DECLINED, Outcome.ESCALATED, Outcome.ABANDONED),
            Outcome.INFORMED,
        ),
        (
            OPEN,
            (),
            True,
            (
                Outcome.INFORMED,
                Outcome.DECLINED,
                Outcome.CANCELED,
                Outcome.EXPEDITED,
                Outcome.AUTO_RENEW_OFF,
                Outcome.ESCALATED,
                Outcome.ABANDONED,
            ),
            Outcome.INFORMED,
        ),
        (
            OPEN,
            ("auto_renew_off",),
            False,
            (Outcome.AUTO_RENEW_OFF, Outcome.ESCALATED, Outcome.ABANDONED),
            Outcome.AUTO_RENEW_OFF,
        ),
        (
            OPEN,
            ("auto_renew_off", "cancel_now"),
            False,
            (Outcome.CANCELED, Outcome.AUTO_RENEW_OFF, Outcome.ESCALATED, Outcome.ABANDONED),
            Outcome.CANCELED,
        ),
        (
            replace(
                OPEN,
                pending_requests=(PendingRequest(1, 1, "X", "cancel_now_with_expedited", AT),),
            ),
            (),
            True,
            (Outcome.CANCELED, Outcome.ESCALATED, Outcome.ABANDONED),
            Outcome.CANCELED,
        ),
        (
            OPEN,
            ("expedited_deprovisioning",),
            False,
            (Outcome.EXPEDITED, Outcome.ESCALATED, Outcome.ABANDONED),
            Outcome.EXPEDITED,
        ),
    ],
    ids=[
        "verifying",
        "locked",
        "tenant-locked",
        "not-admin",
        "gate-open",
        "gate-open-recovered",
        "renew-off",
        "renew-off-and-cancel",
        "expedited-pending",
        "expedited-only",
    ],
)
def test_outcomes_fit_the_call(
    view: CallView,
    taken: tuple[str, ...],
    recovered: bool,
    offered: tuple[Outcome, ...],
    likely: Outcome,
) -> None:
    assert likely_outcomes(view, taken, recovered) == (offered, likely)


@pytest.mark.parametrize(
    ("states", "current", "checked", "found", "expected"),
    [
        (items(), None, None, False, Item.USER_ID),
        (items(user_id="missed"), Item.USER_ID, Item.USER_ID, False, Item.USER_ID),
        (items(user_id="matched"), Item.USER_ID, Item.USER_ID, True, Item.PHONE),
        # after a miss the desk stays on it: the retry lands in the right field
        (items(user_id="matched", phone="missed"), Item.PHONE, Item.PHONE, True, Item.PHONE),
        # after the last item, the missed ones come round again
        (
            items(
                user_id="matched",
                phone="missed",
                contact_name="matched",
                organization="matched",
                address="matched",
            ),
            Item.ADDRESS,
            Item.ADDRESS,
            True,
            Item.PHONE,
        ),
        # a reload keeps the agent where they were
        (items(user_id="matched"), Item.ORGANIZATION, None, True, Item.ORGANIZATION),
        (VERIFIED, None, Item.ADDRESS, True, None),
    ],
)
def test_next_item(
    states: tuple[ItemState, ...],
    current: Item | None,
    checked: Item | None,
    found: bool,
    expected: Item | None,
) -> None:
    assert next_item(states, current, checked, found) == expected
