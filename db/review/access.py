"""Who may act on the supervisor desk, the four-eyes rule, and lifting locks.

Every supervisor function calls ``require_supervisor`` and refuses anyone who
is not an active supervisor (``NotSupervisor``), so the rule holds whatever
the UI shows. Four-eyes lives here alone (``require_other_agent``): nobody
decides on or reviews a call they took. A reason or note must say something
(``reason_text``). A supervisor lifts a tenant's lock for phone
cancellation (``clear_tenant_lock``), a stated user ID's lock
(``clear_user_id_lock``) and an agent's sign-in lock (``reset_locked_agent``);
each asks a reason, kept in a purgeable row, out of the chain.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from db.audit.chain import append_event
from db.engine import unit_of_work
from db.models import Agent, Call, LockClearance, Tenant, UserIdLock
from db.staff.agents import AgentInfo, reset_agent
from verification.kinds import Role


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
