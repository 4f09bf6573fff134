"""The desk at a glance: counts, outcomes and handle times, all in SQL aggregates.

Days are the desk's local days; a call failed verification when it locked
or ended as verification failed; a call that ended "canceled" having only
asked expedited deletion of an already-canceled subscription counts as
``EXPEDITED`` (it canceled nothing); the median handle time is read from the
middle row(s) by SQL, never by loading every call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    case,
    cast,
    exists,
    extract,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import Session, sessionmaker

from db.models import Agent, Call, CancellationRequest
from db.review.access import require_supervisor
from db.types import UTCDateTime
from verification.kinds import CallState, Outcome
from verification.policy import Action

# The outcomes key of calls that only asked expedited deletion (their outcome is "canceled").
EXPEDITED = "expedited"


@dataclass(frozen=True)
class AgentNumbers:
    """One agent's calls in the period."""

    agent: str
    calls: int
    verified: int
    failed: int
    canceled: int
    expedited: int
    average_handle_seconds: float | None


@dataclass(frozen=True)
class Numbers:
    """The desk at a glance over the last ``len(calls_per_day)`` local days."""

    first_day: date
    calls_per_day: tuple[int, ...]
    calls: int
    verified: int
    failed: int
    # (outcome value, count), busiest first; "open" for calls not ended, EXPEDITED apart.
    outcomes: tuple[tuple[str, int], ...]
    median_handle_seconds: float | None
    agents: tuple[AgentNumbers, ...]

    @property
    def pass_rate(self) -> float | None:
        """Verified calls among those that ended verification either way."""
        judged = self.verified + self.failed
        return self.verified / judged if judged else None

    @property
    def last_day(self) -> date:
        """The period's last local day (today, when counted ``now``)."""
        return self.first_day + timedelta(days=len(self.calls_per_day) - 1)


def numbers(
    factory: sessionmaker[Session], actor_id: int, now: datetime, days: int = 30
) -> Numbers:
    """Counts over the last ``days`` local days (today included), all in SQL aggregates."""
    local_now = now.astimezone()
    first_day = local_now.date() - timedelta(days=days - 1)
    start = datetime.combine(first_day, time(), tzinfo=local_now.tzinfo).astimezone(UTC)
    in_period = Call.started_at >= start
    failed = or_(Call.state == CallState.LOCKED, Call.outcome == Outcome.VERIFICATION_FAILED)

    def asked(*actions: Action) -> ColumnElement[bool]:
        return exists().where(
            CancellationRequest.call_id == Call.id, CancellationRequest.action.in_(actions)
        )

    # Calls ended before the outcome "expedited" existed were recorded as canceled.
    expedited = or_(
        Call.outcome == Outcome.EXPEDITED,
        and_(
            Call.outcome == Outcome.CANCELED,
            asked(Action.EXPEDITED_DEPROVISIONING),
            ~asked(Action.CANCEL_NOW, Action.CANCEL_NOW_WITH_EXPEDITED),
        ),
    )
    canceled = and_(Call.outcome == Outcome.CANCELED, ~expedited)
    by_outcome = {
        **{outcome.value: Call.outcome == outcome for outcome in Outcome},
        Outcome.CANCELED.value: canceled,
        EXPEDITED: expedited,
    }
    with factory() as session:
        require_supervisor(session, actor_id)
        dialect = session.get_bind().dialect.name
        day = _day_index(dialect, start)
        per_day = [0] * days
        for index, count in session.execute(
            select(day, func.count()).where(in_period).group_by(day)
        ):
            if 0 <= int(index) < days:
                per_day[int(index)] = count
        # One pass over the period's calls on the time index; a GROUP BY outcome
        # would have SQLite walk the whole outcome index instead.
        total, verified, failures, *per_outcome = session.execute(
            select(
                func.count(),
                func.count(Call.verified_at),
                _count_where(failed),
                _count_where(Call.outcome.is_(None)),
                *(_count_where(condition) for condition in by_outcome.values()),
            ).where(in_period)
        ).one()
        names = ["open", *by_outcome]
        outcomes = sorted(
            ((name, int(n)) for name, n in zip(names, per_outcome, strict=True) if n),
            key=lambda pair: (-pair[1], pair[0]),
        )
        handle = _handle_seconds(dialect)
        agents = session.execute(
            select(
                Agent.username,
                func.count(),
                func.count(Call.verified_at),
                _count_where(failed),
                _count_where(canceled),
                _count_where(expedited),
                func.avg(handle),
            )
            .join(Agent, Agent.id == Call.agent_id)
            .where(in_period)
            .group_by(Agent.username)
            .order_by(Agent.username)
        ).all()
        median = _median(session, handle, and_(in_period, Call.ended_at.is_not(None)))
    return Numbers(
        first_day=first_day,
        calls_per_day=tuple(per_day),
        calls=total,
        verified=verified,
        failed=int(failures),
        outcomes=tuple(outcomes),
        median_handle_seconds=median,
        agents=tuple(
            AgentNumbers(
                name, n, v, int(f), int(c), int(e), float(avg) if avg is not None else None
            )
            for name, n, v, f, c, e, avg in agents
        ),
    )


def _day_index(dialect: str, start: datetime) -> ColumnElement[Any]:
    """Whole days from ``start`` to a call's start (a DST day is an hour off, at most)."""
    if dialect == "sqlite":
        since = func.julianday(Call.started_at) - func.julianday(literal(start, UTCDateTime()))
        return cast(since, Integer)
    return func.floor(extract("epoch", Call.started_at - start) / 86400)


def _count_where(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    """How many rows of the group meet ``condition`` (0, not NULL, for none)."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _handle_seconds(dialect: str) -> ColumnElement[Any]:
    """A call's handle time in seconds, in the database's own date arithmetic."""
    if dialect == "sqlite":
        return (func.julianday(Call.ended_at) - func.julianday(Call.started_at)) * 86400.0
    return extract("epoch", Call.ended_at - Call.started_at)


def _median(
    session: Session, value: ColumnElement[Any], where: ColumnElement[bool]
) -> float | None:
    """The median of ``value`` over the rows ``where`` selects: the middle one or two, by SQL."""
    count = session.scalar(select(func.count()).select_from(Call).where(where)) or 0
    if count == 0:
        return None
    middle = session.scalars(
        select(value).where(where).order_by(value).offset((count - 1) // 2).limit(2 - count % 2)
    ).all()
    return sum(float(v) for v in middle) / len(middle)
