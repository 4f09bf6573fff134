"""Delivery settings: URLs and SMTP from the file; secrets only from the environment or a file."""

from __future__ import annotations

from pathlib import Path

import pytest

from db.settings import SettingsError, load_settings, smtp_password, webhook_secret


@pytest.fixture(autouse=True)
def no_secrets_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CALLGATE_WEBHOOK_SECRET", raising=False)
    monkeypatch.delenv("CALLGATE_SMTP_PASSWORD", raising=False)


def write(path: Path, body: str) -> Path:
    path.write_text(body, encoding="utf-8")
    return path


def test_delivery_settings_are_read_from_the_file(tmp_path: Path) -> None:
    file = write(
        tmp_path / "s.toml",
        'webhook_urls = ["https://billing.example/hooks/callgate", "http://127.0.0.1:8080/"]\n'
        "delivery_max_attempts = 4\n"
        'smtp_host = "mail.example"\nsmtp_port = 465\nsmtp_tls = "ssl"\n'
        'smtp_user = "desk"\nsmtp_from = "desk@example.com"\n',
    )
    settings = load_settings(str(file), "sqlite://")
    assert settings.webhook_urls == (
        "https://billing.example/hooks/callgate",
        "http://127.0.0.1:8080/",
    )
    assert (settings.delivery_max_attempts, settings.smtp_port, settings.smtp_tls) == (
        4,
        465,
        "ssl",
    )
    assert (settings.smtp_user, settings.smtp_from) == ("desk", "desk@example.com")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            'webhook_secret = "whsec_1"\n',
            "webhook_secret cannot be written in .*CALLGATE_WEBHOOK_SECRET",
        ),
        ('smtp_password = "pw"\n', "smtp_password cannot be written in .*CALLGATE_SMTP_PASSWORD"),
        ('webhook_urls = "https://one.example"\n', "must be a list of strings"),
        ('webhook_urls = ["billing.example/hook"]\n', "must be http\\(s\\) URLs"),
        ('smtp_tls = "tls"\n', "smtp_tls .* must be one of starttls, ssl, none"),
    ],
)
def test_secrets_in_the_file_and_bad_values_are_refused(
    tmp_path: Path, body: str, reason: str
) -> None:
    file = write(tmp_path / "bad.toml", body)
    with pytest.raises(SettingsError, match=reason):
        load_settings(str(file), "sqlite://")


def test_secrets_come_from_the_environment_before_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "hook.secret", "from-file\n")
    write(tmp_path / "smtp.secret", "pw-from-file")
    file = write(
        tmp_path / "s.toml",
        f'webhook_secret_file = "{tmp_path / "hook.secret"}"\n'
        f'smtp_password_file = "{tmp_path / "smtp.secret"}"\n',
    )
    settings = load_settings(str(file), "sqlite://")
    assert (webhook_secret(settings), smtp_password(settings)) == ("from-file", "pw-from-file")
    monkeypatch.setenv("CALLGATE_WEBHOOK_SECRET", "from-env")
    monkeypatch.setenv("CALLGATE_SMTP_PASSWORD", "pw-from-env")
    assert (webhook_secret(settings), smtp_password(settings)) == ("from-env", "pw-from-env")
    assert "from-env" not in repr(settings) and "from-file" not in repr(settings)


def test_an_unreadable_secret_file_is_one_clear_error(tmp_path: Path) -> None:
    file = write(tmp_path / "s.toml", f'webhook_secret_file = "{tmp_path / "missing"}"\n')
    settings = load_settings(str(file), "sqlite://")
    with pytest.raises(SettingsError, match=f"cannot read secret file {tmp_path / 'missing'}"):
        webhook_secret(settings)
