"""Settings: a TOML file, found with the same override order as the database.

Order for the file: ``--settings PATH``, else ``CALLGATE_SETTINGS``, else
``settings.toml`` in the user config directory (absent is fine: defaults).
Order for the database URL: ``--db URL``, else ``CALLGATE_DATABASE_URL``, else
``database_url`` in the settings file, else a SQLite file in the user data
directory.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import platformdirs

APP_NAME = "callgate"


class SettingsError(ValueError):
    """The settings file cannot be used; the message says why and where."""


@dataclass(frozen=True)
class Settings:
    """Every setting the desk and the commands read."""

    database_url: str = ""
    default_region: str = "US"
    max_misses: int = 3
    verification_expiry_minutes: int = 30
    tenant_lock_calls: int = 2
    tenant_max_misses: int = 5
    tenant_lock_window_hours: int = 24
    signin_lock_after: int = 5
    retention_days: int = 365


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


def load_settings(path: str | None = None, db_url: str | None = None) -> Settings:
    """Read the settings file (if any) and resolve the database URL."""
    file = settings_path(path)
    values: dict[str, Any] = {}
    explicit = bool(path or os.environ.get("CALLGATE_SETTINGS"))
    if file.exists() or explicit:
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
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise SettingsError(f"unknown setting(s) in {file}: {', '.join(unknown)}")
    checked: dict[str, Any] = {}
    for name, value in values.items():
        expected = type(getattr(Settings(), name))
        if not isinstance(value, expected) or isinstance(value, bool):
            raise SettingsError(
                f"setting {name!r} in {file} must be {expected.__name__}, got {value!r}"
            )
        if expected is int and value < 1:
            raise SettingsError(f"setting {name!r} in {file} must be at least 1, got {value}")
        checked[name] = value
    region = checked.get("default_region")
    if region is not None and (len(region) != 2 or not region.isalpha()):
        raise SettingsError(f"default_region in {file} must be a two-letter code like 'US'")
    if region is not None:
        checked["default_region"] = region.upper()
    return Settings(**checked)
