"""The tenant's earlier calls in one line, for the agent once the caller is verified.

Blind: the line says something about the tenant, so ``views.view`` asks for
it only once every item matched in this call (PRODUCT.md section 4); before
that ``CallView.earlier`` is empty. It counts the tenant's other calls over
the last ``HISTORY_DAYS`` days, those that locked (verification failed), and
names the latest request made for the tenant in another call, with its
local date, e.g. "Earlier: 3 calls in 30 days · 1 locked · last request
2026-11-28 cancel now".
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import Select, bindparam, case, func, or_, select
from sqlalchemy.orm import Session

from db.calls import action_label, local_date
from db.models import Call, CancellationRequest, Subscription
from verification.kinds import CallState, Outcome

HISTORY_DAYS = 30


def earlier_calls(session: Session, call: Call, tenant_id: int, now: datetime) -> str:
    """One line on the tenant's calls before this one (read on the tenant's call index)."""
    calls, locked, action, at = session.execute(
        _earlier(),
        {
            "tenant_id": tenant_id,
            "call_id": call.id,
            "since": now - timedelta(days=HISTORY_DAYS),
        },
    ).one()
    parts = [f"{calls} {'call' if calls == 1 else 'calls'} in {HISTORY_DAYS} days"]
    if not calls:
        parts = [f"no calls in {HISTORY_DAYS} days"]
    if locked:
        parts.append(f"{locked} locked")
    if action is not None and at is not None:  # both from the same request
        parts.append(f"last request {local_date(at):%Y-%m-%d} {action_label(action).lower()}")
    return "Earlier: " + " · ".join(parts)


@cache  # built once, on first use: the verifying check of every call reads it
def _earlier() -> Select[int, int, str | None, datetime | None]:
    failed = or_(Call.state == CallState.LOCKED, Call.outcome == Outcome.VERIFICATION_FAILED)
    # The latest request made for the tenant in another call, as two scalar
    # subqueries of the one statement that counts the calls.
    last = (
        select(CancellationRequest.action, CancellationRequest.created_at)
        .join(Subscription, Subscription.id == CancellationRequest.subscription_id)
        .where(
            Subscription.tenant_id == bindparam("tenant_id"),
            CancellationRequest.call_id != bindparam("call_id"),
        )
        .order_by(CancellationRequest.created_at.desc(), CancellationRequest.id.desc())
        .limit(1)
        .subquery()
    )
    return select(
        func.count(),
        func.coalesce(func.sum(case((failed, 1), else_=0)), 0),
        select(last.c.action).scalar_subquery(),
        select(last.c.created_at).scalar_subquery(),
    ).where(
        Call.tenant_id == bindparam("tenant_id"),
        Call.started_at >= bindparam("since"),
        Call.id != bindparam("call_id"),
    )
