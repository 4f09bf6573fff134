"""Expedited deprovisioning waits out its cooling-off, and a dispute stops it.

Final only after BOTH the period and a supervisor's approval, marked by
``finalize_due`` (what ``callgate deliver`` runs on each pass) with its audit
event and the ``expedited.final`` webhook event; a dispute in the period stops
it, shows in the supervisor queue and moves the deletion date back. Two
workers finalizing at once mark each request once (PostgreSQL).
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db import review
from db.expedited.cooling import finalize_due
from db.expedited.disputes import DisputeRefused, dispute_request
from db.models import AuditEvent, CancellationRequest, Dispute, Subscription
from db.purge import purge
from db.review import QueueKind, ReviewRefused
from tests.helpers.outbox_data import webhook_rows
from tests.helpers.review_data import Staff, expedited_call, make_account, make_staff
from verification.kinds import Decision, ExpeditedState, RequestStatus

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
TODAY = NOW.astimezone().date()
KEPT = TODAY - timedelta(days=5) + timedelta(days=90)  # make_account: canceled 5 days ago


def request_of(factory: sessionmaker[Session], request_id: int) -> CancellationRequest:
    with factory() as session:
        request = session.get(CancellationRequest, request_id)
        assert request is not None
        return request


def deletion_on(factory: sessionmaker[Session], request_id: int) -> object:
    with factory() as session:
        request = session.get(CancellationRequest, request_id)
        assert request is not None
        subscription = session.get(Subscription, request.subscription_id)
        assert subscription is not None
        return subscription.data_deletion_on


def asked(factory: sessionmaker[Session], staff: Staff, number: int = 0) -> int:
    """An expedited request made at NOW; its id."""
    account = make_account(factory, f"Org {number}", f"+1425555{number:04d}", TODAY)
    return expedited_call(factory, staff.agent, account, NOW)[1]


def decide(
    factory: sessionmaker[Session], staff: Staff, request_id: int, decision: Decision, at: datetime
) -> None:
    seen = request_of(factory, request_id).request_hash
    review.decide_expedited(factory, staff.supervisor.id, request_id, decision, "ok", seen, at)


def final_events(factory: sessionmaker[Session]) -> list[int]:
    return [r.request_id or 0 for r in webhook_rows(factory) if r.type == "expedited.final"]


def test_it_stays_pending_through_the_period_even_once_approved(
    any_factory: sessionmaker[Session],
) -> None:
    staff = make_staff(any_factory)
    request_id = asked(any_factory, staff)
    until = request_of(any_factory, request_id).cooling_off_until
    assert until == NOW + timedelta(hours=24)
    decide(any_factory, staff, request_id, Decision.APPROVED, NOW + timedelta(hours=1))
    assert finalize_due(any_factory, NOW + timedelta(hours=23, minutes=59)) == 0
    assert request_of(any_factory, request_id).final_at is None
    detail = review.call_detail(
        any_factory, staff.supervisor.id, request_of(any_factory, request_id).call_id, NOW
    )
    assert detail.requests[0].status is RequestStatus.APPROVED

    assert finalize_due(any_factory, NOW + timedelta(hours=30)) == 1
    assert request_of(any_factory, request_id).final_at == NOW + timedelta(hours=30)
    assert finalize_due(any_factory, NOW + timedelta(hours=31)) == 0  # idempotent
    assert final_events(any_factory) == [request_id]
    with any_factory() as session:
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.type == "expedited.final"))
    payload = json.loads(event.payload)
    assert payload["request_id"] == request_id and payload["due_at"] == until.isoformat()
    detail = review.call_detail(any_factory, staff.supervisor.id, detail.call_id, NOW)
    assert detail.requests[0].status is RequestStatus.FINAL
    # The call's timeline reaches the event, a day after the call.
    assert "expedited.final" in [e.type for e in detail.timeline]


def test_the_period_alone_does_not_make_it_final(factory: sessionmaker[Session]) -> None:
    staff = make_staff(factory)
    request_id = asked(factory, staff)
    assert finalize_due(factory, NOW + timedelta(days=2)) == 0
    approved = NOW + timedelta(days=2, hours=1)
    decide(factory, staff, request_id, Decision.APPROVED, approved)
    assert finalize_due(factory, approved) == 1
    assert request_of(factory, request_id).final_at == approved
    # The deletion runs from the approval, inside the 3 days.
    assert deletion_on(factory, request_id) == approved.astimezone().date() + timedelta(days=3)


def test_a_dispute_in_the_period_stops_it_and_puts_it_in_the_queue(
    any_factory: sessionmaker[Session],
) -> None:
    staff = make_staff(any_factory)
    request_id = asked(any_factory, staff)
    decide(any_factory, staff, request_id, Decision.APPROVED, NOW + timedelta(hours=1))
    assert deletion_on(any_factory, request_id) == TODAY + timedelta(days=3)
    reference = request_of(any_factory, request_id).reference
    typed = reference.lower().replace("-", " ")  # as an agent may type what is read out
    result = dispute_request(
        any_factory, staff.agent2.id, typed, "The admin says nobody asked", NOW + timedelta(hours=2)
    )
    assert (result.request_id, result.reference, result.kept_until) == (request_id, reference, KEPT)
    # The deletion date moves back to the one before the approval.
    assert deletion_on(any_factory, request_id) == KEPT
    assert finalize_due(any_factory, NOW + timedelta(days=5)) == 0
    assert final_events(any_factory) == []

    rows = review.queue(any_factory, staff.supervisor.id)
    [row] = [r for r in rows if r.request_id == request_id]
    assert row.kind is QueueKind.DISPUTED
    assert reference in row.detail and "reject to keep the data" in row.detail
    detail = review.call_detail(any_factory, staff.supervisor.id, row.call_id or 0, NOW)
    [line] = detail.requests
    assert line.status is RequestStatus.DISPUTED and line.kept_until_if_rejected == KEPT
    assert line.dispute is not None and line.dispute.by == "bo"

    seen = line.request_hash
    assert "expedited.disputed" in [e.type for e in detail.timeline]
    with pytest.raises(ReviewRefused, match="disputed"):
        review.decide_expedited(
            any_factory, staff.supervisor2.id, request_id, Decision.APPROVED, "x", seen, NOW
        )
    review.decide_expedited(
        any_factory, staff.supervisor2.id, request_id, Decision.REJECTED, "kept", seen, NOW
    )
    assert not any(
        r.request_id == request_id for r in review.queue(any_factory, staff.supervisor.id)
    )
    with any_factory() as session:
        subscription = session.scalars(select(Subscription)).one()
        assert subscription.expedited is ExpeditedState.REJECTED
        assert subscription.data_deletion_on == KEPT
    assert [r.type for r in webhook_rows(any_factory)] == [
        "expedited.requested",
        "expedited.approved",
        "expedited.disputed",
        "expedited.rejected",
    ]


def test_a_dispute_is_refused_once_final_and_for_what_is_not_one(
    factory: sessionmaker[Session],
) -> None:
    staff = make_staff(factory)
    request_id = asked(factory, staff)
    decide(factory, staff, request_id, Decision.APPROVED, NOW)
    finalize_due(factory, NOW + timedelta(hours=24))
    reference = request_of(factory, request_id).reference
    later = NOW + timedelta(hours=25)
    with pytest.raises(DisputeRefused, match="No disputable request has this reference"):
        dispute_request(factory, staff.agent.id, reference, "too late", later)
    with pytest.raises(DisputeRefused, match="never holds 0, O, 1 or I"):
        dispute_request(factory, staff.agent.id, "CG-0O1-ABC", "why", later)
    with pytest.raises(DisputeRefused, match="No disputable request has this reference"):
        dispute_request(factory, staff.agent.id, "CG-222-222", "why", later)
    with pytest.raises(DisputeRefused, match="reason"):
        dispute_request(factory, staff.agent.id, reference, "  ", later)
    with factory() as session:
        assert session.scalars(select(Dispute)).all() == []


def test_the_reason_stays_out_of_the_chain_and_purge_blanks_it(
    factory: sessionmaker[Session],
) -> None:
    staff = make_staff(factory)
    request_id = asked(factory, staff)
    reason = "Caller Jo Park of Org 0 says it was not them"
    reference = request_of(factory, request_id).reference
    dispute_request(factory, staff.supervisor.id, reference, reason, NOW)
    with factory() as session:
        payloads = " ".join(session.scalars(select(AuditEvent.payload)))
    assert "Jo Park" not in payloads and "not them" not in payloads
    purge(factory, 1, NOW + timedelta(days=3), dry_run=False, actor="op")
    with factory() as session:
        dispute = session.scalars(select(Dispute)).one()
        assert dispute.reason == "" and dispute.purged_at is not None


@pytest.mark.postgres
def test_two_workers_finalizing_at_once_mark_each_request_once(
    pg_factory: sessionmaker[Session],
) -> None:
    staff = make_staff(pg_factory)
    ids = [asked(pg_factory, staff, n) for n in range(12)]
    for request_id in ids:
        decide(pg_factory, staff, request_id, Decision.APPROVED, NOW)
    start = threading.Barrier(2)
    counts: list[int] = []

    def worker() -> None:
        start.wait()
        counts.append(finalize_due(pg_factory, NOW + timedelta(days=1)))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == len(ids)
    assert sorted(final_events(pg_factory)) == sorted(ids)
