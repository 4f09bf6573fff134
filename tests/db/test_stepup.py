"""Proof of possession at the desk, against real servers: codes, callbacks, the tier gate.

Codes go out through an aiosmtpd server and an SMS gateway on loopback
(``tests/helpers/gateways.py``); the tests read them back as a caller would.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from db import desk
from db.desk import ActionRefused, CallView, StepUpRefused, code_senders
from db.engine import unit_of_work
from db.models import AuditEvent, Call, CodeSend, CodeTry, Tenant
from db.settings import Settings
from tests.helpers.gateways import FROM_NUMBER, Gateway, Inbox, sms_settings
from tests.helpers.review_data import Account, Staff, make_account, make_staff, stated
from verification.errors import InputError
from verification.kinds import CallState, Item, Outcome
from verification.policy import Action
from verification.tiers import Factor

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
TODAY = NOW.astimezone().date()
PHONE = "+14255550100"
PIN = "4321"


def mail_settings(inbox: Inbox, **changes: object) -> Settings:
    """Codes by e-mail through the loopback SMTP server."""
    base = Settings(
        database_url="sqlite://",
        smtp_host="127.0.0.1",
        smtp_port=inbox.port,
        smtp_tls="none",
        smtp_from="callgate@desk.example",
        delivery_timeout_seconds=5,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def verified(
    factory: sessionmaker[Session],
    staff: Staff,
    account: Account,
    settings: Settings,
    now: datetime = NOW,
    pin: str | None = None,
) -> CallView:
    """A call in which the account's admin gave the six items (and the PIN, if any)."""
    agent = staff.agent
    view = desk.start_call(factory, agent.id, agent.username, settings, now)
    answers = stated(account)
    if pin is not None:
        answers[Item.PIN] = {"value": pin}
    for item, fields in answers.items():
        view = desk.submit_item(factory, view.call_id, agent.username, item, fields, settings, now)
    assert view.gate_open, view.gate_reasons
    return view


def send(factory, view: CallView, settings: Settings, key: str, now: datetime = NOW) -> CallView:
    senders = code_senders(settings)
    try:
        return desk.send_code(factory, view.call_id, "ana", key, settings, now, senders)
    finally:
        senders.close()


def cancel_now(factory, view: CallView, settings: Settings, now: datetime = NOW) -> CallView:
    [sub] = view.subscriptions
    [option] = [o for o in sub.decision.options if o.action is Action.CANCEL_NOW]
    return desk.take_action(
        factory, view.call_id, "ana", sub.id, Action.CANCEL_NOW, option.checklist, settings, now
    )


def events(factory: sessionmaker[Session], kind: str) -> list[dict[str, object]]:
    with unit_of_work(factory) as session:
        rows = session.scalars(select(AuditEvent.payload).where(AuditEvent.type == kind))
        return [json.loads(row) for row in rows]


# Where a contact may be stored: the record on file and what the caller stated for its item.
CONTACT_HOMES = {
    ("account_user", "user_id"),
    ("tenant", "phone_e164"),
    ("item_check", "stated"),
    ("item_check", "normalized"),
    ("item_check", "on_file"),
}


def every_value(factory: sessionmaker[Session]) -> list[tuple[str, str, str]]:
    """(table, column, text) of every stored value, for the blind greps."""
    found = []
    with unit_of_work(factory) as session:
        for table in inspect(session.get_bind()).get_table_names():
            for row in session.execute(text(f'SELECT * FROM "{table}"')).mappings():
                found.extend((table, column, str(value)) for column, value in row.items())
    return found


@pytest.fixture
def staff(any_factory: sessionmaker[Session]) -> Staff:
    return make_staff(any_factory)


def test_cancel_now_with_only_the_six_items_is_refused_then_done_after_a_code(
    any_factory: sessionmaker[Session], staff: Staff, inbox: Inbox
) -> None:
    settings = mail_settings(inbox)
    account = make_account(any_factory, "Contoso", PHONE, TODAY, canceled_days_ago=None)
    view = verified(any_factory, staff, account, settings)
    [sub] = view.subscriptions
    renew, cancel = sub.step_up(Action.AUTO_RENEW_OFF), sub.step_up(Action.CANCEL_NOW)
    assert renew is not None and not renew.needs_factor
    assert cancel is not None and cancel.missing == "cancel now needs a code or a callback"
    with pytest.raises(ActionRefused, match=r"^cancel now needs a code or a callback$"):
        cancel_now(any_factory, view, settings)

    assert view.possession is not None
    [destination] = view.possession.destinations
    assert destination.masked == "a•••@contoso.example"
    assert desk.code_destinations(any_factory, view.call_id, "ana", settings, NOW) == (destination,)
    view = send(any_factory, view, settings, destination.key)
    [(_sender, to, message)] = inbox.messages
    assert to == [account.user_id] and message["Subject"] == "Your verification code"
    [code] = inbox.codes()
    assert view.possession is not None and view.possession.code_words == (
        "code sent to a•••@contoso.example",
        "5 tries left",
        "resend possible in 30 s",
    )

    view = desk.try_code(any_factory, view.call_id, "ana", f"{code[:3]} {code[3:]}", settings, NOW)
    assert view.possession is not None and view.possession.proven == (Factor.CODE,)
    view = cancel_now(any_factory, view, settings)
    assert view.subscriptions[0].status.value == "canceled"

    assert [e["result"] for e in events(any_factory, "code.tried")] == ["match"]
    [sent] = events(any_factory, "code.sent")
    assert set(sent) == {"call_id", "send_id", "channel", "account_user_id"}
    # The blind rule: the code nowhere but as its hash; the address only in its own row.
    for table, column, value in every_value(any_factory):
        if (table, column) != ("code_send", "code_hash"):
            assert code not in value, (table, column)
        if (table, column) not in CONTACT_HOMES:
            assert account.user_id not in value, (table, column)


def test_a_wrong_code_is_a_miss_of_the_call_and_of_the_tenant(
    any_factory: sessionmaker[Session], staff: Staff, inbox: Inbox
) -> None:
    settings = mail_settings(inbox)
    account = make_account(any_factory, "Contoso", PHONE, TODAY, canceled_days_ago=None)
    view = verified(any_factory, staff, account, settings)
    assert view.possession is not None
    view = send(any_factory, view, settings, view.possession.destinations[0].key)
    [code] = inbox.codes()
    wrong = f"{(int(code) + 1) % 10**6:06d}"

    with pytest.raises(InputError, match="6 digits"):
        desk.try_code(any_factory, view.call_id, "ana", "12345", settings, NOW)
    for n in range(1, 4):
        view = desk.try_code(any_factory, view.call_id, "ana", wrong, settings, NOW)
        assert view.misses_left == 3 - n and not view.locked
    view = desk.try_code(any_factory, view.call_id, "ana", wrong, settings, NOW)
    assert view.locked and view.state is CallState.LOCKED
    with pytest.raises(StepUpRefused, match="locked"):
        desk.try_code(any_factory, view.call_id, "ana", code, settings, NOW)
    assert [e["result"] for e in events(any_factory, "code.tried")] == ["mismatch"] * 4
    assert len(events(any_factory, "call.locked")) == 1
    desk.end_call(any_factory, view.call_id, "ana", Outcome.VERIFICATION_FAILED, "", NOW)

    # Calling again buys no new guesses: the fifth miss within the day locks the tenant.
    later = NOW + timedelta(minutes=5)
    second = verified(any_factory, staff, account, settings, later)
    assert second.possession is not None
    second = send(any_factory, second, settings, second.possession.destinations[0].key, later)
    new_code = inbox.codes()[-1]
    desk.try_code(
        any_factory, second.call_id, "ana", f"{(int(new_code) + 1) % 10**6:06d}", settings, later
    )
    with unit_of_work(any_factory) as session:
        tenant = session.get(Tenant, account.tenant_id)
        assert tenant is not None and tenant.locked_at == later
        call = session.get(Call, second.call_id)
        assert call is not None and call.misses == 1
        assert session.query(CodeTry).count() == 5
    assert [e.get("cause") for e in events(any_factory, "tenant.locked")] == ["misses"]


def test_resends_wait_30_seconds_and_stop_after_three(
    factory: sessionmaker[Session], inbox: Inbox
) -> None:
    staff = make_staff(factory)
    settings = mail_settings(inbox)
    account = make_account(factory, "Contoso", PHONE, TODAY, canceled_days_ago=None)
    view = verified(factory, staff, account, settings)
    assert view.possession is not None
    key = view.possession.destinations[0].key
    view = send(factory, view, settings, key)
    with pytest.raises(StepUpRefused, match="resend possible in 20 s"):
        send(factory, view, settings, key, NOW + timedelta(seconds=10))
    for n in range(1, 4):
        view = send(factory, view, settings, key, NOW + timedelta(seconds=30 * n))
    with pytest.raises(StepUpRefused, match="already resent 3 times — offer the callback"):
        send(factory, view, settings, key, NOW + timedelta(minutes=5))
    assert len(inbox.messages) == 4 and len(events(factory, "code.sent")) == 4
    # Only the latest code is valid.
    at = NOW + timedelta(seconds=100)
    view = desk.try_code(factory, view.call_id, "ana", inbox.codes()[-1], settings, at)
    assert view.possession is not None and Factor.CODE in view.possession.proven


def test_a_failed_send_says_so_and_costs_nothing(
    factory: sessionmaker[Session], gateway: Gateway
) -> None:
    staff = make_staff(factory)
    settings = sms_settings(gateway)
    account = make_account(factory, "Contoso", PHONE, TODAY, canceled_days_ago=None)
    view = verified(factory, staff, account, settings)
    assert view.possession is not None
    [phone] = view.possession.destinations
    assert (phone.channel.value, phone.masked) == ("sms", "•••0100")

    gateway.fail_with = 503
    with pytest.raises(StepUpRefused, match=r"not sent .*HTTP 503.*nothing counted") as caught:
        send(factory, view, settings, phone.key)
    assert PHONE not in caught.value.message
    with unit_of_work(factory) as session:
        assert session.query(CodeSend).count() == 0
    assert events(factory, "code.send_failed") == [
        {"call_id": view.call_id, "channel": "sms", "account_user_id": None}
    ]

    # Nothing counted: no resend wait, no miss.
    gateway.fail_with = None
    view = send(factory, view, settings, phone.key)
    assert view.misses_left == 3
    [form] = gateway.received
    assert form["To"] == [PHONE] and form["From"] == [FROM_NUMBER]
    view = desk.try_code(factory, view.call_id, "ana", gateway.codes()[0], settings, NOW)
    cancel_now(factory, view, settings)


def test_an_unreachable_smtp_server_is_one_line_and_no_miss(factory: sessionmaker[Session]) -> None:
    staff = make_staff(factory)
    from tests.helpers.gateways import free_port

    settings = mail_settings(Inbox(port=free_port()))
    account = make_account(factory, "Contoso", PHONE, TODAY, canceled_days_ago=None)
    view = verified(factory, staff, account, settings)
    assert view.possession is not None
    with pytest.raises(StepUpRefused, match="cannot reach SMTP") as caught:
        send(factory, view, settings, view.possession.destinations[0].key)
    assert "\n" not in caught.value.message and account.user_id not in caught.value.message
    assert desk.load_call(factory, view.call_id, settings, NOW).misses_left == 3


def test_the_callback_shows_the_number_once_and_an_answer_proves_possession(
    any_factory: sessionmaker[Session], staff: Staff
) -> None:
    settings = Settings(database_url="sqlite://")
    account = make_account(any_factory, "Contoso", PHONE, TODAY, canceled_days_ago=None)
    view = verified(any_factory, staff, account, settings)
    assert view.possession is not None
    assert view.possession.destinations == ()
    assert view.possession.no_sender == (
        "no code can be sent (no SMTP server or SMS gateway configured): cancel now, "
        "expedited deprovisioning, cancel now with expedited deprovisioning only with the callback"
    )

    shown = desk.callback_shown(any_factory, view.call_id, "ana", settings, NOW)
    assert shown.number == "+1 425-555-0100"
    view = desk.callback_result(
        any_factory, view.call_id, "ana", shown.callback_id, False, settings, NOW
    )
    with pytest.raises(ActionRefused, match="needs a code or a callback"):
        cancel_now(any_factory, view, settings)

    again = desk.callback_shown(any_factory, view.call_id, "ana", settings, NOW)
    view = desk.callback_result(
        any_factory, view.call_id, "ana", again.callback_id, True, settings, NOW
    )
    assert view.possession is not None and view.possession.proven == (Factor.CALLBACK,)
    with pytest.raises(StepUpRefused, match="no callback"):
        desk.callback_result(
            any_factory, view.call_id, "ana", again.callback_id, True, settings, NOW
        )
    cancel_now(any_factory, view, settings)

    assert events(any_factory, "callback.shown") == [
        {"call_id": view.call_id, "callback_id": shown.callback_id},
        {"call_id": view.call_id, "callback_id": again.callback_id},
    ]
    assert [e["answered"] for e in events(any_factory, "callback.recorded")] == [False, True]
    for table, column, value in every_value(any_factory):
        if (table, column) not in CONTACT_HOMES:
            assert "555-0100" not in value and "5550100" not in value, (table, column)


def test_expedited_refuses_the_pin_alone_and_cancel_now_takes_it(
    factory: sessionmaker[Session],
) -> None:
    staff = make_staff(factory)
    settings = Settings(database_url="sqlite://")
    kept = make_account(factory, "Fabrikam", "+14255550111", TODAY, pin=PIN)
    view = verified(factory, staff, kept, settings, pin=PIN)
    [sub] = view.subscriptions
    [option] = [o for o in sub.decision.options if o.action is Action.EXPEDITED_DEPROVISIONING]
    expedite = sub.step_up(Action.EXPEDITED_DEPROVISIONING)
    missing = "expedited deprovisioning needs a code or a callback — the PIN alone is not enough"
    assert expedite is not None and expedite.missing == missing
    with pytest.raises(ActionRefused, match=missing):
        desk.take_action(
            factory, view.call_id, "ana", sub.id, option.action, option.checklist, settings, NOW
        )
    desk.end_call(factory, view.call_id, "ana", Outcome.INFORMED, "", NOW)

    active = make_account(
        factory, "Northwind", "+14255550122", TODAY, canceled_days_ago=None, pin=PIN
    )
    view = verified(factory, staff, active, settings, pin=PIN)
    assert view.possession is not None and view.possession.proven == (Factor.PIN,)
    cancel = view.subscriptions[0].step_up(Action.CANCEL_NOW)
    assert cancel is not None and not cancel.needs_factor
    cancel_now(factory, view, settings)


def test_codes_and_callbacks_need_the_open_gate_and_the_calls_agent(
    factory: sessionmaker[Session], inbox: Inbox
) -> None:
    staff = make_staff(factory)
    settings = mail_settings(inbox)
    account = make_account(factory, "Contoso", PHONE, TODAY, canceled_days_ago=None)
    view = desk.start_call(factory, staff.agent.id, "ana", settings, NOW)
    with pytest.raises(StepUpRefused, match="gate is closed"):
        desk.callback_shown(factory, view.call_id, "ana", settings, NOW)
    view = verified(factory, staff, account, settings)
    with pytest.raises(StepUpRefused, match="only the agent"):
        desk.callback_shown(factory, view.call_id, "bo", settings, NOW)
    with pytest.raises(StepUpRefused, match="not on file"):
        send(factory, view, settings, "email:999")
    assert inbox.messages == [] and events(factory, "callback.shown") == []
