"""Purge of personal data from old, closed calls (PRODUCT.md section 7).

What the caller stated (and its normalized form), the on-file value each
check was judged against, the call's notes, the supervisors' review notes and
approval reasons and dispute reasons on it, and the reasons given for lifting locks and
resetting agents before the cutoff are blanked; results, outcomes and the audit
chain stay, because audit payloads never carry personal data. Text added to
a call after it was purged (a review note, an approval or dispute reason) goes
at the next purge, which writes only what is not blank yet (``_due``). Open
calls are never touched, whatever their age. On SQLite the write-ahead log is then
checkpointed and emptied, so the old pages leave the disk too (with the
engine's ``secure_delete``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Engine, and_, exists, func, or_, select, update
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
    Calls purged before are counted again only when text was added to them
    since (a review note, an approval or dispute reason). A dry run only counts.
    ``progress`` hears the steps done (one UPDATE each, then the WAL checkpoint).
    """
    step = _stepper(progress)
    if not 1 <= older_than_days <= MAX_DAYS:
        raise ValueError(f"older_than_days must be between 1 and {MAX_DAYS}")
    if now.tzinfo is None:
        raise ValueError("naive datetime given as the purge time")
    now = now.astimezone(UTC)
    cutoff = now - timedelta(days=older_than_days)
    due = select(Call.id).where(_due(cutoff))
    with unit_of_work(factory) as session:
        count = session.execute(select(func.count()).select_from(due.subquery())).scalar_one()
        if dry_run:
            return PurgeReport(count, cutoff, dry_run=True)
        step()
        # Marked first, so the due set is judged once: the blanking below changes it.
        session.execute(
            update(Call)
            .where(Call.id.in_(due.scalar_subquery()))
            .values(notes="", purged_at=now)
            .execution_options(synchronize_session=False)
        )
        ids = (
            select(Call.id)
            .where(Call.purged_at == now, Call.state == CallState.CLOSED, Call.ended_at < cutoff)
            .scalar_subquery()
        )
        requests = select(CancellationRequest.id).where(CancellationRequest.call_id.in_(ids))
        # Only what is not blank yet is written: a call purged before costs its new text only.
        step()
        session.execute(
            update(ItemCheck)
            .where(ItemCheck.call_id.in_(ids), _check_kept())
            .values(stated=None, normalized=None, on_file=None)
            .execution_options(synchronize_session=False)
        )
        step()
        session.execute(
            update(ReviewNote)
            .where(ReviewNote.call_id.in_(ids), ReviewNote.text != "")
            .values(text="")
            .execution_options(synchronize_session=False)
        )
        step()
        session.execute(
            update(Approval)
            .where(Approval.request_id.in_(requests.scalar_subquery()), Approval.reason != "")
            .values(reason="")
            .execution_options(synchronize_session=False)
        )
        # A dispute's reason may quote the caller: it goes with the call of its request.
        session.execute(
            update(Dispute)
            .where(Dispute.request_id.in_(requests.scalar_subquery()), Dispute.reason != "")
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


def _check_kept() -> ColumnElement[bool]:
    """An item check still holding what the caller said or what was on file."""
    return or_(
        ItemCheck.stated.is_not(None),
        ItemCheck.normalized.is_not(None),
        ItemCheck.on_file.is_not(None),
    )


def _due(cutoff: datetime) -> ColumnElement[bool]:
    """A closed call ended before ``cutoff`` never purged, or holding text added since.

    A supervisor may add a review note, an approval reason or a dispute reason
    to a call after it was purged; that text is as personal as the first, so
    the next purge finds the call again. A call with nothing new is not due:
    purging again rewrites nothing.
    """
    of_call = (CancellationRequest.call_id == Call.id,)
    return and_(
        Call.state == CallState.CLOSED,
        Call.ended_at < cutoff,
        or_(
            Call.purged_at.is_(None),
            Call.notes != "",
            exists().where(ItemCheck.call_id == Call.id, _check_kept()),
            exists().where(ReviewNote.call_id == Call.id, ReviewNote.text != ""),
            exists().where(
                *of_call, Approval.request_id == CancellationRequest.id, Approval.reason != ""
            ),
            exists().where(
                *of_call, Dispute.request_id == CancellationRequest.id, Dispute.reason != ""
            ),
        ),
    )


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
