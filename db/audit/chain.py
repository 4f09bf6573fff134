"""The append-only, hash-chained audit log (PRODUCT.md section 7).

Each event hashes a canonical encoding of its fields together with the
previous event's hash, so any edit, insertion or removal breaks every later
link. Appends take the write lock first (SQLite: the ``BEGIN IMMEDIATE`` of the
transaction; PostgreSQL: a transaction-level advisory lock, taken with the
head in one round trip by ``audit_chain_head``, migration 0012) so two desks
never fork the chain. The link rule and the fast range reader ``verify_chain``
uses are in ``db.audit.scan``.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Engine, Table, func, insert, select, text
from sqlalchemy.event import listens_for
from sqlalchemy.orm import Session, SessionTransaction

from db.audit.scan import (
    OPEN_END,
    RangeJob,
    Scanner,
    Stretch,
    hash_fields,
    link_problem,
    range_sql,
    scan_batches,
    scan_range,
)
from db.engine import libpq_target
from db.models import AuditEvent
from db.progress import Progress
from db.types import utcnow

GENESIS_HASH = "0" * 64
_INSERT_EVENTS = insert(cast(Table, AuditEvent.__table__))
# session.info key: (transaction, seq, hash) of the last event it appended.
_HEAD_KEY = "callgate.chain_head"
# session.info key: [(transaction, event)] recorded and not yet written.
_PENDING_KEY = "callgate.pending_events"
_COLUMNS = ("seq", "occurred_at", "actor", "type", "payload", "prev_hash", "hash")
# Any constant shared by every desk; it names the chain-head lock on PostgreSQL.
_PG_CHAIN_LOCK_KEY = 0x63616C6C67617465  # "callgate"
# Rows read per query while verifying: bounded memory for a chain of millions.
VERIFY_BATCH = 5_000
# From this many events on, verify_chain on an engine uses one process per core.
PARALLEL_MIN_EVENTS = 200_000
RANGES_PER_WORKER = 4


def canonical_payload(payload: Mapping[str, object]) -> str:
    """The one JSON text a payload is stored and hashed as."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(
    seq: int, occurred_at: datetime, actor: str, type_: str, payload: str, prev_hash: str
) -> str:
    """SHA-256 over the canonical form of one event and its predecessor's hash."""
    iso = occurred_at.isoformat(timespec="microseconds")
    return hash_fields(seq, iso, actor, type_, payload, prev_hash)


def append_event(
    session: Session,
    *,
    actor: str,
    type: str,
    payload: Mapping[str, object],
    at: datetime | None = None,
) -> AuditEvent:
    """Record one event in the caller's transaction; it joins the chain as that commits.

    Call it in the same unit of work as the change it records, so the event
    exists exactly when the change does. Payloads carry ids and results, never
    personal data, so purging personal data leaves the chain intact. The
    returned event (detached) has its ``seq``, ``prev_hash`` and ``hash`` once
    the transaction committed: the chain's lock is taken only then
    (``chain_pending``), so desks wait on each other for the few statements
    of the append, never for the rest of a transaction's work.
    """
    if at is not None and at.tzinfo is None:
        raise ValueError("naive datetime given as an audit event time")
    # Hash the UTC form: that is what the column returns, so verify recomputes the same text.
    event = AuditEvent(
        occurred_at=(at or utcnow()).astimezone(UTC),
        actor=actor,
        type=type,
        payload=canonical_payload(payload),
    )
    pending: list[tuple[object, AuditEvent]] = session.info.setdefault(_PENDING_KEY, [])
    pending.append((_current_transaction(session), event))
    return event


@listens_for(Session, "before_commit")
def chain_pending(session: Session) -> None:
    """Write the events recorded in the current transaction, linked in the order recorded.

    Every commit runs it first; called earlier, it takes the chain's lock
    then, and the events have their place in the chain before the commit.
    The session's own changes are flushed first: from the chain's lock to
    the commit there is only the head read and the insert.
    """
    committing = _current_transaction(session)
    pending: list[tuple[object, AuditEvent]] = session.info.get(_PENDING_KEY, [])
    events = [event for owner, event in pending if owner is committing]
    if not events:
        return
    session.info[_PENDING_KEY] = [p for p in pending if p[0] is not committing]
    session.flush()
    seq, prev = _locked_head(session)
    rows = []
    for event in events:
        event.seq, event.prev_hash = seq, prev
        event.hash = event_hash(
            seq, event.occurred_at, event.actor, event.type, event.payload, prev
        )
        rows.append({c: getattr(event, c) for c in _COLUMNS})
        seq, prev = seq + 1, event.hash
    # A Core insert on the session's connection, not the unit of work: the
    # events are final as written, and the session was flushed above.
    session.connection().execute(_INSERT_EVENTS, rows[0] if len(rows) == 1 else rows)
    session.info[_HEAD_KEY] = (committing, seq - 1, prev)


@listens_for(Session, "after_transaction_end")
def _drop_rolled_back(session: Session, transaction: SessionTransaction) -> None:
    """Forget events recorded in a transaction that ended without writing them (rolled back)."""
    pending: list[tuple[object, AuditEvent]] | None = session.info.get(_PENDING_KEY)
    if pending:
        session.info[_PENDING_KEY] = [p for p in pending if p[0] is not transaction]


def _locked_head(session: Session) -> tuple[int, str]:
    """The next event's seq and its predecessor's hash, with the chain's write lock held.

    The lock is the transaction's (SQLite: its ``BEGIN IMMEDIATE``;
    PostgreSQL: an advisory lock held to its end), so after one append in a
    transaction the head is the event it wrote: later appends in the same
    (innermost) transaction take neither the lock nor the head again.
    """
    held = session.info.get(_HEAD_KEY)
    if held is not None and held[0] is _current_transaction(session):
        return held[1] + 1, held[2]
    if session.get_bind().dialect.name == "postgresql":
        # The lock, then the head read with a snapshot taken after it was granted.
        locked = session.connection().execute(_PG_LOCKED_HEAD, {"k": _PG_CHAIN_LOCK_KEY})
        seq, head_hash = locked.one()
    else:
        found = session.execute(_HEAD).first()
        seq, head_hash = found if found is not None else (None, GENESIS_HASH)
    return (1, GENESIS_HASH) if seq is None else (seq + 1, head_hash)


_HEAD = select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
_PG_LOCKED_HEAD = text("SELECT seq, hash FROM audit_chain_head(:k)")


def _current_transaction(session: Session) -> object:
    return session.get_nested_transaction() or session.get_transaction()


@dataclass(frozen=True)
class ChainReport:
    """What ``verify_chain`` found.

    ``count`` and ``head_hash`` describe every stored event, even past a break;
    ``first_bad_seq`` is the first stored event that fails a check and
    ``problem`` says how; ``expected_head_found`` is None when no head was given.
    """

    count: int
    head_hash: str
    first_bad_seq: int | None
    problem: str | None
    expected_head_found: bool | None

    @property
    def ok(self) -> bool:
        """True when every link holds and any expected head is in the chain."""
        return self.first_bad_seq is None and self.expected_head_found is not False


def head(session: Session) -> tuple[int, str]:
    """The last event's sequence number and hash; ``(0, GENESIS_HASH)`` when empty.

    Events recorded in the session's transaction are chained first: the head
    is the one its commit leaves.
    """
    chain_pending(session)
    row = session.execute(_HEAD).first()
    return (row[0], row[1]) if row else (0, GENESIS_HASH)


def verify_chain(
    source: Session | Engine, expect_head: str | None = None, progress: Progress | None = None
) -> ChainReport:
    """Recompute the whole chain in sequence order and report the first break.

    Three kinds of break are told apart: an event whose fields no longer match
    its hash (an edit), a sequence gap (a removal), and a ``prev_hash`` that is
    not the previous event's hash (an event rewritten with a fresh hash, or a
    fork). Given an engine, each batch is read in its own short transaction so a
    long verification never holds up desks writing to the same database, and a
    chain of ``PARALLEL_MIN_EVENTS`` or more is checked in consecutive seq
    ranges by one process per core, whose seams are joined here (each range's
    first ``prev_hash`` against the previous range's last hash): the report is
    the same as from one process. Given a session, it reads in that session's
    transaction, in this process. ``progress`` hears the events checked
    against the chain's last seq (per batch here, per range across processes).
    """
    # Heads are copied by hand from exports: tolerate case and surrounding blanks.
    expected = None if expect_head is None else expect_head.strip().lower()
    # Every chain starts from the genesis hash, so a head recorded when empty is always found.
    genesis_found = None if expected is None else expected == GENESIS_HASH
    ranges = _parallel_ranges(source) if isinstance(source, Engine) else None
    if ranges is None:
        fetch = _fetcher(source)
        if progress is not None:
            fetch = _reporting(fetch, progress, _last_seq(source))
        stretch = scan_batches(
            fetch, Scanner((0, GENESIS_HASH), expected), 0, OPEN_END, VERIFY_BATCH
        )
        stretches = [stretch]
    else:
        assert isinstance(source, Engine)
        stretches = _scan_in_processes(source, ranges, expected, progress)
    return _joined(stretches, genesis_found)


def _last_seq(source: Session | Engine) -> int:
    """The chain's last seq: the total a verification's progress counts towards."""
    query = select(func.max(AuditEvent.seq))
    if isinstance(source, Session):
        return source.execute(query).scalar() or 0
    with source.connect() as connection:
        return connection.execute(query).scalar() or 0


def _reporting(
    fetch: Callable[[int, int, int], Sequence[Any]], progress: Progress, total: int
) -> Callable[[int, int, int], Sequence[Any]]:
    """``fetch`` telling ``progress`` how many events it has returned so far."""
    done = 0

    def reporting(after: int, upto: int, limit: int) -> Sequence[Any]:
        nonlocal done
        rows = fetch(after, upto, limit)
        done += len(rows)
        progress(done, max(total, done))
        return rows

    return reporting


def _joined(stretches: list[Stretch], genesis_found: bool | None) -> ChainReport:
    """One report from consecutive stretches: their counts, the seams checked in order."""
    count = 0
    last_seq, last_hash = 0, GENESIS_HASH
    first_bad: int | None = None
    problem: str | None = None
    found = genesis_found
    for stretch in stretches:
        if first_bad is None and stretch.first is not None:
            seq, prev_hash, fields_match = stretch.first
            problem = link_problem(seq, prev_hash, fields_match, last_seq, last_hash)
            first_bad = None if problem is None else seq
        if first_bad is None and stretch.bad_seq is not None:
            first_bad, problem = stretch.bad_seq, stretch.problem
        if found is not None and stretch.found_expected:
            found = True
        count += stretch.count
        if stretch.last is not None:
            last_seq, last_hash = stretch.last
    return ChainReport(count, last_hash, first_bad, problem, found)


def _fetcher(source: Session | Engine) -> Callable[[int, int, int], Sequence[Any]]:
    """Batch reads in this process: in the session's transaction, or one each."""
    backend = source.get_bind().dialect.name if isinstance(source, Session) else source.dialect.name
    query = text(range_sql(backend, (":after", ":upto", ":limit")))

    def fetch(after: int, upto: int, limit: int) -> Sequence[Any]:
        params = {"after": after, "upto": upto, "limit": limit}
        if isinstance(source, Session):
            return source.execute(query, params).all()
        with source.connect() as connection:
            return connection.execute(query, params).all()

    return fetch


def verify_workers() -> int:
    """How many processes verify a long chain: one per core this process may use."""
    return len(os.sched_getaffinity(0))


def _parallel_ranges(engine: Engine) -> list[tuple[int, int]] | None:
    """The seq ranges ``(after, upto]`` for worker processes, or None to scan here.

    None for a short chain (starting processes would cost more than they
    save), one usable core, or a database only this process can see.
    """
    workers = verify_workers()
    backend = engine.dialect.name
    if workers < 2 or backend not in ("sqlite", "postgresql"):
        return None
    if backend == "sqlite" and engine.url.database in (None, "", ":memory:"):
        return None
    with engine.connect() as connection:
        low, high = connection.execute(
            select(func.min(AuditEvent.seq), func.max(AuditEvent.seq))
        ).one()
    if low is None or high - low + 1 < PARALLEL_MIN_EVENTS:
        return None
    # More ranges than processes, so a process slowed by a busy neighbour holds up no one.
    parts = workers * RANGES_PER_WORKER
    cuts = [low - 1 + (high - low + 1) * i // parts for i in range(parts)] + [OPEN_END]
    return list(itertools.pairwise(cuts))


def _scan_in_processes(
    engine: Engine,
    ranges: list[tuple[int, int]],
    expected: str | None,
    progress: Progress | None = None,
) -> list[Stretch]:
    """Each range scanned in a worker process, the stretches back in seq order."""
    backend = engine.dialect.name
    if backend == "sqlite":
        assert engine.url.database is not None
        where = engine.url.database
        threshold = None
    else:
        where, threshold = libpq_target(engine.url)
    jobs = [
        RangeJob(backend, where, after, upto, VERIFY_BATCH, expected, threshold)
        for after, upto in ranges
    ]
    # spawn, not fork: a worker imports only db.audit.scan, and never inherits
    # the caller's open connections or threads.
    context = multiprocessing.get_context("spawn")
    total = _last_seq(engine) if progress is not None else 0
    stretches = []
    with context.Pool(min(verify_workers(), len(jobs))) as pool:
        for stretch in pool.imap(scan_range, jobs):
            stretches.append(stretch)
            if progress is not None:
                done = sum(s.count for s in stretches)
                progress(done, max(total, done))
    return stretches
