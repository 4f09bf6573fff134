"""Operator mistakes end in one clear line on stderr, never a traceback.

Also: the command line keeps working while some command modules are not
written yet, without hiding a real import error.

``callgate db current`` stands in for every command: they share settings
loading, the engine factory and the error handling in ``tui/cli.py``.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from tui import cli

REPO = Path(__file__).resolve().parent.parent


def _callgate(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }
    env.pop("CALLGATE_DATABASE_URL", None)
    env.pop("CALLGATE_SETTINGS", None)
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", *argv],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _assert_one_clear_line(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("callgate: ")
    for word in words:
        assert word in lines[0]


@pytest.mark.parametrize(
    ("url", "word"),
    [
        ("not a url", "not a database URL"),
        ("nosuchdialect://host/db", "cannot use database URL"),
        ("postgresql://nobody@/nowhere?host=/nonexistent-socket-dir", "database error"),
        ("sqlite:////nonexistent-dir/sub/callgate.db", "database error"),
    ],
)
def test_a_wrong_database_url(tmp_path: Path, url: str, word: str) -> None:
    _assert_one_clear_line(_callgate(tmp_path, "--db", url, "db", "current"), word)


def test_a_database_file_that_is_not_sqlite(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(os.urandom(4096))
    result = _callgate(tmp_path, "--db", f"sqlite:///{garbage}", "db", "current")
    _assert_one_clear_line(result, "not a SQLite database")


def test_a_settings_file_that_cannot_be_read(tmp_path: Path) -> None:
    # A directory in place of the file: unreadable even for root, unlike chmod 000.
    unreadable = tmp_path / "settings.toml"
    unreadable.mkdir()
    result = _callgate(tmp_path, "--settings", str(unreadable), "db", "current")
    _assert_one_clear_line(result, "cannot read settings file", str(unreadable))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_a_settings_file_without_read_permission(tmp_path: Path) -> None:
    locked = tmp_path / "settings.toml"
    locked.write_text("max_misses = 3\n")
    locked.chmod(0)
    result = _callgate(tmp_path, "--settings", str(locked), "db", "current")
    _assert_one_clear_line(result, "cannot read settings file", str(locked))


def test_a_settings_file_that_is_not_toml(tmp_path: Path) -> None:
    bad = tmp_path / "settings.toml"
    bad.write_text("this is = = not toml\n")
    bad.chmod(0o600)  # as an operator keeps it: the open-file warning is a line of its own
    result = _callgate(tmp_path, "--settings", str(bad), "db", "current")
    _assert_one_clear_line(result, "not valid TOML", str(bad))


def test_the_same_command_succeeds_on_a_good_database(tmp_path: Path) -> None:
    # The control: the failures above come from the inputs, not the command.
    result = _callgate(tmp_path, "--db", f"sqlite:///{tmp_path / 'ok.db'}", "db", "current")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def _importer(missing: str) -> SimpleNamespace:
    """An ``importlib`` stand-in whose import of a command fails naming ``missing``."""

    def import_module(name: str) -> object:
        if name == "tui.commands.db_cmd":
            raise ModuleNotFoundError(f"No module named {missing!r}", name=missing)
        return importlib.import_module(name)

    return SimpleNamespace(import_module=import_module)


def test_a_command_module_not_written_yet_is_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "importlib", _importer("tui.commands.db_cmd"))
    parser = cli.build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["db", "current"])  # gone: argparse refuses the choice
    assert cli.build_parser().parse_args(["--db", "sqlite://"]).command is None


def test_an_import_bug_inside_a_command_module_still_raises(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cli, "importlib", _importer("some_dependency"))
    with pytest.raises(ModuleNotFoundError, match="some_dependency"):
        cli.build_parser()


# --- a closed pipe (issue 11, item 15) ------------------------------------------------


def _into_closed_pipe(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """Run callgate with stdout a pipe whose reader is gone, as in ``callgate … | head -0``.

    The read end is closed before the child starts, so its first write fails
    with EPIPE whatever the timing.
    """
    read_end, write_end = os.pipe()
    os.close(read_end)
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config")}
    env.pop("CALLGATE_SETTINGS", None)
    try:
        return subprocess.run(
            [sys.executable, "-m", "tui.cli", *argv],
            cwd=REPO,
            env=env,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)


def test_export_into_a_closed_pipe_exits_quietly(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from db.engine import make_engine, make_sessionmaker
    from db.migrate import upgrade
    from tests.helpers.review_data import many_calls

    url = f"sqlite:///{tmp_path / 'calls.db'}"
    engine = make_engine(url)
    upgrade(engine)
    many_calls(make_sessionmaker(engine), 50, datetime(2026, 11, 26, 14, 0, tzinfo=UTC))
    engine.dispose()

    for fmt in ("csv", "json"):
        result = _into_closed_pipe(tmp_path, "--db", url, "export", "--format", fmt)
        assert result.stderr == ""
        assert result.returncode == 141  # 128 + SIGPIPE, as a Unix tool killed by it


# --- values out of range (issue 11, item 14) -------------------------------------------


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["purge", "--older-than", "99999999"], ["--older-than", "36500"]),
        (["purge", "--dry-run", "--older-than", "99999999"], ["--older-than", "36500"]),
        (["export", "--until", "9999-12-31"], ["--until", "9999-12-31"]),
        (["export", "--since", "0001-01-01"], ["--since", "0001-01-01"]),
        (["export", "--since", "0001-01-01", "--until", "9999-12-31"], ["--since"]),
    ],
)
def test_a_value_out_of_range_on_the_command_line(
    tmp_path: Path, argv: list[str], words: list[str]
) -> None:
    result = _callgate(tmp_path, "--db", f"sqlite:///{tmp_path / 'ok.db'}", *argv)
    _assert_one_clear_line(result, *words)
    assert result.stdout == ""


@pytest.mark.parametrize(
    "line",
    [
        "verification_expiry_minutes = 9999999999999",
        "retention_days = 99999999",
        "tenant_lock_window_hours = 99999999999",
        "max_misses = 99999999999999999",
    ],
)
def test_a_setting_out_of_range_is_refused_at_load(tmp_path: Path, line: str) -> None:
    settings = tmp_path / "settings.toml"
    settings.write_text(line + "\n")
    settings.chmod(0o600)
    key = line.split(" = ")[0]
    db = f"sqlite:///{tmp_path / 'ok.db'}"
    result = _callgate(tmp_path, "--settings", str(settings), "--db", db, "db", "current")
    _assert_one_clear_line(result, key, "between 1 and", str(settings))


def test_dates_and_days_in_range_still_work(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'ok.db'}"
    for argv in (
        ["purge", "--dry-run", "--older-than", "36500"],
        ["export", "--since", "1900-01-01", "--until", "9999-12-30", "--format", "json"],
    ):
        result = _callgate(tmp_path, "--db", db, *argv)
        assert result.returncode == 0, result.stderr


def test_the_desk_without_a_terminal_refuses_instead_of_drawing_into_a_pipe(
    tmp_path: Path,
) -> None:
    # As `ssh host` without -t gives it: input and output are pipes.
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data")}
    env.pop("TEXTUAL_DRIVER", None)
    result = subprocess.run(
        [sys.executable, "-m", "tui.cli", "--db", f"sqlite:///{tmp_path / 'c.db'}"],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    _assert_one_clear_line(result, "the desk needs a terminal", "ssh -t", "callgate serve")
    assert result.returncode == 2
    assert result.stdout == ""  # not one escape sequence drawn
