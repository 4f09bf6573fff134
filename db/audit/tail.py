"""Audit events as JSON lines, for a log collector: the chain's second, external copy.

One object per event, every stored field, the payload as JSON (it is stored
canonically, so ``db.audit.chain.canonical_payload`` of it gives back the hashed
text). ``follow`` polls for new events until told to stop; it never holds a
transaction open between polls, so desks writing meanwhile are never held up.
This module is the one home of the line format.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

from sqlalchemy import Engine, select

from db.models import AuditEvent

# Events read per query: bounded memory however far behind the collector is.
TAIL_BATCH = 1_000


_COLUMNS = (
    AuditEvent.seq,
    AuditEvent.occurred_at,
    AuditEvent.actor,
    AuditEvent.type,
    AuditEvent.payload,
    AuditEvent.prev_hash,
    AuditEvent.hash,
)


def event_line(
    seq: int, occurred_at: datetime, actor: str, type_: str, payload: str, prev: str, hash_: str
) -> str:
    """One stored event as one JSON line (no newline)."""
    return json.dumps(
        {
            "seq": seq,
            "occurred_at": occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor": actor,
            "type": type_,
            "payload": json.loads(payload),
            "prev_hash": prev,
            "hash": hash_,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def lines_after(engine: Engine, after: int) -> Iterator[tuple[int, str]]:
    """``(seq, line)`` of every event with a sequence number above ``after``, in order."""
    while True:
        query = select(*_COLUMNS).where(AuditEvent.seq > after).order_by(AuditEvent.seq)
        # One short read per batch: no transaction is kept open while lines are written.
        with engine.connect() as connection:
            rows = connection.execute(query.limit(TAIL_BATCH)).all()
        for row in rows:
            after = row[0]
            yield after, event_line(*row)
        if len(rows) < TAIL_BATCH:
            return


def follow(
    engine: Engine, after: int, stop: threading.Event, interval_seconds: float
) -> Iterator[str]:
    """Every line after ``after``, then new ones as they are appended, until ``stop`` is set."""
    last = after
    while not stop.is_set():
        for seq, line in lines_after(engine, last):
            last = seq
            yield line
            if stop.is_set():
                return
        stop.wait(interval_seconds)
