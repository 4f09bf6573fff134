"""The outbox: one event per decision, in the decision's transaction, as documented.

Every payload here is emitted by a real desk or supervisor decision and
validated against ``docs/webhook.schema.json``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from db import desk, review
from db.delivery.outbox import EventType, action_events, claim_due
from db.delivery.webhook import ping_body
from db.models import CancellationRequest, OutboxChannel, OutboxEvent, Subscription
from tests.helpers.outbox_data import queue_plain_notice, rows, webhook_rows
from tests.helpers.possession import answered_callback
from tests.helpers.review_data import (
    SETTINGS,
    Staff,
    expedited_call,
    make_account,
    make_staff,
    verified_call,
)
from verification.kinds import Decision, Outcome
from verification.policy import Action

SCHEMA = json.loads((Path(__file__).parents[2] / "docs" / "webhook.schema.json").read_text())
VALIDATOR = Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)
NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
TODAY = NOW.astimezone().date()


@pytest.fixture
def staff(any_factory: sessionmaker[Session]) -> Staff:
    return make_staff(any_factory)


def act(factory: sessionmaker[Session], staff: Staff, number: int, action: Action) -> int:
    """A new active account whose admin calls and takes ``action``; the request id."""
    account = make_account(
        factory, f"Action {number}", f"+1425555{number:04d}", TODAY, canceled_days_ago=None
    )
    view = verified_call(factory, staff.agent, account, NOW)
    view = answered_callback(factory, view.call_id, "ana", SETTINGS, NOW)
    [sub] = view.subscriptions
    [option] = [o for o in sub.decision.options if o.action is action]
    desk.take_action(factory, view.call_id, "ana", sub.id, action, option.checklist, SETTINGS, NOW)
    desk.end_call(
        factory,
        view.call_id,
        "ana",
        {
            Action.AUTO_RENEW_OFF: Outcome.AUTO_RENEW_OFF,
            Action.EXPEDITED_DEPROVISIONING: Outcome.EXPEDITED,
        }.get(action, Outcome.CANCELED),
        "",
        NOW,
    )
    with factory() as session:
        return session.scalars(select(func.max(CancellationRequest.id))).one()


def hash_of(factory: sessionmaker[Session], request_id: int) -> str:
    """The request hash a supervisor is shown."""
    with factory() as session:
        request = session.get(CancellationRequest, request_id)
        assert request is not None
        return request.request_hash


def test_every_decision_writes_its_events_as_documented(
    any_factory: sessionmaker[Session], staff: Staff
) -> None:
    expected: dict[int, list[str]] = {}
    for number, action in enumerate(Action):
        if action is Action.EXPEDITED_DEPROVISIONING:
            continue  # offered only once canceled: below
        expected[act(any_factory, staff, number, action)] = [e.value for e in action_events(action)]
    approved = expedited_call(
        any_factory, staff.agent, make_account(any_factory, "Appr", "+14255551001", TODAY), NOW
    )[1]
    rejected = expedited_call(
        any_factory, staff.agent, make_account(any_factory, "Rej", "+14255551002", TODAY), NOW
    )[1]
    for request_id, decision in ((approved, Decision.APPROVED), (rejected, Decision.REJECTED)):
        seen = hash_of(any_factory, request_id)
        review.decide_expedited(
            any_factory, staff.supervisor.id, request_id, decision, "ok", seen, NOW
        )
    expected[approved] = ["expedited.requested", "expedited.approved"]
    expected[rejected] = ["expedited.requested", "expedited.rejected"]

    found: dict[int, list[str]] = {}
    written = webhook_rows(any_factory)
    with any_factory() as session:
        for row in written:
            VALIDATOR.validate(json.loads(row.payload))
            request = session.get(CancellationRequest, row.request_id)
            assert request is not None
            subscription = session.get(Subscription, request.subscription_id)
            assert subscription is not None
            payload = json.loads(row.payload)
            assert payload["id"] == row.event_id and payload["type"] == row.type
            assert payload["tenant_ref"] == row.tenant_ref == subscription.tenant.ref
            assert payload["product_name"] == row.product_name == subscription.product_name
            assert payload["request_hash"] == row.request_hash == request.request_hash
            found.setdefault(request.id, []).append(row.type)
            if row is [r for r in written if r.request_id == request.id][-1]:
                # The last event of a request carries the dates the subscription has now.
                assert row.data_deletion_on == subscription.data_deletion_on
    assert found == expected
    # Every type the desks can write is documented, and nothing else.
    decision_types = SCHEMA["$defs"]["decision"]["properties"]["type"]["enum"]
    assert decision_types == [t.value for t in EventType]


def test_the_effective_dates_are_the_decisions(
    factory: sessionmaker[Session],
) -> None:
    staff = make_staff(factory)
    act(factory, staff, 1, Action.AUTO_RENEW_OFF)
    act(factory, staff, 2, Action.CANCEL_NOW)
    renew_off, cancel = webhook_rows(factory)
    with factory() as session:
        subs = {s.tenant.ref: s for s in session.scalars(select(Subscription))}
    assert renew_off.service_ends_on == subs[renew_off.tenant_ref].term_end
    assert cancel.service_ends_on == TODAY
    effective = json.loads(cancel.payload)["effective"]
    assert effective == {
        "service_ends_on": TODAY.isoformat(),
        "data_deletion_on": str(subs[cancel.tenant_ref].data_deletion_on),
    }


def test_a_refused_decision_writes_no_event(factory: sessionmaker[Session]) -> None:
    staff = make_staff(factory)
    account = make_account(factory, "Refused", "+14255550100", TODAY)
    _call, request_id = expedited_call(factory, staff.supervisor, account, NOW)
    before = len(webhook_rows(factory))
    seen = hash_of(factory, request_id)
    with pytest.raises(review.ReviewRefused, match="You took this call"):
        review.decide_expedited(
            factory, staff.supervisor.id, request_id, Decision.APPROVED, "x", seen, NOW
        )
    view = desk.start_call(factory, staff.agent.id, "ana", SETTINGS, NOW)
    with pytest.raises(desk.ActionRefused):
        desk.take_action(
            factory,
            view.call_id,
            "ana",
            account.subscription_id,
            Action.CANCEL_NOW,
            (),
            SETTINGS,
            NOW,
        )
    assert len(webhook_rows(factory)) == before == 1


def test_payloads_carry_references_not_personal_data(factory: sessionmaker[Session]) -> None:
    staff = make_staff(factory)
    act(factory, staff, 7, Action.CANCEL_NOW_WITH_EXPEDITED)
    text = " ".join(r.payload for r in webhook_rows(factory))
    for personal in (
        "+14255550007",
        "admin@action-7.example",
        "Jo",
        "Park",
        "Main St",
        "62704",
        "Action 7",
    ):
        assert personal not in text


def test_a_ping_is_a_documented_payload() -> None:
    _id, body = ping_body(NOW)
    VALIDATOR.validate(json.loads(body))


def test_a_killed_workers_claim_lapses_after_its_lease(factory: sessionmaker[Session]) -> None:
    staff = make_staff(factory)
    act(factory, staff, 3, Action.AUTO_RENEW_OFF)
    lease = timedelta(minutes=2)
    [first] = claim_due(factory, (OutboxChannel.WEBHOOK,), NOW, 10, lease)
    # The worker dies here, having recorded nothing. Nobody else may take the row yet...
    assert (
        claim_due(factory, (OutboxChannel.WEBHOOK,), NOW + lease - timedelta(seconds=1), 10, lease)
        == ()
    )
    # ...and once the lease is over, the next worker does, counting a second attempt.
    [again] = claim_due(factory, (OutboxChannel.WEBHOOK,), NOW + lease, 10, lease)
    assert again.event_id == first.event_id and again.attempts == 2 and again.claim != first.claim


def test_a_notice_row_waits_for_a_worker_with_smtp(factory: sessionmaker[Session]) -> None:
    queued, address = queue_plain_notice(factory, "Notice", "+14255550100", TODAY, NOW)
    recipient_id = queued.recipient_user_id
    assert claim_due(factory, (OutboxChannel.WEBHOOK,), NOW, 10, timedelta(minutes=1)) == ()
    [notice] = claim_due(factory, (OutboxChannel.EMAIL,), NOW, 10, timedelta(minutes=1))
    # The address is read when the notice leaves (db.delivery.notices.recipient_now).
    assert notice.recipient_user_id == recipient_id is not None
    [row] = rows(factory)
    assert isinstance(row, OutboxEvent) and address not in row.payload
