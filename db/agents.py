"""Agent accounts (staff): add, list, disable, reset, and sign in.

Every change and every sign-in attempt appends an audit event in the same
unit of work as the change. Payloads name the agent (staff identities are not
customer personal data) but never a passphrase.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.audit import append_event
from db.engine import unit_of_work
from db.models import Agent
from verification.hashing import hash_secret, verify_secret
from verification.kinds import Role

MIN_PASSPHRASE_LENGTH = 10
USERNAME_PATTERN = re.compile(r"[a-z0-9._-]{1,64}")
OPERATOR = "operator"

SIGNIN_FAILED_MESSAGE = "Wrong username or passphrase."
LOCKED_MESSAGE = (
    "This account is locked after too many failed sign-ins; ask a supervisor to reset it."
)
DISABLED_MESSAGE = "This account is disabled; ask a supervisor."
# Waits after the n-th failure in a row (index n-1); the last value repeats.
_DELAYS_SECONDS = (0, 0, 1, 2, 4, 8)


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

    @property
    def locked(self) -> bool:
        """Whether repeated failed sign-ins locked the account."""
        return self.locked_at is not None


@dataclass(frozen=True)
class SignInResult:
    """The outcome of one sign-in attempt.

    ``delay_seconds`` is how long the desk waits before it accepts another
    attempt; this module never sleeps itself.
    """

    ok: bool
    agent: AgentInfo | None
    message: str
    failures: int
    locked: bool
    delay_seconds: float


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
) -> AgentInfo:
    """Create an agent account; a taken username is refused."""
    name = normalize_username(username)
    shown_name = display_name.strip() or name
    check_passphrase(passphrase)
    hashed = hash_secret(passphrase)
    with unit_of_work(factory) as session:
        if session.scalar(select(Agent.id).where(Agent.username == name)) is not None:
            raise AgentError(f"an agent named {name!r} already exists")
        agent = Agent(
            username=name,
            display_name=shown_name,
            role=Role(role),
            passphrase_hash=hashed,
            active=True,
            failed_signins=0,
        )
        session.add(agent)
        session.flush()
        append_event(
            session,
            actor=actor,
            type="agent.added",
            payload={"agent_id": agent.id, "username": name, "role": agent.role.value},
        )
        return _info(agent)


def list_agents(factory: sessionmaker[Session]) -> list[AgentInfo]:
    """Every agent account, by username."""
    with factory() as session:
        agents = session.scalars(select(Agent).order_by(Agent.username))
        return [_info(agent) for agent in agents]


def get_agent(factory: sessionmaker[Session], username: str) -> AgentInfo:
    """One agent account by username; raises AgentError when there is none."""
    with factory() as session:
        return _info(_find(session, username))


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
        return _info(agent)


def reset_agent(
    factory: sessionmaker[Session],
    username: str,
    passphrase: str | None = None,
    *,
    actor: str = OPERATOR,
) -> AgentInfo:
    """Unlock an account (clear its failed sign-ins), optionally with a new passphrase.

    A disabled account stays disabled.
    """
    hashed = None
    if passphrase is not None:
        check_passphrase(passphrase)
        hashed = hash_secret(passphrase)
    with unit_of_work(factory) as session:
        agent = _find(session, username)
        agent.failed_signins = 0
        agent.locked_at = None
        if hashed is not None:
            agent.passphrase_hash = hashed
        append_event(
            session,
            actor=actor,
            type="agent.reset",
            payload={
                "agent_id": agent.id,
                "username": agent.username,
                "new_passphrase": hashed is not None,
            },
        )
        session.flush()
        return _info(agent)


def authenticate(
    factory: sessionmaker[Session],
    username: str,
    passphrase: str,
    now: datetime,
    lock_after: int,
) -> SignInResult:
    """Check one sign-in attempt and record it.

    The slow hash check runs outside the write transaction so that other
    desks are not held up by it; the account row is then read again under
    the write lock (SQLite) or ``FOR UPDATE`` (PostgreSQL), so two desks
    failing at once both count.
    """
    try:
        name = normalize_username(username)
    except AgentError:
        name = ""
    with factory() as session:
        found = session.execute(
            select(Agent.id, Agent.passphrase_hash).where(Agent.username == name)
        ).first()
    if found is None:
        # Spend the same time as a real check, so timing does not tell
        # which usernames exist.
        verify_secret(passphrase, _dummy_hash())
        return _record_unknown(factory)
    agent_id, hashed = found
    correct = verify_secret(passphrase, hashed)
    with unit_of_work(factory) as session:
        agent = session.get(Agent, agent_id, with_for_update=True)
        if agent is None:  # deleted between the two transactions
            return _unknown_result()
        # A passphrase changed since it was read is judged against the new one.
        correct = correct and agent.passphrase_hash == hashed
        return _record_attempt(session, agent, correct, now, lock_after)


def _record_attempt(
    session: Session, agent: Agent, correct: bool, now: datetime, lock_after: int
) -> SignInResult:
    """Apply one checked attempt to a known account, with its audit event."""
    ids = {"agent_id": agent.id, "username": agent.username}
    if agent.locked_at is not None:
        append_event(
            session,
            actor=agent.username,
            type="agent.signin_failed",
            payload={**ids, "reason": "locked"},
        )
        return _refused(agent, LOCKED_MESSAGE)
    if not correct:
        agent.failed_signins += 1
        failures = agent.failed_signins
        append_event(
            session,
            actor=agent.username,
            type="agent.signin_failed",
            payload={**ids, "reason": "wrong_passphrase", "failures": failures},
        )
        if failures >= lock_after:
            agent.locked_at = now
            append_event(
                session,
                actor=agent.username,
                type="agent.locked",
                payload={**ids, "failures": failures},
            )
            session.flush()
            return _refused(agent, LOCKED_MESSAGE)
        return _refused(agent, SIGNIN_FAILED_MESSAGE)
    if not agent.active:
        append_event(
            session,
            actor=agent.username,
            type="agent.signin_failed",
            payload={**ids, "reason": "disabled"},
        )
        return _refused(agent, DISABLED_MESSAGE)
    agent.failed_signins = 0
    agent.last_signin_at = now
    append_event(session, actor=agent.username, type="agent.signed_in", payload=ids)
    session.flush()
    return SignInResult(
        ok=True,
        agent=_info(agent),
        message="Signed in.",
        failures=0,
        locked=False,
        delay_seconds=0,
    )


def _record_unknown(factory: sessionmaker[Session]) -> SignInResult:
    with unit_of_work(factory) as session:
        # No username in the payload: a passphrase typed into the username
        # field by mistake must not end up in the log.
        append_event(
            session,
            actor="unknown",
            type="agent.signin_failed",
            payload={"agent_id": None, "reason": "unknown_username"},
        )
    return _unknown_result()


def _unknown_result() -> SignInResult:
    return SignInResult(
        ok=False,
        agent=None,
        message=SIGNIN_FAILED_MESSAGE,
        failures=1,
        locked=False,
        delay_seconds=delay_after(1),
    )


def _refused(agent: Agent, message: str) -> SignInResult:
    locked = agent.locked_at is not None
    return SignInResult(
        ok=False,
        agent=None,
        message=message,
        failures=agent.failed_signins,
        locked=locked,
        delay_seconds=delay_after(agent.failed_signins),
    )


def delay_after(failures: int) -> float:
    """Seconds the desk waits after ``failures`` failed sign-ins in a row."""
    if failures <= 0:
        return 0
    return _DELAYS_SECONDS[min(failures, len(_DELAYS_SECONDS)) - 1]


@cache
def _dummy_hash() -> str:
    return hash_secret("no agent has this passphrase")


def _find(session: Session, username: str) -> Agent:
    name = normalize_username(username)
    agent = session.scalar(select(Agent).where(Agent.username == name))
    if agent is None:
        raise AgentError(f"no agent named {name!r}")
    return agent


def _info(agent: Agent) -> AgentInfo:
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
