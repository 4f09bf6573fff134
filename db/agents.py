"""Agent accounts (staff): add, list, disable, reset, and sign in.

Every change and every sign-in attempt appends an audit event in the same
unit of work as the change. Payloads name the agent (staff identities are not
customer personal data) but never a passphrase. This module is the one home
of the sign-in rules: the wait after failures is kept in the database, and
every refusal (wrong passphrase, unknown username, disabled, locked, too
early) gets one answer.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from db.audit.chain import append_event
from db.engine import unit_of_work
from db.models import Agent, AgentReset, SigninFailure
from db.policy import protection_of
from db.types import utcnow
from verification.hashing import hash_secret, verify_secret
from verification.kinds import Role

MIN_PASSPHRASE_LENGTH = 10
USERNAME_PATTERN = re.compile(r"[a-z0-9._-]{1,64}")
OPERATOR = "operator"

# The answer to every refused sign-in, whatever the reason: it must not tell a
# guesser whether a username exists, is disabled or is locked.
SIGNIN_FAILED_MESSAGE = "Wrong username or passphrase."
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

    ``delay_seconds`` is how long until the database checks another attempt
    under that name (an earlier one is refused and counted); the desk waits
    it out, this module never sleeps itself.
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
    reason: str,
    actor: str = OPERATOR,
    now: datetime | None = None,
) -> AgentInfo:
    """Unlock an account (clear its failed sign-ins), optionally with a new passphrase.

    ``reason`` must say something; it goes to a purgeable ``AgentReset`` row
    that the audit event names, never into the chain. A disabled account
    stays disabled.
    """
    text = reason.strip()
    if not text:
        raise AgentError("give a reason for the reset")
    hashed = None
    if passphrase is not None:
        check_passphrase(passphrase)
        hashed = hash_secret(passphrase)
    with unit_of_work(factory) as session:
        agent = _find(session, username)
        agent.failed_signins = 0
        agent.signin_not_before = None
        agent.locked_at = None
        if hashed is not None:
            agent.passphrase_hash = hashed
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
                "reset_id": reset.id,
            },
        )
        session.flush()
        return _info(agent)


def authenticate(
    factory: sessionmaker[Session],
    username: str,
    passphrase: str,
    now: datetime,
) -> SignInResult:
    """Check one sign-in attempt and record it.

    The failures in a row that lock a name are the policy's
    ``signin_lock_after`` (``db.policy``), never the desk's.

    Every refusal is the same answer: ``SIGNIN_FAILED_MESSAGE``, the count of
    failures in a row under that name and the wait before the next try, kept
    in the database (``signin_not_before``). An unknown username is counted
    in ``signin_failure`` like an account; a disabled account's right
    passphrase is a failure like a wrong one; a locked account stays refused.
    An attempt before the wait is over, or on a locked name, is refused
    without checking the passphrase, and counted. The slow hash check runs
    outside the write transaction so other desks are not held up by it; the
    row is then read again under the write lock (SQLite) or ``FOR UPDATE``
    (PostgreSQL), so two desks failing at once both count.
    """
    typed = username.strip().lower()
    try:
        name = normalize_username(username)
    except AgentError:
        name = ""
    with factory() as session:
        found = session.execute(
            select(Agent.id, Agent.passphrase_hash, Agent.signin_not_before, Agent.locked_at).where(
                Agent.username == name
            )
        ).first()
        if found is None:
            agent_id, known_hash = None, None
            unknown = session.get(SigninFailure, _name_key(typed))
            waiting = unknown is not None and _barred(unknown, now)
        else:
            agent_id, known_hash = found.id, found.passphrase_hash
            waiting = found.locked_at is not None or _before(found.signin_not_before, now)
    correct = False
    if not waiting:
        # Unknown names spend the same time on a hash as real ones: timing tells nothing.
        correct = verify_secret(passphrase, known_hash or _dummy_hash())
    with unit_of_work(factory) as session:
        lock_after = protection_of(session).signin_lock_after
        agent = None if agent_id is None else session.get(Agent, agent_id, with_for_update=True)
        if agent is None:
            return _record_unknown(session, _name_key(typed), now, lock_after)
        # A passphrase changed since it was read is judged against the new one.
        correct = correct and agent.passphrase_hash == known_hash
        return _record_attempt(session, agent, correct, now, lock_after)


def _record_attempt(
    session: Session, agent: Agent, correct: bool, now: datetime, lock_after: int
) -> SignInResult:
    """Apply one attempt to a known account, with its audit event(s)."""
    ids = {"agent_id": agent.id, "username": agent.username}
    reason = _refusal_reason(agent, correct, now)
    if reason is None:
        agent.failed_signins = 0
        agent.signin_not_before = None
        agent.last_signin_at = now
        append_event(session, actor=agent.username, type="agent.signed_in", payload=ids)
        session.flush()
        return SignInResult(True, _info(agent), "Signed in.", 0, False, 0)
    locking = _count_failure(agent, now, lock_after)
    append_event(
        session,
        actor=agent.username,
        type="agent.signin_failed",
        payload={**ids, "reason": reason, "failures": agent.failed_signins},
    )
    if locking:
        append_event(
            session,
            actor=agent.username,
            type="agent.locked",
            payload={**ids, "failures": agent.failed_signins},
        )
    session.flush()
    return _refusal(agent, now)


def _refusal_reason(agent: Agent, correct: bool, now: datetime) -> str | None:
    """Why this attempt is refused (for the audit log only), or None to sign in."""
    if agent.locked_at is not None:
        return "locked"
    if _before(agent.signin_not_before, now):
        return "too_early"
    if not correct:
        return "wrong_passphrase"
    if not agent.active:
        return "disabled"
    return None


def _record_unknown(session: Session, key: str, now: datetime, lock_after: int) -> SignInResult:
    """Count a failure under a username that names no account, as an account's is counted."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(SigninFailure).values(name_hash=key, failed_signins=0).on_conflict_do_nothing()
    )
    counter = session.get(SigninFailure, key, with_for_update=True, populate_existing=True)
    assert counter is not None  # inserted just above, and never deleted
    _count_failure(counter, now, lock_after)
    # Neither the name nor its hash in the payload: a passphrase typed into the
    # username field by mistake must not end up in the log.
    append_event(
        session,
        actor="unknown",
        type="agent.signin_failed",
        payload={"agent_id": None, "reason": "unknown_username"},
    )
    session.flush()
    return _refusal(counter, now)


def _count_failure(counter: Agent | SigninFailure, now: datetime, lock_after: int) -> bool:
    """One more failure in a row: the next wait starts now; True when this one locks."""
    counter.failed_signins += 1
    counter.signin_not_before = now + timedelta(seconds=delay_after(counter.failed_signins))
    if counter.locked_at is None and counter.failed_signins >= lock_after:
        counter.locked_at = now
        return True
    return False


def _refusal(counter: Agent | SigninFailure, now: datetime) -> SignInResult:
    """The one answer every refusal gets: it depends only on the count and the wait."""
    wait = counter.signin_not_before
    return SignInResult(
        ok=False,
        agent=None,
        message=SIGNIN_FAILED_MESSAGE,
        failures=counter.failed_signins,
        locked=counter.locked_at is not None,
        delay_seconds=max(0.0, (wait - now).total_seconds()) if wait else 0,
    )


def _barred(counter: SigninFailure, now: datetime) -> bool:
    return counter.locked_at is not None or _before(counter.signin_not_before, now)


def _before(not_before: datetime | None, now: datetime) -> bool:
    return not_before is not None and now < not_before


def _name_key(typed: str) -> str:
    """The key a username that names no account is counted under (never the name itself)."""
    return hashlib.sha256(typed.encode("utf-8", "surrogatepass")).hexdigest()


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
