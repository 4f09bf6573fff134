"""Hostile account files: each is one clear bad line, never a traceback.

Every case runs through ``accounts import`` and ``accounts sync``, as a dry
run and for real, on SQLite and PostgreSQL: the dry run refuses exactly what
the real run would, and nothing is written.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from db.accounts.importer import import_accounts
from db.models import AccountUser, AuditEvent, Subscription, Tenant
from tests.db.test_import import GOOD, row, write_csv
from tui.cli import main

Factory = sessionmaker[Session]


def _import(factory: Factory, path: Path, dry_run: bool) -> tuple[bool, dict[int, str]]:
    report = import_accounts(factory, path, dry_run=dry_run)
    return report.written, {b.line: b.reason for b in report.bad_rows}


def _sync(factory: Factory, path: Path, dry_run: bool) -> tuple[bool, dict[int, str]]:
    from db.accounts.sync import sync_accounts

    report = sync_accounts(factory, path, dry_run=dry_run)
    return report.written, {b.line: b.reason for b in report.bad_rows}


RUNS = {"import": _import, "sync": _sync}


def _json_file(tmp_path: Path, body: str) -> Path:
    """A JSON array whose second object, on line 3, is ``body``."""
    path = tmp_path / "accounts.json"
    first = json.dumps(row(tenant_ref="T-0", user_id="zero@x.example"))
    path.write_text(f"[\n{first},\n{body}\n]\n", encoding="utf-8")
    return path


def _with(field: str, raw_json_value: str) -> str:
    """GOOD as one line of JSON with ``field`` set to the literal JSON text given."""
    record = {k: v for k, v in GOOD.items() if k != field}
    return json.dumps(record)[:-1] + f', "{field}": {raw_json_value}}}'


CASES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "deeply nested JSON": (
        lambda tmp: _json_file(tmp, _with("organization", "[" * 100_000 + "]" * 100_000)),
        "nested too deeply",
    ),
    "a 5,000-digit number": (
        lambda tmp: _json_file(tmp, _with("phone", "9" * 5000)),
        "number with 5000 digits",
    ),
    "a huge exponent": (
        lambda tmp: _json_file(tmp, _with("phone", "1e999")),
        "number out of range",
    ),
    "NaN": (lambda tmp: _json_file(tmp, _with("phone", "NaN")), "NaN is not JSON"),
    "a lone surrogate in a name": (
        lambda tmp: _json_file(tmp, _with("organization", '"Contoso \\ud800 Ltd."')),
        "organization is not valid Unicode text",
    ),
    "a lone surrogate in a field name": (
        lambda tmp: _json_file(tmp, _with("x\\udc00", '"1"')),
        "unknown field(s): 'x\\udc00'",
    ),
    "a field named twice": (
        lambda tmp: _json_file(tmp, _with("phone", '"+1 555 0100", "phone": "+1 555 0199"')),
        "repeated field(s): phone",
    ),
    "a field named twice inside a nested value": (
        lambda tmp: _json_file(tmp, _with("domains", '{"a": 1, "a": 2}')),
        "repeated field(s): a",
    ),
    "a NUL byte in JSON": (
        lambda tmp: _json_file(tmp, _with("city", '"Spring\\u0000field"')),
        "city contains a NUL character",
    ),
    "a NUL byte in CSV": (
        lambda tmp: write_csv(
            tmp / "a.csv",
            [row(tenant_ref="T-0", user_id="zero@x.example"), row(contact_last_name="P\x00rez")],
        ),
        "contact_last_name contains a NUL character",
    ),
    "a time that leaves the calendar in UTC": (
        lambda tmp: write_csv(
            tmp / "a.csv",
            [
                row(tenant_ref="T-0", user_id="zero@x.example"),
                row(
                    status="canceled",
                    canceled_at="0001-01-01T00:30:00+01:00",
                    data_deletion_on="2027-01-30",
                ),
            ],
        ),
        "bad date in canceled_at",
    ),
}


def _count(factory: Factory) -> int:
    with factory() as session:
        return sum(
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Tenant, AccountUser, Subscription, AuditEvent)
        )


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("run", sorted(RUNS))
def test_hostile_file_is_one_bad_line_and_dry_run_agrees(
    any_factory: Factory, tmp_path: Path, case: str, run: str
) -> None:
    make, reason = CASES[case]
    path = make(tmp_path)
    go = RUNS[run]
    dry_written, dry_lines = go(any_factory, path, True)
    written, real_lines = go(any_factory, path, False)
    assert not dry_written and not written
    assert dry_lines == real_lines
    assert list(real_lines) == [3], real_lines
    assert reason in real_lines[3]
    assert _count(any_factory) == 0


def test_a_field_named_twice_refuses_only_its_own_object(factory: Factory, tmp_path: Path) -> None:
    path = _json_file(tmp_path, _with("phone", '"+1 555 0100", "phone": "+1 555 0199"'))
    text = path.read_text(encoding="utf-8").rstrip().removesuffix("]")
    later = json.dumps(row(tenant_ref="T-2", user_id="two@x.example"))
    path.write_text(f"{text},\n{later}\n]\n", encoding="utf-8")
    report = import_accounts(factory, path, dry_run=True)
    assert [(b.line, b.reason) for b in report.bad_rows] == [(3, "repeated field(s): phone")]
    assert report.rows == 2  # the objects before and after it are read and judged


def test_huge_number_in_memory_record_is_a_bad_row(factory: Factory) -> None:
    from db.accounts.file import AccountRecords

    report = import_accounts(factory, AccountRecords([(4, {**GOOD, "phone": 10**5000})]))
    assert [b.line for b in report.bad_rows] == [4]
    assert "phone" in report.bad_rows[0].reason


@pytest.mark.parametrize("command", ["import", "sync"])
def test_cli_prints_one_line_for_a_hostile_file(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    path = CASES["a lone surrogate in a name"][0](tmp_path)
    assert main(["--db", db_url, "accounts", command, str(path), "--dry-run"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("line 3: ") and "Traceback" not in "".join(err)
