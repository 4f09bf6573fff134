"""The limits that protect customers are the database's (PRODUCT.md section 8).

``callgate policy set`` writes them, audited with the old and new value;
every desk reads them at its next unit of work, so a desk already running
follows a change; a settings file that names one is refused. On SQLite and
on a real PostgreSQL server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from db.audit.chain import verify_chain
from db.models import AuditEvent, PolicySetting
from db.policy import policy_lines, read_protection, set_policy
from db.settings import SettingsError, load_settings
from tests.helpers.policy import DEFAULTS
from tests.helpers.review_data import make_account, make_staff, missed_call
from verification.protection import PolicyError, Protection

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
TODAY = NOW.astimezone().date()
WRONG_PHONES = [f"+1425555019{n}" for n in range(10)]


def test_a_change_is_audited_with_the_old_and_new_value(any_factory) -> None:
    set_policy(any_factory, "tenant_max_misses", " 4 ", actor="operator:ops", now=NOW)
    set_policy(any_factory, "tenant_max_misses", "3", actor="operator:ops", now=NOW)
    with any_factory() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.type == "policy.set").order_by(AuditEvent.seq)
        ).all()
        row = session.get(PolicySetting, "tenant_max_misses")
    assert [(e.actor, json.loads(e.payload)) for e in events] == [
        ("operator:ops", {"key": "tenant_max_misses", "old": "5", "new": "4"}),
        ("operator:ops", {"key": "tenant_max_misses", "old": "4", "new": "3"}),
    ]
    assert row is not None and (row.value, row.set_by) == ("3", "operator:ops")
    assert read_protection(any_factory).tenant_max_misses == 3
    assert verify_chain(any_factory.kw["bind"]).ok


def test_show_lists_every_key_with_its_default_and_who_set_it(factory) -> None:
    set_policy(factory, "tier.cancel_now", "destroys_data", actor="operator:ops", now=NOW)
    lines = {line.key: line for line in policy_lines(factory)}
    assert set(lines) >= {"max_misses", "tenant_max_misses", "tier.cancel_now"}
    assert (lines["tier.cancel_now"].value, lines["tier.cancel_now"].default) == (
        "destroys_data",
        "ends_service",
    )
    assert lines["tier.cancel_now"].set_by == "operator:ops"
    assert lines["max_misses"].set_by is None and lines["max_misses"].value == "3"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("tenant_max_misses", "1000000"),
        ("max_misses", "100000"),
        ("expedited_cooling_off_hours", "0"),
        ("tier.cancel_now", "reversible"),
        ("tier.expedited_deprovisioning", "ends_service"),
    ],
)
def test_values_that_would_lift_a_protection_are_refused(factory, key, value) -> None:
    with pytest.raises(PolicyError):
        set_policy(factory, key, value, actor="operator:ops", now=NOW)
    assert read_protection(factory) == Protection()


def test_a_row_written_around_the_command_cannot_lift_a_limit(factory) -> None:
    """Only values the command would accept count: a hostile row keeps the default."""
    with factory() as session, session.begin():
        session.add(PolicySetting(key="tenant_max_misses", value="1000000", set_by="x", set_at=NOW))
        session.add(
            PolicySetting(key="tier.cancel_now", value="reversible", set_by="x", set_at=NOW)
        )
    assert read_protection(factory) == Protection()


def test_a_settings_file_naming_a_limit_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "settings.toml"
    file.write_text("tenant_max_misses = 1000000\n", encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load_settings(str(file), "sqlite://")
    message = str(caught.value)
    assert str(file) in message and "tenant_max_misses" in message
    assert "callgate policy set tenant_max_misses" in message


def test_a_running_desk_follows_policy_set_at_its_next_check(any_factory, tmp_path) -> None:
    """``callgate policy set tenant_max_misses 4`` from a shell reaches a desk already open."""
    staff = make_staff(any_factory)
    account = make_account(any_factory, "Contoso", "+14255550100", TODAY, canceled_days_ago=None)
    at = NOW
    for phone in WRONG_PHONES[:3]:
        at += timedelta(minutes=10)
        assert not missed_call(any_factory, staff.agent, account, at, phone=phone).tenant_locked
    url = any_factory.kw["bind"].url.render_as_string(hide_password=False)
    empty = tmp_path / "settings.toml"
    empty.write_text("", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "tui.cli", "--db", url, "policy", "set", "tenant_max_misses", "4"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "CALLGATE_SETTINGS": str(empty)},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "tenant_max_misses: 5 -> 4" in done.stdout
    # The fourth miss now locks the tenant; on the default it would take a fifth.
    assert DEFAULTS.tenant_max_misses == 5
    at += timedelta(minutes=10)
    assert missed_call(any_factory, staff.agent, account, at, phone=WRONG_PHONES[3]).tenant_locked
