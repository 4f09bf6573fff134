"""Step-up settings: the [tiers] table, the cooling-off, the SMS gateway and its token."""

from __future__ import annotations

from pathlib import Path

import pytest

from db.settings import SettingsError, load_settings, sms_token
from verification.policy import Action
from verification.tiers import Tier, tier_map


def write(path: Path, body: str) -> str:
    path.write_text(body, encoding="utf-8")
    return str(path)


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path / "s.toml", ""), "sqlite://")
    assert settings.tiers == ()
    assert settings.expedited_cooling_off_hours == 24
    assert settings.sms_base_url == "https://api.twilio.com"


def test_tiers_and_sms_are_read(tmp_path: Path) -> None:
    file = write(
        tmp_path / "s.toml",
        "expedited_cooling_off_hours = 48\n"
        'sms_base_url = "http://127.0.0.1:9000"\nsms_account_sid = "AC1"\n'
        'sms_from = "+14255550199"\n'
        '[tiers]\nauto_renew_off = "ends_service"\n',
    )
    settings = load_settings(file, "sqlite://")
    assert settings.tiers == ((Action.AUTO_RENEW_OFF, Tier.ENDS_SERVICE),)
    assert tier_map(settings.tiers)[Action.AUTO_RENEW_OFF] is Tier.ENDS_SERVICE
    assert (settings.expedited_cooling_off_hours, settings.sms_account_sid) == (48, "AC1")
    assert settings.sms_base_url == "http://127.0.0.1:9000"


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ('[tiers]\ncancel_later = "reversible"\n', "unknown action 'cancel_later'"),
        ('[tiers]\ncancel_now = "harmless"\n', "unknown tier 'harmless' for cancel_now"),
        ('tiers = "reversible"\n', "must be a table"),
        (
            '[tiers]\nexpedited_deprovisioning = "reversible"\n',
            "expedited_deprovisioning cannot be reversible",
        ),
        ("expedited_cooling_off_hours = 73\n", "between 1 and 72"),
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
