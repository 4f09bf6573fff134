"""A sync during a verified call: what was judged against the old record no longer counts.

PRODUCT.md section 4 "Values that change under a call": a match or a proof
holds only for the on-file values it was judged against. Each test verifies
a call, runs ``accounts sync`` (``db.accounts.sync.sync_accounts``) changing
what the call relied on, and shows the action is refused and the desk says
why, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from db import desk
from db.accounts.importer import import_accounts
from db.accounts.sync import sync_accounts
from db.desk import ActionRefused, CallView, StepUpRefused, code_senders
from db.settings import Settings
from tests.db.test_import import row, stated_as_imported, write_csv
from tests.helpers.gateways import Gateway, sms_settings
from tests.helpers.review_data import Staff, make_staff
from verification.kinds import Item
from verification.policy import Action

Factory = sessionmaker[Session]
SETTINGS = Settings(database_url="sqlite://")
NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
PIN = "4321"
ANA = "ana.perez@contoso.com"
BEN = {"user_id": "ben@contoso.com", "display_name": "Ben", "is_admin": "false"}
STATED = stated_as_imported(ANA, "Contoso, Ltd.", "(425) 555-0100")
NEW_PHONE = {"phone": "(425) 555-0199"}


@pytest.fixture
def staff(any_factory: Factory) -> Staff:
    return make_staff(any_factory)


def _sync(factory: Factory, tmp_path: Path, rows: list[dict[str, str]], **kw: bool) -> None:
    assert sync_accounts(factory, write_csv(tmp_path / "sync.csv", rows), **kw).written


def _verified(
    factory: Factory, staff: Staff, tmp_path: Path, settings: Settings, pin: str | None = None
) -> CallView:
    """Contoso (T-1) imported with its admin Ana, a user Ben and an active subscription
    (``pin`` its support PIN); a call in which Ana gave every item (and that PIN)."""
    rows = [row(support_pin=pin or ""), row(**BEN, support_pin=pin or "")]
    assert import_accounts(factory, write_csv(tmp_path / "base.csv", rows)).written
    view = desk.start_call(factory, staff.agent.id, "ana", settings, NOW)
    answers = dict(STATED)
    if pin is not None:
        answers[Item.PIN] = {"value": pin}
    for item, fields in answers.items():
        view = desk.submit_item(factory, view.call_id, "ana", item, fields, settings, NOW)
    assert view.gate_open, view.gate_reasons
    return view


def _act(
    factory: Factory, view: CallView, action: Action, settings: Settings, at: datetime
) -> CallView:
    [sub] = view.subscriptions
    [option] = [o for o in sub.decision.options if o.action is action]
    return desk.take_action(
        factory, view.call_id, "ana", sub.id, action, option.checklist, settings, at
    )


def _reason(view: CallView, text: str) -> bool:
    return not view.gate_open and any(text in reason for reason in view.gate_reasons)


@pytest.mark.parametrize(
    "synced",
    [
        pytest.param({"remove_missing": True}, id="removed"),
        pytest.param({"moved": True}, id="moved"),
    ],
)
def test_a_caller_removed_or_moved_by_a_sync_closes_the_gate(
    any_factory: Factory, staff: Staff, tmp_path: Path, synced: dict[str, bool]
) -> None:
    view = _verified(any_factory, staff, tmp_path, SETTINGS)
    if synced.get("moved"):
        # Ana now belongs to another tenant; Contoso keeps Ben.
        other = row(tenant_ref="T-2", organization="Fabrikam", domains="")
        _sync(any_factory, tmp_path, [other, row(**BEN)])
    else:
        _sync(any_factory, tmp_path, [row(**BEN)], remove_missing=True)

    with pytest.raises(ActionRefused, match="user ID on file changed"):
        _act(any_factory, view, Action.AUTO_RENEW_OFF, SETTINGS, NOW + MINUTE)
    now = desk.load_call(any_factory, view.call_id, SETTINGS, NOW + MINUTE)
    assert _reason(now, "the user ID on file changed since it was matched")
    assert now.subscriptions == ()
    # Naming another account of the tenant in the caller's place is a miss, not a new caller.
    after = desk.submit_item(
        any_factory, view.call_id, "ana", Item.USER_ID, {"value": BEN["user_id"]}, SETTINGS,
        NOW + MINUTE,
    )  # fmt: skip
    assert after.misses_left == now.misses_left - 1 and not after.gate_open


def test_a_new_pin_synced_voids_the_pin_matched_before(
    any_factory: Factory, staff: Staff, tmp_path: Path
) -> None:
    view = _verified(any_factory, staff, tmp_path, SETTINGS, pin=PIN)
    _sync(any_factory, tmp_path, [row(support_pin="9876"), row(**BEN, support_pin="9876")])

    with pytest.raises(ActionRefused, match="PIN on file changed"):
        _act(any_factory, view, Action.CANCEL_NOW, SETTINGS, NOW + MINUTE)
    # The agent asks the PIN again: the old one misses, the new one opens the gate.
    at = NOW + 2 * MINUTE
    view = desk.submit_item(
        any_factory, view.call_id, "ana", Item.PIN, {"value": PIN}, SETTINGS, at
    )
    assert not view.gate_open
    view = desk.submit_item(
        any_factory, view.call_id, "ana", Item.PIN, {"value": "9876"}, SETTINGS, at
    )
    assert view.gate_open, view.gate_reasons
    _act(any_factory, view, Action.CANCEL_NOW, SETTINGS, at)


def test_an_unchanged_pin_in_a_sync_keeps_the_match(
    any_factory: Factory, staff: Staff, tmp_path: Path
) -> None:
    view = _verified(any_factory, staff, tmp_path, SETTINGS, pin=PIN)
    _sync(
        any_factory,
        tmp_path,
        [row(support_pin=PIN, display_name="Ana P."), row(**BEN, support_pin=PIN)],
    )
    _act(any_factory, view, Action.CANCEL_NOW, SETTINGS, NOW + MINUTE)


def _ask_phone_again(
    factory: Factory, view: CallView, settings: Settings, at: datetime
) -> CallView:
    fields = {"value": NEW_PHONE["phone"]}
    view = desk.submit_item(factory, view.call_id, "ana", Item.PHONE, fields, settings, at)
    assert view.gate_open, view.gate_reasons
    return view


def _text_code(factory: Factory, view: CallView, settings: Settings, at: datetime) -> None:
    """Ana's call texts a code to the phone on file."""
    senders = code_senders(settings)
    try:
        desk.send_code(factory, view.call_id, "ana", "sms:phone", settings, at, senders)
    finally:
        senders.close()


def test_a_code_texted_to_the_old_phone_is_refused_after_a_sync(
    any_factory: Factory, staff: Staff, tmp_path: Path, gateway: Gateway
) -> None:
    settings = sms_settings(gateway)
    view = _verified(any_factory, staff, tmp_path, settings)
    _text_code(any_factory, view, settings, NOW + MINUTE)
    [code] = gateway.codes()
    _sync(any_factory, tmp_path, [row(**NEW_PHONE), row(**BEN, **NEW_PHONE)])

    closed = desk.load_call(any_factory, view.call_id, settings, NOW + 2 * MINUTE)
    assert _reason(closed, "the phone number on file changed since it was matched")
    with pytest.raises(StepUpRefused, match="gate is closed"):
        desk.try_code(any_factory, view.call_id, "ana", code, settings, NOW + 2 * MINUTE)
    view = _ask_phone_again(any_factory, closed, settings, NOW + 3 * MINUTE)
    assert view.possession is not None and "changed" in view.possession.changed
    with pytest.raises(StepUpRefused, match="no longer on file"):
        desk.try_code(any_factory, view.call_id, "ana", code, settings, NOW + 3 * MINUTE)
    with pytest.raises(ActionRefused, match="needs"):
        _act(any_factory, view, Action.CANCEL_NOW, settings, NOW + 3 * MINUTE)


def test_a_code_proven_on_the_old_phone_no_longer_counts(
    any_factory: Factory, staff: Staff, tmp_path: Path, gateway: Gateway
) -> None:
    settings = sms_settings(gateway)
    view = _verified(any_factory, staff, tmp_path, settings)
    _text_code(any_factory, view, settings, NOW)
    [code] = gateway.codes()
    view = desk.try_code(any_factory, view.call_id, "ana", code, settings, NOW + MINUTE)
    assert view.possession is not None and view.possession.proven
    _sync(any_factory, tmp_path, [row(**NEW_PHONE), row(**BEN, **NEW_PHONE)])
    view = _ask_phone_again(any_factory, view, settings, NOW + 2 * MINUTE)
    assert view.possession is not None and view.possession.proven == ()
    with pytest.raises(ActionRefused, match="needs"):
        _act(any_factory, view, Action.CANCEL_NOW, settings, NOW + 2 * MINUTE)
    # A new code to the number on file now proves it again.
    assert view.possession.send_refusal is None
    _text_code(any_factory, view, settings, NOW + 3 * MINUTE)
    new_code = gateway.codes()[-1]
    view = desk.try_code(any_factory, view.call_id, "ana", new_code, settings, NOW + 3 * MINUTE)
    _act(any_factory, view, Action.CANCEL_NOW, settings, NOW + 3 * MINUTE)


def test_a_callback_to_the_old_number_proves_nothing_after_a_sync(
    any_factory: Factory, staff: Staff, tmp_path: Path
) -> None:
    view = _verified(any_factory, staff, tmp_path, SETTINGS)
    shown = desk.callback_shown(any_factory, view.call_id, "ana", SETTINGS, NOW + MINUTE)
    assert shown.number.endswith("555-0100")
    _sync(any_factory, tmp_path, [row(**NEW_PHONE), row(**BEN, **NEW_PHONE)])

    at = NOW + 2 * MINUTE
    with pytest.raises(StepUpRefused, match="gate is closed"):
        desk.callback_result(
            any_factory, view.call_id, "ana", shown.callback_id, True, SETTINGS, at
        )
    view = _ask_phone_again(any_factory, view, SETTINGS, NOW + 3 * MINUTE)
    # Recorded once the gate is open again, the answer on the old number proves nothing.
    view = desk.callback_result(
        any_factory, view.call_id, "ana", shown.callback_id, True, SETTINGS, NOW + 3 * MINUTE
    )
    assert view.possession is not None and view.possession.proven == ()
    assert "changed" in view.possession.changed
    with pytest.raises(ActionRefused, match="needs"):
        _act(any_factory, view, Action.CANCEL_NOW, SETTINGS, NOW + 3 * MINUTE)
    again = desk.callback_shown(any_factory, view.call_id, "ana", SETTINGS, NOW + 4 * MINUTE)
    assert again.number.endswith("555-0199")
    view = desk.callback_result(
        any_factory, view.call_id, "ana", again.callback_id, True, SETTINGS, NOW + 4 * MINUTE
    )
    _act(any_factory, view, Action.CANCEL_NOW, SETTINGS, NOW + 4 * MINUTE)


def test_a_callback_answered_before_the_sync_proves_nothing_after_it(
    any_factory: Factory, staff: Staff, tmp_path: Path
) -> None:
    view = _verified(any_factory, staff, tmp_path, SETTINGS)
    shown = desk.callback_shown(any_factory, view.call_id, "ana", SETTINGS, NOW)
    desk.callback_result(any_factory, view.call_id, "ana", shown.callback_id, True, SETTINGS, NOW)
    _sync(any_factory, tmp_path, [row(**NEW_PHONE), row(**BEN, **NEW_PHONE)])
    with pytest.raises(ActionRefused, match="phone number on file changed"):
        _act(any_factory, view, Action.CANCEL_NOW, SETTINGS, NOW + MINUTE)
    view = _ask_phone_again(any_factory, view, SETTINGS, NOW + 2 * MINUTE)
    with pytest.raises(ActionRefused, match="needs"):
        _act(any_factory, view, Action.CANCEL_NOW, SETTINGS, NOW + 2 * MINUTE)
