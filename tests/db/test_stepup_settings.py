"""Step-up settings and policy: the tiers and the cooling-off (the database's), the SMS gateway."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from db.policy import read_protection, set_policy
from db.settings import SettingsError, load_settings, sms_token
from verification.policy import Action
from verification.protection import PolicyError, Protection
from verification.tiers import Tier, tier_map

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def write(path: Path, body: str) -> str:
    path.write_text(body, encoding="utf-8")
    return str(path)


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path / "s.toml", ""), "sqlite://")
    assert settings.sms_base_url == "https://api.twilio.com"
    assert Protection().tiers == ()
    assert Protection().expedited_cooling_off_hours == 24


def test_sms_settings_are_read(tmp_path: Path) -> None:
    file = write(
        tmp_path / "s.toml",
        'sms_base_url = "http://127.0.0.1:9000"\nsms_account_sid = "AC1"\n'
        'sms_from = "+14255550199"\n',
    )
    settings = load_settings(file, "sqlite://")
    assert settings.sms_account_sid == "AC1"
    assert settings.sms_base_url == "http://127.0.0.1:9000"


def test_tiers_and_the_cooling_off_are_the_policys(factory: sessionmaker[Session]) -> None:
    set_policy(factory, "expedited_cooling_off_hours", "48", actor="test", now=NOW)
    set_policy(factory, "tier.auto_renew_off", "ends_service", actor="test", now=NOW)
    limits = read_protection(factory)
    assert limits.tiers == ((Action.AUTO_RENEW_OFF, Tier.ENDS_SERVICE),)
    assert tier_map(limits.tiers)[Action.AUTO_RENEW_OFF] is Tier.ENDS_SERVICE
    assert limits.expedited_cooling_off_hours == 48


@pytest.mark.parametrize(
    ("key", "value", "needle"),
    [
        ("tier.cancel_later", "reversible", "unknown action 'cancel_later'"),
        ("tier.cancel_now", "harmless", "unknown tier 'harmless' for cancel_now"),
        ("tier.expedited_deprovisioning", "reversible", "expedited_deprovisioning cannot be"),
        ("expedited_cooling_off_hours", "73", "from 1 to 72"),
        ("expedited_cooling_off_hours", "0", "from 1 to 72"),
        ("tenant_max_misses", "1000000", "from 1 to 1000"),
        ("max_misses", "3.5", "whole number"),
        ("max_mises", "3", "unknown policy key 'max_mises'"),
    ],
)
def test_bad_policy_values_are_refused_and_change_nothing(
    factory: sessionmaker[Session], key: str, value: str, needle: str
) -> None:
    with pytest.raises(PolicyError, match=needle):
        set_policy(factory, key, value, actor="test", now=NOW)
    assert read_protection(factory) == Protection()


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ('[tiers]\ncancel_now = "reversible"\n', "tiers in"),
        ("expedited_cooling_off_hours = 1\n", "expedited_cooling_off_hours in"),
        ('sms_base_url = "ftp://gw"\n', "sms_base_url"),
        ('sms_token = "x"\n', "sms_token_file or CALLGATE_SMS_TOKEN"),
    ],
)
def test_bad_step_up_settings_name_the_file(tmp_path: Path, body: str, needle: str) -> None:
    file = write(tmp_path / "bad.toml", body)
    with pytest.raises(SettingsError, match=needle) as caught:
        load_settings(file, "sqlite://")
    assert file in str(caught.value)


def test_the_sms_token_comes_from_env_or_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CALLGATE_SMS_TOKEN", raising=False)
    token_file = tmp_path / "token"
    token_file.write_text("tok-from-file\n", encoding="utf-8")
    settings = load_settings(
        write(tmp_path / "s.toml", f'sms_token_file = "{token_file}"\n'), "sqlite://"
    )
    assert sms_token(settings) == "tok-from-file"
    monkeypatch.setenv("CALLGATE_SMS_TOKEN", "tok-from-env")
    assert sms_token(settings) == "tok-from-env"
