"""The audit chain: append-only in the database, and every edit found by verify."""

from __future__ import annotations

import itertools
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, delete, select, text, update
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

import db.audit.chain
from db.audit.chain import (
    GENESIS_HASH,
    append_event,
    canonical_payload,
    event_hash,
    head,
    verify_chain,
)
from db.engine import make_sessionmaker, unit_of_work
from db.models import AuditEvent
from tui.cli import main as cli


def _append(engine: Engine, count: int, per_transaction: int = 1000) -> None:
    """Append ``count`` events, ``per_transaction`` to a unit of work."""
    factory = make_sessionmaker(engine)
    done = 0
    while done < count:
        with unit_of_work(factory) as session:
            for _ in range(min(per_transaction, count - done)):
                done += 1
                append_event(session, actor="tester", type="test.event", payload={"n": done})


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _sqlite_path(engine: Engine) -> str:
    assert engine.dialect.name == "sqlite" and engine.url.database
    return engine.url.database


def _tamper(engine: Engine, *statements: str) -> None:
    """Edit the SQLite file behind the desk's back: drop the triggers, then run SQL."""
    engine.dispose()
    with closing(sqlite3.connect(_sqlite_path(engine))) as raw, raw:
        raw.execute("DROP TRIGGER audit_event_no_update")
        raw.execute("DROP TRIGGER audit_event_no_delete")
        for statement in statements:
            raw.execute(statement)


# --- the database refuses edits -------------------------------------------------


def test_update_of_an_audit_event_is_refused(any_engine: Engine) -> None:
    _append(any_engine, 3)
    with pytest.raises(DatabaseError, match="append-only"), any_engine.begin() as conn:
        conn.execute(update(AuditEvent).where(AuditEvent.seq == 2).values(actor="mallory"))
    with Session(any_engine) as session:
        assert session.get(AuditEvent, 2).actor == "tester"  # type: ignore[union-attr]


def test_delete_of_an_audit_event_is_refused(any_engine: Engine) -> None:
    _append(any_engine, 3)
    with pytest.raises(DatabaseError, match="append-only"), any_engine.begin() as conn:
        conn.execute(delete(AuditEvent).where(AuditEvent.seq == 3))
    assert verify_chain(any_engine).count == 3


def test_truncate_of_the_audit_table_is_refused_on_postgres(pg_engine: Engine) -> None:
    _append(pg_engine, 3)
    with pytest.raises(DatabaseError, match="append-only"), pg_engine.begin() as conn:
        conn.execute(text("TRUNCATE audit_event"))
    assert verify_chain(pg_engine).count == 3


# --- verify --------------------------------------------------------------------


def test_an_empty_chain_verifies_with_the_genesis_head(any_engine: Engine) -> None:
    report = verify_chain(any_engine)
    assert (report.count, report.head_hash, report.ok) == (0, GENESIS_HASH, True)
    with Session(any_engine) as session:
        assert head(session) == (0, GENESIS_HASH)


@pytest.mark.slow
def test_a_chain_of_10000_events_verifies(any_engine: Engine) -> None:
    _append(any_engine, 10_000)
    report = verify_chain(any_engine)
    with Session(any_engine) as session:
        last_seq, last_hash = head(session)
        # verify accepts the caller's session as well as an engine
        assert verify_chain(session) == report
    assert (last_seq, report.count) == (10_000, 10_000)
    assert report.head_hash == last_hash
    assert report.first_bad_seq is None and report.problem is None and report.ok


def test_each_event_links_to_the_previous_hash(any_engine: Engine) -> None:
    _append(any_engine, 4)
    with Session(any_engine) as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert [e.seq for e in events] == [1, 2, 3, 4]
    assert events[0].prev_hash == GENESIS_HASH
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.hash
    first = events[0]
    assert first.hash == event_hash(
        1, first.occurred_at, "tester", "test.event", canonical_payload({"n": 1}), GENESIS_HASH
    )


def test_an_event_given_a_non_utc_time_still_verifies(any_engine: Engine) -> None:
    at = datetime(2026, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=2)))
    with unit_of_work(make_sessionmaker(any_engine)) as session:
        event = append_event(session, actor="a", type="t", payload={}, at=at)
    assert event.occurred_at == at and event.occurred_at.tzinfo is UTC
    assert verify_chain(any_engine).ok


def test_a_naive_event_time_is_refused(any_engine: Engine) -> None:
    with (
        pytest.raises(ValueError, match="naive"),
        unit_of_work(make_sessionmaker(any_engine)) as session,
    ):
        append_event(session, actor="a", type="t", payload={}, at=datetime(2026, 3, 1))


def test_an_edited_field_is_found_and_named(engine: Engine) -> None:
    _append(engine, 40)
    _tamper(engine, """UPDATE audit_event SET payload = '{"n":999}' WHERE seq = 23""")
    report = verify_chain(engine)
    assert report.first_bad_seq == 23
    assert report.problem is not None and "edited" in report.problem
    assert report.count == 40 and not report.ok


def test_an_edit_past_disabled_triggers_is_found_on_postgres(pg_engine: Engine) -> None:
    _append(pg_engine, 20)
    with pg_engine.begin() as conn:  # what a database owner can still do
        conn.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        conn.execute(text("UPDATE audit_event SET actor = 'mallory' WHERE seq = 9"))
        conn.execute(text("DELETE FROM audit_event WHERE seq = 15"))
    report = verify_chain(pg_engine)
    assert (report.first_bad_seq, report.count) == (9, 19)
    assert report.problem is not None and "edited" in report.problem


def test_a_removed_event_is_found(engine: Engine) -> None:
    _append(engine, 40)
    _tamper(engine, "DELETE FROM audit_event WHERE seq = 17")
    report = verify_chain(engine)
    assert report.first_bad_seq == 18
    assert report.problem is not None and "event 17 is missing" in report.problem
    assert report.count == 39


def test_a_removed_first_event_is_found(engine: Engine) -> None:
    _append(engine, 5)
    _tamper(engine, "DELETE FROM audit_event WHERE seq = 1")
    report = verify_chain(engine)
    assert report.first_bad_seq == 2
    assert report.problem is not None and "event 1 is missing" in report.problem


def test_an_event_rewritten_with_a_fresh_hash_breaks_the_next_link(engine: Engine) -> None:
    _append(engine, 10)
    with Session(engine) as session:
        old = session.get(AuditEvent, 6)
        assert old is not None
        forged_payload = canonical_payload({"n": 6, "forged": True})
        forged_hash = event_hash(
            6, old.occurred_at, old.actor, old.type, forged_payload, old.prev_hash
        )
    _tamper(
        engine,
        f"UPDATE audit_event SET payload = '{forged_payload}', hash = '{forged_hash}' "
        "WHERE seq = 6",
    )
    report = verify_chain(engine)
    assert report.first_bad_seq == 7
    assert report.problem is not None and "prev_hash" in report.problem


def test_a_break_across_read_batches_is_found(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db.audit.chain, "VERIFY_BATCH", 7)
    _append(engine, 50)
    intact = verify_chain(engine)
    assert (intact.count, intact.ok) == (50, True)
    # seq 14 ends the second batch, 15 starts the third: the link across must hold
    _tamper(engine, "DELETE FROM audit_event WHERE seq = 14")
    report = verify_chain(engine)
    assert (report.first_bad_seq, report.count) == (15, 49)


def test_expect_head_is_found_while_the_chain_grows(any_engine: Engine) -> None:
    _append(any_engine, 5)
    recorded = verify_chain(any_engine).head_hash
    _append(any_engine, 5)
    assert verify_chain(any_engine, expect_head=recorded).expected_head_found is True
    missing = verify_chain(any_engine, expect_head="f" * 64)
    assert missing.expected_head_found is False and not missing.ok
    assert verify_chain(any_engine).expected_head_found is None


def test_expect_head_tolerates_case_and_blanks_and_the_empty_head(any_engine: Engine) -> None:
    assert verify_chain(any_engine, expect_head=GENESIS_HASH).expected_head_found is True
    _append(any_engine, 3)
    recorded = verify_chain(any_engine).head_hash
    pasted = f"  {recorded.upper()}\n"
    assert verify_chain(any_engine, expect_head=pasted).expected_head_found is True
    assert verify_chain(any_engine, expect_head=GENESIS_HASH).expected_head_found is True


def test_a_cut_off_tail_is_found_by_the_expected_head(engine: Engine) -> None:
    _append(engine, 10)
    recorded = verify_chain(engine).head_hash
    _tamper(engine, "DELETE FROM audit_event WHERE seq > 7")
    # the remaining links are intact: only the recorded head tells
    report = verify_chain(engine, expect_head=recorded)
    assert report.first_bad_seq is None
    assert report.expected_head_found is False and not report.ok


# --- callgate audit verify -------------------------------------------------------


def test_cli_prints_count_and_head_of_an_intact_chain(
    any_engine: Engine, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tui.commands.progress.INTERVAL_SECONDS", 0)  # a line per report
    _append(any_engine, 12)
    expected_head = verify_chain(any_engine).head_hash
    assert cli(["--db", _url(any_engine), "audit", "verify"]) == 0
    captured = capsys.readouterr()
    out = captured.out
    assert f"12 events, head {expected_head}" in out
    assert "chain intact" in out
    # Progress goes to stderr (not a terminal here: plain lines), never into the output.
    assert "audit verify: 12 of 12 events (100%)" in captured.err
    assert "audit verify:" not in out


def test_cli_names_the_first_bad_event_and_exits_1(
    engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    _append(engine, 30)
    with Session(engine) as session:
        edited = session.get(AuditEvent, 21)
        assert edited is not None
        local_time = f"{edited.occurred_at.astimezone():%Y-%m-%d %H:%M:%S}"
    _tamper(engine, "UPDATE audit_event SET actor = 'mallory' WHERE seq = 21")
    assert cli(["--db", _url(engine), "audit", "verify"]) == 1
    out = capsys.readouterr().out
    assert f"BROKEN at event 21 (test.event, {local_time}" in out
    assert "chain intact" not in out


def test_cli_expect_head(any_engine: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    _append(any_engine, 3)
    recorded = verify_chain(any_engine).head_hash
    _append(any_engine, 2)
    url = _url(any_engine)
    assert cli(["--db", url, "audit", "verify", "--expect-head", recorded]) == 0
    assert f"expected head {recorded} is in the chain" in capsys.readouterr().out
    assert cli(["--db", url, "audit", "verify", "--expect-head", "ab" * 32]) == 1
    assert "is NOT in the chain" in capsys.readouterr().out


# --- events are chained as their transaction commits ----------------------------------


def _types(engine: Engine) -> list[str]:
    with make_sessionmaker(engine)() as session:
        return list(session.scalars(select(AuditEvent.type).order_by(AuditEvent.seq)))


def test_an_event_has_its_place_in_the_chain_once_its_transaction_commits(
    any_engine: Engine,
) -> None:
    with unit_of_work(make_sessionmaker(any_engine)) as session:
        first = append_event(session, actor="a", type="first", payload={})
        second = append_event(session, actor="a", type="second", payload={})
        assert first.seq is None  # nothing is written, nothing locked, before the commit
    assert (first.seq, second.seq) == (1, 2)
    assert (first.prev_hash, second.prev_hash) == (GENESIS_HASH, first.hash)
    assert _types(any_engine) == ["first", "second"]
    assert verify_chain(any_engine).ok


def test_events_of_a_rolled_back_transaction_are_never_written(any_engine: Engine) -> None:
    with make_sessionmaker(any_engine)() as session:
        with session.begin():
            append_event(session, actor="a", type="kept", payload={})
        with pytest.raises(RuntimeError), session.begin():
            append_event(session, actor="a", type="dropped", payload={})
            raise RuntimeError("the change failed")
        # the same session's next transaction writes its own events only
        with session.begin():
            append_event(session, actor="a", type="next", payload={})
            savepoint = session.begin_nested()
            append_event(session, actor="a", type="in a savepoint rolled back", payload={})
            savepoint.rollback()
            append_event(session, actor="a", type="after the savepoint", payload={})
    assert _types(any_engine) == ["kept", "next", "after the savepoint"]
    assert verify_chain(any_engine).ok


def test_the_head_read_in_a_transaction_includes_its_events(
    any_engine: Engine,
) -> None:
    with unit_of_work(make_sessionmaker(any_engine)) as session:
        append_event(session, actor="a", type="t", payload={})
        assert head(session)[0] == 1
