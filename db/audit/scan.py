"""Scanning stretches of the audit chain fast: the link rule and the range reader.

The one home of the link rule (``link_problem``: what makes a stored event
follow the one before it) and of the canonical text an event is hashed as
(``hash_fields``). ``db.audit.chain.verify_chain`` feeds a ``Scanner`` the whole
chain in one process when the chain is short, or runs ``scan_range`` on
consecutive seq ranges in worker processes and joins their seams.

Rows are read with plain SQL straight from the driver, the event time
already in its hashed text form (formatted by the database), because
building ORM rows and datetimes costs more than the hashing itself. A row
whose fast form does not match its hash is checked again through the exact
conversion the models use (``db.types.UTCDateTime``), so the fast path never
decides a row is edited on its own. Only the standard library is imported at
the top (drivers lazily), so a worker process starts quickly.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import Any

# What json.dumps(..., ensure_ascii=False) writes for a str (its C escaper).
_quote = encode_basestring
# Larger than any seq: the upper end of the last range, which reads events appended meanwhile.
OPEN_END = 2**62

# One batch of a seq range: (seq, time as hashed, time as stored, actor, type,
# payload, prev_hash, hash). The times: SQLite keeps SQLAlchemy's UTC text,
# PostgreSQL a timestamptz.
_SELECT = (
    "SELECT seq, {iso}, occurred_at, actor, type, payload, prev_hash, hash FROM audit_event"
    " WHERE seq > {after} AND seq <= {upto} ORDER BY seq LIMIT {limit}"
)
_ISO = {
    "sqlite": "replace(occurred_at, ' ', 'T') || '+00:00'",
    "postgresql": "to_char(occurred_at AT TIME ZONE 'UTC',"
    """ 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')""",
}
_DRIVER_PARAMS = {"sqlite": ("?", "?", "?"), "postgresql": ("%s", "%s", "%s")}

Row = Sequence[Any]


def range_sql(backend: str, params: Sequence[str] | None = None) -> str:
    """The batch query for ``backend``; ``params`` are the placeholders (driver's by default)."""
    after, upto, limit = params or _DRIVER_PARAMS[backend]
    return _SELECT.format(iso=_ISO[backend], after=after, upto=upto, limit=limit)


def canonical_text(
    seq: int, occurred_at: str, actor: str, type_: str, payload: str, prev_hash: str
) -> str:
    """The text an event is hashed as: ``json.dumps`` of the six fields as a list, with
    ``separators=(",", ":")`` and ``ensure_ascii=False``, written out (six times faster).

    Raises TypeError for a field that is not a str (a NULL read back), ValueError
    for a ``seq`` that is not an int.
    """
    q = _quote
    return f"[{seq:d},{q(occurred_at)},{q(actor)},{q(type_)},{q(payload)},{q(prev_hash)}]"


def hash_fields(
    seq: int, occurred_at: str, actor: str, type_: str, payload: str, prev_hash: str
) -> str:
    """SHA-256 of an event's canonical text; ``occurred_at`` as UTC isoformat, microseconds."""
    canonical = canonical_text(seq, occurred_at, actor, type_, payload, prev_hash)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def link_problem(
    seq: int, prev_hash: str, fields_match: bool, after_seq: int, after_hash: str
) -> str | None:
    """Why event ``seq`` does not follow event ``after_seq`` (hash ``after_hash``), or None.

    ``fields_match`` says whether the event's own fields still give its hash.
    A gap is named first, then an edit, then a rewritten link.
    """
    if seq != after_seq + 1:
        first, last = after_seq + 1, seq - 1
        missing = f"event {first} is" if first == last else f"events {first}-{last} are"
        return f"{missing} missing: event {seq} follows event {after_seq}"
    if not fields_match:
        return "its fields do not match its hash (the event was edited)"
    if prev_hash != after_hash:
        return "its prev_hash is not the previous event's hash (the chain was rewritten)"
    return None


def _exact_iso(stored: object) -> str | None:
    """The stored time as ``UTCDateTime`` returns it, in isoformat; None if unreadable.

    SQLAlchemy reads SQLite's text with ``datetime.fromisoformat``; a time
    without a zone is UTC, any other is converted to UTC.
    """
    if isinstance(stored, str):
        try:
            stored = datetime.fromisoformat(stored)
        except ValueError:
            return None
    if not isinstance(stored, datetime):
        return None
    moment = stored if stored.tzinfo is not None else stored.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _fields_match(row: Row) -> bool:
    """The slow path: whether ``row`` matches its hash with the exact time conversion."""
    seq, _fast, stored, actor, type_, payload, prev_hash, digest = row
    iso = _exact_iso(stored)
    try:
        return iso is not None and hash_fields(seq, iso, actor, type_, payload, prev_hash) == digest
    except (TypeError, ValueError):  # a NULL where the chain has text
        return False


@dataclass(frozen=True)
class Stretch:
    """What a scan of consecutive events found.

    ``first`` is ``(seq, prev_hash, fields_match)`` of the first event when the
    scan did not know its predecessor: that link (the seam) is checked by
    whoever joins the stretches. ``last`` is ``(seq, hash)`` of the last event.
    ``bad_seq``/``problem`` name the first failing link inside the stretch.
    """

    count: int
    first: tuple[int, str, bool] | None
    last: tuple[int, str] | None
    bad_seq: int | None
    problem: str | None
    found_expected: bool


class Scanner:
    """Checks events fed in seq order, batch by batch."""

    def __init__(self, after: tuple[int, str] | None, expected: str | None) -> None:
        # ``after``: the (seq, hash) the first event must follow; None leaves that link open.
        self.open_start = after is None
        self.last_seq, self.last_hash = after or (0, "")
        self.expected = expected
        self.count = 0
        self.first: tuple[int, str, bool] | None = None
        self.bad_seq: int | None = None
        self.problem: str | None = None
        self.found = False

    def feed(self, rows: Iterable[Row]) -> None:
        """Check ``rows`` (the next events, in seq order, as ``range_sql`` reads them)."""
        # Locals, not attributes, in the loop: this is where verify spends its time.
        count, last_seq, last_hash, bad = self.count, self.last_seq, self.last_hash, self.bad_seq
        expected, found, canonical, sha256 = (
            self.expected,
            self.found,
            canonical_text,
            hashlib.sha256,
        )
        for row in rows:
            seq, iso, _stored, actor, type_, payload, prev_hash, digest = row
            if bad is None:
                try:
                    text = canonical(seq, iso, actor, type_, payload, prev_hash)
                    fast = sha256(text.encode("utf-8")).hexdigest() == digest
                except (TypeError, ValueError):  # a NULL, a non-integer seq: the exact path decides
                    fast = False
                match = fast or _fields_match(row)
                if count == 0 and self.open_start:
                    self.first = (seq, prev_hash, match)
                elif not (match and seq == last_seq + 1 and prev_hash == last_hash):
                    bad = seq
                    self.problem = link_problem(seq, prev_hash, match, last_seq, last_hash)
            if digest == expected:
                found = True
            count += 1
            last_seq, last_hash = seq, digest
        self.count, self.last_seq, self.last_hash, self.bad_seq = count, last_seq, last_hash, bad
        self.found = found

    def result(self) -> Stretch:
        """What the events fed so far add up to."""
        last = (self.last_seq, self.last_hash) if self.count else None
        return Stretch(self.count, self.first, last, self.bad_seq, self.problem, self.found)


def scan_batches(
    fetch: Callable[[int, int, int], Sequence[Row]],
    scanner: Scanner,
    after: int,
    upto: int,
    batch: int,
) -> Stretch:
    """Feed ``scanner`` the events with ``after < seq <= upto``, ``batch`` rows per query.

    Keyset batches: each query starts after the last seq seen, so memory stays
    at one batch and each query may run in its own short transaction.
    """
    while True:
        rows = fetch(after, upto, batch)
        scanner.feed(rows)
        if len(rows) < batch:
            return scanner.result()
        after = rows[-1][0]


@dataclass(frozen=True)
class RangeJob:
    """One worker's share: the events with ``after < seq <= upto`` of one database."""

    backend: str  # "sqlite" or "postgresql"
    where: str  # the SQLite file, or a libpq connection URL
    after: int
    upto: int
    batch: int
    expected: str | None
    # As the engine's connections prepare (``db.engine.libpq_target``): None behind PgBouncer.
    prepare_threshold: int | None = None


def scan_range(job: RangeJob) -> Stretch:
    """A worker process's task: read and check one seq range, its first link left open."""
    with _driver_fetch(job.backend, job.where, job.prepare_threshold) as fetch:
        return scan_batches(fetch, Scanner(None, job.expected), job.after, job.upto, job.batch)


@contextmanager
def _driver_fetch(
    backend: str, where: str, prepare_threshold: int | None
) -> Iterator[Callable[[int, int, int], Sequence[Row]]]:
    """A batch reader on a fresh driver connection; each batch its own read transaction."""
    sql = range_sql(backend)
    if backend == "sqlite":
        connection = sqlite3.connect(where, isolation_level=None, timeout=30)
        try:
            yield lambda after, upto, limit: connection.execute(
                sql, (after, upto, limit)
            ).fetchall()
        finally:
            connection.close()
        return
    import psycopg

    with psycopg.connect(where, autocommit=True, prepare_threshold=prepare_threshold) as pg:
        yield lambda after, upto, limit: pg.execute(sql, (after, upto, limit)).fetchall()
