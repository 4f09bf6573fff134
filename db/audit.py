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
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from db.models import AuditEvent
from db.types import utcnow

GENESIS_HASH = "0" * 64
# Any constant shared by every desk; it names the chain-head lock on PostgreSQL.
_PG_CHAIN_LOCK_KEY = 0x63616C6C67617465  # "callgate"


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
    occurred_at = at or utcnow()
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
