"""Quoting typed text in an input error message."""

from __future__ import annotations

from verification.errors import echo


def test_echo_keeps_ordinary_text() -> None:
    assert echo("(425) 555-01") == "(425) 555-01"


def test_echo_flattens_control_characters_and_runs_of_space() -> None:
    assert echo("12\n\t34\x00 5") == "12 34 5"


def test_echo_shortens_long_pastes() -> None:
    shown = echo("9" * 500)
    assert len(shown) == 40
    assert shown.endswith("…")
