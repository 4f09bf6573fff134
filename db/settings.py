"""Settings: a TOML file, found with the same override order as the database.

Order for the file: ``--settings PATH``, else ``CALLGATE_SETTINGS``, else
``settings.toml`` in the user config directory (absent is fine: defaults).
Order for the database URL: ``--db URL``, else ``CALLGATE_DATABASE_URL``, else
``database_url`` in the settings file, else a SQLite file in the user data
directory.
"""

from __future__ import annotations

import os
import shlex
import stat
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import platformdirs

from db.urls import shown_url
from verification.protection import is_policy_key

APP_NAME = "callgate"


class SettingsError(ValueError):
    """The settings file cannot be used; the message says why and where."""


@dataclass(frozen=True)
class Settings:
    """Every setting the desk and the commands read."""

    database_url: str = ""
    default_region: str = "US"
    # The limits that protect customers are not settings: ``callgate policy``
    # (``verification.protection``, ``db.policy``); naming one here is an error.
    retention_days: int = 365
    # callgate serve (tui/web): browser tabs at once; minutes without input end a tab.
    web_max_sessions: int = 20
    web_idle_minutes: int = 30
    # The desk's colour theme (a Textual theme name) until its user picks another.
    theme: str = ""
    # Delivery (``callgate deliver``). Secrets are never settings: they come from
    # the environment or a file (``webhook_secret``, ``smtp_password`` below).
    webhook_urls: tuple[str, ...] = ()
    webhook_secret_file: str = ""
    delivery_max_attempts: int = 10
    delivery_retry_base_seconds: int = 30
    delivery_retry_max_seconds: int = 3600
    delivery_timeout_seconds: int = 10
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_tls: str = "starttls"
    smtp_user: str = ""
    smtp_password_file: str = ""
    smtp_from: str = ""
    smtp_ca_file: str = ""
    # The SMS gateway of the one-time codes (token: ``sms_token`` below).
    sms_base_url: str = "https://api.twilio.com"
    sms_account_sid: str = ""
    sms_from: str = ""
    sms_token_file: str = ""


# Largest value each whole-number setting may take: a bound every date computation
# with it stays inside, and beyond any sensible policy. Settings not named here
# take DEFAULT_MAXIMUM.
MAXIMUMS = {
    "retention_days": 36_500,
}
DEFAULT_MAXIMUM = 1_000_000


def user_data_dir() -> Path:
    """Where the default SQLite database lives."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_database_url() -> str:
    """The SQLite file used when nothing else names a database.

    Its folder is created here, since a new user has none yet; a folder named
    explicitly (``--db``) is never created, so a typo there is an error.
    """
    folder = user_data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'callgate.db'}"


def settings_path(explicit: str | None = None) -> Path:
    """The settings file to read, by the documented override order."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("CALLGATE_SETTINGS")
    if env:
        return Path(env)
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "settings.toml"


# Group or other may read it (the database URL and its password) or change it
# (point the desk at another database).
_EXPOSING_BITS = stat.S_IRGRP | stat.S_IWGRP | stat.S_IROTH | stat.S_IWOTH


def exposed_settings_warning(path: str | None = None) -> str | None:
    """One line when the settings file is open to other users, else None.

    A warning, not a refusal: a desk on a single-user machine keeps working,
    and the operator of a shared host is told the one command to run.
    """
    file = settings_path(path)
    try:
        mode = file.stat().st_mode
    except OSError:
        return None  # absent or unreadable: load_settings says so when it matters
    if not stat.S_ISREG(mode) or not mode & _EXPOSING_BITS:
        return None
    return (
        f"warning: settings file {file} is open to other users (mode {stat.S_IMODE(mode):04o}); "
        f"it may hold the database URL and password: chmod 600 {shlex.quote(str(file))}"
    )


def load_settings(path: str | None = None, db_url: str | None = None) -> Settings:
    """Read the settings file (if any) and resolve the database URL."""
    file = settings_path(path)
    values: dict[str, Any] = {}
    explicit = bool(path or os.environ.get("CALLGATE_SETTINGS"))
    if file.exists() or explicit:
        # Here, not at the top: a desk without a settings file never parses TOML.
        import tomllib

        try:
            with file.open("rb") as handle:
                values = tomllib.load(handle)
        except FileNotFoundError as exc:
            raise SettingsError(f"settings file not found: {file}") from exc
        except OSError as exc:
            raise SettingsError(f"cannot read settings file {file}: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"settings file {file} is not valid TOML: {exc}") from exc
    settings = _from_mapping(values, file)
    url = db_url or os.environ.get("CALLGATE_DATABASE_URL") or settings.database_url
    return replace(settings, database_url=url or default_database_url())


def _from_mapping(values: dict[str, Any], file: Path) -> Settings:
    known = {f.name: f for f in fields(Settings)}
    inline = sorted(set(values) & set(_INLINE_SECRETS))
    if inline:
        name = inline[0]
        raise SettingsError(f"{name} cannot be written in {file}: use {_INLINE_SECRETS[name]}")
    policy = sorted(name for name in values if is_policy_key(name))
    if policy:
        name = policy[0]
        example = "tier.cancel_now ends_service" if name == "tiers" else f"{name} VALUE"
        raise SettingsError(
            f"{name} in {file} is one of the limits that protect customers: the database "
            f"holds it, not a settings file. Remove it and run `callgate policy set {example}` "
            "(`callgate policy show` lists them)"
        )
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise SettingsError(f"unknown setting(s) in {file}: {', '.join(unknown)}")
    checked: dict[str, Any] = {}
    for name, value in values.items():
        expected = type(getattr(Settings(), name))
        if expected is tuple:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise SettingsError(f"setting {name!r} in {file} must be a list of strings")
            checked[name] = tuple(value)
            continue
        if not isinstance(value, expected) or isinstance(value, bool):
            raise SettingsError(
                f"setting {name!r} in {file} must be {expected.__name__}, got {value!r}"
            )
        highest = MAXIMUMS.get(name, DEFAULT_MAXIMUM)
        if expected is int and not 1 <= value <= highest:
            raise SettingsError(
                f"setting {name!r} in {file} must be between 1 and {highest}, got {value}"
            )
        checked[name] = value
    region = checked.get("default_region")
    if region is not None and (len(region) != 2 or not region.isalpha()):
        raise SettingsError(f"default_region in {file} must be a two-letter code like 'US'")
    if region is not None:
        checked["default_region"] = region.upper()
    for url in checked.get("webhook_urls", ()):
        if not url.startswith(("https://", "http://")):
            raise SettingsError(
                f"webhook_urls in {file} must be http(s) URLs, got {shown_url(url)!r}"
            )
    if not checked.get("sms_base_url", "https://").startswith(("https://", "http://")):
        raise SettingsError(f"sms_base_url in {file} must be an http(s) URL")
    if checked.get("smtp_tls", "starttls") not in SMTP_TLS_MODES:
        raise SettingsError(f"smtp_tls in {file} must be one of {', '.join(SMTP_TLS_MODES)}")
    return Settings(**checked)


SMTP_TLS_MODES = ("starttls", "ssl", "none")
_INLINE_SECRETS = {
    "webhook_secret": "webhook_secret_file or CALLGATE_WEBHOOK_SECRET",
    "smtp_password": "smtp_password_file or CALLGATE_SMTP_PASSWORD",
    "sms_token": "sms_token_file or CALLGATE_SMS_TOKEN",
}


def webhook_secret(settings: Settings) -> str:
    """The webhook signing secret: ``CALLGATE_WEBHOOK_SECRET``, else ``webhook_secret_file``."""
    return _secret("CALLGATE_WEBHOOK_SECRET", settings.webhook_secret_file)


def smtp_password(settings: Settings) -> str:
    """The SMTP password: ``CALLGATE_SMTP_PASSWORD``, else ``smtp_password_file``."""
    return _secret("CALLGATE_SMTP_PASSWORD", settings.smtp_password_file)


def sms_token(settings: Settings) -> str:
    """The SMS gateway token: ``CALLGATE_SMS_TOKEN``, else ``sms_token_file``."""
    return _secret("CALLGATE_SMS_TOKEN", settings.sms_token_file)


def _secret(env: str, path: str) -> str:
    """A secret from the environment or a file ("" when neither is set).

    Read only by the commands that need it, so a desk starts whatever the
    secret file's permissions; one trailing newline is not part of it.
    """
    value = os.environ.get(env)
    if value:
        return value
    if not path:
        return ""
    try:
        return Path(path).read_text(encoding="utf-8").removesuffix("\n")
    except OSError as exc:
        raise SettingsError(f"cannot read secret file {path}: {exc.strerror}") from exc
