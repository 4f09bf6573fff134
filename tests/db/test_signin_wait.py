"""Sign-in answers that tell nothing, and a wait the database enforces (issue 11, item 11).

Every refusal is compared field by field with the wrong-passphrase answer of a
real, active account at the same point of its own count: an unknown username,
a disabled account given its right passphrase and a locked one must be
indistinguishable from it. Time moves only through ``now``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from db.models import Agent, AuditEvent
from db.staff.agents import add_agent, disable_agent
from db.staff.signin import SIGNIN_FAILED_MESSAGE, SignInResult, authenticate
from tests.helpers.policy import DEFAULTS
from verification.kinds import Role

NOW = datetime(2026, 12, 1, 21, 0, tzinfo=UTC)
PASS = "correct horse battery"
WRONG = "wrong passphrase"
LOCK_AFTER = DEFAULTS.signin_lock_after

Factory = sessionmaker[Session]


def _attempts(factory: Factory, username: str, passphrase: str, count: int) -> list[SignInResult]:
    """``count`` attempts, each as soon as the previous answer allows."""
    results, now = [], NOW
    for _ in range(count):
        result = authenticate(factory, username, passphrase, now)
        results.append(result)
        now += timedelta(seconds=result.delay_seconds)
    return results


def _answer(result: SignInResult) -> tuple[object, ...]:
    return (
        result.ok,
        result.agent,
        result.message,
        result.failures,
        result.locked,
        result.delay_seconds,
    )


@pytest.fixture
def staff(any_factory: Factory) -> Factory:
    for name in ("ana", "dis", "lok"):
        add_agent(any_factory, name, name.title(), Role.AGENT, PASS)
    disable_agent(any_factory, "dis")
    return any_factory


def test_an_immediate_retry_after_failures_is_refused_even_with_the_right_passphrase(
    staff: Factory,
) -> None:
    failures = _attempts(staff, "ana", WRONG, 3)
    third_at = NOW + timedelta(seconds=sum(r.delay_seconds for r in failures[:2]))
    wait = failures[-1].delay_seconds
    assert wait > 0

    early = authenticate(staff, "ana", PASS, third_at)

    # Refused unchecked, and counted: hammering only lengthens the wait.
    assert (early.ok, early.message, early.failures) == (False, SIGNIN_FAILED_MESSAGE, 4)
    assert early.delay_seconds > wait
    with staff() as session:
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
        assert event is not None and json.loads(event.payload)["reason"] == "too_early"
        not_before = session.scalar(select(Agent.signin_not_before).where(Agent.username == "ana"))
    assert not_before == third_at + timedelta(seconds=early.delay_seconds)
    assert authenticate(staff, "ana", PASS, not_before).ok


@pytest.mark.parametrize(
    ("username", "passphrase"),
    [("nobody", PASS), ("dis", PASS), ("dis", WRONG), ("No Such Name!", WRONG)],
)
def test_unknown_and_disabled_answer_exactly_like_a_wrong_passphrase(
    staff: Factory, username: str, passphrase: str
) -> None:
    wrong = _attempts(staff, "ana", WRONG, LOCK_AFTER + 3)
    other = _attempts(staff, username, passphrase, LOCK_AFTER + 3)
    assert [_answer(r) for r in other] == [_answer(r) for r in wrong]
    assert all(r.message == SIGNIN_FAILED_MESSAGE for r in wrong)
    assert wrong[-1].locked and wrong[-1].delay_seconds > 0


def test_a_locked_account_answers_its_right_passphrase_like_a_wrong_one(staff: Factory) -> None:
    _attempts(staff, "lok", WRONG, LOCK_AFTER)
    _attempts(staff, "ana", WRONG, LOCK_AFTER)
    later = NOW + timedelta(hours=1)
    locked_right = authenticate(staff, "lok", PASS, later)
    locked_wrong = authenticate(staff, "ana", WRONG, later)
    assert not locked_right.ok
    assert _answer(locked_right) == _answer(locked_wrong)


def test_unknown_usernames_are_counted_without_creating_agents_or_keeping_the_name(
    staff: Factory,
) -> None:
    results = _attempts(staff, "mallory-guess", PASS, 4)
    assert [r.failures for r in results] == [1, 2, 3, 4]
    with staff() as session:
        assert session.scalar(select(func.count()).select_from(Agent)) == 3
        events = session.scalars(select(AuditEvent.payload)).all()
    assert not any("mallory" in payload for payload in events)
