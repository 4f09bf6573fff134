"""Agent accounts (staff): add, list, disable, reset; sign-in is ``db.staff.signin``.

Every change appends an audit event in the same unit of work as the change.
Payloads name the agent (staff identities are not customer personal data)
but never a passphrase nor a second factor's secret (only whether one was
set). The secret is made by the caller (``verification.totp.new_secret``), so
the command that shows it to the operator is the only one that sees it.
Adding agents and setting passphrases are the owner's commands; on
PostgreSQL a supervisor's unlock goes through revision 0014's
``agent_unlock``, which touches the counters only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from db.audit.chain import append_event
from db.engine import unit_of_work
from db.models import Agent, AgentReset
from db.types import utcnow
from verification.hashing import hash_secret
from verification.kinds import Role

MIN_PASSPHRASE_LENGTH = 10
_BASE32 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
USERNAME_PATTERN = re.compile(r"[a-z0-9._-]{1,64}")
OPERATOR = "operator"


class AgentError(ValueError):
    """An agent command cannot be done; the message says why."""


@dataclass(frozen=True)
class AgentInfo:
    """An agent account as the desk and the commands show it."""

    id: int
    username: str
    display_name: str
    role: Role
    active: bool
    failed_signins: int
    locked_at: datetime | None
    last_signin_at: datetime | None
    # Whether a second factor is enrolled; None where it was not read (the desk
    # role may not read the secret on PostgreSQL, so only ``list_agents`` says).
    second_factor: bool | None = None

    @property
    def locked(self) -> bool:
        """Whether repeated failed sign-ins locked the account."""
        return self.locked_at is not None


def normalize_username(text: str) -> str:
    """The stored form of a username; raises AgentError when it cannot be one."""
    username = text.strip().lower()
    if not USERNAME_PATTERN.fullmatch(username):
        raise AgentError(
            f"username {text.strip()!r} must be 1-64 characters of a-z, 0-9, '.', '_' or '-'"
        )
    return username


def check_passphrase(passphrase: str) -> None:
    """Refuse a passphrase too short to resist guessing."""
    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        raise AgentError(f"the passphrase must be at least {MIN_PASSPHRASE_LENGTH} characters")


def add_agent(
    factory: sessionmaker[Session],
    username: str,
    display_name: str,
    role: Role,
    passphrase: str,
    *,
    actor: str = OPERATOR,
    totp_secret: str | None = None,
) -> AgentInfo:
    """Create an agent account; a taken username is refused.

    ``totp_secret`` enrolls the second factor at once; a supervisor without
    one cannot sign in until ``reset_agent`` gives one (``db.staff.signin``).
    """
    name = normalize_username(username)
    shown_name = display_name.strip() or name
    check_passphrase(passphrase)
    check_totp_secret(totp_secret)
    hashed = hash_secret(passphrase)
    with unit_of_work(factory) as session:
        if session.scalar(select(Agent.id).where(Agent.username == name)) is not None:
            raise AgentError(f"an agent named {name!r} already exists")
        agent = Agent(
            username=name,
            display_name=shown_name,
            role=Role(role),
            passphrase_hash=hashed,
            totp_secret=totp_secret,
            active=True,
            failed_signins=0,
        )
        session.add(agent)
        session.flush()
        append_event(
            session,
            actor=actor,
            type="agent.added",
            payload={
                "agent_id": agent.id,
                "username": name,
                "role": agent.role.value,
                "second_factor": totp_secret is not None,
            },
        )
        return agent_info(agent)


def check_totp_secret(secret: str | None) -> None:
    """Refuse a secret an authenticator app could not take (base32, at least 128 bits)."""
    if secret is None:
        return
    if len(secret) < 26 or any(ch not in _BASE32 for ch in secret):
        raise AgentError("a TOTP secret is at least 26 base32 characters (A-Z, 2-7)")


def list_agents(factory: sessionmaker[Session]) -> list[AgentInfo]:
    """Every agent account, by username."""
    with factory() as session:
        rows = session.execute(
            select(Agent, Agent.totp_secret.is_not(None)).order_by(Agent.username)
        )
        return [replace(agent_info(agent), second_factor=enrolled) for agent, enrolled in rows]


def get_agent(factory: sessionmaker[Session], username: str) -> AgentInfo:
    """One agent account by username; raises AgentError when there is none."""
    with factory() as session:
        return agent_info(_find(session, username))


def disable_agent(
    factory: sessionmaker[Session], username: str, *, actor: str = OPERATOR
) -> AgentInfo:
    """Stop an account from signing in; its history stays."""
    with unit_of_work(factory) as session:
        agent = _find(session, username)
        agent.active = False
        append_event(
            session,
            actor=actor,
            type="agent.disabled",
            payload={"agent_id": agent.id, "username": agent.username},
        )
        session.flush()
        return agent_info(agent)


def reset_agent(
    factory: sessionmaker[Session],
    username: str,
    passphrase: str | None = None,
    *,
    reason: str,
    actor: str = OPERATOR,
    now: datetime | None = None,
    supervisor_id: int | None = None,
    totp_secret: str | None = None,
) -> AgentInfo:
    """Unlock an account (clear its failed sign-ins), optionally with a new passphrase.

    ``totp_secret`` enrolls a new second factor (the old one stops working, and
    no code is refused as used before under the new one).

    ``reason`` must say something; it goes to a purgeable ``AgentReset`` row
    that the audit event names, never into the chain. A disabled account
    stays disabled. A supervisor's unlock (``supervisor_id``) sets no
    passphrase, and on PostgreSQL goes through ``agent_unlock``: the desk
    role writes no agent column itself.
    """
    text = reason.strip()
    if not text:
        raise AgentError("give a reason for the reset")
    hashed = None
    if passphrase is not None:
        check_passphrase(passphrase)
        hashed = hash_secret(passphrase)
    check_totp_secret(totp_secret)
    with unit_of_work(factory) as session:
        agent = _find(session, username)
        if supervisor_id is not None and session.get_bind().dialect.name == "postgresql":
            unlock_on_server(session, supervisor_id, agent.id)
            session.refresh(agent)
        else:
            agent.failed_signins = 0
            agent.signin_not_before = None
            agent.locked_at = None
        if hashed is not None:
            agent.passphrase_hash = hashed
        if totp_secret is not None:
            agent.totp_secret = totp_secret
            agent.totp_last_step = None
        reset = AgentReset(agent_id=agent.id, actor=actor, reason=text, reset_at=now or utcnow())
        session.add(reset)
        session.flush()
        append_event(
            session,
            actor=actor,
            type="agent.reset",
            payload={
                "agent_id": agent.id,
                "username": agent.username,
                "new_passphrase": hashed is not None,
                "new_second_factor": totp_secret is not None,
                "reset_id": reset.id,
            },
        )
        session.flush()
        return agent_info(agent)


def unlock_on_server(session: Session, supervisor_id: int, agent_id: int) -> None:
    """Clear an agent's failed sign-ins and lock through ``agent_unlock`` (PostgreSQL).

    The function refuses a supervisor who is not an active one, or the agent themselves.
    """
    session.execute(
        text("SELECT agent_unlock(:supervisor, :agent)"),
        {"supervisor": supervisor_id, "agent": agent_id},
    )


def _find(session: Session, username: str) -> Agent:
    name = normalize_username(username)
    agent = session.scalar(select(Agent).where(Agent.username == name))
    if agent is None:
        raise AgentError(f"no agent named {name!r}")
    return agent


def agent_info(agent: Agent) -> AgentInfo:
    """The account as the desk and the commands show it."""
    return AgentInfo(
        id=agent.id,
        username=agent.username,
        display_name=agent.display_name,
        role=agent.role,
        active=agent.active,
        failed_signins=agent.failed_signins,
        locked_at=agent.locked_at,
        last_signin_at=agent.last_signin_at,
    )
