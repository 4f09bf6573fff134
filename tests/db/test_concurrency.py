"""Many desks on one database: real processes writing at once lose nothing.

Each worker is a separate Python process (``tests/helpers/check_worker.py``)
recording item checks with their audit events, the way the desk does.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from db.audit.chain import append_event, chain_pending, verify_chain
from db.engine import unit_of_work
from db.models import Agent, AuditEvent, Call, ItemCheck
from verification.kinds import Role

REPO = Path(__file__).resolve().parents[2]
WORKERS = 4
CHECKS_EACH = 250


def _calls(factory: sessionmaker[Session], count: int) -> list[int]:
    """One open call per worker, each owned by its own agent."""
    with unit_of_work(factory) as session:
        ids = []
        for n in range(count):
            agent = Agent(
                username=f"agent{n}",
                display_name=f"Agent {n}",
                role=Role.AGENT,
                passphrase_hash="x",
            )
            session.add(agent)
            session.flush()
            call = Call(agent_id=agent.id)
            session.add(call)
            session.flush()
            ids.append(call.id)
    return ids


def _spawn(url: str, call_id: int, name: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.helpers.check_worker",
            url,
            str(call_id),
            str(CHECKS_EACH),
            name,
        ],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_four_processes_record_1000_checks_without_an_error(
    any_engine: Engine, any_factory: sessionmaker[Session]
) -> None:
    call_ids = _calls(any_factory, WORKERS)
    url = any_engine.url.render_as_string(hide_password=False)
    workers = [_spawn(url, call_id, f"desk{n}") for n, call_id in enumerate(call_ids)]
    for worker in workers:  # all connected before any starts writing
        assert worker.stdout is not None and worker.stdout.readline() == "ready\n"
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    results = [worker.communicate(timeout=300) for worker in workers]

    for worker, (out, err) in zip(workers, results, strict=True):
        assert "database is locked" not in err
        assert err == "", err
        assert worker.returncode == 0
        assert out.startswith(f"done {CHECKS_EACH} 0 ")
    with any_factory() as session:
        per_call = dict(
            session.execute(
                select(ItemCheck.call_id, func.count()).group_by(ItemCheck.call_id)
            ).all()
        )
        checked_events = session.scalar(
            select(func.count()).where(AuditEvent.type == "item.checked")
        )
        actors = session.scalars(select(AuditEvent.actor).order_by(AuditEvent.seq)).all()
    assert per_call == {call_id: CHECKS_EACH for call_id in call_ids}
    assert checked_events == WORKERS * CHECKS_EACH
    report = verify_chain(any_engine)
    assert report.ok and report.count == WORKERS * CHECKS_EACH
    # The writes really overlapped: desks took turns, not one whole run after another.
    turns = sum(a != b for a, b in itertools.pairwise(actors))
    assert turns >= 2 * WORKERS, f"only {turns} changes of writer"
    timings = [out.split()[-2:] for out, _ in results]
    print(f"{any_engine.dialect.name}: {turns} turns; [median, max] ms per check: {timings}")


def test_postgres_appends_wait_for_the_chain_head_lock(
    pg_engine: Engine, pg_factory: sessionmaker[Session]
) -> None:
    """A second transaction appending while the first is open waits on the
    advisory lock, then links after the first, instead of forking the chain
    (which, seq being the primary key, would end in an IntegrityError)."""
    outcome: dict[str, object] = {}

    def second_desk() -> None:
        try:
            with unit_of_work(pg_factory) as session:
                outcome["event"] = append_event(session, actor="desk2", type="t", payload={})
        except Exception as exc:  # reported to the test thread below
            outcome["error"] = exc

    with pg_factory() as first, first.begin():
        mine = append_event(first, actor="desk1", type="t", payload={})
        chain_pending(first)  # as the commit would: the lock is held until it ends
        other = threading.Thread(target=second_desk)
        other.start()
        _wait_for_advisory_lock_waiter(pg_engine)
        assert other.is_alive()
    other.join(timeout=30)
    assert "error" not in outcome, outcome.get("error")
    theirs = outcome["event"]
    assert isinstance(theirs, AuditEvent)
    assert (theirs.seq, theirs.prev_hash) == (mine.seq + 1, mine.hash)
    assert verify_chain(pg_engine).ok


def _wait_for_advisory_lock_waiter(engine: Engine) -> None:
    """Block until some session is queued on an advisory lock (at most 10 s)."""
    deadline = time.monotonic() + 10
    query = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            if connection.scalar(query):
                return
        time.sleep(0.02)
    pytest.fail("the second append never waited on the chain-head advisory lock")
