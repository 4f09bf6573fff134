"""Signing in: one answer for every refusal, and a wait the database keeps.

The one home of the sign-in rules: the wait after failures (``delay_after``)
is kept in the database (``signin_not_before``), an account locks after the
policy's number of failures in a row, an unknown username is counted like an
account, and every refusal (wrong passphrase, unknown username, disabled,
locked, too early, a wrong or replayed second-factor code) gets one answer.
Each attempt appends its audit event(s); no code is ever in one.

The second factor (``verification.totp``): after the right passphrase of an
account with a TOTP secret, an attempt without a code is answered
``code_needed`` (nothing counted, no event: the desk asks for the code and
tries again with both), and a wrong code is a failure like a wrong
passphrase. A supervisor with no secret may not sign in
(``second_factor_missing``, not counted: only the right passphrase gets there).

On PostgreSQL the database applies these rules itself, through revision
0014's SECURITY DEFINER functions, so that the desk role's credentials give
neither a hash to crack offline nor a counter to reset: ``agent_signin_salt``
gives the scrypt parameters and salt (a fixed fake for a name that is no
agent's, so both answer alike), the desk derives the key (the slow part stays
in the desk process), and ``agent_sign_in`` compares it with the stored one
and keeps the count, the wait and the lock; since revision 0020 it also
checks the code, so the desk never reads the secret. On SQLite (one trusted
desk) the same rules run here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import select, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from db.audit.chain import append_event
from db.engine import unit_of_work
from db.models import Agent, SigninFailure
from db.policy import protection_of
from db.staff.agents import AgentError, AgentInfo, agent_info, normalize_username
from verification.hashing import derive_key, hash_secret, verify_secret
from verification.kinds import Role
from verification.totp import accepted_step, clean_code

# The answer to every refused sign-in, whatever the reason: it must not tell a
# guesser whether a username exists, is disabled or is locked.
SIGNIN_FAILED_MESSAGE = "Wrong username or passphrase."
CODE_NEEDED_MESSAGE = "Type the code from your authenticator app."
NO_SECOND_FACTOR_MESSAGE = (
    "A supervisor signs in with an authenticator app: ask the operator to enroll yours "
    "(callgate agents reset NAME --totp)."
)
# Answers only the right passphrase gets: not guesses, so not counted.
_NOT_COUNTED = {
    "code_needed": CODE_NEEDED_MESSAGE,
    "second_factor_missing": NO_SECOND_FACTOR_MESSAGE,
}
# Waits after the n-th failure in a row (index n-1); the last value repeats.
# Revision 0020's ``agent_sign_in`` holds the same (tests/db/test_last_line.py).
_DELAYS_SECONDS = (0, 0, 1, 2, 4, 8)


@dataclass(frozen=True)
class SignInResult:
    """The outcome of one sign-in attempt.

    ``delay_seconds`` is how long until the database checks another attempt
    under that name (an earlier one is refused and counted); the desk waits
    it out, this module never sleeps itself. ``code_needed``: the passphrase
    was right and the account has a second factor; try again with the code.
    """

    ok: bool
    agent: AgentInfo | None
    message: str
    failures: int
    locked: bool
    delay_seconds: float
    code_needed: bool = False


def authenticate(
    factory: sessionmaker[Session],
    username: str,
    passphrase: str,
    now: datetime,
    code: str | None = None,
) -> SignInResult:
    """Check one sign-in attempt and record it.

    The failures in a row that lock a name are the policy's
    ``signin_lock_after`` (``db.policy``; on PostgreSQL the function reads it
    itself), never the desk's.

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

    ``code`` is the second factor's, None until the answer says ``code_needed``.
    """
    code = None if code is None else clean_code(code)
    typed = username.strip().lower()
    try:
        name = normalize_username(username)
    except AgentError:
        name = ""
    with factory() as session:
        server = _on_server(session)
        if server:
            key = _name_key(typed)
            salt = None if _barred_on_server(session, name, key, now) else _salt(session, name)
    if server:
        # The slow part outside any transaction, as below: other desks are not held up.
        derived = "" if salt is None else derive_key(passphrase, *salt)
        with unit_of_work(factory) as session:
            outcome = _attempt_on_server(session, name, key, derived, code, now)
            return _record_on_server(session, outcome, now)
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
        return _record_attempt(session, agent, correct, code, now, lock_after)


def _record_on_server(session: Session, outcome: ServerAttempt, now: datetime) -> SignInResult:
    """The audit events and the answer for an attempt the database judged and counted."""
    agent = None
    if outcome.agent_id is not None:
        agent = session.get(Agent, outcome.agent_id, populate_existing=True)
    if agent is None:
        _unknown_event(session)
    elif outcome.reason is None:
        append_event(session, actor=agent.username, type="agent.signed_in", payload=_ids(agent))
        return SignInResult(True, agent_info(agent), "Signed in.", 0, False, 0)
    elif outcome.reason in _NOT_COUNTED:
        return _not_counted(session, agent, outcome.reason)
    else:
        _failure_events(session, agent, outcome.reason, outcome.locking)
    return _refused(outcome.failures, outcome.locked, outcome.not_before, now)


def _record_attempt(
    session: Session, agent: Agent, correct: bool, code: str | None, now: datetime, lock_after: int
) -> SignInResult:
    """Apply one attempt to a known account, with its audit event(s)."""
    reason, step = _refusal_reason(agent, correct, code, now)
    if reason in _NOT_COUNTED:
        return _not_counted(session, agent, reason)
    if reason is None:
        agent.failed_signins = 0
        agent.signin_not_before = None
        agent.last_signin_at = now
        if step is not None:
            agent.totp_last_step = step
        append_event(session, actor=agent.username, type="agent.signed_in", payload=_ids(agent))
        session.flush()
        return SignInResult(True, agent_info(agent), "Signed in.", 0, False, 0)
    locking = _count_failure(agent, now, lock_after)
    _failure_events(session, agent, reason, locking)
    session.flush()
    return _refusal(agent, now)


def _not_counted(session: Session, agent: Agent, reason: str) -> SignInResult:
    """The right passphrase, but no sign-in yet: the count and the wait stay as they are."""
    if reason == "second_factor_missing":
        ids = {**_ids(agent), "failures": agent.failed_signins}
        append_event(
            session,
            actor=agent.username,
            type="agent.signin_failed",
            payload={**ids, "reason": reason},
        )
    return SignInResult(
        ok=False,
        agent=None,
        message=_NOT_COUNTED[reason],
        failures=agent.failed_signins,
        locked=False,
        delay_seconds=0,
        code_needed=reason == "code_needed",
    )


def _ids(agent: Agent) -> dict[str, object]:
    return {"agent_id": agent.id, "username": agent.username}


def _failure_events(session: Session, agent: Agent, reason: str, locking: bool) -> None:
    ids = {**_ids(agent), "failures": agent.failed_signins}
    append_event(
        session, actor=agent.username, type="agent.signin_failed", payload={**ids, "reason": reason}
    )
    if locking:
        append_event(session, actor=agent.username, type="agent.locked", payload=ids)


def _refusal_reason(
    agent: Agent, correct: bool, code: str | None, now: datetime
) -> tuple[str | None, int | None]:
    """Why this attempt is refused (for the audit log only), or None to sign in; the code's step.

    Revision 0020's ``agent_sign_in`` is this rule on PostgreSQL, in this order.
    """
    if agent.locked_at is not None:
        return "locked", None
    if _before(agent.signin_not_before, now):
        return "too_early", None
    if not correct:
        return "wrong_passphrase", None
    step = None
    if agent.totp_secret is not None:
        if code is None:
            return "code_needed", None
        step = accepted_step(agent.totp_secret, code, now, agent.totp_last_step)
        if step is None:
            return "wrong_code", None
    if not agent.active:
        return "disabled", None
    if agent.role is Role.SUPERVISOR and agent.totp_secret is None:
        return "second_factor_missing", None
    return None, step


def _record_unknown(session: Session, key: str, now: datetime, lock_after: int) -> SignInResult:
    """Count a failure under a username that names no account, as an account's is counted."""
    session.execute(
        sqlite_insert(SigninFailure)
        .values(name_hash=key, failed_signins=0)
        .on_conflict_do_nothing()
    )
    counter = session.get(SigninFailure, key, with_for_update=True, populate_existing=True)
    assert counter is not None  # inserted just above, and never deleted
    _count_failure(counter, now, lock_after)
    _unknown_event(session)
    session.flush()
    return _refusal(counter, now)


def _unknown_event(session: Session) -> None:
    # Neither the name nor its hash in the payload: a passphrase typed into the
    # username field by mistake must not end up in the log.
    append_event(
        session,
        actor="unknown",
        type="agent.signin_failed",
        payload={"agent_id": None, "reason": "unknown_username"},
    )


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
    return _refused(
        counter.failed_signins, counter.locked_at is not None, counter.signin_not_before, now
    )


def _refused(failures: int, locked: bool, wait: datetime | None, now: datetime) -> SignInResult:
    return SignInResult(
        ok=False,
        agent=None,
        message=SIGNIN_FAILED_MESSAGE,
        failures=failures,
        locked=locked,
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


# --- PostgreSQL: revision 0014's functions ------------------------------------


@dataclass(frozen=True)
class ServerAttempt:
    """What ``agent_sign_in`` did with one attempt (``reason`` None: signed in)."""

    agent_id: int | None
    reason: str | None
    failures: int
    locked: bool
    locking: bool
    not_before: datetime | None


def _on_server(session: Session) -> bool:
    """Whether the sign-in goes through the database's functions (PostgreSQL)."""
    return session.get_bind().dialect.name == "postgresql"


def _barred_on_server(session: Session, name: str, name_key: str, now: datetime) -> bool:
    """Whether an attempt now is refused before its key is even derived (locked, too early)."""
    row = session.execute(
        text(
            "SELECT locked_at, signin_not_before FROM agent WHERE username = :name "
            "UNION ALL SELECT locked_at, signin_not_before FROM signin_failure "
            "WHERE name_hash = :key AND NOT EXISTS (SELECT 1 FROM agent WHERE username = :name)"
        ),
        {"name": name, "key": name_key},
    ).first()
    if row is None:
        return False
    locked_at, not_before = row
    return locked_at is not None or (not_before is not None and now < not_before)


def _salt(session: Session, name: str) -> tuple[str, int, int, int, int]:
    """The salt and scrypt parameters (n, r, p, key length) to derive ``name``'s key with."""
    n, r, p, salt, length = session.execute(
        text("SELECT n, r, p, salt, dklen FROM agent_signin_salt(:name)"), {"name": name}
    ).one()
    return salt, n, r, p, length


def _attempt_on_server(
    session: Session, name: str, name_key: str, key: str, code: str | None, now: datetime
) -> ServerAttempt:
    """Have the database judge and count one attempt, in the caller's transaction."""
    row = session.execute(
        text(
            "SELECT agent_id, reason, failures, locked, locking, not_before "
            "FROM agent_sign_in(:name, :name_key, :key, CAST(:code AS text), :at)"
        ),
        {"name": name, "name_key": name_key, "key": key, "code": code, "at": now},
    ).one()
    return ServerAttempt(*row)
