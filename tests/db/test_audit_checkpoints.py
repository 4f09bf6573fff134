"""Checkpoints kept outside the database catch what a self-checking chain cannot.

Each attack here leaves ``verify_chain`` reporting an intact chain (asserted,
as the control), and ``audit verify --checkpoints`` must name it: a chain cut
short, cut and regrown with new events, or rewritten whole with fresh hashes.
Tampering goes behind the desk's back as the database owner would: triggers
dropped on SQLite, disabled on PostgreSQL.
"""

from __future__ import annotations

import sqlite3
import tempfile
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select, text

from db.audit.chain import append_event, event_hash, verify_chain
from db.audit.checkpoints import (
    Checkpoint,
    CheckpointFileError,
    append_checkpoint,
    check_checkpoints,
    read_checkpoints,
    take_checkpoint,
)
from db.engine import make_sessionmaker, unit_of_work
from db.models import AuditEvent
from tui.cli import main as cli

NOW = datetime(2026, 12, 1, 21, 0, tzinfo=UTC)


def _append(engine: Engine, count: int, actor: str = "tester") -> None:
    factory = make_sessionmaker(engine)
    for _ in range(count):
        with unit_of_work(factory) as session:
            append_event(session, actor=actor, type="test.event", payload={"n": 1})


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _checkpoint(engine: Engine, file: Path) -> Checkpoint:
    checkpoint = take_checkpoint(engine, NOW)
    append_checkpoint(file, checkpoint)
    return checkpoint


def _behind_the_back(engine: Engine, *statements: str) -> None:
    """Run SQL on the audit table with its triggers out of the way, as an owner could."""
    if engine.dialect.name == "sqlite":
        engine.dispose()
        assert engine.url.database
        with closing(sqlite3.connect(engine.url.database)) as raw, raw:
            raw.execute("DROP TRIGGER audit_event_no_update")
            raw.execute("DROP TRIGGER audit_event_no_delete")
            for statement in statements:
                raw.execute(statement)
        return
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        for statement in statements:
            connection.execute(text(statement))
        connection.execute(text("ALTER TABLE audit_event ENABLE TRIGGER USER"))


def _rewrite_from(engine: Engine, first: int, actor: str) -> None:
    """Edit the actor of every event from ``first`` on and recompute every later hash."""
    with engine.connect() as connection:
        rows = connection.execute(select(AuditEvent).order_by(AuditEvent.seq)).all()
    statements, prev = [], rows[0].prev_hash
    for row in rows:
        if row.seq < first:
            prev = row.hash
            continue
        occurred = row.occurred_at
        digest = event_hash(row.seq, occurred, actor, row.type, row.payload, prev)
        statements.append(
            f"UPDATE audit_event SET actor = '{actor}', prev_hash = '{prev}', hash = '{digest}' "
            f"WHERE seq = {row.seq}"
        )
        prev = digest
    _behind_the_back(engine, *statements)


def _verify(engine: Engine, file: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Exit code and stdout of ``audit verify --checkpoints``; stderr must be empty."""
    code = cli(["--db", _url(engine), "audit", "verify", "--checkpoints", str(file)])
    captured = capsys.readouterr()
    assert captured.err == ""
    return code, captured.out


def test_an_intact_chain_holds_every_checkpoint(
    any_engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "heads.txt"
    _checkpoint(any_engine, file)  # on the empty chain
    _append(any_engine, 4)
    _checkpoint(any_engine, file)
    _append(any_engine, 3)
    assert cli(["--db", _url(any_engine), "audit", "checkpoint", str(file)]) == 0
    assert "seq=7 hash=" in capsys.readouterr().out
    _append(any_engine, 2)  # events after the last checkpoint are fine

    code, out = _verify(any_engine, file, capsys)

    assert code == 0, out
    assert "3 checkpoints held" in out
    assert [c.seq for c in read_checkpoints(file)] == [0, 4, 7]


def test_truncation_is_caught(
    any_engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "heads.txt"
    _append(any_engine, 10)
    _checkpoint(any_engine, file)
    _behind_the_back(any_engine, "DELETE FROM audit_event WHERE seq > 6")
    assert verify_chain(any_engine).ok  # the control: the chain alone looks fine

    code, out = _verify(any_engine, file, capsys)

    assert code == 1
    assert "truncated after seq 6" in out
    assert "chain intact" not in out


def test_truncation_then_recreating_the_events_is_caught(
    any_engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "heads.txt"
    _append(any_engine, 5)
    _checkpoint(any_engine, file)
    _append(any_engine, 5)
    _checkpoint(any_engine, file)
    _behind_the_back(any_engine, "DELETE FROM audit_event WHERE seq > 6")
    _append(any_engine, 6, actor="mallory")  # regrown past the checkpoint, links all fine
    assert verify_chain(any_engine).ok

    code, out = _verify(any_engine, file, capsys)

    assert code == 1
    [line] = [line for line in out.splitlines() if line.startswith("checkpoints")]
    assert "rewritten at seq 10" in line
    assert "intact up to seq 5" in line


def test_a_whole_rewrite_with_fresh_hashes_is_caught(
    any_engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "heads.txt"
    for _ in range(3):
        _append(any_engine, 3)
        _checkpoint(any_engine, file)
    _rewrite_from(any_engine, 1, actor="mallory")
    assert verify_chain(any_engine).ok

    code, out = _verify(any_engine, file, capsys)

    assert code == 1
    assert "rewritten at seq 3" in out


def test_a_rewrite_after_the_first_checkpoint_names_the_first_that_fails(
    any_engine: Engine,
) -> None:
    _append(any_engine, 9)
    checkpoints = []
    with any_engine.connect() as connection:
        for seq in (3, 6, 9):
            digest = connection.execute(
                select(AuditEvent.hash).where(AuditEvent.seq == seq)
            ).scalar_one()
            checkpoints.append(Checkpoint(seq, digest, NOW, line=len(checkpoints) + 1))
    _rewrite_from(any_engine, 5, actor="mallory")

    report = check_checkpoints(any_engine, checkpoints)

    assert report.checked == 1
    assert report.problem is not None
    assert report.problem.startswith("rewritten at seq 6: the checkpoint of 2026-12-01T21:00:00Z")
    assert report.problem.endswith("intact up to seq 3")


def test_checkpoints_out_of_order_are_named(engine: Engine) -> None:
    _append(engine, 5)
    first, second = take_checkpoint(engine, NOW), Checkpoint(2, "0" * 64, NOW, line=2)
    report = check_checkpoints(engine, [first, second])
    assert report.problem is not None and "out of order" in report.problem


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("", "holds no checkpoint"),
        ("seq=1 hash=abc at=2026-12-01T21:00:00Z\n", "line 1 is not a checkpoint"),
        ("seq=1 hash=" + "a" * 64 + " at=yesterday\n", "line 1 is not a checkpoint"),
        ("seq=1 hash=" + "a" * 64 + " at=2026-12-01T21:00:00\n", "line 1 is not a checkpoint"),
    ],
)
def test_a_bad_checkpoint_file_is_one_clear_line(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str, words: str
) -> None:
    file = tmp_path / "heads.txt"
    file.write_text(body)
    with pytest.raises(CheckpointFileError, match=words):
        read_checkpoints(file)
    code = cli(["--db", _url(engine), "audit", "verify", "--checkpoints", str(file)])
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0]


def test_a_missing_checkpoint_file_is_one_clear_line(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli(["--db", _url(engine), "audit", "verify", "--checkpoints", str(tmp_path / "no")])
    assert code == 1
    assert "checkpoint file not found" in capsys.readouterr().err


@pytest.mark.parametrize(
    "at", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:30:00-01:00", "0001-01-01T00:00:00+23:59"]
)
def test_a_time_past_the_calendar_once_in_utc_is_one_clear_line(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str], at: str
) -> None:
    file = tmp_path / "heads.txt"
    file.write_text(
        f"seq=0 hash={'a' * 64} at=2026-12-01T21:00:00Z\nseq=1 hash={'a' * 64} at={at}\n"
    )
    with pytest.raises(CheckpointFileError, match="line 2 is not a checkpoint"):
        read_checkpoints(file)
    code = cli(["--db", _url(engine), "audit", "verify", "--checkpoints", str(file)])
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "line 2 is not a checkpoint" in err[0]


_ZONE = st.sampled_from(["Z", "+00:00", "+01:00", "-01:00", "+23:59", "-23:59", "+05:30:15"])
_NEAR_TIME = st.builds(
    lambda moment, zone: moment.isoformat() + zone,
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
    _ZONE,
)
_NEAR_LINE = st.builds(
    "seq={} hash={} at={}".format,
    st.integers(min_value=0, max_value=10**19 - 1),
    st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
    _NEAR_TIME | st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40),
)
_ANY_LINE = _NEAR_LINE | st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=120)


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(_ANY_LINE, max_size=6))
def test_any_file_reads_as_checkpoints_or_one_checkpoint_file_error(lines: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        file = Path(folder) / "heads.txt"
        file.write_text("\n".join(lines), encoding="utf-8")
        try:
            read = read_checkpoints(file)
        except CheckpointFileError as refused:
            assert "line" in str(refused) or "holds no checkpoint" in str(refused)
            return
    for checkpoint in read:
        # Every checkpoint read can be written back and named in a message.
        assert checkpoint.at.utcoffset() is not None
        assert read_checkpoints_line_round_trips(checkpoint)
        assert checkpoint.describe()


def read_checkpoints_line_round_trips(checkpoint: Checkpoint) -> bool:
    """Whether the checkpoint's own line parses back to its seq and hash."""
    with tempfile.TemporaryDirectory() as folder:
        file = Path(folder) / "one.txt"
        file.write_text(checkpoint.as_line() + "\n", encoding="utf-8")
        (again,) = read_checkpoints(file)
    return (again.seq, again.hash) == (checkpoint.seq, checkpoint.hash)
