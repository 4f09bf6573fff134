"""A curious or dishonest colleague: blind across desks, four-eyes, consistent edits.

PRODUCT.md section 4 "Blind" binds every screen and role; section 5 says an
approval comes from a supervisor other than whoever asked; section 7 says a
request's hash is in the chain, so editing a request and its approval
together is still found. Runs on SQLite and a real PostgreSQL server.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from db import desk, review
from db.engine import unit_of_work
from db.models import (
    AccountUser,
    AgentReset,
    Approval,
    AuditEvent,
    Call,
    CancellationRequest,
    LockClearance,
)
from db.purge import purge
from db.review import RequestFilter, ReviewRefused
from db.staff.agents import disable_agent
from tests.helpers.policy import DEFAULTS
from tests.helpers.review_data import (
    SETTINGS,
    expedited_call,
    make_account,
    make_staff,
    missed_call,
    stated,
    verified_call,
)
from verification.errors import InputError
from verification.kinds import CallState, Decision, Item, Outcome
from verification.policy import Action

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
TODAY = NOW.astimezone().date()
PHONE = "+14255550187"


# --- 4: blind on the supervisor's desk ----------------------------------------------


def test_a_supervisor_cannot_read_what_an_open_call_missed(any_factory) -> None:
    staff = make_staff(any_factory)
    account = make_account(any_factory, "Blindspot Ltd", PHONE, TODAY)
    sup = staff.supervisor
    view = desk.start_call(any_factory, sup.id, sup.username, SETTINGS, NOW)
    desk.submit_item(
        any_factory,
        view.call_id,
        sup.username,
        Item.USER_ID,
        {"value": account.user_id},
        SETTINGS,
        NOW,
    )
    desk.submit_item(
        any_factory,
        view.call_id,
        sup.username,
        Item.PHONE,
        {"value": "030 1234567"},
        SETTINGS,
        NOW,
    )
    # The supervisor who took it reads none of the tenant's calls on their desk
    # (tests/db/test_insider_in_call.py); another one reads this one blind.
    with pytest.raises(ReviewRefused, match="hidden while you have a call open"):
        review.call_detail(any_factory, sup.id, view.call_id, NOW)
    detail = review.call_detail(any_factory, staff.supervisor2.id, view.call_id, NOW)
    text = repr(detail)
    assert PHONE not in text and PHONE[-4:] not in text
    assert "Blindspot" not in text
    for reader in (staff.supervisor, staff.supervisor2):
        page = review.list_requests(any_factory, reader.id, RequestFilter())
        listed = repr(page)
        assert "Blindspot" not in listed and PHONE[-4:] not in listed


def test_an_open_call_shows_what_it_matched_and_an_ended_call_shows_everything(
    any_factory,
) -> None:
    staff = make_staff(any_factory)
    account = make_account(any_factory, "Halfway Ltd", PHONE, TODAY)
    agent = staff.agent
    view = desk.start_call(any_factory, agent.id, agent.username, SETTINGS, NOW)
    for item in (Item.USER_ID, Item.PHONE):
        desk.submit_item(
            any_factory, view.call_id, agent.username, item, stated(account)[item], SETTINGS, NOW
        )
    desk.submit_item(
        any_factory,
        view.call_id,
        agent.username,
        Item.ORGANIZATION,
        {"value": "Wrong Org"},
        SETTINGS,
        NOW,
    )
    detail = review.call_detail(any_factory, staff.supervisor.id, view.call_id, NOW)
    on_file = {line.item: line.on_file for line in detail.checks}
    assert PHONE[-4:] in on_file[Item.PHONE]
    assert "Halfway" not in on_file[Item.ORGANIZATION]
    assert "Halfway" not in detail.organization
    desk.end_call(any_factory, view.call_id, agent.username, Outcome.ABANDONED, "", NOW)
    ended = review.call_detail(any_factory, staff.supervisor.id, view.call_id, NOW)
    on_file = {line.item: line.on_file for line in ended.checks}
    assert "Halfway" in on_file[Item.ORGANIZATION]
    assert "Halfway" in ended.organization


# --- 5: four-eyes checks who asked --------------------------------------------------


def test_nobody_but_the_calls_agent_takes_an_action_in_it(any_factory) -> None:
    staff = make_staff(any_factory)
    account = make_account(any_factory, "Foureyes Ltd", PHONE, TODAY)
    view = verified_call(any_factory, staff.agent, account, NOW)
    [sub] = view.subscriptions
    [option] = [o for o in sub.decision.options if o.action is Action.EXPEDITED_DEPROVISIONING]
    with pytest.raises(desk.ActionRefused, match="call"):
        desk.take_action(
            any_factory,
            view.call_id,
            staff.supervisor.username,
            sub.id,
            Action.EXPEDITED_DEPROVISIONING,
            option.checklist,
            SETTINGS,
            NOW,
        )
    assert desk.load_call(any_factory, view.call_id, SETTINGS, NOW).pending_requests == ()


def test_nobody_but_the_calls_agent_ends_it_or_reads_its_destinations(any_factory) -> None:
    staff = make_staff(any_factory)
    account = make_account(any_factory, "Foureyes Ltd", PHONE, TODAY)
    view = verified_call(any_factory, staff.agent, account, NOW)
    other = staff.agent2.username
    with pytest.raises(desk.ActionRefused, match="only the agent who took this call"):
        desk.end_call(any_factory, view.call_id, other, Outcome.ABANDONED, "", NOW)
    with pytest.raises(desk.StepUpRefused, match="only the agent who took this call"):
        desk.code_destinations(any_factory, view.call_id, other, SETTINGS, NOW)
    assert desk.load_call(any_factory, view.call_id, SETTINGS, NOW).state is not CallState.CLOSED
    # Disabled since, the call's own agent can still end it: it must not stay open for good.
    disable_agent(any_factory, staff.agent.username, actor="operator:test")
    summary = desk.end_call(any_factory, view.call_id, "ana", Outcome.ABANDONED, "", NOW)
    assert summary.outcome is Outcome.ABANDONED


def test_a_requester_never_approves_their_own_request(any_factory) -> None:
    staff = make_staff(any_factory)
    account = make_account(any_factory, "Selfserve Ltd", PHONE, TODAY)
    # A supervisor takes the call and asks; they cannot approve it on their desk.
    _, request_id = expedited_call(any_factory, staff.supervisor, account, NOW)
    detail = _detail_of_request(any_factory, staff.supervisor2.id, request_id)
    [line] = detail.requests
    with pytest.raises(ReviewRefused):
        review.decide_expedited(
            any_factory,
            staff.supervisor.id,
            request_id,
            Decision.APPROVED,
            "ok",
            line.request_hash,
            NOW,
        )
    # Whoever owns the approval row, the requester recorded is the one who asked.
    review.decide_expedited(
        any_factory,
        staff.supervisor2.id,
        request_id,
        Decision.APPROVED,
        "ok",
        line.request_hash,
        NOW,
    )
    with unit_of_work(any_factory) as session:
        [approval] = session.query(Approval).all()
        assert approval.requester_id == staff.supervisor.id
        assert approval.approver_id == staff.supervisor2.id


def _detail_of_request(factory: sessionmaker[Session], actor_id: int, request_id: int):
    with unit_of_work(factory) as session:
        request = session.get(CancellationRequest, request_id)
        assert request is not None
        call_id = request.call_id
    return review.call_detail(factory, actor_id, call_id, NOW)


# --- 6: the caller cannot be swapped after verification -------------------------------


def test_another_user_id_does_not_replace_a_verified_caller(any_factory) -> None:
    staff = make_staff(any_factory)
    account = make_account(any_factory, "Swapped Ltd", PHONE, TODAY)
    with unit_of_work(any_factory) as session:
        session.add(
            AccountUser(
                user_id="boss@swapped-ltd.example",
                display_name="Boss",
                tenant_id=account.tenant_id,
                is_admin=True,
            )
        )
    view = verified_call(any_factory, staff.agent, account, NOW)
    after = desk.submit_item(
        any_factory,
        view.call_id,
        staff.agent.username,
        Item.USER_ID,
        {"value": "boss@swapped-ltd.example"},
        SETTINGS,
        NOW,
    )
    # A miss, and the caller is still the one who proved the other items.
    assert after.misses_left == DEFAULTS.max_misses - 1
    assert not after.gate_open
    with unit_of_work(any_factory) as session:
        call = session.get(Call, view.call_id)
        assert call is not None
        caller = session.get(AccountUser, call.caller_user_id)
        assert caller is not None and caller.user_id == account.user_id


def test_a_locked_tenant_is_not_checked_any_further(any_factory) -> None:
    staff = make_staff(any_factory)
    account = make_account(any_factory, "Lockedout Ltd", PHONE, TODAY)
    at = NOW
    for _ in range(DEFAULTS.tenant_max_misses):
        at += timedelta(minutes=3)
        missed_call(any_factory, staff.agent, account, at)
    view = desk.start_call(any_factory, staff.agent.id, staff.agent.username, SETTINGS, at)
    with pytest.raises(InputError, match="locked"):
        desk.submit_item(
            any_factory,
            view.call_id,
            staff.agent.username,
            Item.USER_ID,
            {"value": account.user_id},
            SETTINGS,
            at,
        )
    with pytest.raises(InputError):
        desk.submit_item(
            any_factory,
            view.call_id,
            staff.agent.username,
            Item.PHONE,
            stated(account)[Item.PHONE],
            SETTINGS,
            at,
        )
    after = desk.load_call(any_factory, view.call_id, SETTINGS, at)
    assert all(i.shown is None for i in after.items if i.item is not Item.USER_ID)


# --- 8: a request edited together with its approval ------------------------------------


def test_a_request_and_its_approval_edited_together_show_as_tampered(any_factory) -> None:
    staff = make_staff(any_factory)
    account = make_account(any_factory, "Rewritten Ltd", PHONE, TODAY)
    call_id, request_id = expedited_call(any_factory, staff.agent, account, NOW)
    [line] = review.call_detail(any_factory, staff.supervisor.id, call_id, NOW).requests
    review.decide_expedited(
        any_factory,
        staff.supervisor.id,
        request_id,
        Decision.REJECTED,
        "no",
        line.request_hash,
        NOW,
    )
    with unit_of_work(any_factory) as session:
        request = session.get(CancellationRequest, request_id)
        assert request is not None
        after = json.loads(request.after)
        after["data_deletion_on"] = (TODAY + timedelta(days=1)).isoformat()
        request.after = json.dumps(after, sort_keys=True, separators=(",", ":"))
        before = json.loads(request.before)
        forged = desk.request_hash(call_id, request.subscription_id, request.action, before, after)
        request.request_hash = forged
        session.execute(
            update(Approval).where(Approval.request_id == request_id).values(request_hash=forged)
        )
    [line] = review.call_detail(any_factory, staff.supervisor.id, call_id, NOW).requests
    assert line.tampered


# --- 9: free text stays out of the chain, and purge reaches it ------------------------


def test_lock_and_approval_reasons_stay_out_of_the_chain_and_are_purged(any_factory) -> None:
    staff = make_staff(any_factory)
    account = make_account(any_factory, "Reasoned Ltd", PHONE, TODAY)
    call_id, request_id = expedited_call(any_factory, staff.agent, account, NOW)
    [line] = review.call_detail(any_factory, staff.supervisor.id, call_id, NOW).requests
    approval_reason = "Approved after a callback to Quentin Marbleworth"
    review.decide_expedited(
        any_factory,
        staff.supervisor.id,
        request_id,
        Decision.APPROVED,
        approval_reason,
        line.request_hash,
        NOW,
    )
    clear_reason = "Verified Philippa Stonecrop by callback"
    review.clear_tenant_lock(any_factory, staff.supervisor.id, account.tenant_id, clear_reason, NOW)
    reset_reason = "Locked out while Hortensia Quillfeather waited"
    review.reset_locked_agent(any_factory, staff.supervisor.id, staff.agent.id, reset_reason, NOW)
    with unit_of_work(any_factory) as session:
        payloads = " ".join(session.scalars(select(AuditEvent.payload)))
    assert "Marbleworth" not in payloads and "Stonecrop" not in payloads
    assert "Quillfeather" not in payloads

    purge(any_factory, 1, NOW + timedelta(days=30), dry_run=False, actor="operator:test")
    with unit_of_work(any_factory) as session:
        assert [a.reason for a in session.scalars(select(Approval))] == [""]
        assert [c.reason for c in session.scalars(select(LockClearance))] == [""]
        assert [r.reason for r in session.scalars(select(AgentReset))] == [""]
