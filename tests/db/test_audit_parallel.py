"""verify_chain in parallel seq ranges: the same report as one process, seams included.

The thresholds are lowered so a 60-event chain is split into ranges of five
events (``after`` 0, 5, 10, ...) checked by three worker processes; each
break is compared with what the single-process scan reports for the same rows.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, text

import db.audit.chain
from db.audit.chain import ChainReport, canonical_payload, event_hash, verify_chain
from db.audit.scan import canonical_text
from db.engine import make_sessionmaker
from db.models import AuditEvent
from tests.db.test_audit import _append, _tamper, _url
from tui.cli import main as cli

EVENTS = 60


@pytest.fixture
def parallel(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every engine chain goes to three workers, in ranges of five events, batches of 3."""
    monkeypatch.setattr(db.audit.chain, "PARALLEL_MIN_EVENTS", 1)
    monkeypatch.setattr(db.audit.chain, "verify_workers", lambda: 3)
    monkeypatch.setattr(db.audit.chain, "RANGES_PER_WORKER", 4)
    monkeypatch.setattr(db.audit.chain, "VERIFY_BATCH", 3)


def _in_one_process(engine: Engine, expect_head: str | None = None) -> ChainReport:
    # Given a session, verify_chain always scans in this process.
    with make_sessionmaker(engine)() as session:
        return verify_chain(session, expect_head=expect_head)


@pytest.mark.parametrize(
    "text",
    [
        "plain",
        "",
        'quote " and \\ backslash',
        "tab\tnew\nline\x00\x1f\x7f",
        "Pérez 名前 🎉",
        "\u2028\ud800",
    ],
)
def test_canonical_text_is_the_json_the_chain_was_hashed_with(text: str) -> None:
    fields = (123456789, f"2026-11-01T00:00:00.000001+00:00{text}", text, f"t{text}", text, text)
    as_json = json.dumps(list(fields), separators=(",", ":"), ensure_ascii=False)
    assert canonical_text(*fields) == as_json


def test_a_long_chain_is_split_into_ranges(parallel: None, any_engine: Engine) -> None:
    _append(any_engine, EVENTS)
    ranges = db.audit.chain._parallel_ranges(any_engine)
    assert ranges is not None and len(ranges) == 12
    assert ranges[:2] == [(0, 5), (5, 10)] and ranges[-1][0] == 55


def test_an_intact_chain_reports_as_one_process(parallel: None, any_engine: Engine) -> None:
    _append(any_engine, EVENTS)
    heard: list[tuple[int, int | None]] = []
    report = verify_chain(any_engine, progress=lambda done, total: heard.append((done, total)))
    assert (report.count, report.ok) == (EVENTS, True)
    assert report == _in_one_process(any_engine)
    # One report per range, in order, up to the whole chain.
    assert len(heard) == 12 and heard[-1] == (EVENTS, EVENTS)
    assert [done for done, _ in heard] == sorted(done for done, _ in heard)


def test_expect_head_is_found_in_any_range(parallel: None, any_engine: Engine) -> None:
    _append(any_engine, 23)
    recorded = verify_chain(any_engine).head_hash
    _append(any_engine, EVENTS - 23)
    assert verify_chain(any_engine, expect_head=recorded).expected_head_found is True
    assert verify_chain(any_engine, expect_head="e" * 64).expected_head_found is False


@pytest.mark.parametrize(
    ("statements", "first_bad", "count", "words"),
    [
        # the first event of a range is gone: its seam names the gap
        (["DELETE FROM audit_event WHERE seq = 6"], 7, 59, "event 6 is missing"),
        # a whole range is empty: the seam joins the ranges on either side
        (["DELETE FROM audit_event WHERE seq BETWEEN 5 AND 10"], 11, 54, "events 5-10 are missing"),
        (["DELETE FROM audit_event WHERE seq = 1"], 2, 59, "event 1 is missing"),
        # an edit in the first event of a range (its own hash, checked by the worker)
        (["UPDATE audit_event SET actor = 'mallory' WHERE seq = 11"], 11, 60, "edited"),
        # an edit inside a range, a removal in a later one: the earlier break wins
        (
            [
                "UPDATE audit_event SET payload = '{}' WHERE seq = 33",
                "DELETE FROM audit_event WHERE seq = 47",
            ],
            33,
            59,
            "edited",
        ),
        # the last event of a range edited, hash and all
        # (one hex digit changed whatever it was: a hash already starting with f stays changed)
        (
            [
                "UPDATE audit_event SET hash = CASE WHEN hash LIKE 'f%' THEN 'e' ELSE 'f' END"
                " || substr(hash, 2) WHERE seq = 10"
            ],
            10,
            60,
            "edited",
        ),
        # a time stored in another form that reads the same is not an edit
        (
            ["UPDATE audit_event SET occurred_at = replace(occurred_at, ' ', 'T') WHERE seq = 20"],
            None,
            60,
            None,
        ),
        (
            ["UPDATE audit_event SET occurred_at = '2020-01-01 00:00:00.000000' WHERE seq = 21"],
            21,
            60,
            "edited",
        ),
    ],
)
def test_a_break_is_found_as_one_process_finds_it(
    parallel: None,
    engine: Engine,
    statements: list[str],
    first_bad: int | None,
    count: int,
    words: str | None,
) -> None:
    _append(engine, EVENTS, per_transaction=7)
    _tamper(engine, *statements)
    report = verify_chain(engine)
    assert (report.first_bad_seq, report.count) == (first_bad, count)
    assert report.problem is None if words is None else words in (report.problem or "")
    assert report == _in_one_process(engine)


def test_an_event_rewritten_with_a_fresh_hash_breaks_the_seam_after_it(
    parallel: None, engine: Engine
) -> None:
    _append(engine, EVENTS)
    # seq 10 ends a range; its forged hash matches its fields, so only seq 11's link tells
    with make_sessionmaker(engine)() as session:
        old = session.get(AuditEvent, 10)
        assert old is not None
        payload = canonical_payload({"forged": True})
        forged = event_hash(10, old.occurred_at, old.actor, old.type, payload, old.prev_hash)
    _tamper(
        engine,
        f"UPDATE audit_event SET payload = '{payload}', hash = '{forged}' WHERE seq = 10",
    )
    report = verify_chain(engine)
    assert report.first_bad_seq == 11
    assert report.problem is not None and "prev_hash" in report.problem
    assert report == _in_one_process(engine)


@pytest.mark.postgres
def test_breaks_past_disabled_triggers_are_found_on_postgres(
    parallel: None, pg_engine: Engine
) -> None:
    _append(pg_engine, EVENTS)
    with pg_engine.begin() as conn:
        conn.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        conn.execute(text("DELETE FROM audit_event WHERE seq = 16"))
        conn.execute(text("UPDATE audit_event SET type = 'forged' WHERE seq = 40"))
    report = verify_chain(pg_engine)
    assert (report.first_bad_seq, report.count) == (17, 59)
    assert report.problem is not None and "event 16 is missing" in report.problem
    assert report == _in_one_process(pg_engine)


def test_cli_names_a_break_found_in_parallel(
    parallel: None, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    _append(engine, EVENTS)
    _tamper(engine, "DELETE FROM audit_event WHERE seq = 26")
    assert cli(["--db", _url(engine), "audit", "verify"]) == 1
    out = capsys.readouterr().out
    assert "audit chain: 59 events" in out
    assert "BROKEN at event 27" in out and "event 26 is missing" in out
