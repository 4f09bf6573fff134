"""Checkpoints: the audit chain's head kept outside the database (PRODUCT.md section 7).

A chain that only checks itself can be cut short, or rewritten whole with
fresh hashes, and still verify. So the operator appends the head (sequence
number, hash, UTC time) to a file kept elsewhere, one line per checkpoint:

    seq=1234 hash=<64 hex digits> at=2026-12-01T21:03:04Z

and ``check_checkpoints`` proves each is still in the chain at its sequence
number with its hash, and that the chain still reaches the last one. This
module is the one home of the file format and of those two rules; the links
between events stay with ``db.audit.chain.verify_chain``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from db.audit.chain import head
from db.models import AuditEvent

_LINE = re.compile(r"seq=(\d{1,19}) hash=([0-9a-f]{64}) at=(\S+)")
# Events looked up per query: a file of years of checkpoints stays a few queries.
_LOOKUP_BATCH = 1_000


class CheckpointFileError(ValueError):
    """The checkpoint file cannot be read or a line is not a checkpoint; says which."""


@dataclass(frozen=True)
class Checkpoint:
    """One recorded head of the chain; ``line`` is where it is in its file (0: not read)."""

    seq: int
    hash: str
    at: datetime
    line: int = 0

    def as_line(self) -> str:
        """The checkpoint as one line of the file, without the newline."""
        return f"seq={self.seq} hash={self.hash} at={_stamp(self.at)}"

    def describe(self) -> str:
        """``the checkpoint of 2026-12-01T21:03:04Z (line 3)`` for messages."""
        where = f" (line {self.line})" if self.line else ""
        return f"the checkpoint of {_stamp(self.at)}{where}"


def _stamp(moment: datetime) -> str:
    """``2026-12-01T21:03:04Z``; the year always four digits (strftime's %Y is not, before 1000)."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class CheckpointReport:
    """What ``check_checkpoints`` found: how many held, and the first problem if any."""

    checked: int
    problem: str | None

    @property
    def ok(self) -> bool:
        """True when every checkpoint is still in the chain."""
        return self.problem is None


def take_checkpoint(source: Session | Engine, now: datetime) -> Checkpoint:
    """The chain's head now, as a checkpoint."""
    if now.tzinfo is None:
        raise ValueError("naive datetime given as the checkpoint time")
    if isinstance(source, Session):
        seq, digest = head(source)
    else:
        with Session(source) as session:
            seq, digest = head(session)
    return Checkpoint(seq, digest, now.astimezone(UTC))


def append_checkpoint(path: Path, checkpoint: Checkpoint) -> None:
    """Append one line to the checkpoint file (created if absent), flushed to disk."""
    with path.open("a", encoding="utf-8") as out:
        out.write(checkpoint.as_line() + "\n")
        out.flush()
        os.fsync(out.fileno())


def read_checkpoints(path: Path) -> list[Checkpoint]:
    """Every checkpoint in the file, in file order; blank lines are skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CheckpointFileError(f"checkpoint file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CheckpointFileError(f"cannot read checkpoint file {path}: {exc}") from None
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            found.append(_parse(line.strip(), number, path))
    if not found:
        raise CheckpointFileError(f"checkpoint file {path} holds no checkpoint")
    return found


def _parse(line: str, number: int, path: Path) -> Checkpoint:
    match = _LINE.fullmatch(line)
    at = _time(match.group(3)) if match else None
    if match is None or at is None:
        raise CheckpointFileError(
            f"{path} line {number} is not a checkpoint (seq=N hash=HEX at=TIME): {line[:80]!r}"
        )
    return Checkpoint(int(match.group(1)), match.group(2), at, number)


def _time(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    try:
        # Held in UTC: an offset that carries the time past year 1 or 9999 is not a time.
        return moment.astimezone(UTC)
    except OverflowError:
        return None


def check_checkpoints(
    source: Session | Engine, checkpoints: Sequence[Checkpoint]
) -> CheckpointReport:
    """Prove every checkpoint is still in the chain, and nothing after the last was cut.

    Checkpoints are judged in file order, so the first problem named is the
    earliest the file can prove: a chain shorter than a checkpoint (truncated
    after its last event), an event gone from the middle, a different hash
    at a checkpoint's sequence number (rewritten at or before it), or a file
    whose sequence numbers go backwards.
    """
    if isinstance(source, Session):
        return _check(source, checkpoints)
    with Session(source) as session:
        return _check(session, checkpoints)


def _check(session: Session, checkpoints: Sequence[Checkpoint]) -> CheckpointReport:
    last_seq, _ = head(session)
    stored = _hashes(session, (c.seq for c in checkpoints if 0 < c.seq <= last_seq))
    previous: Checkpoint | None = None
    for count, checkpoint in enumerate(checkpoints):
        problem = _problem(checkpoint, previous, last_seq, stored)
        if problem is not None:
            return CheckpointReport(count, problem)
        previous = checkpoint
    return CheckpointReport(len(checkpoints), None)


def _problem(
    checkpoint: Checkpoint, previous: Checkpoint | None, last_seq: int, stored: dict[int, str]
) -> str | None:
    """Why ``checkpoint`` does not hold, as one line naming the sequence number; or None."""
    held = f"; intact up to seq {previous.seq}" if previous else ""
    if previous is not None and checkpoint.seq < previous.seq:
        return (
            f"checkpoint file out of order: {checkpoint.describe()} names seq {checkpoint.seq}, "
            f"after one at seq {previous.seq}"
        )
    if checkpoint.seq == 0:
        return None  # taken on an empty chain: every chain starts there
    if checkpoint.seq > last_seq:
        return (
            f"truncated after seq {last_seq}: {checkpoint.describe()} recorded seq "
            f"{checkpoint.seq}, which is gone{held}"
        )
    digest = stored.get(checkpoint.seq)
    if digest is None:
        return f"event {checkpoint.seq} is missing: {checkpoint.describe()} recorded it{held}"
    if digest != checkpoint.hash:
        return (
            f"rewritten at seq {checkpoint.seq}: {checkpoint.describe()} recorded hash "
            f"{checkpoint.hash[:16]}…, the chain has {digest[:16]}…{held}"
        )
    return None


def _hashes(session: Session, seqs: Iterable[int]) -> dict[int, str]:
    """The stored hash of each of ``seqs`` that is in the table."""
    wanted = sorted(set(seqs))
    found: dict[int, str] = {}
    for start in range(0, len(wanted), _LOOKUP_BATCH):
        batch = wanted[start : start + _LOOKUP_BATCH]
        rows = session.execute(
            select(AuditEvent.seq, AuditEvent.hash).where(AuditEvent.seq.in_(batch))
        )
        found.update((seq, digest) for seq, digest in rows)
    return found
