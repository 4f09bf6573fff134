"""Guessing dispute references: one answer for every reference that leads nowhere, and a limit.

A dispute is found by the reference read out, so an insider (or a script on
a desk's credentials) could try references until one is accepted, and
learn from the answers which exist. Every reference that leads to no
disputable request gets ``NOT_DISPUTABLE``; each counts against the staff
member in the database, and past ``MAX_MISSES`` in ``MISS_WINDOW`` every
dispute of theirs is refused, a real one too, from every desk at once.
These run on SQLite and on a real PostgreSQL server.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from db import review
from db.engine import make_engine, make_sessionmaker
from db.expedited.cooling import finalize_due
from db.expedited.disputes import (
    MAX_MISSES,
    MISS_WINDOW,
    MISSED_EVENT,
    NOT_DISPUTABLE,
    DisputeRefused,
    dispute_request,
)
from db.models import AuditEvent, CancellationRequest, Dispute, DisputeMiss
from tests.helpers.review_data import (
    Staff,
    canceled_now_call,
    expedited_call,
    make_account,
    make_staff,
)
from verification.kinds import Decision
from verification.reference import ALPHABET

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
TODAY = NOW.astimezone().date()
Factory = sessionmaker[Session]


def _guess(desk: int, number: int) -> str:
    """A well-formed reference no request holds (drawn ones never end in -ZZZ here)."""
    return f"CG-{ALPHABET[desk]}{ALPHABET[number // 32]}{ALPHABET[number % 32]}-ZZZ"


def _reference(factory: Factory, *, request_id: int | None = None, call_id: int = 0) -> str:
    with factory() as session:
        query = select(CancellationRequest.reference)
        if request_id is not None:
            query = query.where(CancellationRequest.id == request_id)
        else:
            query = query.where(CancellationRequest.call_id == call_id)
        reference = session.scalars(query).one()
    return reference


def _expedited(factory: Factory, staff: Staff, number: int) -> int:
    account = make_account(factory, f"Org {number}", f"+1425555{number:04d}", TODAY)
    return expedited_call(factory, staff.agent, account, NOW)[1]


def _decide(factory: Factory, staff: Staff, request_id: int, decision: Decision) -> None:
    with factory() as session:
        request = session.get(CancellationRequest, request_id)
        assert request is not None
        seen = request.request_hash
    review.decide_expedited(factory, staff.supervisor.id, request_id, decision, "ok", seen, NOW)


def _answer(factory: Factory, actor: int, reference: str, at: datetime = NOW) -> str:
    with pytest.raises(DisputeRefused) as refused:
        dispute_request(factory, actor, reference, "the admin never asked", at)
    return refused.value.message


def _misses(factory: Factory, agent_id: int) -> int:
    with factory() as session:
        miss = session.get(DisputeMiss, agent_id)
        return 0 if miss is None else miss.misses


def test_every_reference_that_leads_to_no_disputable_request_gets_one_answer(
    any_factory: Factory,
) -> None:
    staff = make_staff(any_factory)
    cancel_call, _ = canceled_now_call(
        any_factory,
        staff.agent,
        make_account(any_factory, "Org 9", "+14255559999", TODAY, canceled_days_ago=None),
        NOW,
    )
    not_expedited = _reference(any_factory, call_id=cancel_call)
    final = _expedited(any_factory, staff, 1)
    _decide(any_factory, staff, final, Decision.APPROVED)
    assert finalize_due(any_factory, NOW + timedelta(days=1)) == 1
    rejected = _expedited(any_factory, staff, 2)
    _decide(any_factory, staff, rejected, Decision.REJECTED)
    disputed = _expedited(any_factory, staff, 3)
    dispute_request(
        any_factory, staff.agent2.id, _reference(any_factory, request_id=disputed), "no", NOW
    )
    leading_nowhere = {
        "unknown": "CG-222-222",
        "not expedited": not_expedited,
        "final": _reference(any_factory, request_id=final),
        "rejected": _reference(any_factory, request_id=rejected),
        "already disputed": _reference(any_factory, request_id=disputed),
    }
    later = NOW + timedelta(days=1, hours=1)
    answers = {
        what: _answer(any_factory, staff.agent.id, ref, later)
        for what, ref in leading_nowhere.items()
    }
    assert set(answers.values()) == {NOT_DISPUTABLE}, answers
    assert _misses(any_factory, staff.agent.id) == len(leading_nowhere)
    # A reference that cannot be one is about the typing only: not a miss.
    assert "never holds 0, O, 1 or I" in _answer(any_factory, staff.agent.id, "CG-0O1-ABC", later)
    assert _misses(any_factory, staff.agent.id) == len(leading_nowhere)
    with any_factory() as session:
        payloads = session.scalars(
            select(AuditEvent.payload).where(AuditEvent.type == MISSED_EVENT)
        ).all()
    assert [json.loads(p)["misses"] for p in payloads] == [1, 2, 3, 4, 5]
    assert not any(ref in p for p in payloads for ref in leading_nowhere.values())


def test_past_the_limit_even_a_real_reference_is_refused_until_the_window_ends(
    any_factory: Factory,
) -> None:
    staff = make_staff(any_factory)
    request_id = _expedited(any_factory, staff, 1)
    real = _reference(any_factory, request_id=request_id)
    guesses = [_guess(0, n) for n in range(MAX_MISSES)]
    for number, guess in enumerate(guesses):
        assert _answer(any_factory, staff.agent.id, guess, NOW + timedelta(seconds=number)) == (
            NOT_DISPUTABLE
        )
    assert _misses(any_factory, staff.agent.id) == MAX_MISSES
    limited = _answer(any_factory, staff.agent.id, real, NOW + timedelta(minutes=1))
    assert limited.startswith("Too many references led to no disputable request")
    with any_factory() as session:
        assert session.scalar(select(func.count()).select_from(Dispute)) == 0
    # The limit is this staff member's: a colleague's dispute is recorded.
    result = dispute_request(any_factory, staff.agent2.id, real, "admin says no", NOW)
    assert result.request_id == request_id
    # Once the window ends, the count starts again.
    after = NOW + MISS_WINDOW + timedelta(seconds=1)
    assert _answer(any_factory, staff.agent.id, guesses[0], after) == NOT_DISPUTABLE
    assert _misses(any_factory, staff.agent.id) == 1


@pytest.mark.postgres
def test_desks_guessing_at_once_share_one_limit(pg_engine: Engine) -> None:
    url = pg_engine.url.render_as_string(hide_password=False)
    engines = [make_engine(url) for _ in range(3)]  # three desk processes' pools
    factories = [make_sessionmaker(engine) for engine in engines]
    staff = make_staff(factories[0])
    start = threading.Barrier(len(factories))
    answers: list[str] = []

    def desk(factory: Factory, number: int) -> None:
        start.wait()
        for n in range(MAX_MISSES):
            answers.append(_answer(factory, staff.agent.id, _guess(number, n)))

    threads = [threading.Thread(target=desk, args=(f, i)) for i, f in enumerate(factories)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == len(factories) * MAX_MISSES
    assert answers.count(NOT_DISPUTABLE) == MAX_MISSES
    assert _misses(factories[0], staff.agent.id) == MAX_MISSES
    for engine in engines:
        engine.dispose()
