"""Settings: the override order and a clear error for every bad file."""

from __future__ import annotations

from pathlib import Path

import pytest

from db.settings import (
    Settings,
    SettingsError,
    exposed_settings_warning,
    load_settings,
    settings_path,
)
from tui.cli import main as cli


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the user config and data dirs at the test's temp dir; clear our env."""
    home = tmp_path / "home"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.delenv("CALLGATE_DATABASE_URL", raising=False)
    monkeypatch.delenv("CALLGATE_SETTINGS", raising=False)
    return home


def _write(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding="utf-8")
    return path


def test_defaults_without_any_file(isolated_dirs: Path) -> None:
    settings = load_settings()
    expected_db = isolated_dirs / "data" / "callgate" / "callgate.db"
    assert settings.database_url == f"sqlite:///{expected_db}"
    assert settings.default_region == Settings().default_region
    # A new user has no data folder yet; the default database needs one.
    assert expected_db.parent.is_dir()


def test_a_named_database_creates_no_default_folder(isolated_dirs: Path) -> None:
    load_settings(db_url="sqlite:////elsewhere/callgate.db")
    assert not (isolated_dirs / "data").exists()


def test_database_url_override_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file = _write(tmp_path / "s.toml", 'database_url = "sqlite:///from-file.db"\n')
    assert load_settings(str(file)).database_url == "sqlite:///from-file.db"
    monkeypatch.setenv("CALLGATE_DATABASE_URL", "sqlite:///from-env.db")
    assert load_settings(str(file)).database_url == "sqlite:///from-env.db"
    assert load_settings(str(file), "sqlite:///from-flag.db").database_url == (
        "sqlite:///from-flag.db"
    )


def test_settings_file_override_order(
    tmp_path: Path, isolated_dirs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    default = _write(isolated_dirs / "config" / "callgate" / "settings.toml", "max_misses = 4\n")
    from_env = _write(tmp_path / "env.toml", "max_misses = 5\n")
    from_flag = _write(tmp_path / "flag.toml", "max_misses = 6\n")
    assert settings_path() == default
    assert load_settings().max_misses == 4
    monkeypatch.setenv("CALLGATE_SETTINGS", str(from_env))
    assert load_settings().max_misses == 5
    assert load_settings(str(from_flag)).max_misses == 6


def test_every_key_is_read_from_the_file(tmp_path: Path) -> None:
    file = _write(
        tmp_path / "s.toml",
        'default_region = "gb"\nmax_misses = 2\nverification_expiry_minutes = 15\n'
        "retention_days = 90\n",
    )
    settings = load_settings(str(file))
    assert (settings.default_region, settings.max_misses) == ("GB", 2)
    assert (settings.verification_expiry_minutes, settings.retention_days) == (15, 90)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("max_misses = = 3\n", "not valid TOML"),
        ("max_mises = 3\n", "unknown setting"),
        ('max_misses = "three"\n', "must be int"),
        ("max_misses = true\n", "must be int"),
        ("retention_days = 0\n", "between 1 and 36500"),
        ('default_region = "USA"\n', "two-letter"),
    ],
)
def test_a_bad_file_is_refused_naming_the_file(tmp_path: Path, body: str, reason: str) -> None:
    file = _write(tmp_path / "bad.toml", body)
    with pytest.raises(SettingsError, match=reason) as caught:
        load_settings(str(file))
    assert str(file) in str(caught.value)


def test_a_named_file_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(SettingsError, match="not found") as caught:
        load_settings(str(missing))
    assert str(missing) in str(caught.value)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620, 0o602], ids=oct)
def test_a_settings_file_open_to_others_is_named_with_chmod_600(
    tmp_path: Path, mode: int, capsys: pytest.CaptureFixture[str]
) -> None:
    # The mode bits, not access: the tests run as root, who reads anything.
    file = _write(tmp_path / "settings.toml", f'database_url = "sqlite:///{tmp_path}/c.db"\n')
    file.chmod(mode)
    assert cli(["--settings", str(file), "db", "current"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("callgate: warning: settings file")
    assert str(file) in err[0] and f"chmod 600 {file}" in err[0]


def test_a_private_settings_file_and_no_file_give_no_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    file = _write(tmp_path / "settings.toml", f'database_url = "sqlite:///{tmp_path}/c.db"\n')
    file.chmod(0o600)
    assert cli(["--settings", str(file), "db", "current"]) == 0
    assert capsys.readouterr().err == ""
    # The default file, found through CALLGATE_SETTINGS, is checked the same way.
    monkeypatch.setenv("CALLGATE_SETTINGS", str(file))
    file.chmod(0o660)
    assert str(file) in (exposed_settings_warning() or "")
    assert exposed_settings_warning(str(tmp_path / "absent.toml")) is None
