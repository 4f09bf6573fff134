"""Progress of long commands: a bar on a terminal, plain lines otherwise (stderr)."""

from __future__ import annotations

import io

from db.progress import EVERY, counted
from tui.commands.progress import progress


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as stderr on an operator's screen does."""

    def isatty(self) -> bool:
        return True


def test_plain_lines_are_periodic_and_a_quick_command_adds_none() -> None:
    out = io.StringIO()
    with progress("audit verify", "events", out, interval=3600) as shown:
        for done in range(0, 5001, 1000):
            shown(done, 5000)
    assert out.getvalue() == ""  # done within the interval: nothing to say

    out = io.StringIO()
    with progress("accounts import: reading", "rows", out, interval=0) as shown:
        shown(1000, None)
        shown(1500, None)
    assert out.getvalue().splitlines() == [
        "accounts import: reading: 1,000 rows",
        "accounts import: reading: 1,500 rows",
        "accounts import: reading: 1,500 rows",
    ]


def test_a_terminal_gets_a_bar() -> None:
    out = Terminal()
    with progress("export", "calls", out) as shown:
        shown(250, 1000)
    drawn = out.getvalue()
    assert "export" in drawn and "calls" in drawn
    assert "━" in drawn  # Rich's bar


def test_counted_reports_every_so_often_and_at_the_end() -> None:
    heard: list[tuple[int, int | None]] = []
    items = list(counted(range(2 * EVERY + 5), lambda d, t: heard.append((d, t)), 2 * EVERY + 5))
    assert len(items) == 2 * EVERY + 5
    total = 2 * EVERY + 5
    assert heard == [(EVERY, total), (2 * EVERY, total), (total, total)]


def test_import_and_sync_report_the_rows_read(db_url: str, tmp_path, capsys, monkeypatch) -> None:
    from tests.db.test_import import row, write_csv
    from tui.cli import main

    monkeypatch.setattr("tui.commands.progress.INTERVAL_SECONDS", 0)  # a line per report
    path = write_csv(tmp_path / "a.csv", [row()])
    assert main(["--db", db_url, "accounts", "import", str(path)]) == 0
    captured = capsys.readouterr()
    assert "accounts import: reading: 1 of 1 rows (100%)" in captured.err
    assert "reading" not in captured.out
    assert main(["--db", db_url, "accounts", "sync", str(path)]) == 0
    assert "accounts sync: reading: 1 of 1 rows (100%)" in capsys.readouterr().err
