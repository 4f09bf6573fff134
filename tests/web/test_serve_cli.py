"""``callgate serve`` on the command line: one clear line for each operator mistake."""

from __future__ import annotations

import argparse
import socket
from pathlib import Path

import pytest

from db.settings import Settings
from tests.test_cli_errors import _assert_one_clear_line, _callgate
from tui.commands.serve_cmd import desk_environment
from tui.web.origin import is_loopback


def test_a_port_already_taken_is_one_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'callgate.db'}"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _callgate(tmp_path, "--db", db, "serve", "--port", str(port))
    _assert_one_clear_line(result, "cannot listen on", f"127.0.0.1:{port}")
    assert "callgate serve: http" not in result.stdout  # never claims to be serving


def test_a_port_out_of_range_is_one_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'callgate.db'}"
    result = _callgate(tmp_path, "--db", db, "serve", "--port", "70000")
    _assert_one_clear_line(result, "--port must be between 1 and 65535")
    assert result.returncode == 2


def test_a_public_url_without_its_scheme_is_one_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'callgate.db'}"
    result = _callgate(tmp_path, "--db", db, "serve", "--public-url", "desk.example.com")
    _assert_one_clear_line(result, "--public-url must be an http:// or https:// URL")


def test_an_unusable_database_is_refused_before_serving(tmp_path: Path) -> None:
    result = _callgate(tmp_path, "--db", "sqlite:////nonexistent-dir/x.db", "serve")
    _assert_one_clear_line(result, "database error")


def test_each_tab_gets_the_resolved_database_and_settings(tmp_path: Path) -> None:
    settings_file = tmp_path / "s.toml"
    args = argparse.Namespace(settings=str(settings_file))
    environment = desk_environment(args, Settings(database_url="postgresql://u:secret@h/d"))
    # By the environment, not the command line (ps shows command lines to everyone).
    assert environment == {
        "CALLGATE_DATABASE_URL": "postgresql://u:secret@h/d",
        "CALLGATE_SETTINGS": str(settings_file.resolve()),
    }
    no_file = desk_environment(argparse.Namespace(settings=None), Settings(database_url="x"))
    assert no_file == {"CALLGATE_DATABASE_URL": "x"}


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("10.0.0.5", False),
    ],
)
def test_loopback_is_told_apart(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
