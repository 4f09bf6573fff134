"""Proof of possession under attack: a determined caller, a second desk, a curious insider.

Each test names a way around a rule of PRODUCT.md section 5 ("Risk tiers and
proof of possession") and shows it does not work. Codes go through the real
loopback servers of ``tests/helpers/gateways.py``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from db import desk
from db.desk import ActionRefused, CallView, StepUpRefused, code_senders
from db.engine import unit_of_work
from db.models import AccountUser, CodeSend, CodeTry, ItemCheck, Tenant
from db.settings import Settings
from db.staff.agents import disable_agent
from tests.db.test_stepup import (
    NOW,
    PHONE,
    PIN,
    TODAY,
    cancel_now,
    events,
    mail_settings,
    sms_settings,
    verified,
)
from tests.helpers.gateways import (
    Gateway,
    Inbox,
    free_port,
)
from tests.helpers.policy import DEFAULTS, set_limits
from tests.helpers.review_data import Staff, make_account, make_staff, stated
from verification.errors import InputError
from verification.kinds import CallState, Item, Outcome
from verification.policy import Action
from verification.tiers import Factor

MINUTE = timedelta(minutes=1)


@pytest.fixture
def staff(any_factory: sessionmaker[Session]) -> Staff:
    return make_staff(any_factory)


def send_as(
    factory: sessionmaker[Session],
    call_id: int,
    actor: str,
    key: str,
    settings: Settings,
    now: datetime,
) -> CallView:
    senders = code_senders(settings)
    try:
        return desk.send_code(factory, call_id, actor, key, settings, now, senders)
    finally:
        senders.close()


def send(factory, view: CallView, settings: Settings, now: datetime) -> CallView:
    """Send a code to the first destination offered, as the call's agent (ana)."""
    assert view.possession is not None and view.possession.destinations
    key = view.possession.destinations[0].key
    return send_as(factory, view.call_id, "ana", key, settings, now)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def state_again(
    factory: sessionmaker[Session],
    view: CallView,
    answers: dict[Item, dict[str, str]],
    settings: Settings,
    at: datetime,
) -> CallView:
    """The items asked again in the same call, after the verification lapsed."""
    for item, fields in answers.items():
        view = desk.submit_item(factory, view.call_id, "ana", item, fields, settings, at)
    assert view.gate_open, view.gate_reasons
    return view


def add_admin(factory: sessionmaker[Session], tenant_id: int, user_id: str, **kw: Any) -> int:
    with unit_of_work(factory) as session:
        user = AccountUser(
            user_id=user_id, display_name="Lee", tenant_id=tenant_id, is_admin=True, **kw
        )
        session.add(user)
        session.flush()
        return user.id


def count(factory: sessionmaker[Session], model: type[Any], **where: Any) -> int:
    with unit_of_work(factory) as session:
        query = select(func.count()).select_from(model).filter_by(**where)
        return int(session.scalar(query) or 0)


# --- 1. A factor belongs to the verification it was proven in ----------------


def test_a_code_proven_in_one_verification_does_not_serve_the_next(
    any_factory: sessionmaker[Session], staff: Staff, inbox: Inbox
) -> None:
    settings = mail_settings(inbox)
    account = make_account(any_factory, "Contoso", PHONE, TODAY, canceled_days_ago=None)
    view = verified(any_factory, staff, account, settings)
    # Proven a minute before the verification lapses (30 minutes after it began).
    view = send(any_factory, view, settings, NOW + 28 * MINUTE)
    view = desk.try_code(
        any_factory, view.call_id, "ana", inbox.codes()[-1], settings, NOW + 29 * MINUTE
    )
    assert view.possession is not None and view.possession.proven == (Factor.CODE,)

    later = NOW + 31 * MINUTE
    assert not desk.load_call(any_factory, view.call_id, settings, later).gate_open
    view = state_again(any_factory, view, stated(account), settings, later)
    assert view.possession is not None and view.possession.proven == ()
    with pytest.raises(ActionRefused, match=r"^cancel now needs a code or a callback$"):
        cancel_now(any_factory, view, settings, later)

    # The agent can prove it again in the new verification: a new code goes out.
    view = send(any_factory, view, settings, later)
    assert len(inbox.codes()) == 2
    view = desk.try_code(any_factory, view.call_id, "ana", inbox.codes()[-1], settings, later)
    assert view.possession is not None and view.possession.proven == (Factor.CODE,)
    cancel_now(any_factory, view, settings, later)


def test_a_code_sent_in_one_verification_cannot_be_tried_in_the_next(
    any_factory: sessionmaker[Session], staff: Staff, inbox: Inbox
) -> None:
    settings = mail_settings(inbox)
    account = make_account(any_factory, "Contoso", PHONE, TODAY, canceled_days_ago=None)
    view = verified(any_factory, staff, account, settings)
    view = send(any_factory, view, settings, NOW + 28 * MINUTE)
    [code] = inbox.codes()

    later = NOW + 31 * MINUTE  # the code is 3 minutes old, well within its 10
    view = state_again(any_factory, view, stated(account), settings, later)
    with pytest.raises(StepUpRefused, match="no code sent in this verification"):
        desk.try_code(any_factory, view.call_id, "ana", code, settings, later)
    assert count(any_factory, CodeTry) == 0
    assert view.possession is not None and view.possession.send_refusal is None


def test_a_callback_answered_in_one_verification_does_not_serve_the_next(
    any_factory: sessionmaker[Session], staff: Staff
) -> None:
    settings = Settings(database_url="sqlite://")
    account = make_account(any_factory, "Contoso", PHONE, TODAY, canceled_days_ago=None)
    view = verified(any_factory, staff, account, settings)
    at = NOW + 29 * MINUTE
    shown = desk.callback_shown(any_factory, view.call_id, "ana", settings, at)
    view = desk.callback_result(
        any_factory, view.call_id, "ana", shown.callback_id, True, settings, at
    )
    assert view.possession is not None and view.possession.proven == (Factor.CALLBACK,)

    later = NOW + 31 * MINUTE
    view = state_again(any_factory, view, stated(account), settings, later)
    assert view.possession is not None and view.possession.proven == ()
    with pytest.raises(ActionRefused, match="needs a code or a callback"):
        cancel_now(any_factory, view, settings, later)


def test_another_admin_named_after_the_lapse_does_not_inherit_the_factor(
    any_factory: sessionmaker[Session], staff: Staff, inbox: Inbox
) -> None:
    settings = mail_settings(inbox)
    account = make_account(any_factory, "Contoso", PHONE, TODAY, canceled_days_ago=None)
    add_admin(any_factory, account.tenant_id, "lee@contoso.example")
    view = verified(any_factory, staff, account, settings)
    view = send(any_factory, view, settings, NOW + 28 * MINUTE)
    view = desk.try_code(
        any_factory, view.call_id, "ana", inbox.codes()[-1], settings, NOW + 29 * MINUTE
    )

    # The verification lapses; another admin of the same tenant is named now.
    answers = stated(account)
    answers[Item.USER_ID] = {"value": "lee@contoso.example"}
    later = NOW + 31 * MINUTE
    view = state_again(any_factory, view, answers, settings, later)
    assert view.possession is not None and view.possession.proven == ()
    with pytest.raises(ActionRefused, match="needs a code or a callback"):
        cancel_now(any_factory, view, settings, later)


# --- 2. Guessing codes --------------------------------------------------------


def test_no_sequence_of_calls_and_agents_buys_more_wrong_codes_than_the_tenant_allows(
    any_factory: sessionmaker[Session], staff: Staff, inbox: Inbox
) -> None:
    settings = mail_settings(inbox)
    account = make_account(any_factory, "Contoso", PHONE, TODAY, canceled_days_ago=None)
    for n in range(8):
        agent = staff.agent if n % 2 == 0 else staff.agent2
        at = NOW + n * 40 * MINUTE
        view = desk.start_call(any_factory, agent.id, agent.username, settings, at)
        try:
            for item, fields in stated(account).items():
                view = desk.submit_item(
                    any_factory, view.call_id, agent.username, item, fields, settings, at
                )
            assert view.possession is not None
            key = view.possession.destinations[0].key
            send_as(any_factory, view.call_id, agent.username, key, settings, at)
            for _ in range(2):  # two wrong codes, then hang up
                desk.try_code(any_factory, view.call_id, agent.username, "000000", settings, at)
        except (InputError, StepUpRefused):
            pass  # the tenant locked: nothing more can be tried
        desk.abandon_call(any_factory, view.call_id, agent.username, "", at)
    wrong_tries = count(any_factory, CodeTry, matched=False)
    assert wrong_tries <= DEFAULTS.tenant_max_misses
    with unit_of_work(any_factory) as session:
        tenant = session.get(Tenant, account.tenant_id)
        assert tenant is not None and tenant.locked_at is not None


def test_a_tenant_locked_by_another_call_stops_sends_and_tries(
    any_factory: sessionmaker[Session], staff: Staff, inbox: Inbox
) -> None:
    set_limits(any_factory, tenant_max_misses=2)
    settings = mail_settings(inbox)
    account = make_account(any_factory, "Contoso", PHONE, TODAY, canceled_days_ago=None)
    view = verified(any_factory, staff, account, settings)
    view = send(any_factory, view, settings, NOW)
    [code] = inbox.codes()

    # Meanwhile another agent's call takes the tenant's last misses.
    other = desk.start_call(any_factory, staff.agent2.id, "bo", settings, NOW)
    other = desk.submit_item(
        any_factory, other.call_id, "bo", Item.USER_ID, {"value": account.user_id}, settings, NOW
    )
    for phone in ("+14255550111", "+14255550112"):
        desk.submit_item(
            any_factory, other.call_id, "bo", Item.PHONE, {"value": phone}, settings, NOW
        )

    with pytest.raises(StepUpRefused, match="tenant locked"):
        desk.try_code(any_factory, view.call_id, "ana", code, settings, NOW)
    with pytest.raises(StepUpRefused, match="tenant locked"):
        send(any_factory, view, settings, NOW + MINUTE)
    assert count(any_factory, CodeTry) == 0 and len(inbox.messages) == 1


def test_a_locked_call_sends_nothing(
    any_factory: sessionmaker[Session], staff: Staff, inbox: Inbox
) -> None:
    settings = mail_settings(inbox)
    account = make_account(any_factory, "Contoso", PHONE, TODAY, canceled_days_ago=None)
    view = verified(any_factory, staff, account, settings)
    assert view.possession is not None
    key = view.possession.destinations[0].key
    view = send(any_factory, view, settings, NOW)
    for _ in range(4):
        view = desk.try_code(any_factory, view.call_id, "ana", "000000", settings, NOW)
    assert view.state is CallState.LOCKED
    with pytest.raises(StepUpRefused, match="locked"):
        send_as(any_factory, view.call_id, "ana", key, settings, NOW + MINUTE)
    assert len(inbox.messages) == 1


def test_an_expired_code_costs_nothing_and_proves_nothing_a_superseded_one_is_a_miss(
    any_factory: sessionmaker[Session], staff: Staff, inbox: Inbox
) -> None:
    settings = mail_settings(inbox)
    account = make_account(any_factory, "Contoso", PHONE, TODAY, canceled_days_ago=None)
    view = verified(any_factory, staff, account, settings)
    view = send(any_factory, view, settings, NOW)
    [first] = inbox.codes()
    with pytest.raises(StepUpRefused, match="expired"):
        desk.try_code(any_factory, view.call_id, "ana", first, settings, NOW + 10 * MINUTE)
    assert count(any_factory, CodeTry) == 0

    at = NOW + 11 * MINUTE
    view = send(any_factory, view, settings, at)
    if inbox.codes()[-1] != first:
        view = desk.try_code(any_factory, view.call_id, "ana", first, settings, at)
        assert view.misses_left == 2
        assert view.possession is not None and view.possession.proven == ()


# --- 3. Proof bound to the call, the caller and the call's agent --------------


def test_a_factor_proven_in_one_call_does_not_serve_the_next_call(
    any_factory: sessionmaker[Session], staff: Staff, inbox: Inbox
) -> None:
    settings = mail_settings(inbox)
    account = make_account(any_factory, "Contoso", PHONE, TODAY, canceled_days_ago=None)
    first = verified(any_factory, staff, account, settings)
    first = send(any_factory, first, settings, NOW)
    desk.try_code(any_factory, first.call_id, "ana", inbox.codes()[-1], settings, NOW)
    shown = desk.callback_shown(any_factory, first.call_id, "ana", settings, NOW)
    desk.end_call(any_factory, first.call_id, "ana", Outcome.INFORMED, "", NOW)

    second = verified(any_factory, staff, account, settings, NOW + MINUTE)
    assert second.possession is not None and second.possession.proven == ()
    with pytest.raises(ActionRefused, match="needs a code or a callback"):
        cancel_now(any_factory, second, settings, NOW + MINUTE)
    # The first call's callback cannot be answered from the second.
    with pytest.raises(StepUpRefused, match="no callback"):
        desk.callback_result(
            any_factory, second.call_id, "ana", shown.callback_id, True, settings, NOW + MINUTE
        )


def test_only_the_calls_agent_sends_tries_and_records(
    any_factory: sessionmaker[Session], staff: Staff, inbox: Inbox
) -> None:
    settings = mail_settings(inbox)
    account = make_account(any_factory, "Contoso", PHONE, TODAY, canceled_days_ago=None)
    view = verified(any_factory, staff, account, settings)
    assert view.possession is not None
    key = view.possession.destinations[0].key
    view = send(any_factory, view, settings, NOW)
    [code] = inbox.codes()
    shown = desk.callback_shown(any_factory, view.call_id, "ana", settings, NOW)
    for intruder in ("bo", "sue"):  # another agent, a supervisor
        with pytest.raises(StepUpRefused, match="only the agent"):
            send_as(any_factory, view.call_id, intruder, key, settings, NOW + MINUTE)
        with pytest.raises(StepUpRefused, match="only the agent"):
            desk.try_code(any_factory, view.call_id, intruder, code, settings, NOW)
        with pytest.raises(StepUpRefused, match="only the agent"):
            desk.callback_result(
                any_factory, view.call_id, intruder, shown.callback_id, True, settings, NOW
            )
        with pytest.raises(StepUpRefused, match="only the agent"):
            desk.callback_shown(any_factory, view.call_id, intruder, settings, NOW)
    assert len(inbox.messages) == 1 and count(any_factory, CodeTry) == 0
    assert events(any_factory, "callback.recorded") == []


def test_an_agent_disabled_mid_call_no_longer_acts_in_it(
    any_factory: sessionmaker[Session], staff: Staff, inbox: Inbox
) -> None:
    settings = mail_settings(inbox)
    account = make_account(any_factory, "Contoso", PHONE, TODAY, canceled_days_ago=None)
    view = verified(any_factory, staff, account, settings)
    view = send(any_factory, view, settings, NOW)
    [code] = inbox.codes()
    disable_agent(any_factory, "ana")  # dismissed; the desk is still open

    with pytest.raises(StepUpRefused, match="only the agent"):
        desk.try_code(any_factory, view.call_id, "ana", code, settings, NOW)
    with pytest.raises(StepUpRefused, match="only the agent"):
        desk.callback_shown(any_factory, view.call_id, "ana", settings, NOW)
    with pytest.raises(InputError, match="only the agent"):
        desk.submit_item(
            any_factory, view.call_id, "ana", Item.PHONE, {"value": PHONE}, settings, NOW
        )
    [sub] = view.subscriptions
    with pytest.raises(ActionRefused, match="only the agent"):
        desk.take_action(
            any_factory, view.call_id, "ana", sub.id, Action.AUTO_RENEW_OFF, (), settings, NOW
        )
    assert count(any_factory, CodeTry) == 0


# --- 4. Destinations: only what is on file, never more than masked -------------


def test_a_destination_key_names_only_an_active_admin_of_this_tenant(
    any_factory: sessionmaker[Session], staff: Staff, inbox: Inbox
) -> None:
    settings = mail_settings(inbox)
    account = make_account(any_factory, "Contoso", PHONE, TODAY, canceled_days_ago=None)
    other = make_account(any_factory, "Fabrikam", "+14255550111", TODAY)
    with unit_of_work(any_factory) as session:
        other_admin = session.scalars(
            select(AccountUser.id).where(AccountUser.tenant_id == other.tenant_id)
        ).one()
    removed = add_admin(any_factory, account.tenant_id, "gone@contoso.example", active=False)
    plain = add_admin(any_factory, account.tenant_id, "user@contoso.example")
    with unit_of_work(any_factory) as session:
        user = session.get(AccountUser, plain)
        assert user is not None
        user.is_admin = False
    view = verified(any_factory, staff, account, settings)
    assert view.possession is not None
    assert [d.masked for d in view.possession.destinations] == ["a•••@contoso.example"]

    for key in (
        f"email:{other_admin}",
        f"email:{removed}",
        f"email:{plain}",
        "email:attacker@evil.example",
        "sms:phone",  # no gateway configured: the phone is no destination
        "sms:+14255550199",
        "email:",
        "",
    ):
        with pytest.raises(StepUpRefused):
            send_as(any_factory, view.call_id, "ana", key, settings, NOW)
    assert inbox.messages == [] and count(any_factory, CodeSend) == 0


def test_a_code_sent_to_an_admin_removed_since_proves_nothing(
    any_factory: sessionmaker[Session], staff: Staff, inbox: Inbox
) -> None:
    settings = mail_settings(inbox)
    account = make_account(any_factory, "Contoso", PHONE, TODAY, canceled_days_ago=None)
    lee = add_admin(any_factory, account.tenant_id, "lee@contoso.example")
    view = verified(any_factory, staff, account, settings)
    view = send_as(any_factory, view.call_id, "ana", f"email:{lee}", settings, NOW)
    [code] = inbox.codes()
    with unit_of_work(any_factory) as session:  # a sync removes Lee meanwhile
        user = session.get(AccountUser, lee)
        assert user is not None
        user.active = False

    with pytest.raises(StepUpRefused, match="no longer on file"):
        desk.try_code(any_factory, view.call_id, "ana", code, settings, NOW + MINUTE)
    assert count(any_factory, CodeTry) == 0


def test_the_code_is_nowhere_in_the_database_file(
    factory: sessionmaker[Session], engine: Engine, inbox: Inbox
) -> None:
    staff = make_staff(factory)
    settings = mail_settings(inbox)
    account = make_account(factory, "Contoso", PHONE, TODAY, canceled_days_ago=None)
    view = verified(factory, staff, account, settings)
    view = send(factory, view, settings, NOW)
    view = send(factory, view, settings, NOW + MINUTE)
    first, code = inbox.codes()
    view = desk.try_code(factory, view.call_id, "ana", wrong(code), settings, NOW + MINUTE)
    view = desk.try_code(factory, view.call_id, "ana", code, settings, NOW + MINUTE)
    cancel_now(factory, view, settings, NOW + MINUTE)
    path = Path(engine.url.database or "")
    stored = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    for secret in {first, code, wrong(code)}:
        assert re.search(rb"(?<![0-9])" + secret.encode() + rb"(?![0-9])", stored) is None
    assert b"verification code" not in stored.lower()


# --- 5. Races between two desks of the call's agent ---------------------------


def _in_threads(*work: Callable[[], object]) -> list[object]:
    """Run each callable in its own thread; their results or exceptions, in order."""
    results: list[object] = [None] * len(work)

    def run(n: int) -> None:
        try:
            results[n] = work[n]()
        except Exception as exc:  # the test inspects what each raised
            results[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_two_sends_at_once_never_deliver_a_code_that_is_not_stored(
    any_factory: sessionmaker[Session], staff: Staff, gateway: Gateway
) -> None:
    settings = sms_settings(gateway)
    account = make_account(any_factory, "Contoso", PHONE, TODAY, canceled_days_ago=None)
    view = verified(any_factory, staff, account, settings)
    gateway.hold = threading.Event()
    outcome: list[object] = []

    def first() -> None:
        outcome.extend(_in_threads(lambda: send(any_factory, view, settings, NOW)))

    sender = threading.Thread(target=first)
    sender.start()
    assert gateway.arrived.acquire(timeout=30)  # the first code is on its way
    # The second desk sends while the gateway still holds the first.
    second = _in_threads(lambda: _send_released(gateway, any_factory, view, settings))
    sender.join(60)
    [first_result] = outcome
    assert isinstance(first_result, CallView)
    assert isinstance(second[0], StepUpRefused), second
    assert "resend possible" in second[0].message
    # Every code that reached the caller is stored, and the one received works.
    assert len(gateway.codes()) == count(any_factory, CodeSend) == 1
    view = desk.try_code(any_factory, view.call_id, "ana", gateway.codes()[0], settings, NOW)
    assert view.possession is not None and view.possession.proven == (Factor.CODE,)


def _send_released(
    gateway: Gateway, factory: sessionmaker[Session], view: CallView, settings: Settings
) -> object:
    """Send; if this send also reached the gateway, let both through first."""
    releaser = threading.Thread(target=_release_when_two_arrive, args=(gateway,))
    releaser.start()
    try:
        return send(factory, view, settings, NOW)
    finally:
        assert gateway.hold is not None
        gateway.hold.set()
        gateway.arrived.release()  # wakes the releaser when this send never reached it
        releaser.join(60)


def _release_when_two_arrive(gateway: Gateway) -> None:
    gateway.arrived.acquire(timeout=10)
    assert gateway.hold is not None
    gateway.hold.set()


@pytest.mark.postgres
def test_wrong_codes_racing_from_two_calls_do_not_pass_the_tenant_limit(
    pg_engine: Engine, pg_factory: sessionmaker[Session], inbox: Inbox
) -> None:
    staff = make_staff(pg_factory)
    set_limits(pg_factory, tenant_max_misses=1)
    settings = mail_settings(inbox)
    account = make_account(pg_factory, "Contoso", PHONE, TODAY, canceled_days_ago=None)
    calls = []
    for agent in (staff.agent, staff.agent2):
        view = desk.start_call(pg_factory, agent.id, agent.username, settings, NOW)
        for item, fields in stated(account).items():
            view = desk.submit_item(
                pg_factory, view.call_id, agent.username, item, fields, settings, NOW
            )
        assert view.possession is not None
        key = view.possession.destinations[0].key
        send_as(pg_factory, view.call_id, agent.username, key, settings, NOW)
        calls.append((view.call_id, agent.username))

    # Hold the tenant's row, so both tries are in flight before either commits.
    with pg_factory() as holder, holder.begin():
        holder.get(Tenant, account.tenant_id, with_for_update=True)
        tries = [
            (lambda c=call_id, a=actor: desk.try_code(pg_factory, c, a, "000000", settings, NOW))
            for call_id, actor in calls
        ]
        results: list[object] = []
        runner = threading.Thread(target=lambda: results.extend(_in_threads(*tries)))
        runner.start()
        _wait_for_lock_waits(pg_engine, 2)
    runner.join(60)
    assert count(pg_factory, CodeTry, matched=False) == 1
    assert sum(isinstance(r, StepUpRefused) for r in results) == 1, results


@pytest.mark.postgres
def test_wrong_items_racing_from_two_calls_do_not_pass_the_tenant_limit(
    pg_engine: Engine, pg_factory: sessionmaker[Session]
) -> None:
    staff = make_staff(pg_factory)
    set_limits(pg_factory, tenant_max_misses=1)
    settings = Settings(database_url="sqlite://")
    account = make_account(pg_factory, "Contoso", PHONE, TODAY, canceled_days_ago=None)
    calls = []
    for agent in (staff.agent, staff.agent2):
        view = desk.start_call(pg_factory, agent.id, agent.username, settings, NOW)
        user_id = {"value": account.user_id}
        desk.submit_item(
            pg_factory, view.call_id, agent.username, Item.USER_ID, user_id, settings, NOW
        )
        calls.append((view.call_id, agent.username))

    with pg_factory() as holder, holder.begin():
        holder.get(Tenant, account.tenant_id, with_for_update=True)
        guesses = [
            (
                lambda c=call_id, a=actor, p=phone: desk.submit_item(
                    pg_factory, c, a, Item.PHONE, {"value": p}, settings, NOW
                )
            )
            for (call_id, actor), phone in zip(calls, ("+14255550111", "+14255550112"), strict=True)
        ]
        results: list[object] = []
        runner = threading.Thread(target=lambda: results.extend(_in_threads(*guesses)))
        runner.start()
        _wait_for_lock_waits(pg_engine, 2)
    runner.join(60)
    with unit_of_work(pg_factory) as session:
        misses = session.scalar(
            select(func.count()).select_from(ItemCheck).where(ItemCheck.result == "mismatch")
        )
    assert misses == 1
    assert sum(isinstance(r, InputError) for r in results) == 1, results


@pytest.mark.postgres
def test_right_codes_racing_in_one_call_prove_once(
    pg_factory: sessionmaker[Session], inbox: Inbox
) -> None:
    staff = make_staff(pg_factory)
    settings = mail_settings(inbox)
    account = make_account(pg_factory, "Contoso", PHONE, TODAY, canceled_days_ago=None)
    view = verified(pg_factory, staff, account, settings)
    view = send(pg_factory, view, settings, NOW)
    [code] = inbox.codes()
    results = _in_threads(
        *[lambda: desk.try_code(pg_factory, view.call_id, "ana", code, settings, NOW)] * 4
    )
    assert sum(isinstance(r, CallView) for r in results) == 1, results
    assert count(pg_factory, CodeTry) == 1 and count(pg_factory, CodeTry, matched=True) == 1


def _wait_for_lock_waits(engine: Engine, expected: int) -> None:
    """Wait until ``expected`` sessions of this test's database wait on a row lock."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )
    pause = threading.Event()
    for _ in range(300):
        with engine.connect() as connection:
            if connection.execute(query).scalar_one() >= expected:
                return
        pause.wait(0.1)
    raise AssertionError(f"{expected} sessions never waited on the held row")


# --- 6. Tiers cannot be reached around ----------------------------------------


def test_the_combined_action_needs_what_expedited_needs(
    factory: sessionmaker[Session],
) -> None:
    staff = make_staff(factory)
    settings = Settings(database_url="sqlite://")
    account = make_account(
        factory, "Northwind", "+14255550122", TODAY, canceled_days_ago=None, pin=PIN
    )
    view = verified(factory, staff, account, settings, pin=PIN)
    [sub] = view.subscriptions
    [option] = [o for o in sub.decision.options if o.action is Action.CANCEL_NOW_WITH_EXPEDITED]
    with pytest.raises(ActionRefused, match="the PIN alone is not enough"):
        desk.take_action(
            factory, view.call_id, "ana", sub.id, option.action, option.checklist, settings, NOW
        )


# --- 7. A failed send tells nothing about the destination ---------------------


def test_a_failed_text_does_not_repeat_what_the_gateway_says(
    factory: sessionmaker[Session], gateway: Gateway
) -> None:
    staff = make_staff(factory)
    settings = sms_settings(gateway)
    account = make_account(factory, "Contoso", PHONE, TODAY, canceled_days_ago=None)
    view = verified(factory, staff, account, settings)
    gateway.fail_with, gateway.fail_reason = 400, f"The 'To' number {PHONE} is not reachable"
    with pytest.raises(StepUpRefused, match="HTTP 400") as caught:
        send(factory, view, settings, NOW)
    assert "5550100" not in caught.value.message and "reachable" not in caught.value.message


class _RefusingInbox(Inbox):
    """An SMTP server that refuses every recipient, quoting the address."""

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        return f"550 5.1.1 <{address}>: mailbox unavailable"


def test_a_refused_recipient_is_not_named(factory: sessionmaker[Session]) -> None:
    from aiosmtpd.controller import Controller

    staff = make_staff(factory)
    refusing = _RefusingInbox(port=free_port())
    controller = Controller(refusing, hostname="127.0.0.1", port=refusing.port)
    controller.start()
    try:
        settings = mail_settings(refusing)
        account = make_account(factory, "Contoso", PHONE, TODAY, canceled_days_ago=None)
        view = verified(factory, staff, account, settings)
        with pytest.raises(StepUpRefused, match="recipient refused") as caught:
            send(factory, view, settings, NOW)
    finally:
        controller.stop()
    assert "contoso" not in caught.value.message.lower()
    assert count(factory, CodeSend) == 0
