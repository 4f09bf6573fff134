"""Purge of personal data from old, closed calls (PRODUCT.md section 7).

What the caller stated (and its normalized form), the on-file value each
check was judged against, the call's notes, the supervisors' review notes and
approval reasons and dispute reasons on it, and the reasons given for lifting locks and
resetting agents before the cutoff are blanked; results, outcomes and the audit
chain stay, because audit payloads never carry personal data. Open calls are
never touched, whatever their age. On SQLite the write-ahead log is then
checkpointed and emptied, so the old pages leave the disk too (with the
engine's ``secure_delete``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from db.audit.chain import append_event
from db.engine import checkpoint_wal, unit_of_work
from db.models import (
    AgentReset,
    Approval,
    Call,
    CancellationRequest,
    Dispute,
    ItemCheck,
    LockClearance,
    ReviewNote,
)
from db.progress import Progress
from verification.kinds import CallState

PURGE_EVENT = "data.purged"
# A hundred years: beyond any retention policy, and a cutoff every date type holds.
MAX_DAYS = 36_500


@dataclass(frozen=True)
class PurgeReport:
    """How many calls were (or, on a dry run, would be) purged, and the cutoff used."""

    calls: int
    cutoff: datetime
    dry_run: bool


def purge(
    factory: sessionmaker[Session],
    older_than_days: int,
    now: datetime,
    dry_run: bool,
    actor: str,
    progress: Progress | None = None,
) -> PurgeReport:
    """Blank personal data of closed calls that ended more than ``older_than_days`` ago.

    One unit of work: the blanking and its ``data.purged`` event commit together.
    Calls purged before are not counted again. A dry run only counts.
    ``progress`` hears the steps done (one UPDATE each, then the WAL checkpoint).
    """
    step = _stepper(progress)
    if not 1 <= older_than_days <= MAX_DAYS:
        raise ValueError(f"older_than_days must be between 1 and {MAX_DAYS}")
    if now.tzinfo is None:
        raise ValueError("naive datetime given as the purge time")
    now = now.astimezone(UTC)
    cutoff = now - timedelta(days=older_than_days)
    due = (
        select(Call.id)
        .where(Call.state == CallState.CLOSED)
        .where(Call.ended_at < cutoff)
        .where(Call.purged_at.is_(None))
    )
    with unit_of_work(factory) as session:
        count = session.execute(select(func.count()).select_from(due.subquery())).scalar_one()
        if dry_run:
            return PurgeReport(count, cutoff, dry_run=True)
        ids = due.scalar_subquery()
        step()
        session.execute(
            update(ItemCheck)
            .where(ItemCheck.call_id.in_(ids))
            .values(stated=None, normalized=None, on_file=None)
            .execution_options(synchronize_session=False)
        )
        step()
        session.execute(
            update(ReviewNote)
            .where(ReviewNote.call_id.in_(ids))
            .values(text="")
            .execution_options(synchronize_session=False)
        )
        requests = select(CancellationRequest.id).where(CancellationRequest.call_id.in_(ids))
        step()
        session.execute(
            update(Approval)
            .where(Approval.request_id.in_(requests.scalar_subquery()))
            .values(reason="")
            .execution_options(synchronize_session=False)
        )
        # A dispute's reason may quote the caller: it goes with the call of its request.
        session.execute(
            update(Dispute)
            .where(Dispute.request_id.in_(requests.scalar_subquery()))
            .values(reason="", purged_at=now)
            .execution_options(synchronize_session=False)
        )
        # Reasons for lifting a lock quote what callers said: they go with the calls.
        step()
        session.execute(
            update(LockClearance)
            .where(LockClearance.cleared_at < cutoff, LockClearance.purged_at.is_(None))
            .values(reason="", purged_at=now)
            .execution_options(synchronize_session=False)
        )
        step()
        session.execute(
            update(AgentReset)
            .where(AgentReset.reset_at < cutoff, AgentReset.purged_at.is_(None))
            .values(reason="", purged_at=now)
            .execution_options(synchronize_session=False)
        )
        step()
        session.execute(
            update(Call)
            .where(Call.id.in_(ids))
            .values(notes="", purged_at=now)
            .execution_options(synchronize_session=False)
        )
        append_event(
            session,
            actor=actor,
            type=PURGE_EVENT,
            payload={
                "calls": count,
                "older_than_days": older_than_days,
                "cutoff": cutoff.isoformat(timespec="seconds"),
            },
        )
        step()
        engine = session.get_bind()
    if isinstance(engine, Engine):
        checkpoint_wal(engine)
    step(last=True)
    return PurgeReport(count, cutoff, dry_run=False)


# The UPDATEs, the audit event, and the WAL checkpoint.
_STEPS = 8


def _stepper(progress: Progress | None) -> Callable[..., None]:
    """A call per step done, reported as ``(done, _STEPS)``."""
    done = 0

    def step(last: bool = False) -> None:
        nonlocal done
        done = _STEPS if last else done + 1
        if progress is not None:
            progress(done, _STEPS)

    return step
