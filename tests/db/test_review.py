"""The supervisor desk's service: role checks, decisions, the queue and the detail."""

from __future__ import annotations

import json
import statistics
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from db import desk, review
from db.audit.chain import append_event, verify_chain
from db.desk import request_hash
from db.engine import unit_of_work
from db.models import (
    Agent,
    AgentReset,
    Approval,
    AuditEvent,
    CancellationRequest,
    LockClearance,
    Subscription,
    Tenant,
)
from db.staff.signin import authenticate
from tests.helpers.policy import DEFAULTS
from tests.helpers.possession import answered_callback
from tests.helpers.review_data import (
    SETTINGS,
    Made,
    Staff,
    canceled_now_call,
    expedited_call,
    failed_call,
    make_account,
    make_staff,
    many_calls,
    verified_call,
)
from verification.errors import InputError
from verification.kinds import (
    CallState,
    Channel,
    CheckResult,
    Decision,
    ExpeditedState,
    Item,
    Outcome,
    RequestStatus,
    SubscriptionKind,
)

NOW = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
TODAY = NOW.astimezone().date()


@pytest.fixture
def staff(factory: sessionmaker[Session]) -> Staff:
    return make_staff(factory)


def _events(factory: sessionmaker[Session], type_: str) -> list[dict[str, object]]:
    with factory() as session:
        payloads = session.scalars(select(AuditEvent.payload).where(AuditEvent.type == type_))
        return [json.loads(p) for p in payloads]


def _subscription(factory: sessionmaker[Session], subscription_id: int) -> Subscription:
    with factory() as session:
        subscription = session.get(Subscription, subscription_id)
        assert subscription is not None
        return subscription


# --- role checks ------------------------------------------------------------------

SUPERVISOR_ONLY = {
    "queue": lambda f, a: review.queue(f, a),
    "list": lambda f, a: review.list_requests(f, a, review.RequestFilter()),
    "detail": lambda f, a: review.call_detail(f, a, 1, NOW),
    "decide": lambda f, a: review.decide_expedited(f, a, 1, Decision.APPROVED, "ok", "h", NOW),
    "clear lock": lambda f, a: review.clear_tenant_lock(f, a, 1, "ok", NOW),
    "reset agent": lambda f, a: review.reset_locked_agent(f, a, 1, "ok", NOW),
    "note": lambda f, a: review.add_review_note(f, a, 1, "note", NOW),
    "reviewed": lambda f, a: review.mark_reviewed(f, a, 1, NOW),
    "numbers": lambda f, a: review.numbers(f, a, NOW),
}


@pytest.mark.parametrize("action", SUPERVISOR_ONLY.values(), ids=SUPERVISOR_ONLY.keys())
def test_agents_are_refused_every_supervisor_function(
    factory: sessionmaker[Session], staff: Staff, action
) -> None:
    account = make_account(factory, "Contoso", "+14255550100", TODAY)
    expedited_call(factory, staff.agent2, account, NOW)
    with pytest.raises(review.NotSupervisor, match="Only a supervisor"):
        action(factory, staff.agent.id)
    assert _events(factory, "expedited.approved") == []
    assert _events(factory, "tenant.lock_cleared") == []
    assert _events(factory, "review.note_added") == []


# --- expedited deprovisioning -----------------------------------------------------


def test_the_detail_shows_the_deletion_date_each_decision_would_set(
    factory: sessionmaker[Session], staff: Staff
) -> None:
    # Canceled 89 days ago: the data is deleted tomorrow, sooner than 3 days away.
    account = make_account(factory, "Contoso", "+14255550100", TODAY, canceled_days_ago=89)
    call_id, request_id = expedited_call(factory, staff.agent, account, NOW)
    tomorrow = TODAY + timedelta(days=1)
    assert _subscription(factory, account.subscription_id).data_deletion_on == tomorrow

    [request] = review.call_detail(factory, staff.supervisor.id, call_id, NOW).requests
    assert request.status is RequestStatus.WAITING
    assert request.deleted_by_if_approved == tomorrow  # not TODAY + 3 days
    assert request.kept_until_if_rejected == tomorrow

    detail = review.decide_expedited(
        factory, staff.supervisor.id, request_id, Decision.APPROVED, "ok", request.request_hash, NOW
    )
    assert _subscription(factory, account.subscription_id).data_deletion_on == tomorrow
    [decided] = detail.requests
    assert decided.status is RequestStatus.APPROVED
    assert (decided.deleted_by_if_approved, decided.kept_until_if_rejected) == (None, None)


def test_the_detail_shows_three_days_for_a_later_deletion(
    factory: sessionmaker[Session], staff: Staff
) -> None:
    account = make_account(factory, "Contoso", "+14255550100", TODAY)
    call_id, _ = expedited_call(factory, staff.agent, account, NOW)
    later = NOW + timedelta(days=2)
    [request] = review.call_detail(factory, staff.supervisor.id, call_id, later).requests
    assert request.deleted_by_if_approved == later.astimezone().date() + timedelta(days=3)
    assert request.kept_until_if_rejected == TODAY - timedelta(days=5) + timedelta(days=90)


def _request_hash(detail: review.CallDetail) -> str:
    [request] = detail.requests
    return request.request_hash


def test_approval_moves_deletion_to_three_days_after_approval(
    factory: sessionmaker[Session], staff: Staff
) -> None:
    account = make_account(factory, "Contoso", "+14255550100", TODAY)
    call_id, request_id = expedited_call(factory, staff.agent, account, NOW)
    before = _subscription(factory, account.subscription_id)
    assert before.expedited is ExpeditedState.PENDING
    assert before.data_deletion_on == TODAY - timedelta(days=5) + timedelta(days=90)

    later = NOW + timedelta(days=2)
    seen = _request_hash(review.call_detail(factory, staff.supervisor.id, call_id, NOW))
    detail = review.decide_expedited(
        factory, staff.supervisor.id, request_id, Decision.APPROVED, "caller verified", seen, later
    )

    after = _subscription(factory, account.subscription_id)
    assert after.expedited is ExpeditedState.APPROVED
    assert after.data_deletion_on == later.astimezone().date() + timedelta(days=3)
    [request] = detail.requests
    assert request.status == "approved"
    [approval] = request.approvals
    assert (approval.approver, approval.reason, approval.valid) == ("sue", "caller verified", True)
    with factory() as session:
        stored = session.scalars(select(Approval)).one()
        assert stored.request_hash == seen
        assert stored.requester_id == staff.agent.id
    [event] = _events(factory, "expedited.approved")
    assert event["request_id"] == request_id
    assert event["data_deletion_on"] == after.data_deletion_on.isoformat()
    assert verify_chain(factory()).ok


def test_rejection_keeps_the_ninety_day_date(factory: sessionmaker[Session], staff: Staff) -> None:
    account = make_account(factory, "Contoso", "+14255550100", TODAY)
    call_id, request_id = expedited_call(factory, staff.agent, account, NOW)
    kept = _subscription(factory, account.subscription_id).data_deletion_on
    seen = _request_hash(review.call_detail(factory, staff.supervisor.id, call_id, NOW))

    review.decide_expedited(
        factory, staff.supervisor.id, request_id, Decision.REJECTED, "not the admin", seen, NOW
    )

    after = _subscription(factory, account.subscription_id)
    assert after.expedited is ExpeditedState.REJECTED
    assert after.data_deletion_on == kept
    assert [e["request_id"] for e in _events(factory, "expedited.rejected")] == [request_id]


def test_a_supervisor_cannot_approve_a_call_they_took(
    factory: sessionmaker[Session], staff: Staff
) -> None:
    account = make_account(factory, "Contoso", "+14255550100", TODAY)
    call_id, request_id = expedited_call(factory, staff.supervisor, account, NOW)
    seen = _request_hash(review.call_detail(factory, staff.supervisor.id, call_id, NOW))

    with pytest.raises(review.ReviewRefused, match="You took this call"):
        review.decide_expedited(
            factory, staff.supervisor.id, request_id, Decision.APPROVED, "mine", seen, NOW
        )

    assert _subscription(factory, account.subscription_id).expedited is ExpeditedState.PENDING
    assert _events(factory, "expedited.approved") == []
    # Another supervisor can.
    review.decide_expedited(
        factory, staff.supervisor2.id, request_id, Decision.APPROVED, "checked", seen, NOW
    )
    assert _subscription(factory, account.subscription_id).expedited is ExpeditedState.APPROVED


def _change_request(factory: sessionmaker[Session], request_id: int, *, rehash: bool) -> None:
    """Change what the request asks for, as an edit to it would (rehashed) or a forgery."""
    with unit_of_work(factory) as session:
        request = session.get(CancellationRequest, request_id)
        assert request is not None
        after = {**json.loads(request.after), "data_deletion_on": "2026-12-01"}
        request.after = json.dumps(after)
        if rehash:
            before = json.loads(request.before)
            request.request_hash = request_hash(
                request.call_id, request.subscription_id, request.action, before, after
            )


def test_a_changed_request_voids_its_approval(factory: sessionmaker[Session], staff: Staff) -> None:
    account = make_account(factory, "Contoso", "+14255550100", TODAY)
    call_id, request_id = expedited_call(factory, staff.agent, account, NOW)
    first = _request_hash(review.call_detail(factory, staff.supervisor.id, call_id, NOW))
    review.decide_expedited(
        factory, staff.supervisor.id, request_id, Decision.APPROVED, "ok", first, NOW
    )
    assert not [r for r in review.queue(factory, staff.supervisor.id) if r.kind == "expedited"]
    assert desk.load_call(factory, call_id, SETTINGS, NOW).pending_requests == ()

    _change_request(factory, request_id, rehash=True)

    # The agent desk agrees with the supervisor's: the changed request waits again.
    pending = desk.load_call(factory, call_id, SETTINGS, NOW).pending_requests
    assert [p.request_id for p in pending] == [request_id]

    detail = review.call_detail(factory, staff.supervisor.id, call_id, NOW)
    [request] = detail.requests
    assert request.status == "waiting"
    assert [a.valid for a in request.approvals] == [False]
    waiting = [r for r in review.queue(factory, staff.supervisor.id) if r.kind == "expedited"]
    assert [r.request_id for r in waiting] == [request_id]
    # Rehashed to match, it still differs from the hash the chain recorded when it
    # was made: an edit, not a new request, so nobody can decide it (issue 11, item 8).
    assert request.tampered
    for seen in (first, request.request_hash):
        with pytest.raises(review.ReviewRefused, match="does not match its hash"):
            review.decide_expedited(
                factory, staff.supervisor.id, request_id, Decision.APPROVED, "ok", seen, NOW
            )


def test_a_forged_request_cannot_be_decided(factory: sessionmaker[Session], staff: Staff) -> None:
    account = make_account(factory, "Contoso", "+14255550100", TODAY)
    call_id, request_id = expedited_call(factory, staff.agent, account, NOW)
    seen = _request_hash(review.call_detail(factory, staff.supervisor.id, call_id, NOW))

    _change_request(factory, request_id, rehash=False)

    [request] = review.call_detail(factory, staff.supervisor.id, call_id, NOW).requests
    assert request.tampered
    with pytest.raises(review.ReviewRefused, match="does not match its hash"):
        review.decide_expedited(
            factory, staff.supervisor.id, request_id, Decision.APPROVED, "ok", seen, NOW
        )


def test_a_decision_needs_a_reason(factory: sessionmaker[Session], staff: Staff) -> None:
    account = make_account(factory, "Contoso", "+14255550100", TODAY)
    call_id, request_id = expedited_call(factory, staff.agent, account, NOW)
    seen = _request_hash(review.call_detail(factory, staff.supervisor.id, call_id, NOW))
    with pytest.raises(review.ReviewRefused, match="reason"):
        review.decide_expedited(
            factory, staff.supervisor.id, request_id, Decision.APPROVED, "  ", seen, NOW
        )


# --- lockouts ---------------------------------------------------------------------


def test_clearing_a_tenant_lock_lets_its_next_call_proceed(
    factory: sessionmaker[Session], staff: Staff
) -> None:
    account = make_account(factory, "Contoso", "+14255550100", TODAY, canceled_days_ago=None)
    failed_call(factory, staff.agent, account, NOW)
    failed_call(factory, staff.agent, account, NOW + timedelta(minutes=5))
    locked = [r for r in review.queue(factory, staff.supervisor.id) if r.kind == "tenant_locked"]
    assert [r.tenant_id for r in locked] == [account.tenant_id]
    later = NOW + timedelta(minutes=20)
    blocked = desk.start_call(factory, staff.agent2.id, "bo", SETTINGS, later)
    with pytest.raises(InputError, match="locked for phone cancellation"):
        desk.submit_item(
            factory,
            blocked.call_id,
            "bo",
            Item.USER_ID,
            {"value": account.user_id},
            SETTINGS,
            later,
        )
    desk.abandon_call(factory, blocked.call_id, "bo", "", later)

    review.clear_tenant_lock(factory, staff.supervisor.id, account.tenant_id, "called back", later)

    view = verified_call(factory, staff.agent2, account, later + timedelta(minutes=1))
    assert not view.tenant_locked
    assert view.gate_open
    assert not [r for r in review.queue(factory, staff.supervisor.id) if r.kind == "tenant_locked"]
    with factory() as session:
        tenant = session.get(Tenant, account.tenant_id)
        assert tenant is not None and tenant.locked_at is None and tenant.lock_cleared_at == later
    with factory() as session:
        [clearance] = session.scalars(select(LockClearance)).all()
        assert (clearance.tenant_id, clearance.reason) == (account.tenant_id, "called back")
    # The reason stays out of the chain (purge must reach it): the event names the row.
    assert _events(factory, "tenant.lock_cleared") == [
        {"tenant_id": account.tenant_id, "clearance_id": clearance.id}
    ]


def test_resetting_a_locked_agent(factory: sessionmaker[Session], staff: Staff) -> None:
    for _ in range(DEFAULTS.signin_lock_after):
        authenticate(factory, "bo", "wrong passphrase", NOW)
    rows = [r for r in review.queue(factory, staff.supervisor.id) if r.kind == "agent_locked"]
    assert [r.agent for r in rows] == ["bo"]

    with pytest.raises(review.ReviewRefused, match="Give a reason"):
        review.reset_locked_agent(factory, staff.supervisor.id, staff.agent2.id, "  ", NOW)
    info = review.reset_locked_agent(
        factory, staff.supervisor.id, staff.agent2.id, "typo, said Bo", NOW
    )

    assert not info.locked
    assert not [r for r in review.queue(factory, staff.supervisor.id) if r.kind == "agent_locked"]
    with factory() as session:
        actors = session.scalars(
            select(AuditEvent.actor).where(AuditEvent.type == "agent.reset")
        ).all()
        [reset] = session.scalars(select(AgentReset)).all()
    assert actors == ["sue"]
    assert (reset.agent_id, reset.actor, reset.reason) == (staff.agent2.id, "sue", "typo, said Bo")
    # The reason stays out of the chain (purge must reach it): the event names the row.
    [payload] = _events(factory, "agent.reset")
    assert payload["reset_id"] == reset.id and "typo" not in json.dumps(payload)


# --- notes and review -------------------------------------------------------------


def test_notes_and_review_take_a_failed_call_off_the_queue(
    factory: sessionmaker[Session], staff: Staff
) -> None:
    account = make_account(factory, "Contoso", "+14255550100", TODAY)
    call_id = failed_call(factory, staff.agent, account, NOW)
    failed = [
        r for r in review.queue(factory, staff.supervisor.id) if r.kind == "failed_verification"
    ]
    assert [r.call_id for r in failed] == [call_id]

    review.add_review_note(factory, staff.supervisor.id, call_id, "caller hung up", NOW)
    detail = review.mark_reviewed(factory, staff.supervisor.id, call_id, NOW)

    assert detail.reviewed_by == "sue"
    assert [(n.author, n.text) for n in detail.review_notes] == [("sue", "caller hung up")]
    assert not [
        r for r in review.queue(factory, staff.supervisor.id) if r.kind == "failed_verification"
    ]
    with pytest.raises(review.ReviewRefused, match="already reviewed"):
        review.mark_reviewed(factory, staff.supervisor2.id, call_id, NOW)
    types = [e.type for e in detail.timeline]
    assert types[-2:] == ["review.note_added", "call.reviewed"]


def test_nobody_reviews_their_own_call(factory: sessionmaker[Session], staff: Staff) -> None:
    account = make_account(factory, "Contoso", "+14255550100", TODAY)
    call_id = failed_call(factory, staff.supervisor, account, NOW)
    with pytest.raises(review.ReviewRefused, match="took this call"):
        review.mark_reviewed(factory, staff.supervisor.id, call_id, NOW)
    assert _events(factory, "call.reviewed") == []


def test_early_cancellations_wait_for_review(factory: sessionmaker[Session], staff: Staff) -> None:
    account = make_account(factory, "Contoso", "+14255550100", TODAY, canceled_days_ago=None)
    view = verified_call(factory, staff.agent, account, NOW)
    view = answered_callback(factory, view.call_id, "ana", SETTINGS, NOW)
    [sub] = view.subscriptions
    [option] = [o for o in sub.decision.options if o.action.value == "cancel_now"]
    desk.take_action(
        factory, view.call_id, "ana", sub.id, option.action, option.checklist, SETTINGS, NOW
    )
    early = [
        r for r in review.queue(factory, staff.supervisor.id) if r.kind == "early_cancellation"
    ]
    assert [(r.call_id, r.organization) for r in early] == [(view.call_id, "Contoso")]
    review.mark_reviewed(factory, staff.supervisor.id, view.call_id, NOW)
    assert not [
        r for r in review.queue(factory, staff.supervisor.id) if r.kind == "early_cancellation"
    ]


# --- the detail -------------------------------------------------------------------


def test_detail_shows_stated_and_on_file_values_and_the_subscription_change(
    factory: sessionmaker[Session], staff: Staff
) -> None:
    account = make_account(factory, "Contoso", "+14255550100", TODAY)
    call_id, _ = expedited_call(factory, staff.agent, account, NOW)

    detail = review.call_detail(factory, staff.supervisor.id, call_id, NOW)

    lines = {c.item: c for c in detail.checks}
    assert lines[Item.PHONE].stated == "+14255550100"
    assert lines[Item.CONTACT_NAME].stated == "Jo Park"
    assert lines[Item.PHONE].on_file == "+14255550100"
    assert lines[Item.ADDRESS].stated == "1 Main Street, Springfield, Illinois, 62704, US"
    assert lines[Item.ADDRESS].on_file == "1 Main St, Springfield, IL, 62704, US"
    assert {c.result for c in detail.checks} == {CheckResult.MATCH}
    assert all(c.rules_version for c in detail.checks)
    [request] = detail.requests
    changes = {c.label: (c.before, c.after) for c in request.changes}
    assert changes["Expedited deletion"] == ("not asked", "waiting for a supervisor")
    assert request.action_label == "Expedited deprovisioning"
    assert request.checklist == (
        "Caller confirms that deleting all data within 3 days is irreversible",
    )
    assert detail.state is CallState.CLOSED
    types = [e.type for e in detail.timeline]
    assert types[0] == "call.started" and types[-1] == "call.ended"
    assert "subscription.expedited_deprovisioning" in types


def test_request_changes_read_as_words_and_local_times(
    factory: sessionmaker[Session], staff: Staff, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = make_account(factory, "Fabrikam", "+14255550111", TODAY, canceled_days_ago=None)
    call_id, ticked = canceled_now_call(factory, staff.agent, account, NOW)

    [request] = review.call_detail(factory, staff.supervisor.id, call_id, NOW).requests

    changes = {c.label: (c.before, c.after) for c in request.changes}
    assert changes["Status"] == ("Active", "Canceled")
    assert changes["Auto-renew"] == ("on", "off")
    local = NOW.astimezone()
    assert changes["Canceled"] == ("—", f"{local:%Y-%m-%d %H:%M}")
    assert changes["Data deleted on"][1] == f"{TODAY + timedelta(days=90):%Y-%m-%d}"
    words = " ".join(f"{c.label} {c.before} {c.after}" for c in request.changes)
    assert "True" not in words and "False" not in words and "+00:00" not in words
    assert request.checklist == ticked  # every point the agent ticked


def test_a_missed_user_id_is_not_shown_against_the_account_found_later(
    factory: sessionmaker[Session], staff: Staff
) -> None:
    account = make_account(factory, "Contoso", "+14255550100", TODAY)
    agent = staff.agent
    view = desk.start_call(factory, agent.id, agent.username, SETTINGS, NOW)
    desk.submit_item(
        factory, view.call_id, agent.username, Item.USER_ID, {"value": "x@nowhere.example"},
        SETTINGS, NOW,
    )  # fmt: skip
    desk.submit_item(
        factory, view.call_id, agent.username, Item.USER_ID, {"value": account.user_id},
        SETTINGS, NOW,
    )  # fmt: skip

    detail = review.call_detail(factory, staff.supervisor.id, view.call_id, NOW)

    missed, matched = detail.checks
    assert (missed.result, missed.on_file) == (CheckResult.MISMATCH, "(no matching account)")
    assert (matched.result, matched.on_file) == (CheckResult.MATCH, account.user_id)


def test_the_timeline_holds_only_this_calls_events(
    factory: sessionmaker[Session], staff: Staff
) -> None:
    account = make_account(factory, "Contoso", "+14255550100", TODAY)
    call_id = failed_call(factory, staff.agent, account, NOW)
    with unit_of_work(factory) as session:
        # Ids that share digits with the call's: only an exact id may match.
        for other in (call_id * 10 + call_id, call_id + 10, call_id * 10):
            append_event(session, actor="x", type="other.call", payload={"call_id": other})
        append_event(session, actor="x", type="note", payload={"text": f'"call_id":{call_id},'})

    timeline = review.call_detail(factory, staff.supervisor.id, call_id, NOW).timeline

    assert {e.type for e in timeline}.isdisjoint({"other.call", "note"})
    assert all(json.loads(e.payload)["call_id"] == call_id for e in timeline)
    with factory() as session:
        mentioning = session.scalars(select(AuditEvent.payload)).all()
    expected = sum(1 for p in mentioning if json.loads(p).get("call_id") == call_id)
    assert len(timeline) == expected


def test_the_timeline_finds_decisions_taken_long_after_the_call(
    factory: sessionmaker[Session], staff: Staff
) -> None:
    account = make_account(factory, "Contoso", "+14255550100", TODAY)
    call_id, request_id = expedited_call(factory, staff.agent, account, NOW)
    with unit_of_work(factory) as session:
        for hour in range(1, 200):
            at = NOW + timedelta(hours=hour)
            append_event(session, actor="x", type="other", payload={"call_id": 0}, at=at)
    later = NOW + timedelta(days=20)
    seen = _request_hash(review.call_detail(factory, staff.supervisor.id, call_id, NOW))
    review.decide_expedited(
        factory, staff.supervisor.id, request_id, Decision.APPROVED, "ok", seen, later
    )
    review.add_review_note(factory, staff.supervisor.id, call_id, "late", later)

    timeline = review.call_detail(factory, staff.supervisor.id, call_id, NOW).timeline

    with factory() as session:
        payloads = session.scalars(select(AuditEvent.payload).order_by(AuditEvent.seq)).all()
    expected = [p for p in payloads if json.loads(p).get("call_id") == call_id]
    assert [e.payload for e in timeline] == expected
    assert [e.type for e in timeline][-3:] == [
        "expedited.approved",
        "notices.queued",  # the admins are told of the approval
        "review.note_added",
    ]


def test_the_queue_reads_the_tenant_lock_from_the_database(
    factory: sessionmaker[Session], staff: Staff
) -> None:
    account = make_account(factory, "Contoso", "+14255550100", TODAY)
    with unit_of_work(factory) as session:
        session.execute(update(Tenant).values(locked_at=NOW))
    [row] = review.queue(factory, staff.supervisor.id)
    assert (row.kind, row.tenant_id, row.call_id) == ("tenant_locked", account.tenant_id, None)


def test_the_tenant_lock_row_names_the_calls_that_locked_it(
    factory: sessionmaker[Session], staff: Staff
) -> None:
    account = make_account(factory, "Contoso", "+14255550100", TODAY, canceled_days_ago=None)
    long_ago = failed_call(factory, staff.agent, account, NOW - timedelta(days=3))
    first = failed_call(factory, staff.agent, account, NOW)
    second = failed_call(factory, staff.agent2, account, NOW + timedelta(minutes=5))
    # The caller rings again, is refused at the lock and transferred: no miss, no part in it.
    later = NOW + timedelta(minutes=20)
    blocked = desk.start_call(factory, staff.agent.id, "ana", SETTINGS, later)
    with pytest.raises(InputError, match="locked for phone cancellation"):
        desk.submit_item(
            factory, blocked.call_id, "ana", Item.USER_ID, {"value": account.user_id}, SETTINGS,
            later,
        )  # fmt: skip
    desk.end_call(factory, blocked.call_id, "ana", Outcome.ESCALATED, "", later)

    [row] = [r for r in review.queue(factory, staff.supervisor.id) if r.kind == "tenant_locked"]

    # Newest first; not the escalated call, nor the one outside the window.
    assert [c.call_id for c in row.calls] == [second, first]
    assert row.call_id == second
    assert [(c.agent, c.outcome) for c in row.calls] == [
        ("bo", Outcome.VERIFICATION_FAILED),
        ("ana", Outcome.VERIFICATION_FAILED),
    ]
    assert all(c.misses > 0 for c in row.calls) and long_ago not in {c.call_id for c in row.calls}
    assert row.detail == "phone cancellation locked by 2 calls"


# --- the list: keyset pages and filters, on both backends -------------------------


def _all_pages(
    factory: sessionmaker[Session], actor: int, filters: review.RequestFilter, size: int
) -> list[review.RequestRow]:
    rows: list[review.RequestRow] = []
    cursor = None
    while True:
        page = review.list_requests(factory, actor, filters, cursor, limit=size)
        assert len(page.rows) <= size
        rows.extend(page.rows)
        if page.next is None:
            return rows
        cursor = page.next


def _newest_first(calls: list[Made]) -> list[int]:
    return [c.call_id for c in sorted(calls, key=lambda c: (c.started_at, c.call_id), reverse=True)]


def test_keyset_pages_cover_every_call_once_in_order(any_factory: sessionmaker[Session]) -> None:
    supervisor, made, _ = many_calls(any_factory, 200, NOW)
    assert len({c.started_at for c in made}) < 40  # many calls share a start time

    rows = _all_pages(any_factory, supervisor, review.RequestFilter(), size=7)

    assert [r.call_id for r in rows] == _newest_first(made)


@pytest.mark.parametrize("broad", [False, True], ids=["by tenant", "by time"])
def test_filters_select_exactly_the_matching_calls(
    any_factory: sessionmaker[Session], broad: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if broad:
        # Every organization prefix counts as broad: the time-ordered plan answers.
        monkeypatch.setattr(review, "BROAD_ORGANIZATION", 0)
    supervisor, made, tenants = many_calls(any_factory, 150, NOW)
    ana = next(c.agent_id for c in made)
    since, before = NOW - timedelta(days=20), NOW - timedelta(days=6)

    def shown(c: Made) -> bool:
        # The blind rule: an open, unverified call is never found by its tenant's facts.
        return c.tenant_id is not None and c.state in (CallState.CLOSED, CallState.VERIFIED)

    def org(c: Made) -> str:
        return tenants[c.tenant_id][0] if c.tenant_id and shown(c) else ""

    cases = [
        (review.RequestFilter(agent_id=ana), lambda c: c.agent_id == ana),
        (review.RequestFilter(outcome=Outcome.CANCELED), lambda c: c.outcome is Outcome.CANCELED),
        (
            review.RequestFilter(started_from=since, started_before=before),
            lambda c: since <= c.started_at < before,
        ),
        (
            review.RequestFilter(kind=SubscriptionKind.TRIAL),
            lambda c: shown(c) and "trial" in tenants[c.tenant_id or 0][2],
        ),
        (
            review.RequestFilter(channel=Channel.OPEN),
            lambda c: shown(c) and "open" in tenants[c.tenant_id or 0][3],
        ),
        (
            review.RequestFilter(organization="CONTOSO"),
            lambda c: org(c).lower().startswith("contoso"),
        ),
        (review.RequestFilter(organization="contoso p"), lambda c: org(c) == "contoso pharma"),
        (review.RequestFilter(organization="fab"), lambda c: org(c) == "Fabrikam"),
        (
            review.RequestFilter(agent_id=ana, organization="north", outcome=Outcome.INFORMED),
            lambda c: c.agent_id == ana and org(c) == "Northwind" and c.outcome is Outcome.INFORMED,
        ),
    ]
    for filters, wanted in cases:
        rows = _all_pages(any_factory, supervisor, filters, size=9)
        expected = _newest_first([c for c in made if wanted(c)])
        assert expected, filters  # every case selects something
        hidden = [c for c in made if not shown(c) and c.tenant_id is not None]
        assert hidden  # open calls with a tenant exist, and no tenant filter finds them
        assert [r.call_id for r in rows] == expected, filters


def test_the_list_masks_phone_numbers(factory: sessionmaker[Session]) -> None:
    supervisor, made, tenants = many_calls(factory, 30, NOW)
    page = review.list_requests(factory, supervisor, review.RequestFilter(), limit=30)
    by_id = {c.call_id: c for c in made}
    for row in page.rows:
        tenant_id = by_id[row.call_id].tenant_id
        if tenant_id is None or row.state not in (CallState.CLOSED, CallState.VERIFIED):
            # No tenant, or blind: an open call lists none of its tenant's facts.
            assert row.phone == "" and row.organization == ""
            continue
        phone = tenants[tenant_id][1]
        assert row.phone.endswith(phone[-4:])
        assert phone[:-4].lstrip("+") not in row.phone


def test_numbers_are_aggregated_in_sql(any_factory: sessionmaker[Session]) -> None:
    supervisor, made, _ = many_calls(any_factory, 150, NOW)
    first_day = TODAY - timedelta(days=29)
    recent = [c for c in made if c.started_at.astimezone().date() >= first_day]

    numbers = review.numbers(any_factory, supervisor, NOW)

    assert numbers.first_day == first_day
    assert numbers.last_day == TODAY
    per_day = [0] * 30
    for c in recent:
        per_day[(c.started_at.astimezone().date() - first_day).days] += 1
    assert list(numbers.calls_per_day) == per_day
    assert numbers.calls == len(recent)
    failed = [c for c in recent if c.outcome is Outcome.VERIFICATION_FAILED]
    verified = [c for c in recent if c.verified]
    assert (numbers.verified, numbers.failed) == (len(verified), len(failed))
    assert numbers.pass_rate == pytest.approx(len(verified) / (len(verified) + len(failed)))
    expected_outcomes = Counter(c.outcome.value if c.outcome else "open" for c in recent)
    assert dict(numbers.outcomes) == dict(expected_outcomes)
    handles = [(c.ended_at - c.started_at).total_seconds() for c in recent if c.ended_at]
    assert numbers.median_handle_seconds == pytest.approx(statistics.median(handles), abs=0.01)
    by_agent = {a.agent: a for a in numbers.agents}
    assert sum(a.calls for a in numbers.agents) == len(recent)
    for agent in numbers.agents:
        mine = [c for c in recent if _username(any_factory, c.agent_id) == agent.agent]
        assert agent.calls == len(mine)
        assert agent.canceled == sum(1 for c in mine if c.outcome is Outcome.CANCELED)
        ended = [(c.ended_at - c.started_at).total_seconds() for c in mine if c.ended_at]
        assert agent.average_handle_seconds == pytest.approx(statistics.mean(ended), abs=0.01)
    assert set(by_agent) <= {"ana", "bo", "sue"}


def _username(factory: sessionmaker[Session], agent_id: int) -> str:
    with factory() as session:
        agent = session.get(Agent, agent_id)
        assert agent is not None
        return agent.username


def test_expedited_only_calls_are_counted_as_expedited_not_canceled(
    factory: sessionmaker[Session], staff: Staff
) -> None:
    # An expedited deletion of an already-canceled subscription cancels nothing.
    expedited_call(
        factory, staff.agent, make_account(factory, "Contoso", "+14255550100", TODAY), NOW
    )
    active = make_account(factory, "Fabrikam", "+14255550111", TODAY, canceled_days_ago=None)
    canceled_now_call(factory, staff.agent, active, NOW)

    numbers = review.numbers(factory, staff.supervisor.id, NOW)

    assert dict(numbers.outcomes) == {"canceled": 1, "expedited": 1}
    [ana] = numbers.agents
    assert (ana.canceled, ana.expedited) == (1, 1)
