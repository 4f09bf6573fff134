"""Purge: personal data of old closed calls goes, results and the chain stay."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from db import review
from db.audit.chain import append_event, verify_chain
from db.engine import unit_of_work
from db.expedited.disputes import dispute_request
from db.models import (
    Agent,
    Approval,
    AuditEvent,
    Call,
    CancellationRequest,
    Dispute,
    ItemCheck,
    ReviewNote,
)
from db.purge import PURGE_EVENT, purge
from tests.helpers.review_data import expedited_call, make_account, make_staff
from tui.cli import main as cli
from verification.kinds import CallState, CheckResult, Decision, Item, Outcome, Role

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
STATED = "(425) 555-0100"
NORMALIZED = "+14255550100"
NOTES = "caller Ana Perez, asked about refunds"


@dataclass(frozen=True)
class Calls:
    """Ids of the calls seeded for a test, by what purge must do with them."""

    due: tuple[int, ...]
    kept: tuple[int, ...]


def _add_call(
    session: Session, agent_id: int, state: CallState, ended_days_ago: int | None, now: datetime
) -> int:
    started = now - timedelta(days=ended_days_ago or 500, minutes=10)
    call = Call(
        agent_id=agent_id,
        started_at=started,
        ended_at=None if ended_days_ago is None else now - timedelta(days=ended_days_ago),
        state=state,
        outcome=Outcome.INFORMED if state is CallState.CLOSED else None,
        notes=NOTES,
    )
    session.add(call)
    session.flush()
    for item, result in ((Item.USER_ID, CheckResult.MATCH), (Item.PHONE, CheckResult.MISMATCH)):
        session.add(
            ItemCheck(
                call_id=call.id,
                item=item,
                stated=STATED,
                normalized=NORMALIZED,
                result=result,
                rules_version="r1",
                checked_at=started,
            )
        )
    session.add(ReviewNote(call_id=call.id, author_id=agent_id, text=NOTES, created_at=started))
    append_event(session, actor="desk", type="call.started", payload={"call": call.id})
    return call.id


def _review_notes(session: Session, call_id: int) -> list[str]:
    return list(session.scalars(select(ReviewNote.text).where(ReviewNote.call_id == call_id)))


def _seed(factory: sessionmaker[Session], now: datetime = NOW) -> Calls:
    """Two closed calls past a 365-day retention at ``now``, and every kind to keep."""
    with unit_of_work(factory) as session:
        agent = Agent(username="ana", display_name="Ana", role=Role.AGENT, passphrase_hash="x")
        session.add(agent)
        session.flush()
        due = (
            _add_call(session, agent.id, CallState.CLOSED, 400, now),
            _add_call(session, agent.id, CallState.CLOSED, 366, now),
        )
        kept = (
            _add_call(session, agent.id, CallState.CLOSED, 364, now),  # recent
            _add_call(session, agent.id, CallState.OPEN, None, now),  # open, started long ago
            _add_call(session, agent.id, CallState.LOCKED, 400, now),  # not closed
            _add_call(session, agent.id, CallState.VERIFIED, 400, now),  # not closed
        )
    return Calls(due, kept)


def _snapshot(factory: sessionmaker[Session]) -> tuple[list[tuple[object, ...]], ...]:
    """Every purge-relevant column of every row, to compare before and after."""
    with factory() as session:
        calls = session.execute(
            select(Call.id, Call.state, Call.outcome, Call.notes, Call.purged_at).order_by(Call.id)
        ).all()
        checks = session.execute(
            select(
                ItemCheck.id,
                ItemCheck.call_id,
                ItemCheck.item,
                ItemCheck.stated,
                ItemCheck.normalized,
                ItemCheck.result,
                ItemCheck.rules_version,
            ).order_by(ItemCheck.id)
        ).all()
        events = session.execute(select(AuditEvent.seq, AuditEvent.hash)).all()
    return ([tuple(r) for r in calls], [tuple(r) for r in checks], [tuple(r) for r in events])


def test_purge_blanks_personal_data_and_keeps_results(any_factory: sessionmaker[Session]) -> None:
    calls = _seed(any_factory)
    report = purge(any_factory, older_than_days=365, now=NOW, dry_run=False, actor="op")
    assert report.calls == len(calls.due) and not report.dry_run
    assert report.cutoff == NOW - timedelta(days=365)
    with any_factory() as session:
        for call_id in calls.due:
            call = session.get(Call, call_id)
            assert call is not None
            assert (call.notes, call.purged_at) == ("", NOW)
            assert _review_notes(session, call_id) == [""]
            assert (call.state, call.outcome) == (CallState.CLOSED, Outcome.INFORMED)
            assert [
                (c.item, c.result, c.rules_version, c.stated, c.normalized) for c in call.checks
            ] == [
                (Item.USER_ID, CheckResult.MATCH, "r1", None, None),
                (Item.PHONE, CheckResult.MISMATCH, "r1", None, None),
            ]


def test_open_recent_and_unclosed_calls_are_untouched(any_factory: sessionmaker[Session]) -> None:
    calls = _seed(any_factory)
    purge(any_factory, older_than_days=365, now=NOW, dry_run=False, actor="op")
    with any_factory() as session:
        for call_id in calls.kept:
            call = session.get(Call, call_id)
            assert call is not None
            assert (call.notes, call.purged_at) == (NOTES, None)
            assert _review_notes(session, call_id) == [NOTES]
            assert {(c.stated, c.normalized) for c in call.checks} == {(STATED, NORMALIZED)}


def test_purge_records_one_event_without_personal_data_and_the_chain_verifies(
    any_engine: Engine, any_factory: sessionmaker[Session]
) -> None:
    _seed(any_factory)
    before = verify_chain(any_engine)
    purge(any_factory, older_than_days=365, now=NOW, dry_run=False, actor="op")
    after = verify_chain(any_engine, expect_head=before.head_hash)
    assert after.ok and after.count == before.count + 1
    with any_factory() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.type == PURGE_EVENT)).all()
        payloads = session.scalars(select(AuditEvent.payload)).all()
    assert len(events) == 1
    assert events[0].actor == "op"
    assert json.loads(events[0].payload) == {
        "calls": 2,
        "cutoff": "2025-11-26T12:00:00+00:00",
        "older_than_days": 365,
    }
    assert not any(STATED in p or NORMALIZED in p or "Perez" in p for p in payloads)


def test_a_dry_run_changes_nothing(any_factory: sessionmaker[Session]) -> None:
    calls = _seed(any_factory)
    before = _snapshot(any_factory)
    report = purge(any_factory, older_than_days=365, now=NOW, dry_run=True, actor="op")
    assert report.calls == len(calls.due) and report.dry_run
    assert _snapshot(any_factory) == before


def test_purging_again_touches_nothing_new(any_factory: sessionmaker[Session]) -> None:
    _seed(any_factory)
    purge(any_factory, older_than_days=365, now=NOW, dry_run=False, actor="op")
    later = NOW + timedelta(days=1)
    again = purge(any_factory, older_than_days=365, now=later, dry_run=False, actor="op")
    assert again.calls == 0
    with any_factory() as session:
        stamps = set(session.scalars(select(Call.purged_at).where(Call.purged_at.is_not(None))))
    assert stamps == {NOW}  # the first purge's time, not overwritten


@pytest.mark.parametrize("bad", [0, -1, 36_501, 99_999_999])
def test_a_retention_out_of_range_is_refused(factory: sessionmaker[Session], bad: int) -> None:
    with pytest.raises(ValueError, match="between 1 and 36500"):
        purge(factory, older_than_days=bad, now=NOW, dry_run=False, actor="op")


# --- callgate purge --------------------------------------------------------------


def test_cli_dry_run_then_purge(
    engine: Engine,
    factory: sessionmaker[Session],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("tui.commands.progress.INTERVAL_SECONDS", 0)  # a line per report
    # the command purges as of the real clock, so the calls are aged from it
    calls = _seed(factory, now=datetime.now(UTC))
    url = engine.url.render_as_string(hide_password=False)
    args = ["--db", url, "purge", "--older-than", "365"]
    assert cli([*args, "--dry-run"]) == 0
    assert "dry run: 2 closed calls" in capsys.readouterr().out
    assert cli(args) == 0
    captured = capsys.readouterr()
    assert "purged personal data from 2 closed calls" in captured.out
    assert "purge: 8 of 8 steps (100%)" in captured.err
    with factory() as session:
        purged = set(session.scalars(select(Call.id).where(Call.purged_at.is_not(None))))
    assert purged == set(calls.due)


def test_cli_takes_the_default_from_settings(
    engine: Engine,
    factory: sessionmaker[Session],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _seed(factory, now=datetime.now(UTC))
    settings = tmp_path / "settings.toml"
    settings.write_text("retention_days = 1\n")
    url = engine.url.render_as_string(hide_password=False)
    assert cli(["--db", url, "--settings", str(settings), "purge", "--dry-run"]) == 0
    # with one day kept, every closed call ended long ago is due: the 364-day one too
    assert "dry run: 3 closed calls" in capsys.readouterr().out


# --- no copy left on disk (issue 11, item 10) -------------------------------------


def test_every_sqlite_connection_has_secure_delete_on(engine: Engine) -> None:
    for _ in range(3):
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA secure_delete").scalar() == 1


def test_purged_values_are_gone_from_the_file_and_its_wal(
    engine: Engine, factory: sessionmaker[Session]
) -> None:
    secrets = [f"Zebulon Quartermaine {n} +1 425 555 01{n:02d}" for n in range(40)]
    with unit_of_work(factory) as session:
        agent = Agent(username="ana", display_name="Ana", role=Role.AGENT, passphrase_hash="x")
        session.add(agent)
        session.flush()
        for secret in secrets:
            call = Call(
                agent_id=agent.id,
                started_at=NOW - timedelta(days=400, minutes=10),
                ended_at=NOW - timedelta(days=400),
                state=CallState.CLOSED,
                outcome=Outcome.INFORMED,
                notes=f"note {secret}",
            )
            session.add(call)
            session.flush()
            session.add(
                ItemCheck(
                    call_id=call.id,
                    item=Item.CONTACT_NAME,
                    stated=json.dumps({"first": secret}),
                    normalized=f"norm {secret}",
                    result=CheckResult.MISMATCH,
                    rules_version="r1",
                    checked_at=NOW - timedelta(days=400),
                )
            )
            session.add(ReviewNote(call_id=call.id, author_id=agent.id, text=f"review {secret}"))
    database = Path(engine.url.database or "")
    wal = database.with_name(database.name + "-wal")
    assert b"Zebulon Quartermaine" in database.read_bytes() + wal.read_bytes()  # the control

    report = purge(factory, older_than_days=365, now=NOW, dry_run=False, actor="op")

    assert report.calls == len(secrets)
    # The engine stays open: its connections keep the WAL file as a running desk would.
    on_disk = database.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    assert b"Zebulon" not in on_disk
    assert b"Quartermaine" not in on_disk


def _row_versions(factory: sessionmaker[Session], call_id: int) -> list[object]:
    """PostgreSQL's xmin of every row holding the call's text: it changes when a row is written."""
    with factory() as session:
        return list(
            session.execute(
                text(
                    "SELECT 'c', id, xmin::text FROM call WHERE id = :c"
                    " UNION ALL SELECT 'i', id, xmin::text FROM item_check WHERE call_id = :c"
                    " UNION ALL SELECT 'n', id, xmin::text FROM review_note WHERE call_id = :c"
                    " UNION ALL SELECT 'a', a.id, a.xmin::text FROM approval a"
                    " JOIN cancellation_request r ON r.id = a.request_id WHERE r.call_id = :c"
                    " ORDER BY 1, 2"
                ),
                {"c": call_id},
            )
        )


def test_text_added_after_a_purge_goes_at_the_next_one(any_factory: sessionmaker[Session]) -> None:
    staff = make_staff(any_factory)
    today = NOW.astimezone().date()
    first = make_account(any_factory, "Org 0", "+14255550000", today)
    call_id, request_id = expedited_call(any_factory, staff.agent, first, NOW)
    other = make_account(any_factory, "Org 1", "+14255550001", today)
    other_call, _ = expedited_call(any_factory, staff.agent, other, NOW)
    purged = NOW + timedelta(days=3)
    assert purge(any_factory, 1, purged, dry_run=False, actor="op").calls == 2
    postgres = any_factory.kw["bind"].dialect.name == "postgresql"
    untouched = _row_versions(any_factory, other_call) if postgres else []

    # Days later a colleague disputes it and a supervisor settles it, quoting the caller.
    later = NOW + timedelta(days=4)
    with any_factory() as session:
        request = session.get(CancellationRequest, request_id)
        assert request is not None
        reference = request.reference
    dispute_request(any_factory, staff.agent2.id, reference, "Jo Park says not them", later)
    with any_factory() as session:
        request = session.get(CancellationRequest, request_id)
        assert request is not None
        seen = request.request_hash
    review.decide_expedited(
        any_factory,
        staff.supervisor.id,
        request_id,
        Decision.REJECTED,
        "Jo Park: keep",
        seen,
        later,
    )
    review.add_review_note(any_factory, staff.supervisor.id, call_id, "Jo Park rang back", later)

    again = NOW + timedelta(days=5)
    assert purge(any_factory, 1, again, dry_run=True, actor="op").calls == 1
    assert purge(any_factory, 1, again, dry_run=False, actor="op").calls == 1
    with any_factory() as session:
        assert _review_notes(session, call_id) == [""]
        requests = select(CancellationRequest.id).where(CancellationRequest.call_id == call_id)
        reasons = session.scalars(select(Approval.reason).where(Approval.request_id.in_(requests)))
        assert list(reasons) == [""]
        dispute = session.scalars(select(Dispute)).one()
        assert (dispute.reason, dispute.purged_at) == ("", again)
        stamps = {i: at for i, at in session.execute(select(Call.id, Call.purged_at))}
        assert stamps == {call_id: again, other_call: purged}
    if postgres:  # the call with nothing new was not written again, row by row
        assert _row_versions(any_factory, other_call) == untouched
    assert purge(any_factory, 1, again + timedelta(days=1), dry_run=False, actor="op").calls == 0
