"""The append-only, hash-chained audit log (PRODUCT.md section 7).

Each event hashes a canonical encoding of its fields together with the
previous event's hash, so any edit, insertion or removal breaks every later
link. Appends take the write lock first (SQLite: the ``BEGIN IMMEDIATE`` of the
transaction; PostgreSQL: a transaction-level advisory lock) so two desks never
fork the chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from db.models import AuditEvent
from db.types import utcnow

GENESIS_HASH = "0" * 64
# Any constant shared by every desk; it names the chain-head lock on PostgreSQL.
_PG_CHAIN_LOCK_KEY = 0x63616C6C67617465  # "callgate"
# Rows read per query while verifying: bounded memory for a chain of millions.
VERIFY_BATCH = 5_000


def canonical_payload(payload: Mapping[str, object]) -> str:
    """The one JSON text a payload is stored and hashed as."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(
    seq: int, occurred_at: datetime, actor: str, type_: str, payload: str, prev_hash: str
) -> str:
    """SHA-256 over the canonical form of one event and its predecessor's hash."""
    canonical = json.dumps(
        [seq, occurred_at.isoformat(timespec="microseconds"), actor, type_, payload, prev_hash],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def append_event(
    session: Session,
    *,
    actor: str,
    type: str,
    payload: Mapping[str, object],
    at: datetime | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction.

    Call it in the same unit of work as the change it records, so the event
    exists exactly when the change does. Payloads carry ids and results, never
    personal data, so purging personal data leaves the chain intact.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_CHAIN_LOCK_KEY})
    head = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
    if at is not None and at.tzinfo is None:
        raise ValueError("naive datetime given as an audit event time")
    # Hash the UTC form: that is what the column returns, so verify recomputes the same text.
    occurred_at = (at or utcnow()).astimezone(UTC)
    body = canonical_payload(payload)
    event = AuditEvent(
        seq=seq,
        occurred_at=occurred_at,
        actor=actor,
        type=type,
        payload=body,
        prev_hash=prev,
        hash=event_hash(seq, occurred_at, actor, type, body, prev),
    )
    session.add(event)
    session.flush()
    return event


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
    """The last event's sequence number and hash; ``(0, GENESIS_HASH)`` when empty."""
    row = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    return (row[0], row[1]) if row else (0, GENESIS_HASH)


def verify_chain(source: Session | Engine, expect_head: str | None = None) -> ChainReport:
    """Recompute the whole chain in sequence order and report the first break.

    Three kinds of break are told apart: an event whose fields no longer match
    its hash (an edit), a sequence gap (a removal), and a ``prev_hash`` that is
    not the previous event's hash (an event rewritten with a fresh hash, or a
    fork). Given an engine, each batch is read in its own short transaction so a
    long verification never holds up desks writing to the same database.
    """
    count = 0
    prev_seq, prev_hash = 0, GENESIS_HASH
    first_bad: int | None = None
    problem: str | None = None
    # Heads are copied by hand from exports: tolerate case and surrounding blanks.
    expected = None if expect_head is None else expect_head.strip().lower()
    # Every chain starts from the genesis hash, so a head recorded when empty is always found.
    found = None if expected is None else expected == GENESIS_HASH
    for event in _events_in_order(source):
        count += 1
        if first_bad is None:
            problem = _link_problem(event, prev_seq, prev_hash)
            if problem is not None:
                first_bad = event.seq
        if event.hash == expected:
            found = True
        prev_seq, prev_hash = event.seq, event.hash
    return ChainReport(count, prev_hash, first_bad, problem, found)


class _StoredEvent(NamedTuple):
    seq: int
    occurred_at: datetime
    actor: str
    type: str
    payload: str
    prev_hash: str
    hash: str


def _link_problem(event: _StoredEvent, prev_seq: int, prev_hash: str) -> str | None:
    """Why ``event`` does not follow the event before it, or None."""
    if event.seq != prev_seq + 1:
        first, last = prev_seq + 1, event.seq - 1
        missing = f"event {first} is" if first == last else f"events {first}-{last} are"
        return f"{missing} missing: event {event.seq} follows event {prev_seq}"
    recomputed = event_hash(
        event.seq, event.occurred_at, event.actor, event.type, event.payload, event.prev_hash
    )
    if recomputed != event.hash:
        return "its fields do not match its hash (the event was edited)"
    if event.prev_hash != prev_hash:
        return "its prev_hash is not the previous event's hash (the chain was rewritten)"
    return None


_COLUMNS = (
    AuditEvent.seq,
    AuditEvent.occurred_at,
    AuditEvent.actor,
    AuditEvent.type,
    AuditEvent.payload,
    AuditEvent.prev_hash,
    AuditEvent.hash,
)


def _events_in_order(source: Session | Engine) -> Iterator[_StoredEvent]:
    """Every event as a plain tuple, in seq order, read by keyset in batches."""
    after = 0
    while True:
        query = select(*_COLUMNS).where(AuditEvent.seq > after).order_by(AuditEvent.seq)
        query = query.limit(VERIFY_BATCH)
        if isinstance(source, Session):
            rows = source.execute(query).all()
        else:
            with source.connect() as connection:
                rows = connection.execute(query).all()
        for row in rows:
            yield _StoredEvent(*row)
        if len(rows) < VERIFY_BATCH:
            return
        after = rows[-1][0]
