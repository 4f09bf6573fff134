"""Who may act on the supervisor desk, the four-eyes rule, and lifting locks.

Every supervisor function calls ``require_supervisor`` and refuses anyone who
is not an active supervisor (``NotSupervisor``), so the rule holds whatever
the UI shows. Four-eyes lives here alone (``require_other_agent``): nobody
decides on or reviews a call they took. A reason or note must say something
(``reason_text``). A supervisor lifts a tenant's lock for phone
cancellation (``clear_tenant_lock``), a stated user ID's lock
(``clear_user_id_lock``) and an agent's sign-in lock (``reset_locked_agent``);
each asks a reason, kept in a purgeable row, out of the chain.
A staff member with a call of their own open on a tenant reads nothing of
that tenant's on-file values on this desk (``in_call_tenants``, applied by
the request list and export, the call detail and the queue): a supervisor
who matched only the user ID could otherwise read the rest from the
tenant's earlier calls.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.audit.chain import append_event
from db.engine import unit_of_work
from db.models import Agent, Call, LockClearance, Tenant, UserIdLock
from db.staff.agents import AgentInfo, reset_agent
from verification.kinds import CallState, Role

# In place of a tenant's values for staff who have a call open with that tenant.
IN_CALL = "(hidden while you have a call open with this organization)"


class ReviewRefused(Exception):
    """A supervisor action cannot be taken; the message says why, for the supervisor."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotSupervisor(ReviewRefused):
    """The acting account is not an active supervisor."""


def require_supervisor(session: Session, actor_id: int) -> Agent:
    """The acting agent, if an active supervisor; raises ``NotSupervisor`` otherwise."""
    agent = session.get(Agent, actor_id)
    if agent is None or agent.role is not Role.SUPERVISOR or not agent.active:
        raise NotSupervisor("Only a supervisor can do this.")
    return agent


def in_call_tenants(session: Session, staff_id: int | None) -> frozenset[int]:
    """The tenants of the calls ``staff_id`` has open (open, verified or locked, not ended)."""
    if staff_id is None:
        return frozenset()
    found = session.scalars(
        select(Call.tenant_id).where(
            Call.agent_id == staff_id,
            Call.state != CallState.CLOSED,
            Call.tenant_id.is_not(None),
        )
    )
    return frozenset(tenant_id for tenant_id in found if tenant_id is not None)


def require_not_in_call(session: Session, staff_id: int, call: Call) -> None:
    """Refuse a call of a tenant ``staff_id`` has a call open with (``in_call_tenants``)."""
    if call.tenant_id is not None and call.tenant_id in in_call_tenants(session, staff_id):
        raise ReviewRefused(f"Call {call.id} is {IN_CALL.strip('()')}.")


def require_other_agent(call: Call, supervisor: Agent, refusal: str) -> None:
    """Four eyes: refuse with ``refusal`` when ``supervisor`` took ``call`` themselves."""
    if call.agent_id == supervisor.id:
        raise ReviewRefused(refusal)


def reason_text(reason: str) -> str:
    """The reason as given, trimmed; raises ``ReviewRefused`` when it is blank."""
    text = reason.strip()
    if not text:
        raise ReviewRefused("Give a reason.")
    return text


def clear_tenant_lock(
    factory: sessionmaker[Session], actor_id: int, tenant_id: int, reason: str, now: datetime
) -> None:
    """Lift a tenant's lock for phone cancellation; its next call proceeds.

    Calls locked and misses made before now no longer count towards a new
    lock. The reason goes to a purgeable ``LockClearance`` row, never into
    the audit chain: it often holds what the caller said.
    """
    text = reason_text(reason)
    with unit_of_work(factory) as session:
        supervisor = require_supervisor(session, actor_id)
        tenant = session.get(Tenant, tenant_id, with_for_update=True)
        if tenant is None:
            raise ReviewRefused(f"There is no tenant {tenant_id}.")
        tenant.locked_at = None
        tenant.lock_cleared_at = now
        clearance = LockClearance(
            tenant_id=tenant.id, supervisor_id=supervisor.id, reason=text, cleared_at=now
        )
        session.add(clearance)
        session.flush()
        append_event(
            session,
            actor=supervisor.username,
            type="tenant.lock_cleared",
            payload={"tenant_id": tenant.id, "clearance_id": clearance.id},
            at=now,
        )


def clear_user_id_lock(
    factory: sessionmaker[Session], actor_id: int, lock_id: int, reason: str, now: datetime
) -> None:
    """Lift the lock of a stated user ID; its misses before now no longer count."""
    text = reason_text(reason)
    with unit_of_work(factory) as session:
        supervisor = require_supervisor(session, actor_id)
        lock = session.get(UserIdLock, lock_id, with_for_update=True)
        if lock is None or lock.cleared_at is not None:
            raise ReviewRefused("That user ID is not locked.")
        lock.cleared_at = now
        clearance = LockClearance(
            user_id_lock_id=lock.id, supervisor_id=supervisor.id, reason=text, cleared_at=now
        )
        session.add(clearance)
        session.flush()
        append_event(
            session,
            actor=supervisor.username,
            type="user_id.lock_cleared",
            payload={"lock_id": lock.id, "clearance_id": clearance.id},
            at=now,
        )


def reset_locked_agent(
    factory: sessionmaker[Session], actor_id: int, agent_id: int, reason: str, now: datetime
) -> AgentInfo:
    """Unlock an agent account locked by failed sign-ins (``db.staff.agents.reset_agent``).

    The reason is kept as a lock clearance's is: in a purgeable row, out of the chain.
    """
    text = reason_text(reason)
    with factory() as session:
        supervisor = require_supervisor(session, actor_id)
        target = session.get(Agent, agent_id)
        if target is None:
            raise ReviewRefused(f"There is no agent {agent_id}.")
        username, actor = target.username, supervisor.username
        supervisor_id = supervisor.id
    return reset_agent(
        factory, username, reason=text, actor=actor, now=now, supervisor_id=supervisor_id
    )
